"""Helpers shared by the ``ckm`` subcommands: the terminal UI, exit codes, argument
types, common options, model files and warning reports.

The subcommand modules of :mod:`ckm_research.cli` (``fit``, ``data``, ``measurement``,
``inference``, ...) import these from here; :mod:`ckm_research.cli` re-exports the public
ones.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from ckm_research.errors import CkmWarning, ModelFileError
from ckm_research.sem import estimators as _estimators
from ckm_research.textfile import read_text

__all__ = [
    "UI", "EXIT_OK", "EXIT_BUG", "EXIT_USAGE", "EXIT_INTERRUPTED", "ESTIMATORS",
    "common_options", "missing_values", "read_model_file", "report_warnings",
]  # fmt: skip

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
        self.debug = debug
        self.interactive = sys.stderr.isatty()
        self._console = None

    @property
    def console(self):
        """rich's console on stderr, made on the first message: rich is slow to import,
        and a command that prints no note, warning or spinner does without it."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        return self._console

    def _print(self, label: str, style: str, message: str) -> None:
        if not self.interactive and self._console is None:
            # no colour off a terminal: the same line without importing rich
            sys.stderr.write(f"{label}{message}\n")
            sys.stderr.flush()
            return
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


def missing_values(value: str) -> list[float | int | str]:
    """The argument type of ``--missing-values``: codes separated by commas.

    Whole numbers become ``int``, other numbers ``float`` and the rest stay text
    (``"."``, ``"NA"``).
    """
    codes: list[float | int | str] = []
    for token in value.split(","):
        token = token.strip()
        if not token:
            raise argparse.ArgumentTypeError(
                f"empty code in {value!r}; give codes separated by commas, e.g. -99,-999"
            )
        try:
            codes.append(int(token))
        except ValueError:
            try:
                codes.append(float(token))
            except ValueError:
                codes.append(token)  # a text code such as "." or "NA"
    return codes


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts (``ckm fit ... --debug``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback when something goes wrong",
    )
    return common


#: Extensions of data files, to catch MODEL and DATA given the wrong way round.
_DATA_EXTENSIONS = (".csv", ".tsv", ".xlsx", ".xlsm", ".xls", ".sav", ".zsav", ".por", ".dta")


def read_model_file(path: str | Path) -> str:
    """Read a lavaan model file as UTF-8 text, with clear errors.

    Parameters
    ----------
    path : str or pathlib.Path
        The model file.

    Returns
    -------
    str
        The model syntax (a UTF-8 byte-order mark is dropped).

    Raises
    ------
    ModelFileError
        The file does not exist, is a folder or a data file, is not UTF-8
        text, or is empty.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"The model file {path} does not exist.")
    if path.is_dir():
        raise ModelFileError(f"The model file {path} is a folder, not a file.")
    if path.suffix.lower() in _DATA_EXTENSIONS:
        raise ModelFileError(
            f"{path} looks like a data file, not a model: the usage is `ckm fit MODEL DATA` "
            "(model file first). Did you swap them?"
        )
    text = read_text(path, what="model file", error=ModelFileError)
    if not text.strip():
        raise ModelFileError(f"The model file {path} is empty.")
    return text


def report_warnings(ui: UI, result, caught: list[warnings.WarningMessage]) -> None:
    """Print the toolkit's warnings once each; other libraries' only with --debug."""
    messages = list(getattr(result, "warnings", []) or [])
    messages += [str(w.message) for w in caught if issubclass(w.category, CkmWarning)]
    for message in dict.fromkeys(messages):
        ui.warning(message)
    other = [w for w in caught if not issubclass(w.category, CkmWarning)]
    if not other:
        return
    if ui.debug:
        for w in other:
            ui.warning(f"{w.category.__name__} ({Path(w.filename).name}:{w.lineno}): {w.message}")
    else:
        ui.note(
            f"({len(other)} technical warning{'s' if len(other) != 1 else ''} from the "
            "numerical libraries hidden; rerun with --debug to see them.)"
        )
