"""Exports of the instrument: XLSForm (converted by pyxform), HTML, codebook, lavaan."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from ckm_research.cli import main
from ckm_research.instrument import InstrumentError, instrument_from_dict, load_instrument
from ckm_research.instrument.export import (
    export_instrument,
    to_codebook,
    to_html,
    to_lavaan,
    to_xlsform,
)
from ckm_research.sem.partable import build_partable

ROOT = Path(__file__).resolve().parents[1]
STUDY_MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"


@pytest.fixture(scope="module")
def ckm():
    return load_instrument()


def _measurement_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=~" in line:
            lines.append(re.sub(r"\s+", " ", line))
    return lines


# --- XLSForm ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["both", "en", "zh"])
def test_xlsform_converts_with_pyxform(ckm, tmp_path, lang):
    path = to_xlsform(ckm, tmp_path / "ckm.xlsx", lang=lang)
    warnings: list[str] = []
    result = convert(str(path), warnings=warnings)  # a real conversion, no mock
    xform = result.xform
    root = ET.fromstring(xform)
    ns = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms"}
    translations = [t.get("lang") for t in root.iter(f"{{{ns['x']}}}translation")]
    expected = {"both": ["English (en)", "Chinese (zh)"], "en": ["English (en)"],
                "zh": ["Chinese (zh)"]}[lang]
    assert sorted(translations) == sorted(expected)
    # every item is a question in the form, inside its section's group
    binds = {b.get("nodeset") for b in root.iter(f"{{{ns['x']}}}bind")}
    for info in ckm.items():
        assert f"/data/{info.section}/{info.id}" in binds, info.id
    assert root.find("h:head/h:title", ns).text
    if lang in ("both", "zh"):
        assert "非常同意" in xform and ckm.item("cul3").text["zh"] in xform
    if lang == "zh":
        assert "Strongly agree" not in xform


def test_xlsform_sheets(ckm, tmp_path):
    book = load_workbook(to_xlsform(ckm, tmp_path / "form.xlsx"))
    assert {"survey", "choices", "settings"} <= set(book.sheetnames)
    survey = list(book["survey"].values)
    header = survey[0]
    for col in ("type", "name", "label::English (en)", "label::Chinese (zh)", "constraint"):
        assert col in header
    rows = [dict(zip(header, r, strict=True)) for r in survey[1:]]
    by_name = {r["name"]: r for r in rows if r["name"]}
    assert by_name["cip1"]["type"] == "select_one agree7"
    assert by_name["industry"]["type"] == "select_one industry"
    assert by_name["tenure"]["type"] == "integer"
    assert by_name["tenure"]["constraint"] == ". >= 0 and . <= 60"
    groups = [r["name"] for r in rows if r["type"] == "begin_group"]
    assert groups == [s.id for s in ckm.sections]
    assert sum(r["type"] == "end_group" for r in rows) == len(groups)
    choices = list(book["choices"].values)
    agree = [r for r in choices[1:] if r[0] == "agree7"]
    assert [r[1] for r in agree] == [str(v) for v in range(1, 8)]
    settings = list(book["settings"].values)
    assert settings[1][1] == "ckm" and settings[1][2] == ckm.version


def test_enforced_attention_check_gets_a_constraint(tmp_path):
    data = yaml.safe_load((ROOT / "surveys" / "ckm.yaml").read_text(encoding="utf-8"))
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == "att2":
                item["enforce"] = True
    ins = instrument_from_dict(data, source="enforced")
    path = to_xlsform(ins, tmp_path / "enforced.xlsx")
    rows = list(load_workbook(path)["survey"].values)
    header = rows[0]
    att2 = dict(zip(header, next(r for r in rows if r[1] == "att2"), strict=True))
    assert att2["constraint"] == ". = '1'"
    assert att2["constraint_message::English (en)"] == "Strongly disagree"
    xform = convert(str(path)).xform
    assert "constraint=\". = '1'\"" in xform
    att1 = dict(zip(header, next(r for r in rows if r[1] == "att1"), strict=True))
    assert not att1["constraint"]  # not enforced: failures stay visible for screening


# --- HTML ------------------------------------------------------------------------------


class _Checker(HTMLParser):
    VOID = {"meta", "br", "link", "img", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.errors: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if key in attrs:
                self.external.append(attrs[key])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("lang", ["both", "zh"])
def test_html_is_wellformed_self_contained_and_complete(ckm, tmp_path, lang):
    path = to_html(ckm, tmp_path / "q.html", lang=lang)
    text = path.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(text)
    assert checker.errors == [] and checker.stack == []
    assert checker.external == []  # no external files, fonts or scripts
    assert "<script" not in text and "@import" not in text and "url(" not in text
    body = "".join(checker.text)
    for info in ckm.items():
        assert f"q-{info.id}" in checker.ids
        assert info.text["zh"] in body
        assert (info.text["en"] in body) == (lang == "both")
    assert body.count("\u2610") >= 7 * len(ckm.item_ids("indicator"))
    assert "reverse" not in body.lower()  # respondents do not see the keying


# --- codebook --------------------------------------------------------------------------


def test_codebook_csv_and_markdown(ckm, tmp_path):
    csv_path, md_path = to_codebook(ckm, tmp_path / "codebook.md")
    assert csv_path.suffix == ".csv" and md_path.suffix == ".md"
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["variable"] for r in rows] == ckm.item_ids()
    for r in rows:
        info = ckm.item(r["variable"])
        assert r["text_en"] == info.text["en"] and r["text_zh"] == info.text["zh"]
        assert r["reverse"] == ("yes" if info.reverse else "no")
        assert r["source"] == (info.source or "")
        if info.source:
            assert r["citation"] == ckm.sources[info.source].citation
        if info.reverse:
            assert "8 - raw" in r["processed_coding"]
    agree = next(r for r in rows if r["variable"] == "cip1")
    assert agree["values"].startswith("1 = Strongly disagree") and "7 = Strongly agree" in \
        agree["values"]
    md = md_path.read_text(encoding="utf-8")
    for info in ckm.items():
        assert f"`{info.id}`" in md
    assert md.count("| yes |") == len(ckm.reverse_keyed)
    assert "Jaworski, B. J., & Kohli, A. K. (1993)" in md


def test_codebook_in_one_language(ckm, tmp_path):
    csv_path, _ = to_codebook(ckm, tmp_path / "cb.csv", lang="en")
    header = csv_path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert "text_en" in header and "text_zh" not in header


# --- lavaan ----------------------------------------------------------------------------


def test_lavaan_matches_the_study_model_and_parses(ckm, tmp_path):
    text = to_lavaan(ckm, tmp_path / "m.lav")
    assert (tmp_path / "m.lav").read_text(encoding="utf-8") == text
    study = _measurement_lines(STUDY_MODEL.read_text(encoding="utf-8"))
    assert _measurement_lines(text) == study
    roles = build_partable(text).roles  # the project's own lavaan parser reads it
    assert set(roles.lv) == set(ckm.constructs(include_marker=False))
    assert set(roles.ov) == set(ckm.item_ids("indicator")) - {"mkr1", "mkr2", "mkr3", "mkr4"}
    with_marker = to_lavaan(ckm, include_marker=True)
    assert "MKR =~ mkr1 + mkr2 + mkr3 + mkr4" in _measurement_lines(with_marker)
    assert "MKR" in build_partable(with_marker).roles.lv
    assert "tmi4, rts3, cul3, ins2, loy4" in text


def test_lavaan_comments_in_chinese(ckm):
    text = to_lavaan(ckm, lang="zh")
    assert "# 客户信息过程" in text


# --- errors and the command line -------------------------------------------------------


def test_unknown_language_and_format(ckm, tmp_path):
    with pytest.raises(InstrumentError, match="no 'fr' wording.*en, zh"):
        to_html(ckm, tmp_path / "q.html", lang="fr")
    with pytest.raises(InstrumentError, match="Unknown export format 'pdf'"):
        export_instrument(ckm, "pdf", tmp_path / "q.pdf")
    with pytest.raises(InstrumentError, match="folder"):
        to_html(ckm, tmp_path, lang="en")


def test_cli_exports_every_format(tmp_path, capsys):
    for fmt, name in [("xlsform", "f.xlsx"), ("html", "q.html"), ("codebook", "cb.csv"),
                      ("lavaan", "m.lav")]:
        assert main(["instrument", "export", "--format", fmt, "--output",
                     str(tmp_path / name)]) == 0
    assert "Wrote" in capsys.readouterr().err
    assert (tmp_path / "cb.md").is_file()
    convert(str(tmp_path / "f.xlsx"))


def test_cli_errors_exit_2_without_traceback(tmp_path, capsys):
    code = main(["instrument", "export", "--format", "html", "--lang", "de", "--output",
                 str(tmp_path / "q.html")])
    err = capsys.readouterr().err
    assert code == 2 and "no 'de' wording" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: '1'\nlanguages: [en]\n", encoding="utf-8")
    code = main(["instrument", "export", "--format", "lavaan", "--instrument", str(bad),
                 "--output", str(tmp_path / "m.lav")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.yaml" in err and "sections" in err and "Traceback" not in err
    assert main(["instrument", "export", "--format", "pdf", "--output", "x"]) == 2
