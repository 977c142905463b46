"""Write Wenjuanxing-style exports of the example survey, deterministically.

Usage (from the root of the checkout)::

    python tests/make_wjx_exports.py OUTPUT_DIR

writes, from ``data/example/ckm_example.csv`` and ``surveys/ckm.yaml``:

- ``ckm_wjx_number.xlsx``: the "按序号" export (answers as option numbers;
  ``-2`` for an empty answer on even rows, ``-3`` "skipped" on odd rows);
  matrix rows headed ``第N题(子题)``;
- ``ckm_wjx_text.xlsx``: the "按文本" export (answers as the instrument's
  Chinese option labels; ``(空)`` / ``(跳过)``; industry "其他" with free text
  ``其他〖...〗``); matrix rows headed ``N、引导语—子题``;
- ``ckm_wjx_text_gbk.csv``: the by-text export as a GBK-encoded CSV, as older
  exports were;
- ``ckm_wjx_text.xls``: the by-text export as an Excel 97-2003 workbook (xlwt),
  as older exports were.

The layout follows what open-source readers of real exports show (see
``ckm_research/data/wjx.py``): metadata ``序号``, ``提交答卷时间``
(``YYYY/MM/DD HH:MM:SS``), ``所用时间`` (``"256秒"``), ``来源``, ``来源详情``,
``来自IP``, then one column per question (``N、题干``), one per matrix row.
IP addresses are made up, from the range reserved for documentation
(RFC 5737). The same input always gives the same bytes for the CSV (the
workbooks carry a creation time set by the writer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example" / "ckm_example.csv"
_START = pd.Timestamp("2026/03/02 09:00:00")


def wjx_frame(data: pd.DataFrame, instrument, variant: str) -> pd.DataFrame:
    """The example data in a Wenjuanxing layout (``variant`` "number" or "text")."""
    if variant not in ("number", "text"):
        raise ValueError(f"variant must be 'number' or 'text'; got {variant!r}")
    n = len(data)
    seconds = pd.to_numeric(data["duration_sec"]).astype(int).tolist()
    ends = [
        _START + pd.Timedelta(minutes=17 * i) + pd.Timedelta(seconds=seconds[i]) for i in range(n)
    ]
    out: dict[str, list] = {
        "序号": list(range(1, n + 1)),
        "提交答卷时间": [t.strftime("%Y/%m/%d %H:%M:%S") for t in ends],
        "所用时间": [f"{s}秒" for s in seconds],
        "来源": [("手机提交", "微信", "链接")[i % 3] for i in range(n)],
        "来源详情": [("直接访问", "https://www.wjx.cn/vm/example.aspx")[i % 2] for i in range(n)],
        "来自IP": [f"192.0.2.{i % 250 + 1}(浙江-杭州)" for i in range(n)],
    }
    number = 0
    for section in instrument.sections:
        infos = [instrument.item(it.id) for it in section.items]
        if section.role == "profile":
            blocks = [[info] for info in infos]
        else:
            blocks = [infos]
        guide = instrument.text(section.instructions or instrument.instructions, "zh")
        for block in blocks:
            number += 1
            for info in block:
                text = instrument.text(info.text, "zh")
                if len(block) == 1 and section.role == "profile":
                    header = f"{number}、{text}"
                elif variant == "number":
                    header = f"第{number}题({text})"
                else:
                    header = f"{number}、{guide}—{text}"
                out[header] = [
                    _cell(v, info, instrument, variant, r)
                    for r, v in enumerate(data[info.id].tolist())
                ]
    return pd.DataFrame(out)


def _cell(value, info, instrument, variant: str, row: int):
    if pd.isna(value):
        if variant == "number":
            return -2 if row % 2 == 0 else -3
        return "(空)" if row % 2 == 0 else "(跳过)"
    code = int(value)
    if variant == "number" or info.scale.type == "integer":
        return code
    label = next(instrument.text(c.label, "zh") for c in info.scale.choices if c.value == code)
    if info.id == "industry" and label == "其他":
        return f"其他〖咨询服务{row % 3}〗"
    return label


def write_exports(out_dir: str | Path) -> dict[str, Path]:
    """Write the four exports into ``out_dir``; returns ``{name: path}``."""
    from ckm_research.instrument import load_instrument

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    instrument = load_instrument("ckm")
    data = pd.read_csv(EXAMPLE)
    number = wjx_frame(data, instrument, "number")
    text = wjx_frame(data, instrument, "text")
    paths = {
        "number_xlsx": out_dir / "ckm_wjx_number.xlsx",
        "text_xlsx": out_dir / "ckm_wjx_text.xlsx",
        "text_gbk_csv": out_dir / "ckm_wjx_text_gbk.csv",
        "text_xls": out_dir / "ckm_wjx_text.xls",
    }
    number.to_excel(paths["number_xlsx"], index=False)
    text.to_excel(paths["text_xlsx"], index=False)
    paths["text_gbk_csv"].write_bytes(text.to_csv(index=False).encode("gbk"))
    _write_xls(text, paths["text_xls"])
    return paths


def _write_xls(frame: pd.DataFrame, path: Path) -> None:
    """Excel 97-2003 (.xls) with xlwt (pandas no longer writes .xls)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for j, name in enumerate(frame.columns):
        sheet.write(0, j, name)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            sheet.write(i, j, value.item() if hasattr(value, "item") else value)
    book.save(str(path))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/make_wjx_exports.py OUTPUT_DIR")
    for name, p in write_exports(sys.argv[1]).items():
        print(f"{name}: {p}")
