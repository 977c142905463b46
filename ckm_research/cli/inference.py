"""``ckm power`` and the ``--bootstrap`` options of ``ckm fit``.

Registered in :mod:`ckm_research.cli`: :func:`add_parser` adds ``ckm power``;
:func:`add_bootstrap_options` and :func:`bootstrap_fit` give ``ckm fit`` its
``--bootstrap B [--seed S] [--jobs J] [--scheduler ADDRESS] [--boot-ci
perc|bca]``.  The handlers call the public functions a notebook uses
(:func:`~ckm_research.inference.bootstrap.bootstrap`,
:func:`~ckm_research.inference.power.power_analysis`); errors in the input raise
:class:`~ckm_research.errors.CkmError` (message on stderr, exit code 2).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

__all__ = ["add_parser", "add_bootstrap_options", "bootstrap_fit", "run_power"]


def _positive_int(value: str) -> int:
    try:
        out = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if out < 1:
        raise argparse.ArgumentTypeError(f"give a whole number of at least 1 (got {value})")
    return out


def _seed(value: str) -> int:
    try:
        out = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the seed must be a whole number, got {value!r}"
        ) from None
    if out < 0:
        raise argparse.ArgumentTypeError(f"the seed must be 0 or more, got {value}")
    return out


def _jobs(value: str) -> int:
    try:
        out = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs needs a whole number, got {value!r}") from None
    if out == 0 or out < -1:
        raise argparse.ArgumentTypeError("--jobs is -1 (all cores) or a number of processes >= 1")
    return out


def _alpha(value: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--alpha needs a number, got {value!r}") from None
    if not 0 < out < 1:
        raise argparse.ArgumentTypeError(f"--alpha must be between 0 and 1, got {value}")
    return out


def _parallel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed", type=_seed, default=None, metavar="S",
        help="random seed (the same seed gives the same numbers with any --jobs or "
             "--scheduler); default: a fresh one, reported in the output",
    )
    p.add_argument(
        "--jobs", type=_jobs, default=None, metavar="J",
        help="local worker processes (default: all cores; 1 = no worker processes)",
    )
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="run on a dask.distributed cluster, e.g. tcp://10.0.0.5:8786 (its workers need "
             "ckm-research installed)",
    )


def add_bootstrap_options(p: argparse.ArgumentParser) -> None:
    """``ckm fit``'s bootstrap options."""
    g = p.add_argument_group(
        "bootstrap",
        "with --bootstrap B, the se, z, pvalue, ci.lower and ci.upper of every parameter "
        "and := effect come from B nonparametric bootstrap resamples (percentile limits "
        "always, BCa limits too with --boot-ci bca), and the JSON says so",
    )
    g.add_argument("--bootstrap", type=_positive_int, default=None, metavar="B",
                   help="number of bootstrap resamples (e.g. 2000)")
    g.add_argument(
        "--boot-ci", choices=["perc", "bca"], default="perc",
        help="the interval reported as ci.lower/ci.upper: percentile (default, as lavaan) "
             "or BCa (Efron 1987, jackknife acceleration: N extra refits, run only for bca)",
    )
    _parallel_options(g)


def bootstrap_fit(args: argparse.Namespace, model_text: str, data, options: dict, result):
    """Replace ``result``'s SEs and intervals by bootstrap ones when ``--bootstrap``."""
    if getattr(args, "bootstrap", None) is None:
        return result
    from ckm_research.inference.bootstrap import bootstrap

    if args.bootstrap < 2:
        from ckm_research.errors import CkmError

        raise CkmError("--bootstrap needs at least 2 resamples (1000 or more for intervals)")
    boot = bootstrap(
        model_text, data, n_boot=args.bootstrap, random_state=args.seed, n_jobs=args.jobs,
        scheduler=args.scheduler, ci=args.boot_ci, result=result, **options,
    )  # fmt: skip
    args.bootstrap_result = boot  # reused by --moderated-mediation (its bootstrap intervals)
    return boot.apply_to(result)


