"""``ckm fit``: fit a CFA/SEM written in lavaan syntax and print a lavaan-like summary.

Registered in :mod:`ckm_research.cli` through :func:`add_parser`; the handler
:func:`run_fit` calls :func:`ckm_research.fit` as a notebook does (and, with
``--bootstrap``, :func:`ckm_research.cli.inference.bootstrap_fit`).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from ckm_research.cli import inference as inference_cli
from ckm_research.cli import moderation as moderation_cli
from ckm_research.cli.common import ESTIMATORS, EXIT_OK, UI, read_model_file
from ckm_research.cli.common import common_options as _common_options
from ckm_research.cli.common import missing_values as _missing_values
from ckm_research.cli.common import report_warnings as _report_warnings
from ckm_research.errors import CkmError, ModelFileError
from ckm_research.sem import estimators as _estimators

__all__ = ["add_parser", "run_fit"]

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


# ---------------------------------------------------------------------------
# ckm fit


def add_parser(subparsers) -> None:
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
        "--encoding", default="auto", metavar="CODEC",
        help="text encoding of a CSV data file (default auto: UTF-8, UTF-8 with BOM, GBK "
             "or GB18030, detected; give others by name, e.g. cp1252)",
    )
    p.add_argument(
        "--interaction", choices=["dblcent", "lms", "qml"], default=None,
        help="latent product terms (Y ~ X + Z + X:Z): dblcent = double-mean-centred product "
             "indicators (default), lms = latent moderated structural equations (with --group: "
             "multi-group LMS, --group-equal regressions includes the product terms), qml = "
             "quasi-maximum likelihood (Klein & Muthen, 2007; fast with many product terms)",
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
    p.set_defaults(func=run_fit)


def run_fit(args: argparse.Namespace, ui: UI) -> int:
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
    if data.attrs.get("encoding_note"):
        ui.note(f"Read {data_path.name} as {data.attrs['encoding_note']} text.")

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
    moderation_cli.print_interaction_effects(result)
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


