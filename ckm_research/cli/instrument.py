"""``ckm instrument export``: write an instrument for the field, the analyst or the model.

Registered in :mod:`ckm_research.cli` through :func:`add_parser`; the handler
:func:`run_export` calls :func:`ckm_research.instrument.export.export_instrument`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run_export"]


def add_parser(subparsers) -> None:
    """Add ``instrument`` (with its ``export`` subcommand) to the ``ckm`` parser."""
    from ckm_research.cli.common import common_options
    from ckm_research.instrument.formats import FORMATS

    group = subparsers.add_parser(
        "instrument", parents=[common_options()],
        help="survey instruments: export for ODK/Kobo, print, codebook, lavaan",
        description="Survey instruments (surveys/*.yaml).",
    )
    sub = group.add_subparsers(dest="instrument_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser(
        "export", parents=[common_options()],
        help="write an instrument as XLSForm, HTML, codebook or lavaan syntax",
        description="Write a survey instrument in one format:\n"
                    + "\n".join(f"  {k:9s} {v}" for k, v in FORMATS.items()),
        epilog=(
            "examples:\n"
            "  ckm instrument export --format xlsform --output field/ckm.xlsx\n"
            "  ckm instrument export --format html --lang zh --output print/ckm_zh.html\n"
            "  ckm instrument export --format codebook --output docs/codebook.csv\n"
            "  ckm instrument export --format lavaan --instrument my.yaml --output cfa.lav"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--format", required=True, choices=list(FORMATS), metavar="FORMAT",
                   help="xlsform, html, codebook or lavaan")
    p.add_argument("--instrument", default=None, metavar="NAME|PATH",
                   help="instrument name in surveys/ or a YAML file (default: ckm)")
    p.add_argument("--lang", default="both", metavar="en|zh|both",
                   help="language(s) of the wording (default: both)")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="file to write (codebook: PATH.csv and PATH.md)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm instrument export``."""
    from ckm_research.instrument import load_instrument
    from ckm_research.instrument.export import export_instrument

    instrument = load_instrument(args.instrument)
    written = export_instrument(instrument, args.format, args.output, lang=args.lang)
    for path in written:
        ui.note(f"Wrote {path}")
    return 0
