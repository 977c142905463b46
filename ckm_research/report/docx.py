"""``report.docx``: the report as a Word document, made from the same HTML as ``report.html``.

Most authors paste the tables of an SEM analysis into a Word manuscript; lavaan
users have asked for Word output for years (lavaan issue #125; the R package
papaja writes APA manuscripts through R Markdown). :func:`write_docx` writes the
report a second time, as a ``.docx`` whose tables are editable Word tables.

It reads the HTML that the report notebook displayed (the outputs of the executed
``notebooks/07_report.ipynb`` in the output folder, which nbconvert also turns
into ``report.html``), so the Word document says exactly what the HTML says, in
the report's language: headings, sentences, table and figure titles and notes
are taken as written, never rewritten here. The layout follows the
*Publication Manual of the American Psychological Association* (7th ed., 2020):

* headings: the report title centred and bold; ``h2`` as APA level 1 (centred,
  bold), ``h3`` as level 2 (flush left, bold), ``h4`` as level 3 (flush left,
  bold italic), on Word's built-in heading styles so the navigation pane and a
  table of contents see them (section 2.27);
* tables (sections 7.8-7.21, Figure 7.1): the table number in bold, the title in
  italic title case on the next line, then a Word table with horizontal rules
  only (above and below the header row, and at the bottom), numbers right
  aligned, and the note below in smaller type beginning *Note.*;
* figures (sections 7.22-7.36): the figure number in bold, the title in italics,
  the image, and the note below;
* references with a hanging indent (section 2.24).

Times New Roman is the Latin font; the East Asian font (``w:eastAsia``; SimSun,
the usual font of Chinese manuscripts) is set on every style and on each run
that holds CJK characters, so a report written in Chinese shows in Word with a
Chinese font and the language set to ``zh-CN`` (and A4 paper). Runs of Chinese
text are not set in italics (an italic APA title in Chinese stays upright, as
Chinese typesetting has no italics).
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ckm_research.errors import CkmError
from ckm_research.report.tables import _NOWRAP_MAX

__all__ = ["write_docx", "report_fragments", "report_tables", "ShownTable", "DOCX_NAME"]

#: File name of the Word report in the output folder.
DOCX_NAME = "report.docx"
#: The report notebook's executed copy, relative to the output folder.
REPORT_NOTEBOOK = Path("notebooks") / "07_report.ipynb"

LATIN_FONT = "Times New Roman"
EAST_ASIAN_FONT = "SimSun"
MONO_FONT = "Courier New"
#: Paragraph styles of the document's own (table cells, notes below tables and figures).
TABLE_STYLE = "Table Text"
TABLE_STYLE_SMALL = "Table Text Small"
NOTE_STYLE = "Table Note"
_CJK = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)
_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "wbr", "source"}


# ---------------------------------------------------------------------- HTML
class _Node:
    """An element of the report's HTML (text children are plain ``str``)."""

    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str] | None = None, parent: _Node | None = None):
        self.tag = tag
        self.attrs = attrs or {}
        self.children: list[_Node | str] = []
        self.parent = parent

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(
            c if isinstance(c, str) else ("\n" if c.tag == "br" else c.text())
            for c in self.children
        )

    def find_all(self, tag: str) -> list[_Node]:
        out = []
        for c in self.children:
            if isinstance(c, _Node):
                if c.tag == tag:
                    out.append(c)
                out.extend(c.find_all(tag))
        return out

    def first(self, tag: str, cls: str | None = None) -> _Node | None:
        for node in self.find_all(tag):
            if cls is None or cls in node.classes:
                return node
        return None


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def _parse(html_text: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html_text)
    builder.close()
    return builder.root


