"""Helpers shared by the ``ckm`` subcommands: argument types, common options,
model files and warning reports.

The subcommand modules (``ckm_research.data.cli_import``, ``ckm_research.measurement.cli``,
``ckm_research.inference.cli``, ...) import these from here, not from the private names of
:mod:`ckm_research.cli`, which re-exports them under their old names (issue 10).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ckm_research.errors import CkmWarning, ModelFileError

if TYPE_CHECKING:
    from ckm_research.cli import UI

__all__ = ["common_options", "missing_values", "read_model_file", "report_warnings"]


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
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"Cannot read the model file {path}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ModelFileError(
            f"The model file {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line "
            f"{line}). Save it as plain UTF-8 text (in most editors: Save As > Encoding: "
            "UTF-8)."
        ) from None
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
