"""The whole pipeline (``ckm run``) on the example data, with the quick parameters.

Checks what a run leaves behind: results.json (stages, numbers, tables), the
tables as CSV and LaTeX, the figures as PNG and SVG, manifest.json, the
executed notebooks and report.html; that the same parameters and seed give
the same results.json (through ``ckm run --grid``, in other processes and
folders); that a failing cell is reported with notebook, cell and error and
its notebook kept; and that ``--only`` reruns a stage from the files of an
earlier run.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.pipeline_fixtures import (
    EXAMPLE,
    QUICK,
    ROOT,
    copy_run,
    need_pipeline,
    quick_log,
    quick_run,
    results,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

STAGES = ("instrument", "data", "measurement", "structural", "moderation", "power")


@pytest.fixture(scope="module")
def out() -> Path:
    return quick_run()


@pytest.fixture(scope="module")
def res(out) -> dict:
    return results(out)


def test_every_stage_ran_and_wrote_its_results(out, res):
    assert res["schema"] == "ckm-research/results/1"
    for stage in STAGES:
        assert stage in res["stages"], stage
        assert (out / "results" / f"{stage}.json").exists()
    for stage in ("instrument", "data", "measurement", "structural", "moderation"):
        assert res["stages"][stage]["status"] == "ok", (stage, res["stages"][stage])
    assert res["stages"]["power"]["status"] == "ok", res["stages"]["power"]
    for nb in ("01_instrument", "02_data", "03_measurement", "04_structural", "05_moderation",
               "06_power", "07_report"):
        assert (out / "notebooks" / f"{nb}.ipynb").exists(), nb


def test_progress_is_shown_per_stage_and_per_cell():
    log = quick_log()
    assert "[3/7] measurement" in log
    assert re.search(r"^\s+cell \d+/\d+: ", log, flags=re.M)
    assert "[7/7] report: ok" in log


def test_study_block_identifies_data_model_and_parameters(res):
    study = res["study"]
    digest = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert study["data_sha256"] == digest
    assert study["data_file"] == "ckm_example.csv"
    quick = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    # results.json keeps the parameters that change results: as_dict(portable=True)
    # leaves out the output folder, the cell timeout and the worker count
    not_portable = {"output_dir", "cell_timeout", "n_jobs"}
    for key, value in quick.items():
        if key in not_portable:
            assert key not in study["parameters"], key
        else:
            assert study["parameters"][key] == value, key
    assert study["seed"] == 20240601
    assert "output_dir" not in study["parameters"]


def test_data_stage_numbers(res):
    n = res["stages"]["data"]["numbers"]
    assert n["n_read"] == 400
    assert n["n_analysed"] == n["n_read"] - n["n_excluded"]
    assert n["excluded_by"]["longstring"] >= 4  # the 4 straight-liners of the example data
    assert 0 < n["pct_cells_missing"] < 2
    m = n["mardia"]
    assert m["p"] == 53 and m["kurtosis_expected"] == 53 * 55


def test_measurement_and_structural_numbers(res):
    meas = res["stages"]["measurement"]["numbers"]
    struct = res["stages"]["structural"]["numbers"]
    for fit in (meas["fit"], struct["fit"]):
        for key in ("cfi", "tli", "rmsea", "srmr"):
            assert 0 <= fit[key] <= 1, key
        assert fit["df"] > 0 and fit["chisq"] > 0
    # the structural model is nested in the measurement model: more df, no better fit
    assert struct["fit"]["df"] > meas["fit"]["df"]
    assert struct["fit"]["chisq"] >= meas["fit"]["chisq"] - 1e-6
    assert 0.6 < meas["alpha_min"] < 1 and 0.3 < meas["ave_min"] < 1
    assert set(struct["r2"]) == {"CKM", "INS", "SAT", "LOY"}
    assert all(0 < v < 1 for v in struct["r2"].values())
    # CKM -> SAT is strong in the simulated population (.40): found at N ~ 380
    paths = pd.DataFrame(res["stages"]["structural"]["tables"]["paths"]["rows"])
    sat = paths[(paths.outcome == "SAT") & (paths.predictor == "CKM")].iloc[0]
    assert sat["pvalue"] < 0.001 and 0.25 < sat["std"] < 0.6


def test_indirect_effects_with_bootstrap(res):
    struct = res["stages"]["structural"]
    ind = pd.DataFrame(struct["tables"]["indirect"]["rows"])
    assert len(ind) == 26  # every chain through CKM (and SAT) of the default model
    assert (ind["ci.lower"] <= ind["est"]).all() and (ind["est"] <= ind["ci.upper"]).all()
    boot = struct["numbers"]["bootstrap"]
    assert boot["n_boot"] == 100 and boot["converged"] > 90
    assert (ind["boot.lower"] <= ind["boot.upper"]).all()


def test_moderation_numbers(res):
    mod = res["stages"]["moderation"]
    inter = pd.DataFrame(mod["tables"]["interactions"]["rows"])
    assert "CKM × CTU" in set(inter["term"])
    slopes = pd.DataFrame(mod["tables"]["simple_slopes"]["rows"])
    assert list(slopes["at"]) == ["-1 SD", "Mean", "+1 SD"]
    assert "SAT ~ CKM:CTU" in mod["numbers"]["johnson_neyman"]
    group = mod["numbers"]["multigroup"]["CTU"]
    assert set(group["n_per_group"]) == {"low", "high"}
    assert {"invariance_ctu", "path_comparison_ctu"} <= set(mod["tables"])


def _interaction_refit(out):
    """The moderation stage's interaction model refitted as the stage fitted it."""
    from ckm_research import structural
    from ckm_research.report.inputs import read_analysis_data

    params = results(out)["study"]["parameters"]
    mod = results(out)["stages"]["moderation"]["numbers"]
    text = (out / "models" / "interaction.lav").read_text(encoding="utf-8")
    res_i, _ = structural.fit_model(text, read_analysis_data(out), estimator=mod["estimator"],
                                    missing=mod["missing"], ci_level=params["ci_level"],
                                    interaction=params["interaction_method"])
    return res_i, params