def report_fragments(output_dir: str | Path, notebook: str | Path | None = None) -> list[str]:
    """The HTML the report notebook displayed, cell by cell, in order.

    Parameters
    ----------
    output_dir : path
        The pipeline's output folder.
    notebook : path, optional
        The executed report notebook (default ``<output_dir>/notebooks/07_report.ipynb``).

    Returns
    -------
    list of str
        The ``text/html`` outputs of its code cells (what ``report.html`` shows).

    Raises
    ------
    CkmError
        The executed notebook is missing, or shows no report.
    """
    import nbformat

    path = Path(notebook) if notebook else Path(output_dir) / REPORT_NOTEBOOK
    if not path.exists():
        raise CkmError(
            f"the executed report notebook {path} does not exist: run the report "
            f"stage first (ckm run --only report --output {Path(output_dir)})"
        )
    nb = nbformat.read(str(path), as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result"):
                text = o.get("data", {}).get("text/html")
                if text:
                    out.append("".join(text) if isinstance(text, list) else text)
    if not out:
        raise CkmError(
            f"the report notebook {path} shows no report (no HTML output): rerun "
            f"it (ckm run --only report --output {Path(output_dir)})"
        )
    return out


# ---------------------------------------------------------------------- tables shown
@dataclass
class ShownTable:
    """A table as the report shows it (number, title, header, cells and note as printed;
    the note without its label *Note.*), with the name of its record in ``results.json``."""

    name: str
    label: str
    number: int | None
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    numeric: list[bool] = field(default_factory=list)


def _table_of(node: _Node) -> ShownTable:
    number = node.first("p", "apa-table-number")
    title = node.first("p", "apa-table-title")
    note = node.first("p", "apa-note")
    table = node.first("table")
    header: list[str] = []
    rows: list[list[str]] = []
    numeric: list[bool] = []
    if table is not None:
        for tr in table.find_all("tr"):
            cells = [c for c in tr.children if isinstance(c, _Node) and c.tag in ("th", "td")]
            if cells and all(c.tag == "th" for c in cells) and not header and not rows:
                header = [c.text() for c in cells]
            else:
                rows.append([c.text() for c in cells])
                if not numeric:
                    numeric = ["num" in c.classes for c in cells]
    label = number.text().strip() if number is not None else ""
    digits = re.search(r"\d+", label)
    return ShownTable(
        name=node.attrs.get("id", "").removeprefix("table-"),
        label=label,
        number=int(digits.group()) if digits else None,
        title=title.text().strip() if title is not None else "",
        header=header,
        rows=rows,
        note=_note_text(note),
        numeric=numeric,
    )


def _note_text(note: _Node | None) -> str:
    """A note's text without its italic label (*Note.*, in the report's language)."""
    if note is None:
        return ""
    children = [c for c in note.children if not (isinstance(c, str) and not c.strip())]
    if children and isinstance(children[0], _Node) and children[0].tag in ("em", "i"):
        children = children[1:]
    return "".join(c if isinstance(c, str) else c.text() for c in children).strip()


def report_tables(fragments: list[str]) -> list[ShownTable]:
    """The APA tables of the report (``figure.apa-table``), in order of appearance.

    Examples
    --------
    >>> import pandas as pd
    >>> from ckm_research.report.tables import Table
    >>> t = Table("fit", "Fit of the Model", pd.DataFrame({"cfi": [0.9512]}), {"cfi": "r3"})
    >>> shown = report_tables([t.to_html(3)])[0]
    >>> shown.name, shown.number, shown.title, shown.header, shown.rows
    ('fit', 3, 'Fit of the Model', ['cfi'], [['.951']])
    """
    out = []
    for fragment in fragments:
        for node in _parse(fragment).find_all("figure"):
            if "apa-table" in node.classes:
                out.append(_table_of(node))
    return out


# ---------------------------------------------------------------------- Word helpers
def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _element(tag: str, **attrs: str):
    from docx.oxml import OxmlElement

    el = OxmlElement(tag)
    for k, v in attrs.items():
        el.set(_qn(k), v)
    return el


def _set_fonts(rpr, latin: str | None, east_asia: str | None, hint: bool = False) -> None:
    """Explicit fonts on a ``w:rPr`` (theme fonts removed: they take precedence)."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(_qn(attr), None)
    if latin:
        for attr in ("w:ascii", "w:hAnsi", "w:cs"):
            fonts.set(_qn(attr), latin)
    if east_asia:
        fonts.set(_qn("w:eastAsia"), east_asia)
    if hint:
        fonts.set(_qn("w:hint"), "eastAsia")


def _set_lang(rpr, language: str) -> None:
    lang = rpr.find(_qn("w:lang"))
    if lang is None:
        lang = _element("w:lang")
        rpr.append(lang)
    lang.set(_qn("w:val"), "en-US")
    lang.set(_qn("w:eastAsia"), "zh-CN" if language == "zh" else "en-US")


def _styles(doc, language: str) -> None:
    """APA styles: Times New Roman 12 pt (SimSun for CJK), black headings."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    defaults = doc.styles.element.find(_qn("w:docDefaults"))
    rpr = defaults.find(_qn("w:rPrDefault")).find(_qn("w:rPr"))
    _set_fonts(rpr, LATIN_FONT, EAST_ASIAN_FONT)
    _set_lang(rpr, language)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    _set_fonts(normal.element.get_or_add_rPr(), LATIN_FONT, EAST_ASIAN_FONT)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    spec = {
        "Title": (16, True, False, WD_ALIGN_PARAGRAPH.CENTER),
        "Heading 1": (13, True, False, WD_ALIGN_PARAGRAPH.CENTER),
        "Heading 2": (12, True, False, WD_ALIGN_PARAGRAPH.LEFT),
        "Heading 3": (12, True, True, WD_ALIGN_PARAGRAPH.LEFT),
    }
    for name, (size, bold, italic, align) in spec.items():
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = bold
        style.font.italic = italic
        style.font.color.rgb = RGBColor(0, 0, 0)
        _set_fonts(style.element.get_or_add_rPr(), LATIN_FONT, EAST_ASIAN_FONT)
        style.paragraph_format.alignment = align
        style.paragraph_format.space_before = Pt(18 if name != "Heading 3" else 12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
        ppr = style.element.get_or_add_pPr()
        border = ppr.find(_qn("w:pBdr"))  # the Title's blue rule
        if border is not None:
            ppr.remove(border)
    for name in ("List Bullet",):
        _set_fonts(doc.styles[name].element.get_or_add_rPr(), LATIN_FONT, EAST_ASIAN_FONT)
    from docx.enum.style import WD_STYLE_TYPE

    # the table cells and notes get styles of their own, which an author can change at once
    for name, size in ((TABLE_STYLE, 10), (TABLE_STYLE_SMALL, 9), (NOTE_STYLE, 10)):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.size = Pt(size)
        fmt = style.paragraph_format
        fmt.line_spacing = 1.0
        fmt.space_before = Pt(3 if name == NOTE_STYLE else 1)
        fmt.space_after = Pt(12 if name == NOTE_STYLE else 1)


def _borders(parent, **edges: tuple[str, int]) -> None:
    """``w:tblBorders``/``w:tcBorders``/``w:pBdr`` with the given edges (val, eighths of pt)."""
    for edge, (val, size) in edges.items():
        _put(
            parent,
            _element(
                f"w:{edge}",
                **{
                    "w:val": val,
                    "w:sz": str(size),
                    "w:space": "0",
                    "w:color": "000000" if val != "nil" else "auto",
                },
            ),
        )


# ---------------------------------------------------------------------- the writer
class _Writer:
    """Walks the report's HTML and writes it into a python-docx ``Document``."""

    def __init__(self, language: str, root: Path | None = None):
        import docx
        from docx.shared import Inches

        self.language = language
        self.root = root
        self.doc = docx.Document()
        section = self.doc.sections[0]
        if language == "zh":  # A4 for Chinese journals, US Letter (APA) otherwise
            section.page_width, section.page_height = Inches(8.27), Inches(11.69)
        else:
            section.page_width, section.page_height = Inches(8.5), Inches(11)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Inches(1))
        self.text_width = section.page_width - section.left_margin - section.right_margin
        _styles(self.doc, language)
        self.title = ""

    # -------------------------------------------------------------- inline
    def _run(self, paragraph, text: str, fmt: dict[str, Any]):
        from docx.shared import Pt

        run = paragraph.add_run(text)
        cjk = bool(_CJK.search(text))
        if fmt.get("bold"):
            run.bold = True
        if fmt.get("italic") and not cjk:  # Chinese type has no italics (slanted Hanzi)
            run.italic = True
        if fmt.get("sub"):
            run.font.subscript = True
        if fmt.get("sup"):
            run.font.superscript = True
        if fmt.get("code"):
            run.font.name = MONO_FONT
            run.font.size = Pt(fmt.get("size", 10) - 1)
        elif fmt.get("size"):
            run.font.size = Pt(fmt["size"])
        if fmt.get("color"):
            from docx.shared import RGBColor

            run.font.color.rgb = RGBColor.from_string(fmt["color"])
        if cjk:
            _set_fonts(run._r.get_or_add_rPr(), None, EAST_ASIAN_FONT, hint=True)
        return run

    def inline(
        self,
        paragraph,
        node: _Node | str,
        fmt: dict[str, Any] | None = None,
        *,
        strip: bool = False,
    ) -> None:
        fmt = dict(fmt or {})
        if isinstance(node, str):
            text = node if fmt.get("pre") else re.sub(r"\s+", " ", node)
            if text:
                self._run(paragraph, text, fmt)
            return
        tag = node.tag
        if tag == "br":
            paragraph.add_run().add_break()
            return
        if tag == "img":
            return
        if tag in ("strong", "b"):
            fmt["bold"] = True
        elif tag in ("em", "i"):
            fmt["italic"] = True
        elif tag == "sub":
            fmt["sub"] = True
        elif tag == "sup":
            fmt["sup"] = True
        elif tag == "code":
            fmt["code"] = True
        elif tag == "span" and "problem" in node.classes:
            fmt["color"] = "B00020"
        for child in node.children:
            self.inline(paragraph, child, fmt)
        if strip:
            _strip(paragraph)

    def paragraph(
        self,
        node: _Node | None = None,
        *,
        style: str | None = None,
        fmt: dict[str, Any] | None = None,
    ):
        p = self.doc.add_paragraph(style=style)
        if node is not None:
            self.inline(p, node, fmt)
            _strip(p)
        return p

    # -------------------------------------------------------------- blocks
    def block(self, node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    p = self.doc.add_paragraph()
                    self.inline(p, child)
                    _strip(p)
                continue
            self.element(child)

    def element(self, node: _Node) -> None:
        from docx.shared import Pt

        tag, cls = node.tag, node.classes
        if tag == "h1":
            self.title = node.text().strip()
            self.paragraph(node, style="Title")
        elif tag in ("h2", "h3", "h4", "h5"):
            level = {"h2": 1, "h3": 2, "h4": 3, "h5": 3}[tag]
            self.paragraph(node, style=f"Heading {level}")
        elif tag == "p":
            if "apa-note" in cls:
                self.note(node)
                return
            p = self.paragraph(node)
            if "subtitle" in cls:
                p.alignment = 1  # centred under the title
            if "problem" in cls or "unavailable" in cls:
                _box(
                    p,
                    "B00020" if "problem" in cls else "B07D00",
                    "FDECEA" if "problem" in cls else "FFF8E1",
                )
            if node.parent is not None and "references" in node.parent.classes:
                fmt = p.paragraph_format
                fmt.left_indent = Pt(36)
                fmt.first_line_indent = Pt(-36)
        elif tag in ("ul", "ol"):
            for li in node.children:
                if isinstance(li, _Node) and li.tag == "li":
                    p = self.paragraph(li, style="List Bullet" if tag == "ul" else "List Number")
                    p.paragraph_format.space_after = Pt(3)
        elif tag == "pre":
            self.pre(node)
        elif tag == "figure" and "apa-table" in cls:
            self.apa_table(node)
        elif tag == "figure" and "apa-figure" in cls:
            self.apa_figure(node)
        elif tag == "table":
            self.plain_table(node)
        elif tag == "img":
            self.image(node)
        elif tag in ("style", "script", "head", "title"):
            return
        elif tag == "div" and "summary" in cls:
            start = len(self.doc.paragraphs)
            self.block(node)
            for p in self.doc.paragraphs[start:]:
                _box(p, "999999", None)
        else:
            self.block(node)

    def note(self, node: _Node) -> None:
        p = self.doc.add_paragraph(style=NOTE_STYLE)
        self.inline(p, node)
        _strip(p)

    def pre(self, node: _Node) -> None:
        from docx.shared import Pt

        p = self.doc.add_paragraph()
        lines = node.text().strip("\n").split("\n")
        for i, line in enumerate(lines):
            if i:
                p.runs[-1].add_break()
            self._run(p, line or " ", {"code": True, "size": 10, "pre": True})
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.left_indent = Pt(6)
        _box(p, "DDDDDD", "F6F6F6", edges=("top", "left", "bottom", "right"))

    def caption(self, node: _Node | None, *, bold: bool = False, italic: bool = False):
        from docx.shared import Pt

        if node is None:
            return None
        p = self.doc.add_paragraph()
        self.inline(p, node, {"bold": bold, "italic": italic})
        _strip(p)
        fmt = p.paragraph_format
        fmt.keep_with_next = True
        fmt.space_after = Pt(0 if bold else 6)
        fmt.space_before = Pt(12 if bold else 0)
        return p

    def apa_table(self, node: _Node) -> None:
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        shown = _table_of(node)
        self.caption(node.first("p", "apa-table-number"), bold=True)
        self.caption(node.first("p", "apa-table-title"), italic=True)
        ncol = max([len(shown.header)] + [len(r) for r in shown.rows] + [1])
        table = self.doc.add_table(rows=1 + len(shown.rows), cols=ncol)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        _borders(
            _get_or_add(table._tbl.tblPr, "w:tblBorders"),
            top=("single", 12),
            bottom=("single", 12),
            left=("nil", 0),
            right=("nil", 0),
            insideH=("nil", 0),
            insideV=("nil", 0),
        )
        size = 10 if ncol <= 7 else 9
        numeric = shown.numeric + [False] * (ncol - len(shown.numeric))
        widths = _column_widths([shown.header] + shown.rows, self.text_width, size, nowrap=numeric)
        for r, row in enumerate(table.rows):
            texts = shown.header if r == 0 else shown.rows[r - 1]
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(_element("w:cantSplit"))
            if r == 0:
                tr_pr.append(_element("w:tblHeader"))  # repeated on every page
            for c, cell in enumerate(row.cells):
                cell.width = widths[c]
                text = texts[c] if c < len(texts) else ""
                p = cell.paragraphs[0]
                p.style = self.doc.styles[TABLE_STYLE if size == 10 else TABLE_STYLE_SMALL]
                self._run(p, text, {"pre": True})
                if r == 0:
                    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
                    p.paragraph_format.space_before = Pt(2)
                    p.paragraph_format.space_after = Pt(2)
                    p.paragraph_format.keep_with_next = True
                    _borders(
                        _get_or_add(cell._tc.get_or_add_tcPr(), "w:tcBorders"), bottom=("single", 6)
                    )
                if r and numeric[c]:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif r == 0 and numeric[c]:
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _grid(table, widths)
        note = node.first("p", "apa-note")
        if note is not None:
            self.note(note)
        else:
            self.doc.add_paragraph().paragraph_format.space_after = Pt(6)

    def plain_table(self, node: _Node) -> None:
        """A table that is not an APA table (the provenance block): no rules, small type."""
        from docx.shared import Pt

        rows = [
            [c for c in tr.children if isinstance(c, _Node) and c.tag in ("th", "td")]
            for tr in node.find_all("tr")
        ]
        rows = [r for r in rows if r]
        if not rows:
            return
        ncol = max(len(r) for r in rows)
        table = self.doc.add_table(rows=len(rows), cols=ncol)
        texts = [[c.text() for c in r] for r in rows]
        widths = _column_widths(
            texts, self.text_width, 9, wrap_last=True, nowrap=[True] + [False] * (ncol - 1)
        )
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                cell.width = widths[c]
                p = cell.paragraphs[0]
                p.style = self.doc.styles[TABLE_STYLE_SMALL]
                if c >= len(rows[r]):
                    continue
                self.inline(p, rows[r][c])
                _strip(p)
        _grid(table, widths)
        self.doc.add_paragraph().paragraph_format.space_after = Pt(0)

    def image(self, node: _Node) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        src = node.attrs.get("src", "")
        data = None
        if src.startswith("data:") and "," in src:
            head, payload = src.split(",", 1)
            if ";base64" in head:
                data = base64.b64decode(payload)
        elif src and self.root is not None and (self.root / src).exists():
            data = (self.root / src).read_bytes()
        if data is None:
            return
        self.doc.add_picture(io.BytesIO(data))
        shape = self.doc.inline_shapes[-1]
        if shape.width > self.text_width:
            shape.height = int(shape.height * self.text_width / shape.width)
            shape.width = self.text_width
        p = self.doc.paragraphs[-1]
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.keep_with_next = True
        if node.attrs.get("alt"):
            shape._inline.docPr.set("descr", node.attrs["alt"])

    def apa_figure(self, node: _Node) -> None:
        self.caption(node.first("p", "apa-figure-number"), bold=True)
        self.caption(node.first("p", "apa-figure-title"), italic=True)
        img = node.first("img")
        if img is not None:
            self.image(img)
        note = node.first("p", "apa-note")
        if note is not None:
            self.note(note)


#: Child order of the WordprocessingML elements edited here (ECMA-376 part 1, 17.3.1.26,
#: 17.4.60, 17.4.70, 17.3.1.24, 17.4.39): Word refuses a file whose children are out of order.
_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr "
    "suppressLineNumbers pBdr shd tabs suppressAutoHyphens kinsoku wordWrap "
    "overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd snapToGrid "
    "spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize "
    "tblW jc tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook "
    "tblCaption tblDescription",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection "
    "tcFitText vAlign hideMark",
    "pBdr": "top left bottom right between bar",
    "tblBorders": "top left start bottom right end insideH insideV",
    "tcBorders": "top left start bottom right end insideH insideV tl2br tr2bl",
}


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _put(parent, el):
    """Put ``el`` into ``parent`` in schema order, replacing a child of the same name."""
    seq = _ORDER[_local(parent)].split()
    name = _local(el)
    old = parent.find(_qn(f"w:{name}"))
    if old is not None:
        parent.replace(old, el)
        return el
    after = seq[seq.index(name) + 1 :]
    for child in parent:
        if _local(child) in after:
            child.addprevious(el)
            return el
    parent.append(el)
    return el


def _get_or_add(parent, tag: str):
    el = parent.find(_qn(tag))
    return el if el is not None else _put(parent, _element(tag))


def _grid(table, widths) -> None:
    """Fixed column widths (``w:gridCol``, which LibreOffice follows, and each cell's)."""
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(_qn("w:gridCol")), widths, strict=False):
        col.set(_qn("w:w"), str(int(width.twips)))
    table.autofit = False


