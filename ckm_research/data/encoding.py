"""Which text encoding a data file is in: UTF-8, UTF-8 with BOM, GBK or GB18030.

Survey files reach researchers in China in four encodings: UTF-8 (most web
tools, "CSV UTF-8" in Excel), UTF-8 with a byte-order mark (Excel's "CSV
UTF-8", Qualtrics), GBK (Excel's plain "CSV" on a Chinese-language Windows,
older Wenjuanxing CSV exports) and GB18030 (GBK's superset, the national
standard, which also covers characters outside GBK). :func:`detect_encoding`
tells them apart from the bytes alone, in this order:

1. a UTF-8 byte-order mark (``EF BB BF``) -> ``"utf-8-sig"``;
2. the bytes decode as UTF-8 -> ``"utf-8"`` (pure ASCII is reported as UTF-8);
3. they decode as GBK -> ``"gbk"``;
4. they decode as GB18030 -> ``"gb18030"``;
5. otherwise a :class:`~ckm_research.errors.DataError` names the file and the
   byte offset (counted from 0, as ``xxd`` and Python do) and line at which
   UTF-8 and GB18030 decoding stopped.

UTF-8 first is safe: text in GBK that happens to be valid UTF-8 is very rare
for Chinese text (a GBK pair is two bytes >= 0x81; a UTF-8 sequence needs a
lead byte 0xC2-0xF4 followed by continuation bytes 0x80-0xBF, which a
sequence of GBK pairs rarely forms for long). Other encodings (cp1252,
Big5, Shift-JIS ...) are not detected: give them explicitly. A cp1252 file
may decode as GBK by accident, which is why the encoding used is always
reported (``df.attrs["encoding"]``, the import manifest and report).

This is what R's ``readr::guess_encoding`` and Python's ``charset-normalizer``
do in general form (by likelihood over many encodings); here the candidates
are the four a Chinese survey file can be in, and the answer is either certain
(the bytes decode) or an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ckm_research.errors import DataError
from ckm_research.textfile import bad_byte

__all__ = ["AUTO", "DETECTED", "Decoded", "detect_encoding", "decode_bytes", "read_text"]

#: The value of an ``encoding`` argument that asks for detection.
AUTO = "auto"
#: The encodings :func:`detect_encoding` chooses among, in the order tried.
DETECTED = ("utf-8-sig", "utf-8", "gbk", "gb18030")

_BOM = b"\xef\xbb\xbf"
_NAMES = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, and how.

    Attributes
    ----------
    text : str
    encoding : str
        The Python codec used (``"utf-8-sig"``, ``"utf-8"``, ``"gbk"``,
        ``"gb18030"`` or the one given).
    detected : bool
        True if the encoding was detected, False if it was given.
    """

    text: str
    encoding: str
    detected: bool

    @property
    def description(self) -> str:
        """``'GBK (detected)'`` or ``'cp1252 (given)'``, for notes and reports."""
        name = _NAMES.get(self.encoding, self.encoding)
        return f"{name} ({'detected' if self.detected else 'given'})"




def detect_encoding(raw: bytes, path: str | os.PathLike | None = None) -> str:
    """The encoding of ``raw`` among UTF-8 (with or without BOM), GBK and GB18030.

    Parameters
    ----------
    raw : bytes
        The file's content.
    path : path, optional
        Named in the error message.

    Returns
    -------
    str
        ``"utf-8-sig"``, ``"utf-8"``, ``"gbk"`` or ``"gb18030"``.

    Raises
    ------
    DataError
        The bytes are none of these; the message names the file and the byte
        offset (from 0) and line at which UTF-8 and GB18030 decoding failed.

    Examples
    --------
    >>> detect_encoding("序号,所用时间".encode("gbk"))
    'gbk'
    >>> detect_encoding(b"\\xef\\xbb\\xbfid,sat1")
    'utf-8-sig'

    In R: ``readr::guess_encoding(path)`` (likelihoods over many encodings).
    """
    if raw.startswith(_BOM):
        try:
            raw[3:].decode("utf-8")
            return "utf-8-sig"
        except UnicodeDecodeError as exc:
            name = f"The data file {path}" if path is not None else "The text"
            raise DataError(
                f"{name} starts with a UTF-8 byte-order mark but is not valid UTF-8: "
                f"{bad_byte(raw, exc.start + 3)} cannot be decoded. "
                "The file is damaged, or was edited with two different encodings; save it "
                "again from Excel as 'CSV UTF-8'."
            ) from None
    failures = {}
    for codec in ("utf-8", "gbk", "gb18030"):
        try:
            raw.decode(codec)
            return codec
        except UnicodeDecodeError as exc:
            failures[codec] = bad_byte(raw, exc.start)
    name = f"The data file {path}" if path is not None else "The text"
    raise DataError(
        f"{name} is not UTF-8, UTF-8 with BOM, GBK or GB18030 text: as UTF-8, "
        f"{failures['utf-8']} cannot be decoded; as GB18030 (which includes GBK), "
        f"{failures['gb18030']} cannot. Save it from Excel as 'CSV UTF-8', or give its "
        "encoding (read_data(path, encoding='cp1252'); ckm fit / ckm data import "
        "--encoding cp1252)."
    )


def decode_bytes(
    raw: bytes, path: str | os.PathLike | None = None, encoding: str | None = AUTO
) -> Decoded:
    """Decode a file's bytes, detecting the encoding unless one is given.

    Parameters
    ----------
    raw : bytes
    path : path, optional
        Named in error messages.
    encoding : str or None, default "auto"
        ``"auto"`` (or None): :func:`detect_encoding`. Otherwise a Python codec
        name; ``"utf-8"`` also skips a byte-order mark.

    Returns
    -------
    Decoded

    Raises
    ------
    DataError
        Unknown codec, or bytes that do not decode (file and byte offset named).
    """
    if encoding is None or str(encoding).lower() == AUTO:
        codec = detect_encoding(raw, path)
        return Decoded(raw.decode(codec), codec, True)
    codec, skip = encoding, 0
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        codec, skip = ("utf-8-sig", 3) if raw.startswith(_BOM) else ("utf-8", 0)
    name = f"the data file {path}" if path is not None else "the text"
    try:
        # the BOM is cut off here, so that error offsets count from the file's first byte
        text = raw[skip:].decode("utf-8") if skip else raw.decode(codec)
        return Decoded(text, codec, False)
    except LookupError:
        raise DataError(f"Unknown text encoding {encoding!r} given for {name}.") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name[0].upper() + name[1:]} is not valid {encoding} text: "
            f"{bad_byte(raw, exc.start + skip)} "
            "cannot be decoded. Leave the encoding out to detect UTF-8, GBK or GB18030 "
            "(encoding='auto', the default), save the file from Excel as 'CSV UTF-8', or "
            "give its encoding (for example encoding='gb18030' or 'cp1252'; ckm fit "
            "--encoding gb18030)."
        ) from None


def read_text(path: str | os.PathLike, encoding: str | None = AUTO) -> Decoded:
    """Read a text file (only reading it), detecting its encoding unless given.

    Parameters
    ----------
    path : path
    encoding : str or None, default "auto"
        See :func:`decode_bytes`.

    Returns
    -------
    Decoded
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror}.") from None
    return decode_bytes(raw, path, encoding)