def _rows_equal(rows, frame):
    assert len(rows) == len(frame)
    for stored, fresh in zip(rows, frame.to_dict("records"), strict=True):
        assert set(stored) == set(fresh)
        for key, value in stored.items():
            if isinstance(value, float):
                assert math.isclose(value, fresh[key], rel_tol=1e-6, abs_tol=1e-9), key
            else:
                assert value == fresh[key], key


def test_moderated_mediation_tables_are_the_domain_functions_output(out, res):
    """The conditional indirect effects, the index of moderated mediation (with its JN
    region) and the hypotheses table are what ckm_research.moderation.mediation and
    report.analysis give for the stage's model and data (refitted here)."""
    from ckm_research.moderation.mediation import moderated_mediation
    from ckm_research.report import analysis

    mod = res["stages"]["moderation"]
    tables = mod["tables"]
    assert {"conditional_indirect", "index_moderated_mediation", "hypotheses"} <= set(tables)
    res_i, params = _interaction_refit(out)
    assert mod["numbers"]["n"] == res_i.n
    mm = moderated_mediation(res_i, level=params["ci_level"], se=params["moderation_se"])
    level = params["ci_level"]
    _rows_equal(tables["conditional_indirect"]["rows"],
                analysis.conditional_indirect_table(mm["conditional"], level=level).frame)
    moments = analysis.moderator_moments(mm["conditional"])
    _rows_equal(tables["index_moderated_mediation"]["rows"],
                analysis.moderated_mediation_index_table(mm["index"], mm["johnson_neyman"],
                                                         moments, level=level).frame)
    # every condition of CKM, through CKM, on SAT, moderated by CTU (the quick run's term)
    assert len(tables["index_moderated_mediation"]["rows"]) == 6
    struct = res["stages"]["structural"]["tables"]
    hyp = analysis.hypotheses_table(struct["paths"]["rows"], struct["indirect"]["rows"],
                                    tables["interactions"]["rows"], level=level)
    _rows_equal(tables["hypotheses"]["rows"], hyp.frame)
    kinds = {r["hypothesis"][:2] for r in tables["hypotheses"]["rows"]}
    assert kinds == {"H1", "H2", "H3", "H4"}
    h2 = [r["statement"] for r in tables["hypotheses"]["rows"] if r["hypothesis"][:2] == "H2"]
    # CKM's paths and the chain through SAT; the moderators' main effects are controls
    assert h2 == ["CKM → INS (+)", "CKM → SAT (+)", "SAT → LOY (+)", "CKM → LOY (+)"]
    h4 = [r for r in tables["hypotheses"]["rows"] if r["hypothesis"].startswith("H4")]
    assert [r["statement"] for r in h4] == ["CKM × CTU → SAT"]
    assert h4[0]["supported"] == (h4[0]["ci.lower"] > 0 or h4[0]["ci.upper"] < 0)
    assert any(n.startswith("cind_") for n in mod["figures"])
    assert "range from" in mod["figures"]["slopes_sat_ckm_ctu"]["note"]


def test_power_of_the_moderation_hypotheses(out, res):
    power = res["stages"]["power"]
    rows = power["tables"]["power_interactions"]["rows"]
    names = [r["parameter"] for r in rows]
    assert "SAT ← CKM × CTU" in names
    assert sum(n.startswith("IMM ") for n in names) == 6
    assert power["numbers"]["interactions"]["replications"] == 10
    for r in rows:
        for key, value in r.items():
            if key.startswith(("N=", "A")) and value is not None:
                assert 0 <= value <= 1, (r["parameter"], key)
    assert (out / "models" / "interaction_population.lav").exists()


