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

Layout
------
One module per command family, each with ``add_parser(subparsers)`` and its
handlers: :mod:`.fit` (``ckm fit``), :mod:`.instrument` (``ckm instrument
export``), :mod:`.data` (``ckm data import``), :mod:`.simulate` (``ckm
simulate``), :mod:`.measurement` (``ckm validity``, ``ckm invariance``),
:mod:`.inference` (``ckm power`` and ``ckm fit --bootstrap``), :mod:`.report`
(``ckm run``); :mod:`.common` holds what they share (the :class:`UI`, exit
codes, argument types, model files, warning reports). No other package of
``ckm_research`` imports this one or :mod:`argparse` (tests/test_architecture.py).

Adding a subcommand
-------------------
Write ``add_parser(subparsers)``, which builds the subcommand's parser (with
``parents=[common_options()]``) and sets ``func=run_NAME``; write
``run_NAME(args, ui) -> int``; append the ``add_parser`` to :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from collections.abc import Callable, Sequence

# Only light modules here: ``ckm --help`` builds every subcommand's parser, and each
# handler imports what it runs (the engine, scipy, pandas) when called
# (benchmarks/bench_startup.py; tests/test_startup.py checks nothing heavy is imported).
from ckm_research import __version__
from ckm_research.cli import data as data_cli
from ckm_research.cli import fit as fit_cli
from ckm_research.cli import inference as inference_cli
from ckm_research.cli import instrument as instrument_cli
from ckm_research.cli import measurement as measurement_cli
from ckm_research.cli import report as report_cli
from ckm_research.cli import simulate as simulate_cli
from ckm_research.cli.common import (
    ESTIMATORS,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UI,
    read_model_file,
)
from ckm_research.cli.common import common_options as _common_options
from ckm_research.errors import CkmError

__all__ = [
    "main", "build_parser", "SUBCOMMANDS", "UI", "EXIT_OK", "EXIT_BUG", "EXIT_USAGE",
    "EXIT_INTERRUPTED", "ESTIMATORS", "read_model_file",
]  # fmt: skip

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
        if (
            args[i] in _NEGATIVE_VALUE_OPTIONS
            and i + 1 < len(args)
            and _NEGATIVE_VALUE.match(args[i + 1])
        ):
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


# ---------------------------------------------------------------------------
# the parser and main()

#: Functions that add one subcommand each (see the module docstring).
SUBCOMMANDS: list[Callable] = [
    fit_cli.add_parser,
    instrument_cli.add_parser,
    data_cli.add_parser,
    simulate_cli.add_parser,
    measurement_cli.add_parser,
    inference_cli.add_parser,
    report_cli.add_parser,
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
