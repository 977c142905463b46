"""Encoding detection of CSV data files: UTF-8, UTF-8 with BOM, GBK, GB18030.

Every CSV reader goes through ckm_research.data.encoding: read_data (so ckm fit
and the pipeline) and the importer (ckm data import). Each encoding must give
the same data frame and say which it was; bytes that are none of them give a
DataError naming the file and the byte offset, and leave the file unchanged.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from ckm_research.cli import main
from ckm_research.data.encoding import decode_bytes, detect_encoding
from ckm_research.data.io import read_data
from ckm_research.errors import DataError

# "𠮷" (U+20BB7) is outside GBK: only GB18030 (four bytes) encodes it
TEXT = "编号,满意1,满意2,备注\n1,5,6,很好\n2,3,4,𠮷\n3,7,7,无\n"
TEXT_GBK = TEXT.replace("𠮷", "一般")
CASES = {
    "utf-8": TEXT.encode("utf-8"),
    "utf-8-sig": TEXT.encode("utf-8-sig"),
    "gbk": TEXT_GBK.encode("gbk"),
    "gb18030": TEXT.encode("gb18030"),
}


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_cases_are_what_they_claim():
    # the GBK text must not be UTF-8, and the GB18030 text must not be GBK
    with pytest.raises(UnicodeDecodeError):
        CASES["gbk"].decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        CASES["gb18030"].decode("gbk")
    assert CASES["utf-8-sig"].startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("codec", list(CASES))
def test_each_encoding_is_detected(codec):
    assert detect_encoding(CASES[codec]) == codec


@pytest.mark.parametrize("codec", list(CASES))
def test_read_data_detects_and_reports_the_encoding(tmp_path, codec):
    path = tmp_path / f"{codec}.csv"
    path.write_bytes(CASES[codec])
    df = read_data(path)
    expected = pd.read_csv(pd.io.common.StringIO(TEXT if codec != "gbk" else TEXT_GBK))
    pd.testing.assert_frame_equal(df, expected)
    assert df.attrs["encoding"] == codec
    assert df.attrs["encoding_note"].endswith("(detected)")


def test_pure_ascii_is_reported_as_utf8():
    assert detect_encoding(b"id,x\n1,2\n") == "utf-8"


def test_a_given_encoding_is_used_and_reported(tmp_path):
    path = tmp_path / "gb.csv"
    path.write_bytes(CASES["gb18030"])
    df = read_data(path, encoding="gb18030")
    assert df.attrs["encoding_note"] == "GB18030 (given)"
    assert df["备注"].tolist()[1] == "𠮷"


def test_undecodable_bytes_name_the_file_and_byte_offset(tmp_path):
    raw = "id,备注\n1,好\n".encode() + b"2,\xff\xfe\n"
    path = tmp_path / "broken.csv"
    path.write_bytes(raw)
    before = sha(path)
    offset = raw.index(b"\xff")
    with pytest.raises(DataError) as err:
        read_data(path)
    message = str(err.value)
    assert str(path) in message
    assert f"byte 0xff at byte offset {offset} (line 3)" in message
    assert "not UTF-8, UTF-8 with BOM, GBK or GB18030" in message
    assert sha(path) == before


def test_bom_followed_by_invalid_utf8_names_the_offset(tmp_path):
    raw = b"\xef\xbb\xbfid,x\n1,\xc3\x28\n"
    path = tmp_path / "bom.csv"
    path.write_bytes(raw)
    offset = raw.index(b"\xc3")
    with pytest.raises(DataError, match=rf"byte 0xc3 at byte offset {offset} \(line 2\)"):
        read_data(path)


def test_given_utf8_with_bom_counts_offsets_from_the_first_byte():
    raw = b"\xef\xbb\xbfab\xffc"
    with pytest.raises(DataError, match=r"byte 0xff at byte offset 5 \(line 1\)"):
        decode_bytes(raw, "f.csv", "utf-8")
    assert decode_bytes(raw[:5], "f.csv", "utf-8").text == "ab"


def test_a_wrong_given_encoding_names_the_offset(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(CASES["gbk"])
    offset = next(i for i, b in enumerate(CASES["gbk"]) if b >= 0x80)
    with pytest.raises(
        DataError,
        match=rf"not valid utf-8 text: byte 0x.. at byte offset "
        rf"{offset} \(line 1\)",
    ):
        read_data(path, encoding="utf-8")
    with pytest.raises(DataError, match="Unknown text encoding 'nope'"):
        read_data(path, encoding="nope")


def test_decode_bytes_auto_and_none_agree():
    a = decode_bytes(CASES["gbk"], None, "auto")
    b = decode_bytes(CASES["gbk"], None, None)
    assert a == b and a.encoding == "gbk" and a.detected


def test_ckm_fit_says_which_encoding_it_used(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(3)
    f = rng.normal(size=300)
    data = pd.DataFrame({f"题{k}": f + rng.normal(size=300) for k in (1, 2, 3)})
    csv = tmp_path / "gbk.csv"
    csv.write_bytes(data.to_csv(index=False).encode("gbk"))
    model = tmp_path / "m.lav"
    model.write_text("F =~ 题1 + 题2 + 题3\n", encoding="utf-8")
    assert main(["fit", str(model), str(csv)]) == 0
    assert "Read gbk.csv as GBK (detected) text." in capsys.readouterr().err


def test_ckm_fit_refuses_undecodable_data_clearly(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_bytes(b"a,b\n1,2\n\xff,3\n")
    model = tmp_path / "m.lav"
    model.write_text("F =~ a + b\n", encoding="utf-8")
    assert main(["fit", str(model), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "byte offset 8" in err and "Traceback" not in err
