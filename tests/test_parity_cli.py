"""lavaan's options on the command line: ``ckm fit --group-equal --group-partial
--std-lv --fixed-x`` give lavaan's fit (fixtures of tests/reference/R/parity/ and
engine.R)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ckm_research.cli import main
from tests.reference_compare import REF, compare_estimates, compare_fit, load

CASES = {
    "parity_groups_sem_partial": ["--group", "school", "--group-equal", "loadings,intercepts",
                                  "--group-partial", "visual=~x2, x3~1"],
    "parity_means_hs_std_ov_x_free_ml": ["--std-ov", "--fixed-x", "false"],
    "engine_hs_cfa_stdlv_ml": ["--std-lv"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_options_give_lavaans_fit(name, tmp_path, capsys):
    ref = load(name)
    model = tmp_path / "model.lav"
    model.write_text(ref["model"], encoding="utf-8")
    out = tmp_path / "fit.json"
    code = main(["fit", str(model), str(REF / ref["data_csv"]), *CASES[name], "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    compare_fit(doc["fit"], ref["fit"], required=["chisq", "df", "cfi", "rmsea"])
    ours = pd.DataFrame(doc["estimates"])
    if "group" in ours:
        # the JSON names groups by label; lavaan's table numbers them
        labels = {lab: i + 1 for i, lab in enumerate(dict.fromkeys(ours["group"]))}
        ours["group"] = ours["group"].map(labels)
    compare_estimates(ours, ref["estimates"], se_rtol=0.01)


def test_bad_lists_are_usage_errors(tmp_path, capsys):
    model = tmp_path / "m.lav"
    model.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    data = REF / "data" / "HolzingerSwineford1939.csv"
    assert main(["fit", str(model), str(data), "--group-equal", " , "]) == 2
    assert "comma-separated list" in capsys.readouterr().err
    assert main(["fit", str(model), str(data), "--group", "school", "--group-equal",
                 "loadings", "--group-partial", "f=~x9"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "f=~x9" in err and "not a parameter of the model" in err and "Traceback" not in err
