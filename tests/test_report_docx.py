"""``report.docx`` and ``tables.xlsx``: the report for Word and its tables for Excel.

The first tests build a small output folder by hand (a stage's tables and a figure
recorded through :class:`~ckm_research.report.store.StageOutput`, sections written by
:class:`~ckm_research.report.render.Report`) and read the files back with python-docx
and openpyxl: every table the HTML shows is a Word table with the header and cells of
:meth:`Table.display_frame` (what the HTML prints), APA rules only, number and title
above, note below; figures are embedded (the same PNG bytes); headings and references
are there; a Chinese report gets an East Asian font and language; every workbook sheet
holds the stored full-precision values. The last test reads what ``ckm run`` wrote in
the quick pipeline run (tests/pipeline_fixtures.py, shared by the pipeline tests):
``report.html`` parsed with lxml against ``report.docx``, ``results.json`` against
``tables.xlsx``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import docx
import matplotlib
import numpy as np
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn

from ckm_research.errors import CkmError
from ckm_research.report.docx import report_fragments, report_tables, write_docx
from ckm_research.report.render import Report
from ckm_research.report.store import StageOutput
from ckm_research.report.tables import Table
from ckm_research.report.xlsx import MAX_SHEET, write_xlsx

matplotlib.use("Agg")

LONG = "a_table_whose_name_is_longer_than_thirty_one_characters"


def _tables() -> list[Table]:
    paths = pd.DataFrame(
        {
            "lhs": ["F1", "F1", "F2", "F2"],
            "op": ["=~", "=~", "~", "~~"],
            "rhs": ["x1", "x2", "F1", "F2"],
            "est": [1.0, 0.8123456789012345, -0.25367891234, 0.4],
            "se": [np.nan, 0.0412345678, 0.0987654321, 0.05],
            "ci.lower": [np.nan, 0.7315, -0.4472, 0.302],
            "ci.upper": [np.nan, 0.8932, -0.0601, 0.498],
            "pvalue": [np.nan, 1.234e-12, 0.0104, 0.0000001],
            "std.all": [0.71, 0.66, -0.2, 0.9],
        }
    )
    return [
        Table(
            "paths",
            "Path Coefficients",
            paths,
            {"est": "num3", "se": "num3", "pvalue": "p", "std.all": "r2"},
            labels={"est": "B", "se": "SE", "pvalue": "p", "std.all": "β"},
            ci={"95% CI": ("ci.lower", "ci.upper", "num3")},
            note="B = unstandardized; β = standardized (std.all).",
        ),
        Table(LONG, "First Long", pd.DataFrame({"x": [1, 2], "y": [0.1 + 0.2, None]}), {"y": "r2"}),
        Table(LONG + "_2", "Second Long", pd.DataFrame({"x": [3], "y": [1 / 3]}), {"y": "r3"}),
    ]


def _folder(tmp_path: Path, *, chinese: bool = False) -> tuple[Path, list[str], list[Table]]:
    """A small output folder: one stage's tables and figure, ``results.json``, and the HTML
    of the report's sections (as the report notebook displays them)."""
    import matplotlib.pyplot as plt

    out = tmp_path / "run"
    stage = StageOutput(out, "measurement", display=False, check=False)
    tables = _tables()
    if chinese:
        tables.append(
            Table(
                "fit_zh",
                "测量模型的拟合",
                pd.DataFrame({"model": ["测量模型"], "cfi": [0.9512345]}),
                {"cfi": "r3"},
                labels={"model": "模型", "cfi": "比较拟合指数"},
                note="Hu 和 Bentler (1999) 的标准。",
            )
        )
    for t in tables:
        stage.table(t)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [1, 0, 2])
    stage.figure(fig, "loadings", "Standardized Loadings", note="Points: loadings.")
    stage.save()
    data = json.loads((out / "results" / "measurement.json").read_text(encoding="utf-8"))
    params = {"language": "zh"} if chinese else {}
    (out / "results.json").write_text(
        json.dumps(
            {
                "study": {
                    "title": "测试报告" if chinese else "A Test Report",
                    "parameters": params,
                },
                "stages": {"measurement": data},
            }
        ),
        encoding="utf-8",
    )
    report = Report(out)
    report.cite("hu")
    heading = "<h2>结果</h2><h3>测量模型</h3>" if chinese else "<h2>Results</h2>"
    fragments = [
        report.header(),
        heading + "<h3>Measurement Model</h3><p>Fit: χ<sup>2</sup>(4) = 5.10, <i>p</i> = .277,"
        " as <strong>Hu and Bentler (1999)</strong> advise.</p>",
        *[report.table("measurement", t.name) for t in tables],
        report.figure("measurement", "loadings"),
        report.references(),
    ]
    return out, fragments, tables


