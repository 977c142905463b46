"""`ckm fit ... --interaction dblcent|lms`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ckm_research.cli import main

REF = Path(__file__).parent / "reference"
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"


@pytest.fixture()
def files(tmp_path):
    model = tmp_path / "int.lav"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "oneint.csv"
    pd.read_csv(REF / "data" / "oneInt.csv").iloc[:500].to_csv(data, index=False)
    return model, data


@pytest.mark.parametrize("flag", [None, "dblcent", "lms"])
def test_fit_interaction_option(files, tmp_path, capsys, flag):
    model, data = files
    out = tmp_path / f"{flag}.json"
    argv = ["fit", str(model), str(data), "--json", str(out)]
    if flag:
        argv += ["--interaction", flag]
    assert main(argv) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["interaction"]["method"] == (flag or "dblcent")
    rows = [r for r in doc["estimates"] if r["op"] == "~" and r["rhs"] == "X:Z"]
    assert len(rows) == 1 and rows[0]["lhs"] == "Y"
    assert 0.55 < rows[0]["est"] < 0.85 and rows[0]["se"] > 0
    assert "X:Z" in text
    assert ("LMS" in text) == (flag == "lms")


def test_fit_interaction_bad_choice(files, capsys):
    model, data = files
    assert main(["fit", str(model), str(data), "--interaction", "pind"]) == 2
    assert "invalid choice" in capsys.readouterr().err
