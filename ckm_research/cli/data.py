"""``ckm data import``: bring responses back from the field, validated and screened.

Registered in :mod:`ckm_research.cli` through :func:`add_parser`; the handler
:func:`run_import` calls :func:`ckm_research.data.importer.import_responses`
and :func:`~ckm_research.data.importer.write_import`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run_import"]


def _share(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(f"{value} is not in [0, 1)")
    return x


def add_parser(subparsers) -> None:
    """Add ``data`` (with its ``import`` subcommand) to the ``ckm`` parser."""
    from ckm_research.cli.common import common_options, missing_values
    from ckm_research.data.choices import CRITERIA

    group = subparsers.add_parser(
        "data", parents=[common_options()],
        help="survey responses: import, validate, screen",
        description="Survey responses.",
    )
    sub = group.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser(
        "import", parents=[common_options()],
        help="validate, reverse-code, de-identify and screen a response file",
        description=(
            "Read a response file (CSV, Excel, SPSS .sav, Stata .dta, a Qualtrics CSV export "
            "or a KoboToolbox/ODK export), check every answer against the instrument, "
            "reverse-code reverse-keyed items, remove personal data, and write the processed "
            "data, a screening report and a manifest (with the raw file's sha256). The raw "
            "file is never modified. Screening flags respondents; --drop removes them."
        ),
        epilog=(
            "examples:\n"
            "  ckm data import qualtrics_export.csv --output data/processed/ckm.csv\n"
            "  ckm data import kobo.xlsx --instrument surveys/ckm.yaml --output clean.csv \\\n"
            "      --report clean_screening.md --drop attention,longstring"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the raw response file (read only)")
    p.add_argument("--instrument", default=None, metavar="NAME|PATH",
                   help="instrument the data were collected with (default: ckm)")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="processed data (.csv, .xlsx, .sav or .dta)")
    p.add_argument("--report", default=None, metavar="PATH",
                   help="screening report, .md or .json (default: OUTPUT stem + "
                        ".screening.md)")
    p.add_argument("--missing-values", type=missing_values, default=None, metavar="CODE,...",
                   help="codes meaning 'no answer', e.g. -99,-999 (empty cells always are)")
    p.add_argument("--drop", default=None, metavar="CRITERIA",
                   help=f"drop flagged respondents: any, or some of {','.join(CRITERIA)}")
    p.add_argument("--encoding", default="auto",
                   help="text encoding of a CSV file (default auto: UTF-8, UTF-8 with BOM, "
                        "GBK or GB18030, detected; give others by name, e.g. cp1252)")
    p.add_argument("--column-map", default=None, metavar="PATH",
                   help="Wenjuanxing (问卷星) exports: YAML or CSV file naming the item id "
                        "(or ~ to leave out) of question columns not matched by their wording")
    p.add_argument("--longstring-min", type=int, default=None, metavar="K",
                   help="flag runs of K identical answers or more (default 15)")
    p.add_argument("--outlier-alpha", type=float, default=None, metavar="P",
                   help="flag Mahalanobis p-values below P (default 0.001)")
    p.add_argument("--seconds-per-item", type=float, default=None, metavar="S",
                   help="flag completion faster than S seconds per item (default 2)")
    p.add_argument("--missing-max-share", type=_share, default=None, metavar="SHARE",
                   help="flag respondents missing more than SHARE of items (default 0.2)")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm data import``."""
    from pathlib import Path

    from ckm_research.data.importer import import_responses, write_import
    from ckm_research.data.screening import CRITERIA, ScreeningRules
    from ckm_research.errors import CkmError

    drop = None
    if args.drop:
        drop = [d.strip() for d in args.drop.split(",") if d.strip()]
        unknown = [d for d in drop if d not in (*CRITERIA, "any")]
        if unknown:
            raise CkmError(f"--drop: unknown criterion {', '.join(map(repr, unknown))}; "
                           f"choose any, or some of {', '.join(CRITERIA)}.")
    overrides = {k: getattr(args, k) for k in
                 ("longstring_min", "outlier_alpha", "seconds_per_item", "missing_max_share")
                 if getattr(args, k) is not None}
    try:
        rules = ScreeningRules(**overrides)
    except ValueError as exc:
        raise CkmError(str(exc).replace("parameter of ScreeningRules", "option")) from None
    if Path(args.output).resolve() == Path(args.file).resolve():
        raise CkmError(f"--output {args.output} is the raw file: raw files are never "
                       "overwritten; choose another path.")
    from ckm_research.outputs import check_output_file

    check_output_file(args.output, "--output")
    with ui.status(f"Importing {Path(args.file).name} ..."):
        result = import_responses(args.file, args.instrument, missing_values=args.missing_values,
                                  drop=drop, rules=rules, encoding=args.encoding,
                                  column_map=args.column_map)
        paths = write_import(result, args.output, args.report)
    counts = result.manifest["counts"]
    for rule in result.manifest["rules"]["applied"]:
        if rule.startswith(("text decoded as", "Wenjuanxing layout")):
            ui.note(rule[0].upper() + rule[1:] + ".")
    ui.note(f"Read {counts['rows_read']} respondents ({result.manifest['raw_file']['format']} "
            f"layout); wrote {counts['rows_written']} to {paths['data']}.")
    flagged = ", ".join(f"{k} {v}" for k, v in counts["flagged"].items())
    ui.note(f"Flagged: {flagged} ({counts['flagged_any']} respondents in all).")
    ui.note(f"Screening report: {paths['report']}; manifest: {paths['manifest']}")
    return 0
