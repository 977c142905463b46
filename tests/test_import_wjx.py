"""Wenjuanxing (问卷星) exports through ckm data import.

The exports are written from data/example/ckm_example.csv by
tests/make_wjx_exports.py (by number and by text, .xlsx, GBK .csv and .xls);
each must import to the same processed data as the example CSV itself, with
the personal data removed, 所用时间 as the speed screen's duration, and every
bad input (unknown, ambiguous or doubled columns, multi-select answers,
undecodable bytes, bad mapping files) refused with a message naming it and
the raw file left unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ckm_research.cli import main
from ckm_research.data.importer import import_responses, write_import
from ckm_research.data.wjx import is_wjx, parse_header, parse_seconds
from ckm_research.errors import DataError
from ckm_research.instrument import instrument_from_dict, load_instrument
from tests.make_wjx_exports import EXAMPLE, wjx_frame, write_exports

VARIANTS = ["number_xlsx", "text_xlsx", "text_gbk_csv", "text_xls"]


@pytest.fixture(scope="module")
def ckm():
    return load_instrument()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return write_exports(tmp_path_factory.mktemp("wjx"))


@pytest.fixture(scope="module")
def baseline(ckm):
    return import_responses(EXAMPLE, ckm)


@pytest.fixture(scope="module")
def text_frame(ckm):
    return wjx_frame(pd.read_csv(EXAMPLE), ckm, "text")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(path: Path, *args, **kwargs) -> str:
    """Import must fail with a DataError, leaving the raw file's bytes unchanged."""
    before = sha(path)
    with pytest.raises(DataError) as err:
        import_responses(path, *args, **kwargs)
    assert sha(path) == before
    return str(err.value)


def test_exports_have_the_wjx_layout(exports):
    text = exports["text_gbk_csv"].read_bytes().decode("gbk")
    header = text.splitlines()[0].split(",")
    assert header[:6] == ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
    assert header[6] == "1、贵公司主要属于哪个行业？"
    assert any(h.startswith("6、") and "—" in h for h in header)
    number = pd.read_excel(exports["number_xlsx"], engine="openpyxl")
    assert any(str(c).startswith("第6题(") for c in number.columns)
    assert (number == -2).any().any() and (number == -3).any().any()
    assert "(跳过)" in text and "(空)" in text and "其他〖" in text
    with pytest.raises(UnicodeDecodeError):
        exports["text_gbk_csv"].read_bytes().decode("utf-8")


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_export_imports_to_the_same_processed_data_as_the_csv(exports, baseline, ckm, variant):
    path = exports[variant]
    before = sha(path)
    result = import_responses(path, ckm)
    assert sha(path) == before
    cols = [c for c in baseline.data.columns if c != "respondent"]
    # items (reverse-coded), duration_sec, the 1-based row and every screening flag
    pd.testing.assert_frame_equal(result.data[cols], baseline.data[cols])
    raw = result.manifest["raw_file"]
    assert raw["format"] == "wjx"
    assert raw["layout"].startswith("按序号" if variant == "number_xlsx" else "按文本")
    assert raw["encoding"] == ("gbk" if variant == "text_gbk_csv" else None)
    assert result.manifest["rules"]["duration_source"] == "所用时间"
    # every item column was matched by its wording, none by a guess
    mapping = result.manifest["rules"]["column_mapping"]
    assert set(mapping) == set(ckm.item_ids())


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_the_importer_reads_each_encoding(text_frame, ckm, baseline, tmp_path, codec):
    path = tmp_path / f"export_{codec}.csv"
    path.write_bytes(text_frame.to_csv(index=False).encode(codec))
    result = import_responses(path, ckm)
    cols = [c for c in baseline.data.columns if c != "respondent"]
    pd.testing.assert_frame_equal(result.data[cols], baseline.data[cols])
    # GB18030 text that is also GBK is reported as GBK, the subset tried first
    assert result.manifest["raw_file"]["encoding"] == ("gbk" if codec == "gb18030" else codec)
    assert result.manifest["rules"]["applied"][0].startswith("text decoded as ")