def test_tables_as_csv_and_latex_match_results(out, res):
    n_tables = 0
    for st in res["stages"].values():
        for name, rec in st["tables"].items():
            n_tables += 1
            csv = out / "tables" / f"{name}.csv"
            tex = out / "tables" / f"{name}.tex"
            assert csv.exists() and tex.exists(), name
            frame = pd.read_csv(csv, keep_default_na=False, na_values=[""])
            assert list(frame.columns) == rec["columns"], name
            assert len(frame) == len(rec["rows"]), name
            for row, stored in zip(frame.to_dict("records"), rec["rows"], strict=True):
                for key, value in stored.items():
                    if isinstance(value, float):
                        assert math.isclose(float(row[key]), value, rel_tol=1e-12,
                                            abs_tol=1e-15), (name, key)
            text = tex.read_text(encoding="utf-8")
            assert "\\toprule" in text and "\\bottomrule" in text and "\\caption{" in text
    assert n_tables >= 15


def test_figures_as_png_and_svg(out, res):
    names = [n for st in res["stages"].values() for n in st["figures"]]
    assert {"likert", "loadings", "htmt", "path_diagram"} <= set(names)
    for st in res["stages"].values():
        for rec in st["figures"].values():
            png, svg = out / rec["png"], out / rec["svg"]
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert png.stat().st_size > 5000
            head = svg.read_text(encoding="utf-8")[:400]
            assert "<svg" in head or "<?xml" in head
            assert rec["title"]


def test_manifest_records_provenance(out, res):
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["complete"] is True
    assert man["seed"] == 20240601
    assert man["inputs"]["data_file"]["sha256"] == res["study"]["data_sha256"]
    assert man["inputs"]["data_file"]["path"] == str(EXAMPLE.resolve())
    assert man["packages"]["numpy"] and man["packages"]["papermill"]
    assert man["parameters"]["output_dir"] == str(out)
    assert "commit" in man["git"]
    assert [s["name"] for s in man["stages"]] == [*STAGES, "report"]
    assert man["outputs"]["results.json"] == hashlib.sha256(
        (out / "results.json").read_bytes()).hexdigest()
    assert man["kernel"]["name"]


def test_report_summary_states_the_hypotheses_and_the_moderation_method(out, res):
    import html as html_lib

    page = html_lib.unescape((out / "report.html").read_text(encoding="utf-8"))
    summary = page[page.index('class="summary"'):page.index("<h2>Method</h2>")]
    rows = res["stages"]["moderation"]["tables"]["hypotheses"]["rows"]
    k = sum(bool(r["supported"]) for r in rows)
    assert f"Hypotheses (Table 1): {k} of {len(rows)} supported." in summary
    assert "Hypotheses and Whether the Data Support Them" in summary
    # which method estimated the interactions, on whom, and why (no silent choice)
    assert "Main method of the latent interactions: LMS with complete cases only" in summary
    assert "LMS with FIML is the pipeline's default (interaction_method: lms)" in summary
    assert "product indicators are shown beside as a robustness check" in summary


def test_results_hold_no_paths_or_timestamps(out):
    text = (out / "results.json").read_text(encoding="utf-8")
    assert str(out) not in text
    assert str(ROOT) not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)


def test_report_shows_the_numbers_of_results_json(out, res):
    html = (out / "report.html").read_text(encoding="utf-8")
    from ckm_research.report.tables import Table, format_value

    for stage, st in res["stages"].items():
        for name, rec in st["tables"].items():
            table = Table.from_record(name, rec)
            assert table.title.replace("&", "&amp;") in html, (stage, name)
    fit = res["stages"]["measurement"]["numbers"]["fit"]
    assert f"CFI = {format_value(fit['cfi'], 'r3')}" in html
    assert "<script" not in html  # a self-contained document without scripts
    assert html.count("data:image/png;base64,") >= 4
    body = html[html.index("<main>"):html.index("</main>")]
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", body, flags=re.S))
    assert "Traceback" not in text and not re.search(r"\b\w*Error\b", text)