def _strip(paragraph) -> None:
    """Drop the white space the HTML source had at the start and end of a paragraph."""
    runs = [r for r in paragraph.runs if r.text]
    if runs:
        runs[0].text = runs[0].text.lstrip(" ")
        runs[-1].text = runs[-1].text.rstrip(" ")


def _box(paragraph, color: str, fill: str | None, edges=("left",)) -> None:
    """A rule left of the paragraph (and a shade), as the HTML's boxes."""
    ppr = paragraph._p.get_or_add_pPr()
    bdr = _get_or_add(ppr, "w:pBdr")
    for edge in edges:
        _put(
            bdr,
            _element(
                f"w:{edge}",
                **{
                    "w:val": "single",
                    "w:sz": "18" if edge == "left" and len(edges) == 1 else "4",
                    "w:space": "6",
                    "w:color": color,
                },
            ),
        )
    if fill:
        _put(ppr, _element("w:shd", **{"w:val": "clear", "w:color": "auto", "w:fill": fill}))


def _glyph_em(ch: str) -> float:
    """Width of a character in Times New Roman (SimSun for CJK), in em, roughly."""
    if _CJK.match(ch) or ch in "\u2192\u2190\u2194\u2014":  # Hanzi, arrows, em dash
        return 1.0
    if ch.isupper():
        return 0.74
    if ch.isdigit():
        return 0.5
    return 0.28 if ch in " .,;:|!'()[]" else 0.48


