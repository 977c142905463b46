"""One text-file reader (ckm_research.textfile): UTF-8 with or without a byte-order mark,
and errors that name the kind of file, its path and the offset of an undecodable byte;
the model-file, instrument and data readers all go through it (issue 10)."""

from __future__ import annotations

import pytest

from ckm_research.errors import CkmError, DataError, ModelFileError
from ckm_research.textfile import decode, model_text, read_text


def test_utf8_with_and_without_bom(tmp_path):
    path = tmp_path / "m.lav"
    path.write_bytes("\ufeffF =~ a + b + c  # modèle\n".encode())
    assert read_text(path) == "F =~ a + b + c  # modèle\n"
    path.write_bytes(b"F =~ a + b + c\n")
    assert read_text(path) == "F =~ a + b + c\n"


def test_undecodable_byte_names_kind_path_offset_and_line(tmp_path):
    path = tmp_path / "m.lav"
    path.write_bytes(b"F =~ a + b\n# mod\xe8le\n")
    with pytest.raises(ModelFileError) as err:
        read_text(path, what="model file", error=ModelFileError)
    msg = str(err.value)
    assert f"The model file {path} is not valid UTF-8 text" in msg
    assert "byte 0xe8 at byte offset 16 (line 2)" in msg


@pytest.mark.parametrize("make,phrase", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a folder"),
])  # fmt: skip
def test_missing_file_and_folder(tmp_path, make, phrase):
    path = tmp_path / "x.yaml"
    make(path)
    with pytest.raises(CkmError, match=f"The instrument file .*x.yaml {phrase}"):
        read_text(path, what="instrument file")


def test_other_encodings_and_unknown_ones():
    raw = "x1,客户\n".encode("gb18030")
    assert decode(raw, "d.csv", what="data file", encoding="gb18030") == "x1,客户\n"
    with pytest.raises(DataError, match="The data file d.csv is not valid utf-8 text: byte"):
        decode(raw, "d.csv", what="data file", encoding="utf-8", error=DataError)
    with pytest.raises(DataError, match="Unknown text encoding 'klingon'.*data file d.csv"):
        decode(raw, "d.csv", what="data file", encoding="klingon", error=DataError)


def test_model_text_reads_a_lav_path_and_keeps_syntax(tmp_path):
    path = tmp_path / "m.lav"
    path.write_bytes(b"\xef\xbb\xbfF =~ a + b + c\n")
    assert model_text(path) == model_text(str(path)) == "F =~ a + b + c\n"
    assert model_text("F =~ a + b + c") == "F =~ a + b + c"
    path.write_bytes(b"F =~ a + \xff\n")
    with pytest.raises(ModelFileError, match="offset 9 "):
        model_text(path)
    with pytest.raises(CkmError, match="'model' parameter"):
        model_text(3)


def test_the_readers_use_it(tmp_path):
    """The instrument and data readers give the same message, naming their kind of file."""
    from ckm_research.data.io import read_data
    from ckm_research.instrument import load_instrument
    from ckm_research.instrument.schema import InstrumentError

    bad = tmp_path / "i.yaml"
    bad.write_bytes(b"id: x\nname: \xff\n")
    with pytest.raises(
        InstrumentError, match=r"instrument file .* byte 0xff at byte offset 12 \(line 2\)"
    ):
        load_instrument(bad)
    csv = tmp_path / "d.csv"
    csv.write_bytes(b"x1,x2\n1,\xff\n")
    with pytest.raises(DataError, match=r"data file .* byte 0xff at byte offset 8 \(line 2\)"):
        read_data(csv)


def test_population_file_reader_uses_it(tmp_path):
    from ckm_research.data.simulate import PopulationError, load_population

    bad = tmp_path / "pop.yaml"
    bad.write_bytes(b"name: \xfe\n")
    with pytest.raises(PopulationError, match=r"population file .* byte 0xfe at byte offset 6"):
        load_population(bad)


def test_fit_reads_a_lav_path_through_the_one_reader(tmp_path):
    """ckm_research.fit(path, data) gives the reader's message (kind of file, path, byte
    offset and line), not a UnicodeDecodeError, and drops a byte-order mark."""
    import ckm_research
    from ckm_research.data.examples import load_dataset

    hs = load_dataset("HolzingerSwineford1939")
    bad = tmp_path / "bad.lav"
    bad.write_bytes(b"visual =~ x1 + x2 + x3\n# mod\xe8le\n")
    for model in (bad, str(bad)):
        with pytest.raises(ModelFileError) as err:
            ckm_research.fit(model, hs)
        assert str(err.value).startswith(
            f"The model file {bad} is not valid UTF-8 text: byte 0xe8 at byte offset 28 (line 2)"
        )
    bom = tmp_path / "bom.lav"
    bom.write_bytes(b"\xef\xbb\xbfvisual =~ x1 + x2 + x3\n")
    res = ckm_research.fit(str(bom), hs)
    assert res.model_text == "visual =~ x1 + x2 + x3\n"
