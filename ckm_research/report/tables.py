"""APA-style tables: one :class:`Table` gives the CSV, the LaTeX and the HTML.

A table holds the numbers at full precision (the CSV and ``results.json``
keep them so) and, per column, how the report prints them, following the
*Publication Manual of the American Psychological Association* (7th ed.,
2020, sections 6.36 and 7.8-7.21):

==========  ============================================  ==================
kind        printed as                                    used for
==========  ============================================  ==================
``int``     ``1,234``                                     counts, df
``num1``    one decimal                                   percentages
``num2``    two decimals, leading zero (``-0.25``)        unbounded values
``num3``    three decimals, leading zero                  chi-square, B, SE
``r2``      two decimals, no leading zero (``.85``)       values in [-1, 1]
``r3``      three decimals, no leading zero (``.053``)    RMSEA, SRMR, p-like
``p``       ``< .001`` or three decimals, no leading 0    p-values
``text``    as is                                         labels
==========  ============================================  ==================

Confidence intervals are printed ``[lower, upper]`` from two columns
(:attr:`Table.ci`). Missing values print as an em dash. Negative numbers take
a true minus sign in HTML and LaTeX.

Layout (APA 7, Figure 7.1): the table number in bold, the title in italic title
case on the next line, horizontal rules only (top, below the header, bottom),
and a note below beginning *Note.*
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Table", "format_value", "FORMATS", "latex_escape"]

#: Column kinds :func:`format_value` knows.
FORMATS = ("int", "num1", "num2", "num3", "r2", "r3", "p", "text")

_MINUS = "\u2212"
_DASH = "\u2014"
_NOWRAP_MAX = 14  # characters: table labels up to this long (with a space) stay on one line


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: str, *, minus: str = _MINUS, missing: str = _DASH) -> str:
    """One value as APA prints it (see the module docstring for ``kind``).

    Examples
    --------
    >>> format_value(0.0004, "p"), format_value(0.0312, "p"), format_value(-0.254, "r2")
    ('< .001', '.031', '−.25')
    """
    if kind not in FORMATS:
        raise ValueError(f"unknown column format {kind!r}; use one of {', '.join(FORMATS)}")
    if _is_missing(value):
        return missing
    if kind == "text" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    x = float(value)
    if math.isinf(x):
        return ("" if x > 0 else minus) + "\u221e"
    if kind == "int":
        text = f"{int(round(x)):,}"
    elif kind == "num1":
        text = f"{x:.1f}"
    elif kind == "num2":
        text = f"{x:.2f}"
    elif kind == "num3":
        text = f"{x:.3f}"
    elif kind in ("r2", "r3"):
        digits = 2 if kind == "r2" else 3
        text = f"{x:.{digits}f}"
        if text.lstrip("-").startswith("0."):
            text = text.replace("0.", ".", 1)
    else:  # p
        if x < 0.001:
            return "< .001"
        text = f"{x:.3f}"
        if text.startswith("0."):
            text = text[1:]
    if text.startswith("-"):
        # -0.00 -> 0.00: a rounded zero has no sign
        body = text[1:]
        text = body if set(body) <= set("0.,") else minus + body
    return text


def _yes_no(value: bool, lang: str) -> str:
    from ckm_research.report.i18n import text

    return text("value.yes" if value else "value.no", lang)


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    out = []
    for ch in str(text):
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append("\\textasciitilde{}")
        elif ch == "^":
            out.append("\\textasciicircum{}")
        elif ch == "\\":
            out.append("\\textbackslash{}")
        elif ch == _MINUS:
            out.append("$-$")
        elif ch == _DASH:
            out.append("---")
        elif ch == "\u2264":
            out.append("$\\leq$")
        elif ch == "\u2265":
            out.append("$\\geq$")
        elif ch == "\u03c7":
            out.append("$\\chi$")
        elif ch == "\u00b2":
            out.append("$^2$")
        elif ch == "\u03b2":
            out.append("$\\beta$")
        elif ch == "\u03b3":
            out.append("$\\gamma$")
        elif ch == "\u03bb":
            out.append("$\\lambda$")
        elif ch == "\u03b1":
            out.append("$\\alpha$")
        elif ch == "\u0394":
            out.append("$\\Delta$")
        elif ch == "\u00d7":
            out.append("$\\times$")
        elif ch == "\u2192":
            out.append("$\\rightarrow$")
        elif ch == "\u221e":
            out.append("$\\infty$")
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class Table:
    """A report table.

    Parameters
    ----------
    name : str
        File stem (``tables/<name>.csv`` and ``.tex``) and key in ``results.json``.
    title : str
        APA title (title case), printed in italics under the table number.
    frame : pandas.DataFrame
        The values at full precision, with stable column names.
    formats : dict
        Column -> kind (see :data:`FORMATS`); columns not listed are ``text``.
    labels : dict, optional
        Column -> header as printed (``{"std": "β"}``).
    ci : dict, optional
        Printed column -> (lower column, upper column, kind): the two columns
        print as one ``[lower, upper]`` column placed where ``lower`` was.
    hide : list, optional
        Columns kept in the CSV but not printed.
    blank : list, optional
        Columns whose missing values print as nothing (values given once per
        group of rows) instead of an em dash.
    numeric : list, optional
        Text columns that hold numbers already formatted (right-aligned).
    note : str, optional
        The general note (printed after *Note.*).
    """

    name: str
    title: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    ci: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    hide: list[str] = field(default_factory=list)
    note: str = ""
    blank: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)

    def __post_init__(self):
        for col, kind in self.formats.items():
            if kind not in FORMATS:
                raise ValueError(f"table {self.name}: column {col!r} has unknown format {kind!r}")
        self.frame = self.frame.reset_index(drop=True)

    # ------------------------------------------------------------------ display
    def display_frame(self, minus: str = _MINUS, missing: str = _DASH, *,
                      lang: str = "en") -> pd.DataFrame:
        """The printed table: formatted strings, CI columns joined, headers relabelled;
        in another language than English (``lang``), true/false values as its words."""
        frame = self.frame
        lowers = {lo: (name, hi, kind) for name, (lo, hi, kind) in self.ci.items()}
        uppers = {hi for _, (lo, hi, kind) in self.ci.items()}
        cols: dict[str, list[str]] = {}
        for col in frame.columns:
            if col in self.hide or col in uppers:
                continue
            if col in lowers:
                name, hi, kind = lowers[col]
                cols[name] = [
                    missing if _is_missing(a) or _is_missing(b) else
                    f"[{format_value(a, kind, minus=minus)}, {format_value(b, kind, minus=minus)}]"
                    for a, b in zip(frame[col], frame[hi], strict=True)
                ]
                continue
            kind = self.formats.get(col, "text")
            gap = "" if col in self.blank else missing
            cols[col] = [_yes_no(v, lang) if lang != "en" and isinstance(v, (bool, np.bool_))
                         else format_value(v, kind, minus=minus, missing=gap)
                         for v in frame[col]]
        out = pd.DataFrame(cols)
        out.columns = [self.labels.get(c, c) for c in out.columns]
        return out

    def _numeric_headers(self) -> set[str]:
        cols = {c for c, k in self.formats.items() if k != "text"} | set(self.numeric)
        return {self.labels.get(c, c) for c in cols} | set(self.ci)

    def to_html(self, number: int | None = None, *, lang: str = "en") -> str:
        """APA table as HTML (class ``apa-table``; the report's CSS draws the rules);
        ``lang`` is the language of the table's number and note label (``"zh"``: 表1, 注：)."""
        from ckm_research.report.i18n import text
        shown = self.display_frame(lang=lang)
        numeric = self._numeric_headers()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
        rows = []
        for rec in shown.itertuples(index=False):
            cells = []
            for col, val in zip(shown.columns, rec, strict=True):
                text_val = str(val)
                if col in numeric:
                    cls = ' class="num"'
                elif " " in text_val and len(text_val) <= _NOWRAP_MAX:
                    cls = ' class="nw"'  # a short label ("CKM × CTU") is not split over lines
                else:
                    cls = ""
                cells.append(f"<td{cls}>{html.escape(text_val)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        label = (text("table.number", lang, n=number) if number is not None
                 else text("table.unnumbered", lang))
        note = (f'<p class="apa-note"><em>{text("note.label", lang)}</em> '
                f"{html.escape(self.note)}</p>" if self.note else "")
        return (
            f'<figure class="apa-table" id="table-{html.escape(self.name)}">'
            f'<p class="apa-table-number"><strong>{label}</strong></p>'
            f'<p class="apa-table-title"><em>{html.escape(self.title)}</em></p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"{note}</figure>"
        )

    def to_latex(self, *, lang: str = "en") -> str:
        """APA table for LaTeX (booktabs + threeparttable); ``lang`` is the language of
        the note label and of true/false values (``"zh"``: 注：, 是/否, as in :meth:`to_html`)."""
        from ckm_research.report.i18n import text

        shown = self.display_frame(minus=_MINUS, missing=_DASH, lang=lang)
        numeric = self._numeric_headers()
        align = "".join("r" if c in numeric else "l" for c in shown.columns)
        lines = [
            "% Generated by ckm-research (ckm run); needs \\usepackage{booktabs,threeparttable}",
            "\\begin{table}[htbp]",
            "\\centering",
            "\\begin{threeparttable}",
            f"\\caption{{{latex_escape(self.title)}}}",
            f"\\label{{tab:{self.name}}}",
            f"\\begin{{tabular}}{{{align}}}",
            "\\toprule",
            " & ".join(latex_escape(str(c)) for c in shown.columns) + " \\\\",
            "\\midrule",
        ]
        for rec in shown.itertuples(index=False):
            lines.append(" & ".join(latex_escape(str(v)) for v in rec) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.note:
            lines += ["\\begin{tablenotes}[flushleft]", "\\small",
                      (f"\\item \\textit{{Note.}} {latex_escape(self.note)}" if lang == "en"
                       else f"\\item {text('note.label', lang)}{latex_escape(self.note)}"),
                      "\\end{tablenotes}"]
        lines += ["\\end{threeparttable}", "\\end{table}", ""]
        return "\n".join(lines)

    # ------------------------------------------------------------------ storage
    def to_record(self) -> dict[str, Any]:
        """JSON form (full-precision rows) for ``results.json``."""
        from ckm_research.report.store import to_jsonable

        return {
            "title": self.title,
            "columns": [str(c) for c in self.frame.columns],
            "rows": to_jsonable(self.frame.to_dict(orient="records")),
            "formats": dict(self.formats),
            "labels": dict(self.labels),
            "ci": {k: list(v) for k, v in self.ci.items()},
            "hide": list(self.hide),
            "blank": list(self.blank),
            "numeric": list(self.numeric),
            "note": self.note,
        }

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> Table:
        """The inverse of :meth:`to_record`."""
        frame = pd.DataFrame(record["rows"], columns=record["columns"])
        return cls(
            name=name, title=record["title"], frame=frame, formats=record.get("formats", {}),
            labels=record.get("labels", {}),
            ci={k: tuple(v) for k, v in record.get("ci", {}).items()},
            hide=record.get("hide", []), note=record.get("note", ""),
            blank=record.get("blank", []), numeric=record.get("numeric", []),
        )

    def write(self, folder: str | Path, *, lang: str = "en") -> dict[str, Path]:
        """Write ``<name>.csv`` (full precision) and ``<name>.tex`` (in the report
        language ``lang``) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path, tex_path = folder / f"{self.name}.csv", folder / f"{self.name}.tex"
        self.frame.to_csv(csv_path, index=False, lineterminator="\n")
        tex_path.write_text(self.to_latex(lang=lang), encoding="utf-8")
        return {"csv": csv_path, "tex": tex_path}