def _column_widths(
    rows: list[list[str]],
    total,
    size: int,
    *,
    wrap_last: bool = False,
    nowrap: list[bool] | None = None,
):
    """Column widths that fit the text width: every column at least as wide as its
    longest word (header included; the whole cell for the ``nowrap`` columns, numbers),
    and the room left shared in proportion to how much wider each column's longest line
    is (the way a browser lays out the HTML table)."""
    from docx.shared import Emu, Pt

    def width(text: str) -> float:  # points: the glyphs' widths + the cell margins
        return 1.05 * sum(size * _glyph_em(ch) for ch in text) + 14

    ncol = max(len(r) for r in rows)
    low, high = [], []
    for c in range(ncol):
        words = [w for row in rows if c < len(row) for w in re.split(r"(?<=-)|\s+", row[c])]
        lines = [ln for row in rows if c < len(row) for ln in row[c].split("\n")]
        # short labels ("CKM × CTU") are kept on one line, as td.nw in the HTML
        words += [cell for row in rows[1:] if c < len(row)
                  for cell in [row[c]] if " " in cell and len(cell) <= _NOWRAP_MAX]
        if nowrap and c < len(nowrap) and nowrap[c]:  # numbers: the whole cell (not the head)
            words += [ln for row in rows[1:] if c < len(row) for ln in row[c].split("\n")]
        low.append(max([width(w) for w in words] + [width("00")]))
        high.append(max([width(ln) for ln in lines] + [low[-1]]))
    room = Emu(total).pt
    if wrap_last:  # the last column breaks long words (checksums), as the HTML does
        low[-1] = min(low[-1], room * 0.3)
    if sum(high) <= room:
        points = high
    elif sum(low) >= room:
        points = [w * room / sum(low) for w in low]
    else:
        extra = room - sum(low)
        spread = sum(h - lo for h, lo in zip(high, low, strict=True))
        points = [lo + extra * (h - lo) / spread for h, lo in zip(high, low, strict=True)]
    if wrap_last and sum(points) < room:
        points[-1] += room - sum(points)
    return [Emu(int(Pt(p))) for p in points]