def _body(document) -> list:
    return list(document.iter_inner_content())


# ---------------------------------------------------------------------- Word
def test_docx_tables_are_the_html_tables(tmp_path):
    out, fragments, tables = _folder(tmp_path)
    path = write_docx(out, fragments=fragments)
    assert path == out / "report.docx"
    d = docx.Document(path)
    assert len(d.tables) == len(tables)
    for table, word in zip(tables, d.tables, strict=True):
        shown = table.display_frame()
        assert [c.text for c in word.rows[0].cells] == list(shown.columns)
        cells = [[c.text for c in row.cells] for row in word.rows[1:]]
        assert cells == shown.astype(str).values.tolist(), table.name
    # the printed numbers, not the stored ones: APA rounding, minus sign, em dash
    paths = d.tables[0]
    assert [c.text for c in paths.rows[3].cells][:4] == ["F2", "~", "F1", "\u22120.254"]
    assert paths.rows[1].cells[4].text == "\u2014"


def test_docx_tables_follow_apa_layout(tmp_path):
    out, fragments, tables = _folder(tmp_path)
    d = docx.Document(write_docx(out, fragments=fragments))
    body = _body(d)
    for k, word in enumerate(d.tables, 1):
        i = next(j for j, item in enumerate(body) if getattr(item, "_tbl", None) is word._tbl)
        number, title, note = body[i - 2], body[i - 1], body[i + 1]
        assert number.text == f"Table {k}" and all(r.bold for r in number.runs if r.text)
        assert title.text == tables[k - 1].title and all(r.italic for r in title.runs if r.text)
        if tables[k - 1].note:
            assert note.text == f"Note. {tables[k - 1].note}"
            assert note.runs[0].italic and note.runs[0].text.strip() == "Note."
            assert note.style.font.size.pt < d.styles["Normal"].font.size.pt
        # horizontal rules only: top and bottom of the table, below the header
        borders = word._tbl.tblPr.find(qn("w:tblBorders"))
        val = {_local(e): e.get(qn("w:val")) for e in borders}
        assert val["top"] == val["bottom"] == "single"
        assert val["left"] == val["right"] == val["insideH"] == val["insideV"] == "nil"
        for cell in word.rows[0].cells:
            tc = cell._tc.tcPr.find(qn("w:tcBorders"))
            assert tc.find(qn("w:bottom")).get(qn("w:val")) == "single"
        for row in word.rows[1:]:
            for cell in row.cells:
                assert cell._tc.tcPr.find(qn("w:tcBorders")) is None
        assert word.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats on pages
    # numbers right-aligned, labels left
    paths = d.tables[0]
    assert paths.rows[2].cells[3].paragraphs[0].alignment == 2  # RIGHT
    assert paths.rows[2].cells[0].paragraphs[0].alignment is None


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def test_docx_headings_figures_and_references(tmp_path):
    out, fragments, _ = _folder(tmp_path)
    d = docx.Document(write_docx(out, fragments=fragments))
    styled = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Title", "A Test Report") in styled
    assert ("Heading 1", "Results") in styled
    assert ("Heading 2", "Measurement Model") in styled
    assert d.core_properties.title == "A Test Report"
    # inline formatting of the sentences
    fit = next(p for p in d.paragraphs if p.text.startswith("Fit: χ2(4)"))
    assert any(r.font.superscript and r.text == "2" for r in fit.runs)
    assert any(r.italic and r.text == "p" for r in fit.runs)
    assert any(r.bold and r.text == "Hu and Bentler (1999)" for r in fit.runs)
    # the figure: number, title, the PNG itself, the note
    assert len(d.inline_shapes) == 1
    png = (out / "figures" / "loadings.png").read_bytes()
    blobs = [part.blob for part in d.part.package.parts if part.content_type == "image/png"]
    assert [hashlib.sha256(b).hexdigest() for b in blobs] == [hashlib.sha256(png).hexdigest()]
    texts = [p.text for p in d.paragraphs]
    i = texts.index("Figure 1")
    assert texts[i + 1] == "Standardized Loadings"
    assert "Note. Points: loadings." in texts
    width = d.sections[0].page_width - d.sections[0].left_margin - d.sections[0].right_margin
    assert d.inline_shapes[0].width <= width
    # references: the heading, then each cited work with a hanging indent, journal in italics
    i = texts.index("References")
    assert d.paragraphs[i].style.name == "Heading 1"
    refs = [p for p in d.paragraphs[i + 1 :] if p.text]
    hu = next(p for p in refs if p.text.startswith("Hu, L., & Bentler, P. M. (1999)."))
    assert hu.paragraph_format.first_line_indent < 0 < hu.paragraph_format.left_indent
    assert any(r.italic and "Structural Equation Modeling" in r.text for r in hu.runs)
    assert any(p.text.startswith("Appelbaum, M.") for p in refs)  # cited by the header


