"""``ckm validity`` and ``ckm invariance``: measurement quality from the command line.

Registered in :mod:`ckm_research.cli` through :func:`add_parser`.  The
handlers call the same public functions a notebook uses:

* ``ckm validity MODEL DATA``: :func:`~ckm_research.fit`, then
  :func:`~ckm_research.measurement.validity_report` (alpha, omega, AVE, HTMT,
  Fornell-Larcker, loadings, flags) and the common-method checks
  (:func:`~ckm_research.measurement.harman_single_factor`,
  :func:`~ckm_research.measurement.ulmc`, and with ``--marker``
  :func:`~ckm_research.measurement.lindell_whitney` and
  :func:`~ckm_research.measurement.cfa_marker`); with ``--inference``
  :func:`~ckm_research.measurement.validity_inference` (HTMT intervals and tests,
  CICFA(sys), with ``--chi2-sys`` chi2(sys), reliability intervals, VIFs);
* ``ckm invariance MODEL DATA --group COL`` (or ``--split FACTOR --cut ...``):
  :func:`~ckm_research.measurement.multigroup_comparison` (the invariance sequence,
  then, when the model has regressions, Wald tests of equal paths), the function
  the pipeline's multi-group comparison calls.
* ``ckm robustness MODEL DATA``:
  :func:`~ckm_research.moderation.robustness.composite_regression` and
  :func:`~ckm_research.moderation.robustness.gaussian_copula`.

Errors in the input raise :class:`~ckm_research.errors.CkmError`, which the
``ckm`` entry point prints and turns into exit code 2.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from ckm_research.sem.estimators import FIML_ESTIMATORS

__all__ = ["add_parser", "run_validity", "run_invariance", "run_robustness"]

_ESTIMATORS = FIML_ESTIMATORS


def _estimator(value: str) -> str:
    upper = value.strip().upper()
    if upper not in _ESTIMATORS:
        raise argparse.ArgumentTypeError(
            f"unknown estimator {value!r}; choose one of {', '.join(_ESTIMATORS)} "
            "(WLSMV: not in the CLI; composite_reliability gives the categorical omega in Python)"
        )
    return upper


def _columns(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give a comma-separated list of columns, e.g. m1,m2,m3")
    return names


def _n_boot(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 2:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of resamples >= 2")
    return n


def _cut(value: str) -> str | float:
    v = value.strip().lower()
    if v in ("median", "mean"):
        return v
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not 'median', 'mean' or a number"
        ) from None


def add_parser(subparsers) -> None:
    """Add ``validity`` and ``invariance`` to the ``ckm`` parser."""
    from ckm_research.cli.common import common_options, missing_values

    p = subparsers.add_parser(
        "validity",
        parents=[common_options()],
        help="reliability, validity and common-method checks of a measurement model",
        description=(
            "Fit the model, then report per factor Cronbach's alpha, composite reliability "
            "(omega, as semTools compRelSEM) and AVE (as semTools AVE); the HTMT matrix "
            "(semTools htmt) and the Fornell-Larcker table; standardized loadings; flags "
            "against cited thresholds; and common-method checks (Harman, ULMC, and with "
            "--marker the Lindell-Whitney and Williams et al. marker techniques)."
        ),
        epilog=(
            "examples:\n"
            "  ckm validity ckm_research/models/ckm_study.lav survey.csv --json validity.json\n"
            "  ckm validity model.lav survey.sav --estimator MLR --marker mk1,mk2,mk3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file in lavaan syntax (UTF-8 text)")
    p.add_argument("data", metavar="DATA", help="data file (CSV, Excel, SPSS, Stata)")
    p.add_argument("--estimator", type=_estimator, default="ML", metavar="ML|MLR|FIML",
                   help="estimator of the CFA (default ML)")
    p.add_argument("--marker", type=_columns, default=None, metavar="COL,COL,...",
                   help="marker items (a scale unrelated to the constructs) for the marker "
                        "techniques")
    p.add_argument("--htmt", choices=("htmt2", "original"), default="htmt2",
                   help="HTMT2 with geometric means (default, as semTools 0.5.6) or the "
                        "original HTMT of Henseler et al. (2015)")
    p.add_argument("--no-cmv", action="store_true",
                   help="skip the common-method checks (they fit several extra models)")
    p.add_argument("--missing", choices=["listwise", "ml"], default=None,
                   help="missing answers: listwise deletion (default, as lavaan) or ml "
                        "(FIML; '--estimator MLR --missing ml' for robust FIML)")
    p.add_argument("--missing-values", type=missing_values, default=None, metavar="CODE,...",
                   help="codes meaning 'no answer', e.g. -99,-999")
    p.add_argument("--inference", action="store_true",
                   help="add intervals and tests: HTMT with bootstrap CIs and H0: HTMT >= "
                        ".85/.90/1, CICFA(sys) (Ronkko & Cho, 2022), omega/AVE/alpha "
                        "intervals, full collinearity VIFs (Kock, 2015)")
    p.add_argument("--chi2-sys", action="store_true",
                   help="with --inference: also chi2(sys), one constrained CFA per factor "
                        "pair and cutoff (slow for many factors)")
    p.add_argument("--n-boot", type=_n_boot, default=1000, metavar="B",
                   help="bootstrap resamples for --inference (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="seed of the --inference bootstraps")
    p.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help="also write the results as JSON to PATH")
    p.set_defaults(func=run_validity)

    q = subparsers.add_parser(
        "invariance",
        parents=[common_options()],
        help="measurement invariance across groups and path comparisons",
        description=(
            "Fit the configural, metric, scalar and strict invariance models of the "
            "measurement model across the groups of a column (or of a factor's score split "
            "at a cut; that factor is then left out of the group models), with chi-square "
            "difference tests (Satorra-Bentler 2001 for MLR, as lavaan's lavTestLRT) and "
            "changes in CFI and RMSEA in one table; then Wald tests of equal regression paths "
            "in a multi-group fit with equal loadings (and intercepts, when scalar invariance "
            "is supported). The pipeline (ckm run) compares its groups the same way."
        ),
        epilog=(
            "examples:\n"
            "  ckm invariance model.lav survey.csv --group sector\n"
            "  ckm invariance ckm_research/models/ckm_study.lav survey.csv --split CTU "
            "--cut median --estimator MLR --json invariance.json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("model", metavar="MODEL", help="model file in lavaan syntax (UTF-8 text)")
    q.add_argument("data", metavar="DATA", help="data file (CSV, Excel, SPSS, Stata)")
    how = q.add_mutually_exclusive_group(required=True)
    how.add_argument("--group", default=None, metavar="COL", help="column defining the groups")
    how.add_argument("--split", default=None, metavar="FACTOR",
                     help="make two groups (low, high) by cutting a factor's score")
    q.add_argument("--cut", type=_cut, default="median", metavar="median|mean|VALUE",
                   help="where to cut the score for --split (default: median)")
    q.add_argument("--score", choices=("mean", "regression"), default="mean",
                   help="score for --split: mean of the factor's items (default) or its "
                        "regression factor score")
    q.add_argument("--estimator", type=_estimator, default="ML", metavar="ML|MLR|FIML",
                   help="estimator (default ML)")
    q.add_argument("--levels", type=_columns, default=None, metavar="LEVEL,...",
                   help="levels to fit (default: configural,metric,scalar,strict)")
    q.add_argument("--missing", choices=["listwise", "ml"], default=None,
                   help="missing answers: listwise deletion (default) or ml (FIML)")
    q.add_argument("--missing-values", type=missing_values, default=None, metavar="CODE,...",
                   help="codes meaning 'no answer', e.g. -99,-999")
    q.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help="also write the results as JSON to PATH")
    q.add_argument("--criterion", choices=("fit", "chisq", "both"), default="fit",
                   help="when a level holds: changes in CFI/RMSEA (fit, default), the "
                        "chi-square difference test (chisq) or both")
    q.add_argument("--ordinal", action="store_true",
                   help="items are ordinal: WLSMV, thresholds then loadings then intercepts "
                        "(Wu & Estabrook, 2016); --estimator and --levels do not apply")
    q.add_argument("--no-partial", action="store_true",
                   help="do not search for partial invariance when a level fails (later "
                        "levels are then not tested)")
    q.set_defaults(func=run_invariance)

    r = subparsers.add_parser(
        "robustness",
        help="composite-score regressions (HC3) and Gaussian copula endogeneity checks",
        description=(
            "Robustness checks of the structural equations on item-mean construct scores: "
            "the composite-score moderated regression with mean-centred products and HC3 "
            "SEs, and Gaussian copula control functions (Park & Gupta, 2012) with the "
            "checks of Becker, Proksch & Ringle (2022)."),
        epilog="Example:\n  ckm robustness ckm_research/models/ckm_study.lav survey.csv "
               "--latent --n-boot 1000 --seed 1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("model", metavar="MODEL", help="model file in lavaan syntax (UTF-8 text)")
    r.add_argument("data", metavar="DATA", help="data file (CSV, Excel, SPSS, Stata)")
    r.add_argument("--endogenous", type=_columns, default=None, metavar="FACTOR,...",
                   help="regressors suspected endogenous (default: every first-order one)")
    r.add_argument("--n-boot", type=_n_boot, default=500, metavar="B",
                   help="bootstrap resamples of the copula SEs (default 500)")
    r.add_argument("--seed", type=int, default=None, help="seed of the bootstrap")
    r.add_argument("--latent", action="store_true",
                   help="also fit the latent model (ML) and show its estimates beside")
    r.add_argument("--missing-values", type=missing_values, default=None, metavar="CODE,...",
                   help="codes meaning 'no answer'")
    r.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help="write both tables as JSON")
    r.set_defaults(func=run_robustness)


def _inputs(args):
    from ckm_research.cli.common import read_model_file
    from ckm_research.data.io import read_data
    from ckm_research.errors import CkmError, ModelFileError

    model_text = read_model_file(args.model)
    data_path = Path(args.data)
    if data_path.suffix.lower() == ".lav":
        raise ModelFileError(
            f"{data_path} looks like a model file, not data: the usage is "
            f"`ckm {args.command} MODEL DATA` (model file first). Did you swap them?"
        )
    if args.json is not None and args.json.resolve() in (data_path.resolve(),
                                                         Path(args.model).resolve()):
        raise CkmError(f"--json {args.json} would overwrite an input file; choose another path.")
    if args.json is not None:
        from ckm_research.outputs import check_output_file

        check_output_file(args.json, "--json")
    data = read_data(data_path, missing_values=args.missing_values)
    return model_text, data


def _write_json(path: Path | None, doc: dict, ui) -> None:
    from ckm_research.errors import CkmError

    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CkmError(f"Cannot write the JSON file {path}: {exc.strerror}.") from None
    ui.note(f"Results written to {path}")


def run_validity(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm validity``."""
    import ckm_research
    from ckm_research.cli import EXIT_OK
    from ckm_research.cli.common import report_warnings
    from ckm_research.measurement import cfa_marker, cmv_checks, validity_report

    model_text, data = _inputs(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ui.status(f"Fitting the model ({args.estimator}, N = {len(data)}) ..."):
            result = ckm_research.fit(model_text, data, estimator=args.estimator,
                                      missing=args.missing)
        report = validity_report(result, data, htmt2=args.htmt == "htmt2")
        methods = ([] if args.no_cmv else ["harman", "ulmc"]) + (["marker"] if args.marker else [])
        with ui.status("Common-method checks ..."):
            # the checks the pipeline runs (measurement.cmv_checks), then the CFA marker
            cmv = cmv_checks(data, result, methods, estimator=args.estimator,
                             missing=args.missing, markers=args.marker)
        for key, name in (("harman", "harman"), ("ulmc", "ulmc"),
                          ("marker", "marker_lindell_whitney")):
            if cmv[key] is not None:
                report.cmv[name] = cmv[key]
        if args.marker:
            with ui.status("Marker-variable CFA ..."):
                report.cmv["marker_cfa"] = cfa_marker(data, result, args.marker,
                                                      estimator=args.estimator,
                                                      missing=args.missing)
        inference = None
        if args.inference or args.chi2_sys:
            from ckm_research.measurement import validity_inference

            with ui.status("Intervals and tests (bootstrap, CICFA, VIF) ..."):
                inference = validity_inference(
                    result, data, htmt2=args.htmt == "htmt2", n_boot=args.n_boot,
                    random_state=args.seed, chisq=args.chi2_sys)
    print(report.summary(), flush=True)
    doc = report.to_dict()
    if inference is not None:
        print("\n" + inference.summary(), flush=True)
        doc["inference"] = inference.to_dict()
    _write_json(args.json, doc, ui)
    report_warnings(ui, result, caught)
    return EXIT_OK


def run_invariance(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm invariance``: :func:`ckm_research.measurement.multigroup_comparison`,
    the function the pipeline's multi-group comparison calls."""
    from ckm_research.cli import EXIT_OK
    from ckm_research.cli.common import report_warnings
    from ckm_research.errors import CkmError
    from ckm_research.measurement import multigroup_comparison

    model_text, data = _inputs(args)
    levels = args.levels or ["configural", "metric", "scalar", "strict"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.ordinal:
            from ckm_research.measurement import ordinal_invariance

            if args.split is not None:
                raise CkmError("--ordinal works with --group COLUMN; a --split of an ordinal "
                               "factor's score is not supported")
            with ui.status("Fitting the ordinal invariance models (WLSMV) ..."):
                inv = ordinal_invariance(model_text, data, args.group, criterion=args.criterion)
            print(inv.summary(), flush=True)
            _write_json(args.json, inv.to_dict(), ui)
            report_warnings(ui, next(iter(inv.fits.values())), caught)
            return EXIT_OK
        with ui.status(f"Fitting {len(levels)} invariance models and the multi-group model "
                       f"({args.estimator}) ..."):
            mg = multigroup_comparison(
                model_text, data, group=args.group, factor=args.split, cut=args.cut,
                score=args.score, levels=levels, estimator=args.estimator,
                missing=args.missing or "listwise", partial=not args.no_partial,
                criterion=args.criterion,
            )  # fmt: skip
    if mg.invariance is None:
        raise CkmError(mg.invariance_error)
    for note in mg.notes:
        ui.note(note)
    print(mg.summary(), flush=True)
    _write_json(args.json, mg.to_dict(), ui)
    for message in mg.invariance_warnings + mg.messages:
        ui.warning(message)
    report_warnings(ui, mg.invariance.fits[levels[0]], caught)
    return EXIT_OK


def run_robustness(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm robustness``."""
    from ckm_research.cli import EXIT_OK
    from ckm_research.moderation.robustness import composite_regression, gaussian_copula
    from ckm_research.report.store import to_jsonable as clean_json

    args.missing = None
    model_text, data = _inputs(args)
    latent = None
    if args.latent:
        import ckm_research

        with ui.status("Fitting the latent model (ML) ..."):
            latent = ckm_research.fit(model_text, data)
    comp = composite_regression(model_text, data, latent=latent)
    with ui.status(f"Gaussian copula, {args.n_boot} bootstrap resamples ..."):
        cop = gaussian_copula(model_text, data, endogenous=args.endogenous,
                              n_boot=args.n_boot, random_state=args.seed)
    print(comp.summary(), flush=True)
    print("\n" + cop.summary(), flush=True)
    doc = {"composite": {"table": comp.table, "r2": comp.r2, "notes": comp.notes},
           "copula": {"table": cop.table, "checks": cop.checks, "notes": cop.notes,
                      "n_boot": cop.n_boot, "seed": args.seed}}
    _write_json(args.json, clean_json(doc), ui)
    return EXIT_OK