def _language(output_dir: Path | None, fragments: list[str]) -> str:
    """``"zh"`` for a report in Chinese (parameter ``language``, or CJK in its text)."""
    if output_dir is not None and (output_dir / "results.json").exists():
        results = json.loads((output_dir / "results.json").read_text(encoding="utf-8"))
        language = (results.get("study", {}).get("parameters") or {}).get("language")
        if language:
            return "zh" if str(language).lower().startswith("zh") else "en"
    plain = re.sub(r"<[^>]+>|data:[^\"']+", " ", "".join(fragments))
    return "zh" if len(_CJK.findall(plain)) > 50 else "en"


def write_docx(
    output_dir: str | Path,
    *,
    fragments: list[str] | None = None,
    notebook: str | Path | None = None,
    target: str | Path | None = None,
) -> Path:
    """Write the report as a Word document (see the module docstring).

    Parameters
    ----------
    output_dir : path
        The pipeline's output folder.
    fragments : list of str, optional
        The report's HTML, section by section (default: what the executed report
        notebook displayed, :func:`report_fragments`).
    notebook : path, optional
        The executed report notebook (default ``<output_dir>/notebooks/07_report.ipynb``).
    target : path, optional
        Where to write (default ``<output_dir>/report.docx``).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import pandas as pd, tempfile, docx
    >>> from ckm_research.report.tables import Table
    >>> t = Table("fit", "Fit of the Model", pd.DataFrame({"cfi": [0.9512]}), {"cfi": "r3"},
    ...           note="Hu and Bentler (1999).")
    >>> folder = Path(tempfile.mkdtemp())
    >>> path = write_docx(folder, fragments=["<h2>Results</h2>", t.to_html(1)])
    >>> d = docx.Document(path)
    >>> [c.text for c in d.tables[0].rows[1].cells]
    ['.951']
    """
    root = Path(output_dir)
    if fragments is None:
        fragments = report_fragments(root, notebook)
    language = _language(root, fragments)
    writer = _Writer(language, root)
    for fragment in fragments:
        writer.block(_parse(fragment))
    props = writer.doc.core_properties
    props.title = writer.title
    props.language = "zh-CN" if language == "zh" else "en-US"
    props.comments = "Written by ckm run (ckm-research) from the same results as report.html."
    props.author = "ckm-research"
    target = Path(target) if target else root / DOCX_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    writer.doc.save(str(target))
    return target
