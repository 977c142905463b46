"""The survey instrument: the default CKM definition and the schema's checks."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from ckm_research.errors import CkmError
from ckm_research.instrument import (
    InstrumentError,
    available_instruments,
    instrument_from_dict,
    load_instrument,
)

ROOT = Path(__file__).resolve().parents[1]
STUDY_MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"
CKM_YAML = ROOT / "surveys" / "ckm.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


def study_measurement() -> dict[str, list[str]]:
    """``{factor: items}`` from the =~ lines of the study's lavaan model."""
    out = {}
    for line in STUDY_MODEL.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        if "=~" in line:
            lhs, rhs = line.split("=~")
            out[lhs.strip()] = [t.strip() for t in rhs.split("+")]
    return out


@pytest.fixture(scope="module")
def ckm():
    return load_instrument()


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(CKM_YAML.read_text(encoding="utf-8"))


# --- the default instrument ---------------------------------------------------------


def test_default_is_the_ckm_yaml(ckm):
    assert Path(ckm.path).resolve() == CKM_YAML.resolve()
    assert ckm.id == "ckm" and ckm.languages == ["en", "zh"]
    assert len(ckm.sha256) == 64
    assert "ckm" in available_instruments()
    assert load_instrument(CKM_YAML).sha256 == ckm.sha256


def test_constructs_and_items_match_the_study_model(ckm):
    study = study_measurement()
    assert len(study) == 13 and sum(len(v) for v in study.values()) == 53
    assert ckm.constructs(include_marker=False) == study
    assert all(len(items) >= 4 for items in ckm.constructs().values())


def test_profile_attention_and_marker_blocks(ckm):
    assert ckm.item_ids("profile") == ["industry", "size", "role", "tenure", "knowledge"]
    attention = [i for i in ckm.items() if i.kind == "attention"]
    assert len(attention) >= 2
    for info in attention:
        assert info.construct is None and info.expected
        assert set(info.expected) <= set(info.scale.codes)
    marker = [s for s in ckm.sections if s.role == "marker"]
    assert len(marker) == 1 and len(marker[0].items) >= 4
    assert marker[0].factor not in study_measurement()


def test_every_item_is_bilingual_sourced_and_scaled(ckm):
    for info in ckm.items():
        en, zh = info.text["en"], info.text["zh"]
        assert en and zh and en != zh
        assert CJK.search(zh), f"{info.id}: the Chinese wording has no Chinese characters"
        assert not CJK.search(en), f"{info.id}: Chinese characters in the English wording"
        assert info.source in ckm.sources
        if info.kind == "indicator":
            assert info.scale_name == "agree7"
    agree = ckm.scales["agree7"]
    assert agree.codes == list(range(1, 8))
    for choice in agree.choices:
        assert choice.label["en"] and CJK.search(choice.label["zh"])


def test_reverse_keyed_items(ckm):
    reverse = ckm.reverse_keyed
    assert len(reverse) >= 3
    assert "cul3" in reverse  # organisational narcissism
    assert "narcissism" in ckm.item("cul3").note.lower()
    item = ckm.item("cul3")
    assert [item.reverse_code(v) for v in (1, 4, 7)] == [7, 4, 1]


def test_cited_scales_are_in_the_sources(ckm):
    citations = " ".join(s.citation for s in ckm.sources.values())
    for author in ("Jaworski", "Jayachandran", "Campbell", "Sinkula"):
        assert author in citations
    used = {i.source for i in ckm.items()}
    assert {"jaworski1993", "jayachandran2005", "campbell2003", "sinkula1997"} <= used


# --- finding instruments -------------------------------------------------------------


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(InstrumentError, match=r"No instrument named 'nope'.*ckm"):
        load_instrument("nope")


def test_missing_file(tmp_path):
    with pytest.raises(InstrumentError, match="does not exist"):
        load_instrument(tmp_path / "absent.yaml")