def test_docx_english_fonts_and_language(tmp_path):
    out, fragments, _ = _folder(tmp_path)
    d = docx.Document(write_docx(out, fragments=fragments))
    defaults = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    fonts = defaults.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:ascii")) == "Times New Roman"
    assert fonts.get(qn("w:asciiTheme")) is None  # a theme font would override it
    lang = defaults.find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:eastAsia")) == "en-US"
    # US Letter for an English report (APA)
    assert round(d.sections[0].page_width.inches, 2) == 8.5


def test_docx_in_chinese_has_east_asian_fonts(tmp_path):
    out, fragments, tables = _folder(tmp_path, chinese=True)
    d = docx.Document(write_docx(out, fragments=fragments))
    texts = [p.text for p in d.paragraphs]
    assert "测量模型的拟合" in texts and "结果" in texts
    title = d.paragraphs[texts.index("测量模型的拟合")]
    assert not any(r.italic for r in title.runs)  # Chinese type has no italics
    zh = d.tables[-1]
    assert [c.text for c in zh.rows[0].cells] == ["模型", "比较拟合指数"]
    assert [c.text for c in zh.rows[1].cells] == ["测量模型", ".951"]
    # every run holding CJK characters names the East Asian font
    runs = [r for p in d.paragraphs for r in p.runs if re.search("[\u4e00-\u9fff]", r.text)]
    runs += [
        r
        for t in d.tables
        for row in t.rows
        for c in row.cells
        for p in c.paragraphs
        for r in p.runs
        if re.search("[\u4e00-\u9fff]", r.text)
    ]
    assert len(runs) >= 6
    for run in runs:
        assert run._r.rPr.rFonts.get(qn("w:eastAsia")) == "SimSun", run.text
    # and so do the styles (headings included), with the language zh-CN and A4 paper
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        fonts = d.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "SimSun", name
        assert fonts.get(qn("w:eastAsiaTheme")) is None, name
    lang = (
        d.styles.element.find(qn("w:docDefaults"))
        .find(qn("w:rPrDefault"))
        .find(qn("w:rPr"))
        .find(qn("w:lang"))
    )
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    assert round(d.sections[0].page_width.inches, 2) == 8.27
    assert d.core_properties.language == "zh-CN"


def test_docx_language_from_the_text_without_results(tmp_path):
    """Without ``results.json`` (fragments only), a report written in Chinese is seen as one."""
    text = "<h2>结果</h2><p>" + "测量模型的拟合良好，所有因子载荷均显著。" * 5 + "</p>"
    d = docx.Document(write_docx(tmp_path, fragments=[text]))
    lang = (
        d.styles.element.find(qn("w:docDefaults"))
        .find(qn("w:rPrDefault"))
        .find(qn("w:rPr"))
        .find(qn("w:lang"))
    )
    assert lang.get(qn("w:eastAsia")) == "zh-CN"
    d = docx.Document(write_docx(tmp_path, fragments=["<h2>Results</h2><p>Fit is good.</p>"]))
    lang = (
        d.styles.element.find(qn("w:docDefaults"))
        .find(qn("w:rPrDefault"))
        .find(qn("w:rPr"))
        .find(qn("w:lang"))
    )
    assert lang.get(qn("w:eastAsia")) == "en-US"


