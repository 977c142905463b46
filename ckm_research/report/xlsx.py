"""``tables.xlsx``: every table of the report, one sheet each, at full precision.

The report prints its numbers rounded the APA way; the tables behind them are
kept at full precision in ``results.json`` and ``tables/<name>.csv``
(:class:`~ckm_research.report.tables.Table`). :func:`write_xlsx` gathers the
tables the report shows, in the report's order, into one Excel workbook:

* a first sheet ``Contents`` lists each table's number, title and note as the
  report prints them (in the report's language), its sheet (a link) and its CSV;
* one sheet per table, named ``T<number> <name>`` (at most 31 characters, unique),
  with the stable column names of the CSV (lavaan's ``lhs``, ``op``, ``rhs``,
  ``est``, ``se``, ...) in the first row and the values as stored: numbers as
  IEEE doubles (what Python wrote to ``results.json``), text as text (lavaan's
  ``=~`` stays text, never a formula), missing values (and empty texts, which
  Excel does not tell from them) as empty cells.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ckm_research.errors import CkmError
from ckm_research.report.docx import ShownTable, report_fragments, report_tables

__all__ = ["write_xlsx", "sheet_names", "XLSX_NAME"]

#: File name of the workbook in the output folder.
XLSX_NAME = "tables.xlsx"
#: Excel's limit on the length of a sheet name.
MAX_SHEET = 31
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_names(tables: list[ShownTable]) -> list[str]:
    """One sheet name per table: ``T<number> <name>``, at most 31 characters, unique
    (case-insensitively, as Excel compares them), without the characters Excel forbids.

    Examples
    --------
    >>> t = ShownTable("path_comparison_with_a_very_long_name", "Table 12", 12, "", [], [])
    >>> sheet_names([t, t])
    ['T12 path_comparison_with_a_very', 'T12 path_comparison_with_a_ve 2']
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, t in enumerate(tables, 1):
        number = t.number if t.number is not None else i
        base = _BAD_SHEET.sub("_", f"T{number} {t.name}".strip())[:MAX_SHEET].strip("' ")
        name, k = base, 1
        while name.lower() in seen or name.lower() == "contents":
            k += 1
            suffix = f" {k}"
            name = base[: MAX_SHEET - len(suffix)] + suffix
        seen.add(name.lower())
        out.append(name)
    return out


def _records(results: dict[str, Any]) -> dict[str, list[tuple[str, dict]]]:
    found: dict[str, list[tuple[str, dict]]] = {}
    for stage, data in (results.get("stages") or {}).items():
        for name, rec in ((data or {}).get("tables") or {}).items():
            found.setdefault(name, []).append((stage, rec))
    return found


def _record_for(shown: ShownTable, found: dict[str, list[tuple[str, dict]]]) -> tuple[str, dict]:
    """The stored record of a shown table (by name; when two stages recorded a table of
    that name, the one whose printed header is the one shown)."""
    from ckm_research.report.tables import Table

    candidates = found.get(shown.name, [])
    if not candidates:
        raise CkmError(
            f"the report shows table {shown.label or shown.name!r} "
            f"({shown.name!r}), which is not in results.json: rerun the report "
            "(ckm run --only report)"
        )
    if len(candidates) > 1:
        for stage, rec in candidates:
            if list(Table.from_record(shown.name, rec).display_frame().columns) == shown.header:
                return stage, rec
    return candidates[0]


def _cell_value(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))[:32767]


def _put(ws, row: int, col: int, value: Any):
    cell = ws.cell(row=row, column=col, value=_cell_value(value))
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # lavaan's "=~" and "==" are text, not formulas
    return cell