def test_same_parameters_and_seed_give_the_same_results_via_grid(out, tmp_path):
    """Two runs of a grid (in parallel, other processes, other folders): one with the
    quick parameters, which must reproduce the session's run exactly, and one with
    another estimator, which must differ; plus the comparison table."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"runs": {"same": {}, "mlr": {"estimator": "MLR"}}},
                                   sort_keys=False),
                    encoding="utf-8")
    target = tmp_path / "grid-out"
    proc = subprocess.run(
        [sys.executable, "-m", "ckm_research.cli", "run", "--grid", str(grid), "--params",
         str(QUICK), "--output", str(target), "--jobs", "2"],
        capture_output=True, text=True, timeout=1800, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "same: [1/7] instrument" in proc.stderr
    again = (target / "same" / "results.json").read_text(encoding="utf-8")
    assert again == (out / "results.json").read_text(encoding="utf-8")
    other = results(target / "mlr")
    assert other["stages"]["structural"]["numbers"]["fit"]["robust"] is True
    comp = pd.read_csv(target / "comparison.csv")
    assert list(comp.columns) == ["quantity", "same", "mlr"]
    cfi = comp.set_index("quantity").loc["CFI"]
    assert float(cfi["same"]) == pytest.approx(
        results(out)["stages"]["structural"]["numbers"]["fit"]["cfi"])
    assert float(cfi["same"]) != float(cfi["mlr"])
    assert (target / "comparison.tex").exists() and (target / "comparison.html").exists()
    status = json.loads((target / "grid.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in status["runs"]] == ["ok", "ok"]


def test_a_failing_cell_names_notebook_cell_and_error(out):
    from ckm_research.report import load_params, run_pipeline
    from ckm_research.report.runner import PipelineError, Progress

    broken = copy_run(out)
    data = pd.read_csv(broken / "data" / "analysis.csv")
    data["cip2"] = data["cip2"].astype(object)
    data.loc[5, "cip2"] = "seven"  # text where the model needs numbers
    data.to_csv(broken / "data" / "analysis.csv", index=False)
    params = load_params(QUICK, output_dir=broken)
    with pytest.raises(PipelineError) as err:
        run_pipeline(params, only=["measurement"], progress=Progress(quiet=True))
    message = str(err.value)
    assert "03_measurement.ipynb" in message
    assert re.search(r"cell \d+ \('", message)
    assert "cip2" in message
    kept = broken / "notebooks" / "03_measurement.ipynb"
    assert str(kept) in message and kept.exists()
    assert "Traceback" in kept.read_text(encoding="utf-8") or "ename" in \
        kept.read_text(encoding="utf-8")
    man = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))
    assert man["stages"][-1]["status"] == "failed" and man["complete"] is False


def test_only_reruns_a_stage_from_earlier_results(out):
    from ckm_research.report import load_params, run_pipeline
    from ckm_research.report.runner import Progress

    copy = copy_run(out)
    (copy / "report.html").unlink()
    params = load_params(QUICK, output_dir=copy)
    result = run_pipeline(params, only=["report"], progress=Progress(quiet=True))
    assert [s.name for s in result.stages] == ["report"]
    assert (copy / "report.html").exists()
    assert results(copy) == results(out)


def test_only_refuses_a_stage_whose_inputs_are_missing(tmp_path):
    need_pipeline()
    from ckm_research.errors import CkmError
    from ckm_research.report import load_params, run_pipeline

    params = load_params(QUICK, output_dir=tmp_path / "empty")
    with pytest.raises(CkmError, match="needs the results of the 'data' stage"):
        run_pipeline(params, only=["structural"])
    assert not (tmp_path / "empty" / "notebooks" / "04_structural.ipynb").exists()


def test_an_interrupted_rerun_never_looks_finished(out, monkeypatch):
    from ckm_research.report import load_params, run_pipeline, runner
    from ckm_research.report.runner import PREVIOUS_RUN, Progress

    copy = copy_run(out)
    old_report = (copy / "report.html").read_text(encoding="utf-8")
    old_results = results(copy)
    calls = []

    def interrupted(stage_, *args, **kwargs):
        calls.append(stage_.name)
        if len(calls) == 2:  # the first stage is redone, then Ctrl-C
            raise KeyboardInterrupt
        return real(stage_, *args, **kwargs)

    real = runner._run_notebook
    monkeypatch.setattr(runner, "_run_notebook", interrupted)
    params = load_params(QUICK, output_dir=copy)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(params, progress=Progress(quiet=True))
    man = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    assert man["complete"] is False and man["state"] == "interrupted"
    assert not (copy / "results.json").exists()
    page = (copy / "report.html").read_text(encoding="utf-8")
    assert "This report is not finished" in page and page != old_report
    assert (copy / PREVIOUS_RUN / "report.html").read_text(encoding="utf-8") == old_report

    # a second interrupted start keeps the last complete report
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(params, progress=Progress(quiet=True))
    assert (copy / PREVIOUS_RUN / "report.html").read_text(encoding="utf-8") == old_report

    # finishing the stages makes the folder whole again
    monkeypatch.setattr(runner, "_run_notebook", real)
    run_pipeline(params, only=["data", "report"], progress=Progress(quiet=True))
    man = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    assert man["complete"] is True and man["state"] == "complete"
    assert "This report is not finished" not in (copy / "report.html").read_text(encoding="utf-8")
    assert not (copy / PREVIOUS_RUN).exists()
    assert results(copy) == old_results
