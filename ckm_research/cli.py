"""The ``ckm`` command line: a thin layer over ckm-research's Python API.

Every subcommand calls the same public functions a notebook uses, and
handles errors in one way:

- an error in the user's input (any :class:`~ckm_research.errors.CkmError`:
  a missing file, a variable not in the data, a model that does not
  converge, ...) prints its message on stderr and exits with code 2, without
  a traceback (``--debug`` shows it);
- anything else is a bug: a short message asks to rerun with ``--debug`` and
  report the traceback, exit code 1;
- the toolkit's warnings (``HeywoodCaseWarning``, ...) are printed on stderr
  after the results.

Adding a subcommand
-------------------
Write ``_add_NAME(subparsers)``, which builds the subcommand's parser (with
``parents=[_common_options()]``) and sets ``func=_run_NAME``; write
``_run_NAME(args, ui) -> int``; append ``_add_NAME`` to :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

# Only light modules here: ``ckm --help`` builds every subcommand's parser, and each
# handler imports what it runs (the engine, scipy, pandas) when called
# (benchmarks/bench_startup.py; tests/test_startup.py checks nothing heavy is imported).
from ckm_research import __version__
from ckm_research.data import cli_import, cli_simulate
from ckm_research.errors import CkmError, ModelFileError
from ckm_research.inference import cli as inference_cli
from ckm_research.instrument import cli as instrument_cli
from ckm_research.measurement import cli as measurement_cli
from ckm_research.moderation import cli as moderation_cli
from ckm_research.report import cli as report_cli
from ckm_research.sem import estimators as _estimators

__all__ = ["main"]

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: the estimator names fit() accepts (one list, in ckm_research.sem.estimators)
ESTIMATORS = _estimators.ESTIMATORS


# ---------------------------------------------------------------------------
# terminal output


class UI:
    """Messages on stderr: errors, warnings, notes and a progress spinner.

    Colour and the spinner appear only when stderr is a terminal; messages are
    never re-wrapped, so they can be searched and copied whole.
    """

    def __init__(self, debug: bool = False):
        from rich.console import Console  # imported here: rich is slow to import

        self.debug = debug
        self.console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        self.interactive = sys.stderr.isatty()

    def _print(self, label: str, style: str, message: str) -> None:
        from rich.text import Text

        line = Text()
        line.append(label, style=style or None)
        line.append(str(message))
        self.console.print(line, soft_wrap=True)

    def error(self, message: str) -> None:
        self._print("error: ", "bold red", message)

    def warning(self, message: str) -> None:
        self._print("warning: ", "bold yellow", message)

    def note(self, message: str) -> None:
        self._print("", "", message)

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner while long work runs (only on a terminal)."""
        if not self.interactive:
            yield
            return
        from rich.text import Text

        with self.console.status(Text(message), spinner="dots"):
            yield


# ---------------------------------------------------------------------------
# argument types


def _estimator(value: str) -> str:
    upper = value.strip().upper()
    if upper not in ESTIMATORS and upper not in _estimators.NOT_SUPPORTED:
        raise argparse.ArgumentTypeError(
            f"unknown estimator {value!r}; choose one of {', '.join(ESTIMATORS)}"
        )
    return upper


def _ordered(value: str) -> str | list[str]:
    if value.strip().lower() == "all":
        return "all"
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give 'all' or a comma-separated list of columns")
    return names


# Options whose value may start with "-" (a negative missing-value code): argparse
# would take "-99,-999" for an option, so "--missing-values -99,-999" is rewritten
# as "--missing-values=-99,-999".
_NEGATIVE_VALUE_OPTIONS = ("--missing-values",)
_NEGATIVE_VALUE = re.compile(r"^-[\d.]")


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        if (args[i] in _NEGATIVE_VALUE_OPTIONS and i + 1 < len(args)
                and _NEGATIVE_VALUE.match(args[i + 1])):
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


# ---------------------------------------------------------------------------
# shared helpers (in ckm_research.cli_common; the old names stay importable here)

from ckm_research.cli_common import common_options as _common_options  # noqa: E402
from ckm_research.cli_common import missing_values as _missing_values  # noqa: E402
from ckm_research.cli_common import read_model_file  # noqa: E402, F401
from ckm_research.cli_common import report_warnings as _report_warnings  # noqa: E402

# ---------------------------------------------------------------------------
# ckm fit