def test_the_speed_screen_uses_suoyong_shijian(exports, ckm, text_frame, baseline, tmp_path):
    result = import_responses(exports["text_xlsx"], ckm)
    example = pd.read_csv(EXAMPLE)
    assert result.data["duration_sec"].tolist() == example["duration_sec"].tolist()
    assert result.data["flag_speed"].sum() > 0
    assert result.data["flag_speed"].tolist() == baseline.data["flag_speed"].tolist()
    # without 所用时间 there is no duration, and nobody is flagged as fast
    path = _write(text_frame.drop(columns="所用时间"), tmp_path / "no_time.xlsx")
    alone = import_responses(path, ckm)
    assert "duration_sec" not in alone.data and alone.data["flag_speed"].sum() == 0
    # "4分16秒" is read as 256 seconds
    frame = text_frame.copy()
    frame["所用时间"] = "4分16秒"
    timed = import_responses(_write(frame, tmp_path / "minutes.xlsx"), ckm)
    assert set(timed.data["duration_sec"].tolist()) == {256}


def test_personal_data_never_reach_the_outputs(exports, ckm, tmp_path):
    result = import_responses(exports["text_gbk_csv"], ckm)
    removed = result.manifest["rules"]["personal_data"]["removed_columns"]
    assert set(removed) == {"来自IP", "来源详情"}
    assert result.manifest["rules"]["personal_data"]["pseudonymised_id_column"] == "序号"
    paths = write_import(result, tmp_path / "clean.csv")
    for p in paths.values():
        text = Path(p).read_text(encoding="utf-8")
        assert "192.0.2." not in text and "浙江-杭州" not in text
        assert "咨询服务" not in text  # the free text of "other" answers
    report = Path(paths["report"]).read_text(encoding="utf-8")
    assert "GBK (detected)" in report and "Wenjuanxing layout" in report