def write_xlsx(
    output_dir: str | Path,
    *,
    fragments: list[str] | None = None,
    notebook: str | Path | None = None,
    target: str | Path | None = None,
) -> Path:
    """Write every table of the report into one workbook (see the module docstring).

    Parameters
    ----------
    output_dir : path
        The pipeline's output folder (``results.json`` holds the tables).
    fragments : list of str, optional
        The report's HTML (default: what the executed report notebook displayed,
        :func:`~ckm_research.report.docx.report_fragments`); it gives the tables shown,
        their numbers, titles and notes.
    notebook : path, optional
        The executed report notebook.
    target : path, optional
        Where to write (default ``<output_dir>/tables.xlsx``).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    CkmError
        ``results.json`` is missing, or lacks a table the report shows.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    from ckm_research.report.store import read_results

    root = Path(output_dir)
    results = read_results(root)
    if fragments is None:
        fragments = report_fragments(root, notebook)
    shown = report_tables(fragments)
    found = _records(results)
    names = sheet_names(shown)
    exact: dict[int, dict[str, float]] = {}  # sheet number -> cell -> value needing 17 digits
    wb = Workbook()
    contents = wb.active
    contents.title = "Contents"
    head = ["Table", "Sheet", "Title", "Note", "Stage", "CSV (same values)"]
    for c, text in enumerate(head, 1):
        _put(contents, 1, c, text).font = Font(bold=True)
    bold = Font(bold=True)
    for i, (table, sheet) in enumerate(zip(shown, names, strict=True), 2):
        stage, rec = _record_for(table, found)
        ws = wb.create_sheet(sheet)
        columns = list(rec.get("columns") or [])
        for c, col in enumerate(columns, 1):
            _put(ws, 1, c, col).font = bold
        for r, row in enumerate(rec.get("rows") or [], 2):
            for c, col in enumerate(columns, 1):
                cell = _put(ws, r, c, row.get(col))
                if isinstance(cell.value, float) and float(f"{cell.value:.16g}") != cell.value:
                    exact.setdefault(len(wb.worksheets), {})[cell.coordinate] = cell.value
        ws.freeze_panes = "A2"
        for c, col in enumerate(columns, 1):
            values = [str(row.get(col, "")) for row in (rec.get("rows") or [])[:200]]
            width = max([len(str(col))] + [min(len(v), 40) for v in values]) + 2
            ws.column_dimensions[get_column_letter(c)].width = width
        _put(contents, i, 1, table.label or table.name)
        link = _put(contents, i, 2, sheet)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{sheet}'!A1")
        link.style = "Hyperlink"
        _put(contents, i, 3, table.title).font = Font(italic=True)
        _put(contents, i, 4, table.note)
        _put(contents, i, 5, stage)
        _put(contents, i, 6, f"tables/{table.name}.csv")
        for c in range(1, 7):
            contents.cell(row=i, column=c).alignment = Alignment(
                wrap_text=c in (3, 4), vertical="top"
            )
        # wrapped text needs the row's height (Excel and LibreOffice do not grow it on opening)
        lines = max(math.ceil(len(table.title) / 45), math.ceil(len(table.note) / 55), 1)
        contents.row_dimensions[i].height = 15 * lines
    for col, width in zip("ABCDEF", (10, 32, 50, 60, 13, 30), strict=True):
        contents.column_dimensions[col].width = width
    contents.freeze_panes = "A2"
    wb.properties.title = "Tables of the report"
    wb.properties.creator = "ckm-research"
    target = Path(target) if target else root / XLSX_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(target))
    _seventeen_digits(target, exact)
    return target


def _seventeen_digits(path: Path, cells: dict[int, dict[str, float]]) -> None:
    """Write the numbers that need 17 significant digits with all of them.

    openpyxl writes numbers with ``%.16g``, which loses the last bit of some doubles;
    Excel reads (and itself writes) the shortest string that round-trips, Python's
    ``repr``. The cells concerned are rewritten in place in the saved sheets.
    """
    import zipfile

    if not cells:
        return
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            fix = cells.get(int(match.group(1))) if match else None
            if fix:
                text = data.decode("utf-8")
                for coordinate, value in fix.items():
                    text, n = re.subn(
                        rf'(<c r="{coordinate}"[^>]*><v>)[^<]*(</v>)',
                        lambda m, v=value: f"{m.group(1)}{v!r}{m.group(2)}",
                        text,
                    )
                    if n != 1:
                        raise CkmError(f"{path}: cell {coordinate} not found to write in full")
                data = text.encode("utf-8")
            dst.writestr(info, data)