def _add_fit(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        parents=[_common_options()],
        help="fit a CFA/SEM written in lavaan syntax to survey data",
        description=(
            "Fit a CFA/SEM written in lavaan syntax to survey data and print a "
            "lavaan-like summary (estimator, N, convergence, fit measures, parameter "
            "table with standardized estimates)."
        ),
        epilog=(
            "examples:\n"
            "  ckm fit ckm_research/models/ckm_study.lav survey.csv\n"
            "  ckm fit model.lav survey.sav --estimator MLR --missing-values -99,-999\n"
            "  ckm fit model.lav survey.xlsx --estimator WLSMV --ordered all --json fit.json\n"
            "  ckm fit growth.lav waves.csv --growth --estimator MLR"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file in lavaan syntax (UTF-8 text)")
    p.add_argument(
        "data", metavar="DATA",
        help="data file: CSV (, ; or tab separated), Excel (.xlsx, .xls), SPSS (.sav), "
             "Stata (.dta)",
    )
    p.add_argument(
        "--estimator", type=_estimator, default="ML", metavar="|".join(ESTIMATORS),
        help="ML (default); MLR: robust SEs and scaled test; FIML: ML with missing "
             "answers; MLM, MLMV, MLMVS: robust SEs and Satorra-Bentler type tests "
             "(complete data); GLS, ULS, WLS, DWLS and their robust versions WLSM(V)(S), "
             "ULSM(V)(S): least squares (with --ordered: on polychoric correlations; "
             "ordered items need one of " + ", ".join(_estimators.ORDINAL_ESTIMATORS) + ")",
    )
    p.add_argument(
        "--ordered", type=_ordered, default=None, metavar="all|COL,COL,...",
        help="items to treat as ordinal (for " + ", ".join(_estimators.ORDINAL_ESTIMATORS)
             + "): 'all' or a comma-separated list",
    )
    p.add_argument("--group", default=None, metavar="COL",
                   help="column defining the groups of a multi-group model")
    p.add_argument(
        "--sampling-weights", default=None, metavar="COL",
        help="column of sampling (case) weights, as lavaan's sampling.weights: rescaled to "
             "sum to N, weighted sample moments, MLR (robust SEs and scaled test; ML is "
             "fitted as MLR, as lavaan does)",
    )
    p.add_argument(
        "--group-equal", type=_name_list, default=None, metavar="WHAT,...",
        help="parameters equal across groups (lavaan's group.equal): loadings, intercepts, "
             "means, thresholds, regressions, residuals, residual.covariances, lv.variances, "
             "lv.covariances",
    )
    p.add_argument(
        "--group-partial", type=_name_list, default=None, metavar="PAR,...",
        help="parameters exempted from --group-equal (lavaan's group.partial), written "
             "lhs op rhs: e.g. 'visual=~x2,x3~1'",
    )
    p.add_argument("--std-lv", action="store_true",
                   help="identify factors by unit variances instead of first loadings "
                        "(lavaan's std.lv = TRUE)")
    p.add_argument(
        "--fixed-x", choices=["true", "false"], default=None,
        help="treat observed exogenous covariates as fixed (lavaan's fixed.x; default true, "
             "false for GLS/ULS/WLS/DWLS on continuous items, as lavaan)",
    )
    p.add_argument(
        "--parameterization", choices=["delta", "theta"], default=None,
        help="ordinal items: lavaan's parameterization (default delta: unit variances of "
             "the latent responses; theta: unit residual variances)",
    )
    p.add_argument(
        "--missing", choices=["listwise", "ml", "ml.x"], default=None,
        help="missing answers: listwise deletion (default, as lavaan) or ml (casewise "
             "FIML; the default with --estimator FIML; '--estimator MLR --missing ml' "
             "gives robust FIML); ml deletes cases with a missing covariate (fixed x, "
             "as lavaan), ml.x keeps them (covariates random in the likelihood)",
    )
    p.add_argument(
        "--missing-values", type=_missing_values, default=None, metavar="CODE,...",
        help="codes meaning 'no answer', e.g. -99,-999 (empty cells are always missing)",
    )
    p.add_argument(
        "--encoding", default="utf-8", metavar="CODEC",
        help="text encoding of a CSV data file (default utf-8; e.g. gb18030 for a CSV "
             "saved by a Chinese-language Excel, cp1252 for a Western-European one)",
    )
    p.add_argument(
        "--interaction", choices=["dblcent", "lms"], default=None,
        help="latent product terms (Y ~ X + Z + X:Z): dblcent = double-mean-centred product "
             "indicators (default), lms = latent moderated structural equations",
    )
    p.add_argument(
        "--growth", action="store_true",
        help="latent growth curve model as lavaan's growth(): mean structure, observed "
             "intercepts fixed at 0, free growth-factor means",
    )
    p.add_argument("--meanstructure", action="store_true",
                   help="add intercepts and latent means (lavaan's meanstructure = TRUE)")
    p.add_argument("--orthogonal", action="store_true",
                   help="fix the covariances between latent variables at 0 (lavaan's "
                        "orthogonal = TRUE; covariances written in the model stay free)")
    p.add_argument("--std-ov", action="store_true",
                   help="standardize the observed variables before fitting (lavaan's "
                        "std.ov = TRUE)")
    p.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help="also write the results as JSON to PATH")
    p.add_argument(
        "--modindices", type=_positive_int, nargs="?", const=10, default=None, metavar="N",
        help="also print the N largest modification indices (default 10; lavaan's "
             "modindices(fit, sort. = TRUE, maximum.number = N))",
    )
    inference_cli.add_bootstrap_options(p)
    moderation_cli.add_options(p)
    p.set_defaults(func=_run_fit)


def _run_fit(args: argparse.Namespace, ui: UI) -> int:
    model_text = read_model_file(args.model)

    data_path = Path(args.data)
    if data_path.suffix.lower() == ".lav":
        raise ModelFileError(
            f"{data_path} looks like a model file, not data: the usage is "
            "`ckm fit MODEL DATA` (model file first). Did you swap them?"
        )
    if args.json is not None:
        target = args.json.resolve()
        if target in (data_path.resolve(), Path(args.model).resolve()):
            raise CkmError(
                f"--json {args.json} would overwrite an input file; choose another path."
            )
        from ckm_research.outputs import check_output_file

        check_output_file(args.json, "--json")

    from ckm_research.data.io import read_data

    with ui.status(f"Reading {data_path.name} ..."):
        data = read_data(data_path, missing_values=args.missing_values, encoding=args.encoding)

    options = {"estimator": args.estimator}
    if args.ordered is not None:
        options["ordered"] = args.ordered
    if args.group is not None:
        options["group"] = args.group
    if getattr(args, "missing", None) is not None:
        options["missing"] = args.missing
    if getattr(args, "interaction", None) is not None:
        options["interaction"] = args.interaction
    for flag in ("meanstructure", "orthogonal", "std_ov", "std_lv"):
        if getattr(args, flag, False):
            options[flag] = True
    if getattr(args, "group_equal", None):
        options["group_equal"] = args.group_equal
    if getattr(args, "group_partial", None):
        options["group_partial"] = args.group_partial
    if getattr(args, "fixed_x", None) is not None:
        options["fixed_x"] = args.fixed_x == "true"
    if getattr(args, "sampling_weights", None) is not None:
        options["sampling_weights"] = args.sampling_weights
    if getattr(args, "parameterization", None) is not None:
        options["parameterization"] = args.parameterization
    if getattr(args, "growth", False):
        from ckm_research.sem.growth import GROWTH_OPTIONS

        options.update(GROWTH_OPTIONS)  # as fit() keywords, so --bootstrap refits the same

    import ckm_research  # looked up at call time: the public API, as a notebook calls it

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ui.status(f"Fitting the model ({args.estimator}, N = {len(data)}) ..."):
            result = ckm_research.fit(model_text, data, **options)
        result = inference_cli.bootstrap_fit(args, model_text, data, options, result)
        result = moderation_cli.moderated_mediation_fit(args, result)

    # the warnings follow on stderr (_report_warnings), not inside the summary: once each
    print(result.summary(warnings=False), flush=True)
    moderation_cli.print_tables(result)
    if getattr(args, "modindices", None) is not None:
        _print_modindices(result, args.modindices)

    if args.json is not None:
        try:
            result.to_json(args.json)
        except OSError as exc:
            raise CkmError(f"Cannot write the JSON file {args.json}: {exc.strerror}.") from None
        ui.note(f"Results written to {args.json}")

    _report_warnings(ui, result, caught)
    if getattr(result, "converged", True) is False:
        ui.warning("the model did not converge: the estimates above are not trustworthy.")
    return EXIT_OK


def _name_list(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {value!r}")
    return names


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return n


def _print_modindices(result, n: int) -> None:
    """The ``n`` largest modification indices (``ckm fit --modindices N``)."""
    from ckm_research.sem.diagnostics import modindices

    mi = modindices(result, sort=True, maximum_number=n)
    print("", flush=True)
    print(f"Modification Indices (the {len(mi)} largest):", flush=True)
    print("", flush=True)
    text = mi.to_string(index=False, float_format=lambda v: f"{v:.3f}") if len(mi) else "  none"
    print(text, flush=True)


# ---------------------------------------------------------------------------
# the parser and main()

#: Functions that add one subcommand each (see the module docstring).
SUBCOMMANDS: list[Callable] = [
    _add_fit, instrument_cli.add_parser, cli_import.add_parser, cli_simulate.add_parser,
    measurement_cli.add_parser, inference_cli.add_parser, report_cli.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``ckm`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ckm",
        parents=[_common_options()],
        description="ckm-research: Customer Knowledge Management studies, from survey "
                    "data to SEM results.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ckm`` command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name); ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 for a problem with the input (or a usage error), 1 for
        an unexpected internal error, 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(_join_negative_values(argv))
    except SystemExit as exc:  # usage errors (code 2), --help and --version (code 0)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    ui = UI(debug=getattr(args, "debug", False))
    try:
        return args.func(args, ui)
    except CkmError as exc:
        if ui.debug:
            traceback.print_exc(file=sys.stderr)
        ui.error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        ui.error("interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of the output went away (`ckm fit ... | head`): not an error of ours;
        # send what is left to /dev/null so that Python's exit flush stays quiet
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: keep the message short unless --debug
        if ui.debug:
            traceback.print_exc(file=sys.stderr)
            ui.error(
                f"unexpected internal error ({type(exc).__name__}: {exc}). This is a bug in "
                "ckm-research; please report it with the traceback above."
            )
        else:
            ui.error(
                f"unexpected internal error ({type(exc).__name__}: {exc}). This is a bug in "
                "ckm-research, not a problem with your input. Rerun the same command with "
                "--debug and report it with the traceback."
            )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
