"""A catalogue of bad and borderline inputs across every command.

Each case runs ``ckm ...`` in-process and checks what a user must get: exit
code 2, a message naming the culprit (column, row, item, parameter, option,
file or path), no traceback and no "internal error", and every input file
unchanged (byte for byte).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research.cli import main

REF = Path(__file__).parent / "reference" / "data"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
POPULATION = (
    "F =~ 0.7*y1 + 0.7*y2 + 0.7*y3\nG =~ 0.7*y4 + 0.7*y5 + 0.7*y6\nG ~ 0.3*F\n"
    + "".join(f"y{i} ~~ 0.51*y{i}\n" for i in range(1, 7))
    + "F ~~ 1*F\nG ~~ 0.91*G\n"
)


def _write_inputs(d: Path) -> None:
    hs = pd.read_csv(REF / "HolzingerSwineford1939.csv")
    items = hs[["id", "sex", "school", "ageyr"] + [f"x{i}" for i in range(1, 10)]]
    items.to_csv(d / "good.csv", index=False)
    (d / "model.lav").write_text(HS_MODEL, encoding="utf-8")
    (d / "pop.lav").write_text(POPULATION, encoding="utf-8")

    def variant(name, change):
        frame = items.copy()
        change(frame)
        frame.to_csv(d / name, index=False)

    def text_cell(f):
        f["x2"] = f["x2"].astype(object)
        f.loc[4, "x2"] = "seven"

    variant("text_cell.csv", text_cell)
    variant("code_99.csv", lambda f: f.__setitem__("x5", f["x5"].where(f.index % 9 != 0, -99)))
    variant("constant.csv", lambda f: f.__setitem__("x3", 4.0))
    variant("copy.csv", lambda f: f.__setitem__("x9", f["x8"]))
    variant("combination.csv", lambda f: f.__setitem__("x6", f["x4"] + 2 * f["x5"]))
    variant("infinite.csv", lambda f: f.__setitem__("x7", f["x7"].where(f.index != 3, np.inf)))
    variant("empty_column.csv", lambda f: f.__setitem__("x1", np.nan))
    variant("negative_weights.csv", lambda f: f.__setitem__("ageyr", f["ageyr"] - 20))
    items.head(3).to_csv(d / "three_rows.csv", index=False)
    items.iloc[:, :0].to_csv(d / "no_columns.csv", index=False)
    (d / "empty.csv").write_bytes(b"")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    # a Wenjuanxing export: metadata columns, then a question no item has
    wjx = ("序号,提交答卷时间,所用时间,来源,来源详情,来自IP,1、您的建议\n"
           "1,2026/03/02 09:00:00,256秒,微信,直接访问,192.0.2.1,无\n")
    (d / "wjx_unknown.csv").write_bytes(wjx.encode("gbk"))
    (d / "wjx_broken.csv").write_bytes(wjx.encode("gbk") + b"2,\xff\n")
    (d / "latin1.lav").write_bytes("visual =~ x1 + x2 + x3 # é".encode("latin-1"))
    (d / "empty.lav").write_text("# nothing but a comment\n", encoding="utf-8")
    (d / "data.txt").write_text("x1 x2\n1 2\n", encoding="utf-8")
    (d / "a_folder").mkdir()
    (d / "blocker").write_text("a file where a folder is expected", encoding="utf-8")
    models = {
        "typo_variable.lav": HS_MODEL.replace("x9", "x99"),
        "no_operator.lav": "visual x1 + x2\n",
        "unfinished.lav": "visual =~ x1 + x2 +\n",
        "bad_name.lav": "visual =~ x1 + 2x + x3\n",
        "unscaled.lav": "visual =~ NA*x1 + x2 + x3\n",
        "negative_df.lav": "visual =~ x1 + x2\ntextual =~ x4 + x5\nx1 ~~ x4\nx2 ~~ x5\n"
        "x1 ~~ x5\nx2 ~~ x4\n",
        "factor_clash.lav": "x1 =~ x2 + x3 + x4\n",
        "self_measure.lav": "x1 =~ x1 + x2 + x3\n",
        "two_level.lav": "level: 1\nf =~ x1 + x2 + x3\nlevel: 2\nf =~ x1 + x2 + x3\n",
        "bad_constraint.lav": HS_MODEL.replace("x2 +", "a*x2 +") + "a == zz\n",
        "bad_definition.lav": HS_MODEL + "ind := \n",
        "undefined_label.lav": HS_MODEL + "ind := q*r\n",
        "chained_modifiers.lav": "visual =~ x1 + a*b*x2 + x3\n",
        "unsupported_op.lav": "visual =~ x1 + x2 + x3\nvisual %% x4\n",
    }
    for name, text in models.items():
        (d / name).write_text(text, encoding="utf-8")


# (argv with {d} for the folder, text the message must contain)
CASES = [
    # --- ckm fit: files ---------------------------------------------------------
    ("fit {d}/nothing.lav {d}/good.csv", "nothing.lav"),
    ("fit {d}/model.lav {d}/nothing.csv", "nothing.csv"),
    ("fit {d}/a_folder {d}/good.csv", "a_folder"),
    ("fit {d}/good.csv {d}/model.lav", "model file"),
    ("fit {d}/model.lav {d}/data.txt", "The data have 1 columns: x1 x2"),
    ("fit {d}/latin1.lav {d}/good.csv", "latin1.lav"),
    ("fit {d}/empty.lav {d}/good.csv", "the model is empty"),
    ("fit {d}/model.lav {d}/empty.csv", "empty.csv"),
    ("fit {d}/model.lav {d}/binary.csv", "binary.csv"),
    ("fit {d}/model.lav {d}/no_columns.csv", "no_columns.csv"),
    # --- ckm fit: data ------------------------------------------------------------
    ("fit {d}/model.lav {d}/text_cell.csv", "'x2'"),
    ("fit {d}/model.lav {d}/code_99.csv", "'x5'"),
    ("fit {d}/model.lav {d}/constant.csv", "'x3'"),
    ("fit {d}/model.lav {d}/copy.csv", "'x8' and 'x9'"),
    ("fit {d}/model.lav {d}/combination.csv", "'x6'"),
    ("fit {d}/model.lav {d}/infinite.csv", "'x7'"),
    ("fit {d}/model.lav {d}/empty_column.csv", "'x1'"),
    ("fit {d}/model.lav {d}/three_rows.csv", "rows"),
    # --- ckm fit: model syntax -------------------------------------------------------
    ("fit {d}/typo_variable.lav {d}/good.csv", "x99"),
    ("fit {d}/no_operator.lav {d}/good.csv", "line 1"),
    ("fit {d}/unfinished.lav {d}/good.csv", "line 1"),
    ("fit {d}/bad_name.lav {d}/good.csv", "2x"),
    ("fit {d}/unscaled.lav {d}/good.csv", "visual"),
    ("fit {d}/negative_df.lav {d}/good.csv", "df = -3"),
    ("fit {d}/factor_clash.lav {d}/good.csv", "x1"),
    ("fit {d}/self_measure.lav {d}/good.csv", "x1"),
    ("fit {d}/two_level.lav {d}/good.csv", "level"),
    ("fit {d}/bad_constraint.lav {d}/good.csv", "zz"),
    ("fit {d}/bad_definition.lav {d}/good.csv", "ind"),
    ("fit {d}/undefined_label.lav {d}/good.csv", "q"),
    ("fit {d}/chained_modifiers.lav {d}/good.csv", "x2"),
    ("fit {d}/unsupported_op.lav {d}/good.csv", "line 2"),
    # --- ckm fit: options --------------------------------------------------------------
    ("fit {d}/model.lav {d}/good.csv --estimator XYZ", "XYZ"),
    ("fit {d}/model.lav {d}/good.csv --estimator MLF", "MLF"),
    ("fit {d}/model.lav {d}/good.csv --missing pairwise", "pairwise"),
    ("fit {d}/model.lav {d}/good.csv --ordered x1,x42", "x42"),
    ("fit {d}/model.lav {d}/good.csv --group nosuch", "nosuch"),
    ("fit {d}/model.lav {d}/good.csv --group school --group-equal loadingz", "loadingz"),
    ("fit {d}/model.lav {d}/good.csv --group school --group-equal loadings "
     "--group-partial visual=~x9", "visual=~x9"),
    ("fit {d}/model.lav {d}/good.csv --json {d}/blocker/fit.json", "blocker"),
    ("fit {d}/model.lav {d}/good.csv --json {d}/good.csv", "--json"),
    ("fit {d}/model.lav {d}/good.csv --bootstrap 0", "--bootstrap"),
    ("fit {d}/model.lav {d}/good.csv --modindices 0", "--modindices"),
    ("fit {d}/model.lav {d}/good.csv --interaction magic", "--interaction"),
    ("fit {d}/model.lav {d}/good.csv --sampling-weights nosuch", "nosuch"),
    ("fit {d}/model.lav {d}/negative_weights.csv --sampling-weights ageyr", "ageyr"),
    ("fit {d}/model.lav {d}/good.csv --missing-values ,", "--missing-values"),
    ("fit {d}/model.lav {d}/good.csv --estimator FIML --missing listwise", "FIML"),
    ("fit {d}/model.lav {d}/good.csv --estimator WLSMV --missing ml", "WLSMV"),
    # --- ckm validity / invariance ------------------------------------------------------
    ("validity {d}/model.lav {d}/good.csv --marker nosuch1,nosuch2", "nosuch1"),
    ("validity {d}/model.lav {d}/text_cell.csv", "'x2'"),
    ("validity {d}/model.lav {d}/good.csv --htmt weird", "--htmt"),
    ("validity {d}/model.lav {d}/good.csv --json {d}/blocker/v.json", "blocker"),
    ("invariance {d}/model.lav {d}/good.csv --group nosuch", "nosuch"),
    ("invariance {d}/model.lav {d}/good.csv", "--group"),
    ("invariance {d}/model.lav {d}/good.csv --split nosuch", "nosuch"),
    ("invariance {d}/model.lav {d}/good.csv --group school --levels sideways", "sideways"),
    # --- ckm power ---------------------------------------------------------------------------
    ("power {d}/nothing.lav --n 100", "nothing.lav"),
    ("power {d}/pop.lav --n 0", "--n"),
    ("power {d}/pop.lav --n 100 --reps 0", "--reps"),
    ("power {d}/pop.lav --n 100 --alpha 2", "--alpha"),
    ("power {d}/pop.lav --n 100 --plot {d}/curve.foo", "--plot"),
    ("power {d}/pop.lav --n 100 --json {d}/blocker/p.json", "blocker"),
    ("power {d}/pop.lav --n 100 --estimator WLSMV", "WLSMV"),
    ("power {d}/typo_variable.lav --n 100", "x99"),
    # --- ckm run ------------------------------------------------------------------------------
    ("run -p nosuch_parameter 1", "nosuch_parameter"),
    ("run -p n_boot many", "n_boot"),
    ("run -p data_file {d}/nothing.csv", "data_file"),
    ("run --output {d}/blocker/report", "output_dir"),
    ("run -p estimator XYZ", "estimator"),
    ("run --only nosuch_stage", "nosuch_stage"),
    # --- ckm data import / simulate / instrument ---------------------------------------------
    ("data import {d}/nothing.csv --output {d}/out.csv", "nothing.csv"),
    ("data import {d}/wjx_unknown.csv --output {d}/out.csv", "'1、您的建议'"),
    ("data import {d}/wjx_broken.csv --output {d}/out.csv", "byte 0xff at byte offset"),
    ("data import {d}/wjx_unknown.csv --column-map {d}/nothing.yaml --output {d}/out.csv",
     "nothing.yaml"),
    ("data import {d}/good.csv --output {d}/good.csv", "raw file"),
    ("data import {d}/good.csv --instrument nosuch --output {d}/out.csv", "nosuch"),
    ("data import {d}/good.csv --output {d}/blocker/out.csv", "blocker"),
    ("simulate --n 0 --seed 1 --output {d}/sim.csv", "--n"),
    ("simulate --n 10 --seed 1 --format weird --output {d}/sim.csv", "weird"),
    ("instrument export --format weird --output {d}/x.html", "weird"),
    ("instrument export --format html --instrument nosuch --output {d}/x.html", "nosuch"),
    ("instrument export --format html --lang fr --output {d}/x.html", "fr"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("catalogue")
    _write_inputs(d)
    return d


def _hashes(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def test_the_catalogue_is_large():
    assert len(CASES) >= 60


@pytest.mark.parametrize("argv,culprit", CASES, ids=[c[0].split(" {d}")[0] + f"-{i}"
                                                    for i, c in enumerate(CASES)])  # fmt: skip
def test_bad_input_is_a_clear_error(folder, argv, culprit, capsys):
    before = _hashes(folder)
    args = argv.replace("{d}", str(folder)).split()
    try:
        code = main(args)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert code == 2, f"exit {code}: {err[-800:]}"
    assert culprit in err, err[-800:]
    assert "Traceback" not in err and "internal error" not in err, err[-800:]
    after = _hashes(folder)
    assert {k: v for k, v in after.items() if k in before} == before, "an input file changed"