def add_parser(subparsers) -> None:
    """Add ``ckm power``."""
    from ckm_research.cli.common import common_options

    p = subparsers.add_parser(
        "power",
        parents=[common_options()],
        help="Monte Carlo power of a SEM (with the RMSEA-based power beside it)",
        description=(
            "Simulate samples of each size N from a population model (lavaan syntax whose "
            "fixed values are the population values, every variance given), fit the "
            "analysis model to each, and report per parameter the power (share of p < "
            "alpha), mean estimate, bias, CI coverage and SE ratio (flagged against Muthén & "
            "Muthén's 2002 criteria), with the analytic RMSEA-based power of MacCallum, "
            "Browne & Sugawara (1996)."
        ),
        epilog=(
            "examples:\n"
            "  ckm power population.lav --n 100 200 400 --reps 1000 --seed 1\n"
            "  ckm power pop.lav --analysis model.lav --n 250 --reps 500 --json power.json "
            "--plot power.png\n"
            "  ckm power interaction_pop.lav --n 200 400 --interaction lms --scheduler "
            "tcp://10.0.0.5:8786\n"
            "  ckm power study.lav --from-fit survey.csv --n 200 400 --reps 500 --seed 1"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("population", metavar="POPULATION_MODEL",
                   help="population model in lavaan syntax (fixed values = population values)")
    p.add_argument(
        "--from-fit", default=None, metavar="DATA",
        help="population values from the study: fit POPULATION_MODEL (then the analysis model, "
             "without values) to DATA (with --interaction and --estimator) and simulate from "
             "its estimates, product terms and := effects included",
    )  # fmt: skip
    p.add_argument("--analysis", default=None, metavar="MODEL",
                   help="model fitted to each sample (default: the population model with its "
                        "values freed)")
    p.add_argument("--n", type=_positive_int, nargs="+", required=True, metavar="N",
                   help="sample sizes")
    p.add_argument("--reps", type=_positive_int, default=1000, metavar="R",
                   help="replications per sample size (default 1000)")
    p.add_argument("--estimator", default="ML", metavar="ML|MLR|FIML",
                   help="estimator of the analysis (default ML)")
    p.add_argument("--alpha", type=_alpha, default=0.05,
                   help="level of the tests (default 0.05)")
    p.add_argument("--interaction", choices=["dblcent", "lms"], default=None,
                   help="estimation of product terms X:Z in the analysis model (default "
                        "dblcent; lms is much slower)")
    _parallel_options(p)
    p.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help="write the results as JSON to PATH")
    p.add_argument("--plot", type=Path, default=None, metavar="PATH",
                   help="save the power-curve figure to PATH (.png, .pdf or .svg)")
    p.set_defaults(func=run_power)


def _population_from_data(args, model: str, analysis: str | None, ui):
    """``--from-fit DATA``: the study's estimates as the population values."""
    import ckm_research
    from ckm_research.errors import CkmError
    from ckm_research.inference.population import population_from_fit
    from ckm_research.moderation.mediation import moderated_mediation_syntax

    if analysis is None:  # moderated indirect paths: their index and conditional effects as :=
        try:
            model = moderated_mediation_syntax(model)
            ui.note("Moderated indirect paths found: their index of moderated mediation (imm_*) "
                    "and conditional indirect effects at -1/+1 SD (cind_*) are := rows")
        except CkmError:
            pass  # no moderated indirect path
    options = {"interaction": args.interaction} if args.interaction else {}
    if args.estimator.upper() == "FIML":
        options["missing"] = "ml"
    res = ckm_research.fit(model, args.from_fit, **options)
    ui.note(f"Population values: the estimates of the model fitted to {args.from_fit} "
            f"(N = {res.n})")  # fmt: skip
    return population_from_fit(res), analysis if analysis is not None else model


def run_power(args: argparse.Namespace, ui) -> int:
    from ckm_research.cli import EXIT_OK
    from ckm_research.cli.common import read_model_file
    from ckm_research.errors import CkmError, CkmWarning
    from ckm_research.inference.power import power_analysis

    population = read_model_file(args.population)
    analysis = read_model_file(args.analysis) if args.analysis else None
    if getattr(args, "from_fit", None):
        population, analysis = _population_from_data(args, population, analysis, ui)
    # outputs are checked before the simulation, which may take minutes
    from ckm_research.outputs import check_output_file, figure_formats

    if args.json is not None:
        check_output_file(args.json, "--json")
    if args.plot is not None:
        check_output_file(args.plot, "--plot", suffixes=figure_formats())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = power_analysis(
            population, args.n, args.reps, analysis=analysis, estimator=args.estimator,
            alpha=args.alpha, interaction=args.interaction, random_state=args.seed,
            n_jobs=args.jobs, scheduler=args.scheduler,
        )  # fmt: skip
    print(res.summary(), flush=True)
    for path, write, what in ((args.json, res.to_json, "Results"), (args.plot, res.plot, "Plot")):
        if path is None:
            continue
        try:
            write(path)
        except OSError as exc:
            raise CkmError(f"Cannot write {path}: {exc.strerror}.") from None
        ui.note(f"{what} written to {path}")
    failed = res.convergence["requested"] - res.convergence["converged"]
    for n, k in zip(res.convergence["n"], failed, strict=True):
        if k:
            reasons = ", ".join(f"{m}: {c}" for m, c in res.failures[int(n)].items())
            ui.warning(f"N = {n}: {k} replications failed or did not converge ({reasons}); "
                       "the power is computed over the converged ones")
    for w in caught:
        if issubclass(w.category, CkmWarning):
            ui.warning(str(w.message))
    return EXIT_OK
