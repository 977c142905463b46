"""One reader for the text files a study is made of: model files, instruments, data CSVs.

Every text file ckm-research reads goes through :func:`read_text` (or, for bytes
already read, :func:`decode`), so the errors read the same for every kind of file:
they name the kind of file, its path and, for an undecodable byte, the byte, its
offset in the file and its line, and say what to do. UTF-8 is the encoding of every
file the toolkit writes; a UTF-8 byte-order mark (as Excel and Notepad write it) is
dropped.

Data CSVs saved by other programs may come in other encodings (GB18030, cp1252):
:func:`ckm_research.data.io.read_data` passes the encoding its caller names to
:func:`decode`.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ckm_research.errors import CkmError

__all__ = ["decode", "read_text", "model_text"]

#: What :func:`read_text` says when a file is not UTF-8 text.
SAVE_AS_UTF8 = "Save it as plain UTF-8 text (in most editors: Save As > Encoding: UTF-8)."


def decode(
    raw: bytes,
    path: str | Path,
    *,
    what: str = "model file",
    encoding: str = "utf-8",
    error: type[CkmError] = CkmError,
    advice: str = SAVE_AS_UTF8,
) -> str:
    """Decode the bytes of a text file, with an error that says where it fails.

    Parameters
    ----------
    raw : bytes
        The file's content.
    path : str or pathlib.Path
        The file (for the messages).
    what : str, default "model file"
        The kind of file, as the messages name it ("instrument file", "data file").
    encoding : str, default "utf-8"
        The text encoding; for UTF-8 a leading byte-order mark is dropped.
    error : type of CkmError, default CkmError
        The exception raised (``ModelFileError``, ``InstrumentError``, ``DataError``).
    advice : str
        The sentence that follows the message of an undecodable byte.

    Returns
    -------
    str
        The text.

    Raises
    ------
    CkmError
        (of type ``error``) The encoding is unknown, or a byte cannot be decoded:
        "The model file m.lav is not valid UTF-8 text: byte 0xb9 at byte offset 17
        (line 2) cannot be decoded."
    """
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise error(f"Unknown text encoding {encoding!r} given for the {what} {path}.") from None
    skip = 3 if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8) else 0
    try:
        # the BOM is cut off here, so that error offsets count from the file's first byte
        return raw[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        raise error(
            f"The {what} {path} is not valid {encoding} text: {bad_byte(raw, exc.start + skip)} "
            f"cannot be decoded. {advice}"
        ) from None


def bad_byte(raw: bytes, offset: int) -> str:
    """Where decoding failed, as every reader says it: ``byte 0xff at byte offset 8 (line 2)``.

    The offset counts from the file's first byte, from 0 (as ``xxd`` and Python do).
    """
    line = raw[:offset].count(b"\n") + 1
    return f"byte 0x{raw[offset]:02x} at byte offset {offset} (line {line})"


def read_text(
    path: str | Path,
    *,
    what: str = "model file",
    error: type[CkmError] = CkmError,
    advice: str = SAVE_AS_UTF8,
) -> str:
    """Read a UTF-8 text file (a byte-order mark is dropped), with clear errors.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    what : str, default "model file"
        The kind of file, as the messages name it.
    error : type of CkmError, default CkmError
        The exception raised.
    advice : str
        What to do when a byte is not UTF-8 (see :func:`decode`).

    Returns
    -------
    str
        The text.

    Raises
    ------
    CkmError
        (of type ``error``) The file does not exist, is a folder, cannot be read,
        or is not UTF-8 text (the message gives the byte's offset and line).

    Examples
    --------
    >>> from pathlib import Path
    >>> import ckm_research
    >>> from ckm_research.textfile import read_text
    >>> study = Path(ckm_research.__file__).parent / "models" / "ckm_study.lav"
    >>> read_text(study).splitlines()[0]
    '# The default CKM study (see MODEL.md of the source paper, section 3).'

    A byte that is not UTF-8 (here 0xb9, a superscript one in Latin-1) is named with
    its offset and line:

    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "m.lav"
    >>> _ = bad.write_bytes(b"f =~ x1 + x2\\nf ~~ \\xb9*f\\n")
    >>> read_text(bad)
    Traceback (most recent call last):
    ...
    ckm_research.errors.CkmError: The model file ...m.lav is not valid UTF-8 text:
    byte 0xb9 at byte offset 18 (line 2) cannot be decoded. Save it as plain UTF-8 text ...
    >>> bad.unlink(); bad.parent.rmdir()
    """
    path = Path(path)
    if not path.exists():
        raise error(f"The {what} {path} does not exist.")
    if path.is_dir():
        raise error(f"The {what} {path} is a folder, not a file.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"Cannot read the {what} {path}: {exc.strerror}.") from None
    return decode(raw, path, what=what, error=error, advice=advice, encoding="UTF-8")


def model_text(model: str | Path) -> str:
    """Model syntax given as lavaan syntax or as the path of a ``.lav`` file.

    A :class:`~pathlib.Path`, or a one-line string ending in ``.lav`` that names an
    existing file, is read with :func:`read_text`; any other string is the syntax.

    Raises
    ------
    ModelFileError
        The file is not UTF-8 text (or cannot be read).
    CkmError
        ``model`` is neither a string nor a path.
    """
    from ckm_research.errors import ModelFileError

    if isinstance(model, Path) or (
        isinstance(model, str)
        and "\n" not in model
        and model.endswith(".lav")
        and Path(model).exists()
    ):
        return read_text(model, what="model file", error=ModelFileError)
    if not isinstance(model, str):
        raise CkmError(
            f"The 'model' parameter must be lavaan syntax (str) or a path to a .lav file. "
            f"Got {type(model).__name__} instead."
        )
    return model