def test_name_found_in_the_working_directory(tmp_path, monkeypatch, raw):
    (tmp_path / "surveys").mkdir()
    raw["id"] = "mine"
    (tmp_path / "surveys" / "mine.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True),
                                                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_instrument("mine").id == "mine"


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nsections: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_instrument(path)
    assert "broken.yaml" in str(info.value) and "line" in str(info.value)
    assert isinstance(info.value, CkmError)


# --- schema errors name the file, section, item and field ---------------------------


def _section(raw: dict, section_id: str) -> dict:
    return next(s for s in raw["sections"] if s["id"] == section_id)


def _item(raw: dict, item_id: str) -> dict:
    for s in raw["sections"]:
        for it in s["items"]:
            if it["id"] == item_id:
                return it
    raise KeyError(item_id)


def _error(raw: dict, tmp_path) -> str:
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_instrument(path)
    message = str(info.value)
    assert "edited.yaml" in message
    return message


def test_missing_chinese_wording(raw, tmp_path):
    del _item(raw, "cip3")["text"]["zh"]
    message = _error(raw, tmp_path)
    assert "item 'cip3'" in message and "section 'cip'" in message
    assert "field 'text'" in message and "zh" in message


def test_misspelt_field(raw, tmp_path):
    _item(raw, "tmi2")["revers"] = True
    message = _error(raw, tmp_path)
    assert "item 'tmi2'" in message and "revers" in message and "unknown field" in message


def test_unknown_source_and_scale(raw, tmp_path):
    _item(raw, "sat2")["source"] = "smith2099"
    _item(raw, "loy1")["scale"] = "agree5"
    message = _error(raw, tmp_path)
    assert "item 'sat2'" in message and "field 'source'" in message and "smith2099" in message
    assert "item 'loy1'" in message and "field 'scale'" in message and "agree5" in message


def test_duplicate_item_id(raw, tmp_path):
    _item(raw, "ckm5")["id"] = "ckm1"
    message = _error(raw, tmp_path)
    assert "'ckm1'" in message and "unique" in message


def test_bad_item_id(raw, tmp_path):
    _item(raw, "ins1")["id"] = "Ins 1"
    message = _error(raw, tmp_path)
    assert "'Ins 1'" in message and "field 'id'" in message


def test_reverse_key_only_on_ordinal_indicators(raw, tmp_path):
    _item(raw, "industry")["reverse"] = True
    message = _error(raw, tmp_path)
    assert "item 'industry'" in message and "field 'reverse'" in message


def test_attention_check_needs_valid_expected(raw, tmp_path):
    _item(raw, "att1")["expected"] = [9]
    message = _error(raw, tmp_path)
    assert "item 'att1'" in message and "field 'expected'" in message and "[9]" in message
    del _item(raw, "att1")["expected"]
    message = _error(raw, tmp_path)
    assert "item 'att1'" in message and "expected" in message


def test_construct_section_needs_a_construct(raw, tmp_path):
    del _section(raw, "ost")["construct"]
    message = _error(raw, tmp_path)
    assert "section 'ost'" in message and "construct" in message


def test_scale_errors(raw, tmp_path):
    raw["scales"]["years"]["min"] = 70
    raw["scales"]["agree7"]["choices"][6]["value"] = 6
    message = _error(raw, tmp_path)
    assert "scale 'years'" in message and "min (70)" in message
    assert "scale 'agree7'" in message and "share a value" in message


def test_language_not_declared(raw, tmp_path):
    _item(raw, "stg1")["text"]["fr"] = "Apprendre des clients fait partie de la stratégie."
    message = _error(raw, tmp_path)
    assert "item 'stg1'" in message and "fr" in message and "languages" in message


def test_single_language_instrument_is_valid(raw):
    data = copy.deepcopy(raw)
    data["languages"] = ["en"]

    def strip(node):
        if isinstance(node, dict):
            if set(node) == {"en", "zh"}:
                node.pop("zh")
            for v in node.values():
                strip(v)
        elif isinstance(node, list):
            for v in node:
                strip(v)

    strip(data)
    ins = instrument_from_dict(data, source="english-only")
    assert ins.languages == ["en"] and len(ins.items()) == len(load_instrument().items())


def test_not_a_mapping():
    with pytest.raises(InstrumentError, match="mapping"):
        instrument_from_dict(["a", "b"], source="list.yaml")