def test_missing_report_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(CkmError, match=r"07_report\.ipynb does not exist.*ckm run --only report"):
        write_docx(tmp_path)
    with pytest.raises(CkmError, match=r"07_report\.ipynb does not exist"):
        report_fragments(tmp_path)


# ---------------------------------------------------------------------- Excel
def _stored(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def test_xlsx_one_sheet_per_table_at_full_precision(tmp_path):
    out, fragments, tables = _folder(tmp_path)
    path = write_xlsx(out, fragments=fragments)
    assert path == out / "tables.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Contents"
    sheets = wb.sheetnames[1:]
    assert len(sheets) == len(tables)
    assert len({s.lower() for s in sheets}) == len(sheets)
    assert all(len(s) <= MAX_SHEET for s in sheets)
    assert sheets[0] == "T1 paths"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for table, sheet in zip(tables, sheets, strict=True):
        ws = wb[sheet]
        rows = list(ws.iter_rows(values_only=True))
        record = results["stages"]["measurement"]["tables"][table.name]
        assert list(rows[0]) == record["columns"]
        assert len(rows) == 1 + len(record["rows"])
        for got, want in zip(rows[1:], record["rows"], strict=True):
            assert list(got) == [want[c] for c in record["columns"]], sheet
        # the stored numbers are the table's own, at full precision (not the printed ones)
        for got, (_, want) in zip(rows[1:], table.frame.iterrows(), strict=True):
            assert list(got) == [_stored(v) for v in want.tolist()]
    paths = wb["T1 paths"]
    assert paths["B3"].value == "=~" and paths["B3"].data_type == "s"  # text, not a formula
    assert paths["D3"].value == 0.8123456789012345
    assert paths["H3"].value == 1.234e-12
    # a double that needs all 17 significant digits (openpyxl alone writes 16)
    assert wb[sheets[1]]["B2"].value == 0.30000000000000004 != 0.3
    # the contents: number, link, title and note as printed
    contents = list(wb["Contents"].iter_rows(values_only=True))
    assert contents[1][:4] == ("Table 1", "T1 paths", "Path Coefficients", tables[0].note)
    assert wb["Contents"]["B2"].hyperlink.location == "'T1 paths'!A1"
    assert [r[2] for r in contents[1:]] == [t.title for t in tables]


def test_xlsx_in_chinese_keeps_the_printed_titles(tmp_path):
    out, fragments, tables = _folder(tmp_path, chinese=True)
    wb = openpyxl.load_workbook(write_xlsx(out, fragments=fragments))
    contents = list(wb["Contents"].iter_rows(values_only=True))
    assert contents[-1][2] == "测量模型的拟合"
    ws = wb[wb.sheetnames[-1]]
    assert list(ws.iter_rows(values_only=True)) == [("model", "cfi"), ("测量模型", 0.9512345)]


def test_xlsx_table_missing_from_results_is_a_clear_error(tmp_path):
    out, fragments, tables = _folder(tmp_path)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    del results["stages"]["measurement"]["tables"]["paths"]
    (out / "results.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(CkmError, match=r"'Table 1' \('paths'\), which is not in results\.json"):
        write_xlsx(out, fragments=fragments)


def test_shown_tables_are_parsed_from_the_html(tmp_path):
    _, fragments, tables = _folder(tmp_path)
    shown = report_tables(fragments)
    assert [s.name for s in shown] == [t.name for t in tables]
    assert [s.number for s in shown] == [1, 2, 3]
    assert shown[0].header == list(tables[0].display_frame().columns)


# ---------------------------------------------------------------------- ckm run
def test_ckm_run_writes_docx_and_xlsx_like_the_html():
    """The quick pipeline run: every table of report.html (parsed with lxml) is a Word
    table with the same header and cells, every figure is embedded, every heading and
    reference is there; tables.xlsx holds results.json's values of every table shown."""
    import lxml.html

    from tests.pipeline_fixtures import quick_run

    out = quick_run()
    page = lxml.html.fromstring((out / "report.html").read_text(encoding="utf-8"))
    d = docx.Document(out / "report.docx")

    def text(el) -> str:
        return re.sub(r"\s+", " ", el.text_content()).strip()

    html_tables = page.xpath("//figure[contains(@class, 'apa-table')]")
    assert len(html_tables) >= 15
    apa = [t for t in d.tables if t._tbl.tblPr.find(qn("w:tblBorders")) is not None]
    assert len(apa) == len(html_tables)
    for fig, word in zip(html_tables, apa, strict=True):
        header = [text(th) for th in fig.xpath(".//thead//th")]
        assert [re.sub(r"\s+", " ", c.text).strip() for c in word.rows[0].cells] == header
        rows = [[text(td) for td in tr.xpath("./td")] for tr in fig.xpath(".//tbody/tr")]
        got = [[re.sub(r"\s+", " ", c.text).strip() for c in r.cells] for r in word.rows[1:]]
        assert got == rows, fig.get("id")
    images = page.xpath("//figure[contains(@class, 'apa-figure')]//img")
    assert len(images) >= 4
    assert len(d.inline_shapes) == len(images)
    paragraphs = [p.text for p in d.paragraphs]
    headings = {(p.style.name, p.text) for p in d.paragraphs}
    for level, tag in (("Heading 1", "h2"), ("Heading 2", "h3"), ("Heading 3", "h4")):
        for h in page.xpath(f"//div[contains(@class, 'ckm')]//{tag}"):
            assert (level, text(h)) in headings
    refs = page.xpath("//div[contains(@class, 'references')]/p")
    assert len(refs) >= 10
    for ref in refs:
        assert text(ref) in paragraphs
    for fig in html_tables:
        caption = text(fig.xpath(".//p[contains(@class, 'apa-table-title')]")[0])
        assert caption in paragraphs
    # the workbook
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    assert len(wb.sheetnames) == 1 + len(html_tables)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    stored = {
        name: rec
        for st in results["stages"].values()
        for name, rec in (st.get("tables") or {}).items()
    }
    contents = list(wb["Contents"].iter_rows(values_only=True))[1:]
    for fig, row in zip(html_tables, contents, strict=True):
        name = fig.get("id").removeprefix("table-")
        rec = stored[name]
        values = list(wb[row[1]].iter_rows(values_only=True))
        assert list(values[0]) == rec["columns"]
        # an empty text is an empty cell, as a missing value (Excel has no empty string)
        want = [[None if r[c] == "" else r[c] for c in rec["columns"]] for r in rec["rows"]]
        assert [list(v) for v in values[1:]] == want, name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["outputs"]["report.docx"]
        == hashlib.sha256((out / "report.docx").read_bytes()).hexdigest()
    )
    assert "tables.xlsx" in manifest["outputs"]


def test_docx_elements_in_schema_order(tmp_path):
    """Word refuses a file whose property elements are out of the order ECMA-376 gives
    (LibreOffice is lenient, so rendering it proves nothing): every pPr, tblPr, tcPr and
    border list written, by python-docx or by us, follows the schema's sequence."""
    from ckm_research.report.docx import _ORDER

    out, fragments, _ = _folder(tmp_path, chinese=True)
    d = docx.Document(write_docx(out, fragments=fragments))
    checked = 0
    for part in (d.element, d.styles.element):
        for name, seq in _ORDER.items():
            order = seq.split()
            for el in part.iter(qn(f"w:{name}")):
                names = [_local(c) for c in el]
                assert all(n in order for n in names), (name, names)
                assert names == sorted(names, key=order.index), (name, names)
                checked += 1
    assert checked > 50


def test_short_labels_are_not_split_in_docx_columns():
    # "CKM × CTU" keeps the width of the whole label, as td.nw in the HTML: as wide as
    # the same label without spaces (one word), where a long label wraps at its words
    from docx.shared import Cm

    from ckm_research.report.docx import _column_widths

    tight = Cm(3)  # less room than the columns' longest words: every column shrinks alike

    def first(label: str) -> float:
        w = _column_widths([["Term", "R2 with the interaction"], [label, ".323"]], tight, 9)
        return w[0] / sum(w)

    assert first("CKM \u00d7 CTU") == pytest.approx(first("CKM\u00b7\u00d7\u00b7CTU"), rel=0.2)
    assert first("CKM \u00d7 CTU") > 1.3 * first("CKM")
    assert first("a label long enough to wrap") < first("alabellongenoughtowrap")