def test_cli_imports_a_gbk_export_and_says_so(exports, tmp_path, capsys):
    out = tmp_path / "clean.csv"
    assert main(["data", "import", str(exports["text_gbk_csv"]), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "GBK (detected)" in err and "wjx layout" in err and "按文本" in err
    manifest = json.loads((tmp_path / "clean.manifest.json").read_text(encoding="utf-8"))
    assert manifest["raw_file"]["encoding"] == "gbk"


# ---------------------------------------------------------------------------
# bad inputs


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        path.write_bytes(frame.to_csv(index=False).encode("gbk"))
    else:
        frame.to_excel(path, index=False)
    return path


def test_unknown_question_column_is_listed_and_nothing_imported(
    text_frame, ckm, tmp_path, baseline
):
    frame = text_frame.copy()
    frame["65、您对本研究有何建议？"] = "无"
    path = _write(frame, tmp_path / "extra.csv")
    message = refused(path, ckm)
    assert "1 question column(s) match no item's wording: '65、您对本研究有何建议？'" in message
    assert "Nothing was imported" in message and "--column-map" in message
    # the mapping file leaves it out (by question number): then it imports
    mapping = tmp_path / "map.yaml"
    mapping.write_text('"65": ~\n', encoding="utf-8")
    result = import_responses(path, ckm, column_map=mapping)
    cols = [c for c in baseline.data.columns if c != "respondent"]
    pd.testing.assert_frame_equal(result.data[cols], baseline.data[cols])
    assert "65、您对本研究有何建议？" in result.manifest["rules"]["columns_not_carried"]


def test_a_changed_wording_gets_a_hint_never_a_guess(text_frame, ckm, tmp_path, baseline):
    old = "2、贵公司有多少名员工？"
    frame = text_frame.rename(columns={old: "2、贵公司共有多少名员工？"})
    path = _write(frame, tmp_path / "changed.xlsx")
    message = refused(path, ckm)
    assert "'2、贵公司共有多少名员工？' (closest: size; not applied)" in message
    assert "1 item(s) have no column: size" in message
    # resolved by the mapping file, CSV form, by full header
    mapping = tmp_path / "map.csv"
    mapping.write_text("column,item\n2、贵公司共有多少名员工？,size\n", encoding="utf-8")
    result = import_responses(path, ckm, column_map=mapping)
    cols = [c for c in baseline.data.columns if c != "respondent"]
    pd.testing.assert_frame_equal(result.data[cols], baseline.data[cols])
    assert result.manifest["rules"]["column_mapping"]["size"] == "2、贵公司共有多少名员工？"


def test_two_columns_for_one_item_are_ambiguous(text_frame, ckm, tmp_path):
    frame = text_frame.copy()
    frame["66、您对贵公司收集和利用客户知识的方式了解程度如何？"] = frame.iloc[:, 10]
    path = _write(frame, tmp_path / "twice.xlsx")
    message = refused(path, ckm)
    assert "ambiguous: item knowledge has columns '5、" in message
    assert "'66、您对贵公司收集和利用客户知识的方式了解程度如何？'" in message


def test_a_column_with_the_wording_of_two_items_is_ambiguous(text_frame, tmp_path):
    data = yaml.safe_load(Path("surveys/ckm.yaml").read_text(encoding="utf-8"))
    cip = next(s for s in data["sections"] if s["id"] == "cip")
    cip["items"][1]["text"]["zh"] = cip["items"][0]["text"]["zh"]
    twin = instrument_from_dict(data)
    path = _write(text_frame, tmp_path / "twin.xlsx")
    message = refused(path, twin)
    assert "has the wording of items cip1, cip2" in message


def test_mapping_file_errors_are_named(exports, ckm, tmp_path):
    path = exports["number_xlsx"]
    bad_item = tmp_path / "bad_item.yaml"
    bad_item.write_text('"1": sector\n', encoding="utf-8")
    assert "maps '1、贵公司主要属于哪个行业？' to 'sector', which is not an item" in refused(
        path, ckm, column_map=bad_item
    )
    bad_col = tmp_path / "bad_col.yaml"
    bad_col.write_text('"99、不存在": industry\n', encoding="utf-8")
    assert "names column '99、不存在', which the file does not have" in refused(
        path, ckm, column_map=bad_col
    )
    shared = tmp_path / "shared.yaml"
    shared.write_text('"6": cip1\n', encoding="utf-8")
    assert "is the number of 4 columns" in refused(path, ckm, column_map=shared)
    with pytest.raises(DataError, match="Wenjuanxing exports"):
        import_responses(EXAMPLE, ckm, column_map=shared)


def test_multi_select_answers_in_an_item_column_are_refused(text_frame, ckm, tmp_path):
    frame = text_frame.copy()
    col = "1、贵公司主要属于哪个行业？"
    frame.loc[3, col] = "制造业┋金融服务"
    path = _write(frame, tmp_path / "multi.xlsx")
    message = refused(path, ckm)
    assert f"'{col}' (item industry) row 4: '制造业┋金融服务'" in message


def test_unknown_answer_text_names_column_and_row(text_frame, ckm, tmp_path):
    frame = text_frame.copy()
    col = next(c for c in frame.columns if c.endswith("我们善于直接从客户那里获取知识。"))
    frame.loc[9, col] = "很同意"
    path = _write(frame, tmp_path / "label.csv")
    message = refused(path, ckm)
    assert f"column '{col}' (item ckm1" in message and "row 10: '很同意'" in message


def test_undecodable_export_names_file_and_offset(exports, ckm, tmp_path):
    raw = exports["text_gbk_csv"].read_bytes()
    cut = raw.index(b"\n") + 1
    broken = raw[:cut] + b"\xff" + raw[cut:]
    path = tmp_path / "broken.csv"
    path.write_bytes(broken)
    message = refused(path, ckm)
    assert str(path) in message and f"byte 0xff at byte offset {cut} (line 2)" in message


# ---------------------------------------------------------------------------
# parts


def test_parse_header_and_seconds():
    assert parse_header("12、题干") == (12, ["题干"])
    assert parse_header("12：引导—甲—乙") == (12, ["引导—甲—乙", "甲—乙", "乙"])
    assert parse_header("第3题（子题）") == (3, ["子题"])
    assert parse_header("序号") == (None, [])
    assert parse_seconds("256秒") == 256
    assert parse_seconds("4分16秒") == 256
    assert parse_seconds("1小时0分5秒") == 3605
    assert parse_seconds("２５６秒") == 256  # full-width digits
    assert pd.isna(parse_seconds("很久")) and pd.isna(parse_seconds(""))


def test_detection_needs_the_metadata_columns():
    assert is_wjx(pd.DataFrame(columns=["序号", "提交答卷时间", "所用时间", "来自IP", "1、x"]))
    assert not is_wjx(pd.DataFrame(columns=["序号", "所用时间", "1、x"]))
