"""Every failure a correct diagnosis: inadmissible solutions (Heywood cases) are
flagged wherever they appear, and ``ckm fit`` / ``ckm power`` print what a
lavaan user reads.

The Heywood case is real: the ECSI mobile-phone data (Tenenhaus et al., 2005;
/work/shared/data/real/ecsi_mobi.csv, copied to tests/reference/data) with
Satisfaction regressed on Image, Expectation, Quality and Value and Loyalty on
Satisfaction and Image gives Loyalty a negative residual variance (-0.238), so
its R² is 1.09. lavaan 0.6.14 gives the same solution (see
``test_ecsi_heywood_solution_is_lavaans``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from ckm_research import structural
from ckm_research.errors import CkmError, HeywoodCaseWarning
from ckm_research.inference import workflows
from ckm_research.report import inputs

ROOT = Path(__file__).resolve().parents[1]
ECSI = ROOT / "tests" / "reference" / "data" / "ecsi_mobi.csv"

ECSI_HEYWOOD = """\
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty      =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Image + Expectation + Quality + Value
Loyalty      ~ Satisfaction + Image
"""


@pytest.fixture(scope="module")
def ecsi() -> pd.DataFrame:
    return pd.read_csv(ECSI).astype(float)


@pytest.fixture(scope="module")
def heywood_fit(ecsi):

    return structural.fit_model(ECSI_HEYWOOD, ecsi, estimator="ML", missing="listwise")


# ---------------------------------------------------------------------- the diagnosis
def test_heywood_cases_name_the_variable_and_its_r2(heywood_fit):

    res, messages = heywood_fit
    cases = structural.heywood_cases(res)
    assert [c["variable"] for c in cases] == ["Loyalty"]
    case = cases[0]
    assert case["what"] == "residual variance" and case["kind"] == "latent"
    assert case["est"] < 0 and case["r2"] > 1
    row = res.estimates.query("lhs == 'Loyalty' and op == '~~' and rhs == 'Loyalty'").iloc[0]
    assert case["est"] == row["est"] and case["r2"] == pytest.approx(1 - row["std.all"])
    # R² as the report's table computes it: above 1, not hidden
    assert structural.r_squared(res)["Loyalty"] == pytest.approx(case["r2"])
    text = structural.heywood_text(cases, model="The structural model")
    for words in (
        "Loyalty",
        "inadmissible",
        "R² is 1.09",
        "Kolenikov & Bollen, 2012",
        "Chen et al., 2001",
        "misspecification",
    ):
        assert words in text


def test_an_admissible_solution_has_no_case(ecsi):

    model = ECSI_HEYWOOD.replace(
        "Loyalty      ~ Satisfaction + Image", "Loyalty      ~ Satisfaction"
    )
    model = model.replace(
        "Satisfaction ~ Image + Expectation + Quality + Value", "Satisfaction ~ Image + Expectation"
    )
    res, _ = structural.fit_model(model, ecsi, estimator="ML", missing="listwise")
    assert structural.heywood_cases(res) == []
    assert structural.heywood_text([]) == "" and structural.power_blocker(res) == ""


def test_structural_stage_records_the_problem(heywood_fit, tmp_path):
    from ckm_research.report import analysis
    from ckm_research.report.store import StageOutput

    res, _ = heywood_fit
    out = StageOutput(tmp_path, "structural", display=False, check=False)
    analysis.flag_heywood(out, res, model="The structural model")
    out.table(analysis.r2_table(res))
    data = json.loads(out.save().read_text(encoding="utf-8"))
    assert data["numbers"]["admissible"] is False
    assert data["numbers"]["heywood"][0]["variable"] == "Loyalty"
    ((part, message),) = data["problems"].items()
    assert "Heywood case: Loyalty" in part and "Loyalty" in message
    r2 = data["tables"]["r2"]
    assert "Loyalty" in r2["note"] and "Heywood" in r2["note"]


def test_power_refuses_an_inadmissible_population_with_the_reason(heywood_fit):

    res, _ = heywood_fit
    why = structural.power_blocker(res)
    assert "Loyalty" in why and "inadmissible" in why and "ckm run --only power" in why
    power_fn, _ = inputs.feature("power")
    with pytest.raises(CkmError, match="Heywood case: Loyalty"):
        workflows.run_power(
            ECSI_HEYWOOD, res, sample_sizes=[100], reps=10, alpha=0.05, seed=1, n_jobs=1,
            power_fn=power_fn,
        )


def _results(tmp_path, heywood_fit, power_stage):
    from ckm_research.report import analysis
    from ckm_research.report.store import StageOutput

    res, _ = heywood_fit
    out = StageOutput(tmp_path, "structural", display=False, check=False)
    analysis.flag_heywood(out, res, model="The structural model")
    row = analysis.fit_row("Structural model", res)
    out.numbers(fit=row, n=res.n, r2=structural.r_squared(res), n_paths=6, n_significant=3)
    out.table(analysis.fit_table([row], name="fit_structural"))
    out.table(analysis.paths_table(res))
    out.table(analysis.r2_table(res))
    stages = {
        "structural": json.loads(out.save().read_text(encoding="utf-8")),
        "power": power_stage,
    }
    (tmp_path / "results.json").write_text(
        json.dumps({"stages": stages, "study": {}}), encoding="utf-8"
    )


def test_report_names_the_heywood_case_and_the_skipped_power(heywood_fit, tmp_path):
    from ckm_research.report.render import Report

    why = structural.power_blocker(heywood_fit[0])
    _results(tmp_path, heywood_fit, {"stage": "power", "status": "skipped", "status_reason": why})
    rep = Report(tmp_path)
    summary = rep.summary()
    assert "Inadmissible solution (Heywood case: Loyalty)" in summary
    assert "Loyalty = 1.09 (inadmissible: negative residual variance)" in summary
    section = rep.results_structural()
    assert 'class="problem"' in section and "Kolenikov &amp; Bollen, 2012" in section
    assert "inadmissible (negative residual variance)" in section  # the R² table's column
    power = rep.results_power()
    assert "Heywood case: Loyalty" in power and "power: false" not in power
    refs = rep.references()
    assert "Kolenikov, S., &amp; Bollen" in refs or "Kolenikov, S., & Bollen" in refs
    assert "Improper solutions" in refs


def test_switched_off_power_still_says_so(heywood_fit, tmp_path):
    from ckm_research.report.render import Report

    _results(
        tmp_path,
        heywood_fit,
        {
            "stage": "power",
            "status": "skipped",
            "status_reason": "the power stage was switched off (power: false)",
        },
    )
    assert "power: false" in Report(tmp_path).results_power()


# ---------------------------------------------------------------------- the notebooks
def test_structural_and_power_notebooks_finish_on_a_heywood_case(ecsi, tmp_path, monkeypatch):
    """The stage notebooks 04 and 06 on the ECSI Heywood case: the structural stage
    records the problem, the power stage is skipped with the reason (it used to die
    with 'the population (residual) covariance matrix is not positive semi-definite')."""
    import papermill

    from ckm_research.report.runner import _kernel_environment, resolve_kernel

    out = tmp_path / "run"
    (out / "data").mkdir(parents=True)
    ecsi.to_csv(out / "data" / "analysis.csv", index=False)
    # the stages check that the results they read exist and belong together: a
    # data stage result of this (hand-made) run
    (out / "results").mkdir()
    (out / "results" / "data.json").write_text(
        json.dumps({"stage": "data", "status": "ok", "numbers": {}, "parameters_sha256": "x"}),
        encoding="utf-8",
    )
    # the power stage also reads the moderation stage's (for the interaction power); this
    # survey has no interactions: a moderation result of this run without them
    (out / "results" / "moderation.json").write_text(
        json.dumps({"stage": "moderation", "status": "ok", "numbers": {},
                    "parameters_sha256": "x"}),
        encoding="utf-8",
    )  # fmt: skip
    model = tmp_path / "ecsi.lav"
    model.write_text(ECSI_HEYWOOD, encoding="utf-8")
    # the ECSI survey's instrument, derived from the model and the data as ckm run does
    from ckm_research.instrument.derive import derive_instrument, instrument_yaml

    instrument = instrument_yaml(derive_instrument(ECSI_HEYWOOD, ecsi), tmp_path / "ecsi.yaml")
    kernel = resolve_kernel()
    # the kernel imports this checkout's package (the registered kernel may point elsewhere)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    common = {"model": str(model), "estimator": "ML", "missing": "listwise",
              "output_dir": str(out), "instrument": str(instrument)}  # fmt: skip
    with _kernel_environment(kernel):
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "04_structural.ipynb"),
            str(tmp_path / "04.ipynb"),
            parameters={**common, "n_boot": 0},
            kernel_name=kernel.name,
            progress_bar=False,
            cwd=str(out),
        )
        # ckm run stamps each stage's results with the parameters' fingerprint
        stage_file = out / "results" / "structural.json"
        stamped = json.loads(stage_file.read_text(encoding="utf-8"))
        stamped["parameters_sha256"] = "x"
        stage_file.write_text(json.dumps(stamped), encoding="utf-8")
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "06_power.ipynb"),
            str(tmp_path / "06.ipynb"),
            parameters={**common, "power_sample_sizes": [100], "power_replications": 10},
            kernel_name=kernel.name,
            progress_bar=False,
            cwd=str(out),
        )
    structural = json.loads((out / "results" / "structural.json").read_text(encoding="utf-8"))
    assert any("Heywood case: Loyalty" in p for p in structural["problems"])
    assert structural["numbers"]["r2"]["Loyalty"] > 1
    power = json.loads((out / "results" / "power.json").read_text(encoding="utf-8"))
    assert power["status"] == "skipped" and "Heywood case: Loyalty" in power["status_reason"]


# ---------------------------------------------------------------------- ckm fit
def test_engine_warns_once_naming_the_variable(ecsi):
    import ckm_research

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ckm_research.fit(ECSI_HEYWOOD, ecsi)
    heywood = [str(w.message) for w in caught if issubclass(w.category, HeywoodCaseWarning)]
    assert len(heywood) == 1 and "'Loyalty'" in heywood[0]
    assert sum("'Loyalty'" in w for w in res.warnings) == 1


# ---------------------------------------------------------------------- lavaan fixtures
SUMMARY_CASES = [
    "parity_heywood_ecsi_ml",
    "parity_heywood_hs_listwise_mlr",
    "parity_heywood_hs_mlm",
    "parity_heywood_hs_fiml",
]


@pytest.fixture(scope="module", params=SUMMARY_CASES)
def summary_case(request):
    from tests.reference_compare import fit_like_lavaan, load

    ref = load(request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_like_lavaan(ref)
    return ref, res, res.summary().splitlines()


def _lavaan_text(ref) -> list[str]:
    return list(ref["summary_text"])


def _section(lines: list[str], title: str) -> list[str]:
    """The lines after ``title`` up to the next unindented heading."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    out = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        out.append(line)
    return out


def _pairs(lines: list[str], labels: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for line in lines:
        for label in labels:
            if line.strip().startswith(label):
                rest = line.strip()[len(label) :].split()
                if rest:
                    out[label] = rest[-1]
                break
    return out


def test_ecsi_heywood_solution_is_lavaans():
    from tests.reference_compare import compare_estimates, fit_like_lavaan, load

    ref = load("parity_heywood_ecsi_ml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_like_lavaan(ref)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.01)
    # lavaan warns 'some estimated lv variances are negative'; we name the variable
    assert any("negative" in w for w in ref["warnings"])
    assert [c["variable"] for c in structural.heywood_cases(res)] == ["Loyalty"]
    lav = {r["lhs"]: r for r in ref["estimates"] if r["op"] == "~~" and r["lhs"] == r["rhs"]}
    negative = sorted(k for k, r in lav.items() if r["est"] < 0)
    assert negative == ["Loyalty"]
    # R² above 1 is NA in lavInspect(fit, "r2"), NaN in ours; the report shows 1 - std.all
    assert ref["rsquare"]["Loyalty"] is None
    r2 = res.r_squared.set_index("variable")["r2"]
    assert pd.isna(r2["Loyalty"])
    assert structural.r_squared(res)["Loyalty"] == pytest.approx(
        1 - lav["Loyalty"]["std.all"], abs=1e-3
    )


def test_summary_names_the_standard_errors_as_lavaan(summary_case):
    ref, _, ours = summary_case
    labels = (
        "Standard errors",
        "Information bread",
        "Information saturated (h1) model",
        "Information",
        "Observed information based on",
    )
    lav = _pairs(_section(_lavaan_text(ref), "Parameter Estimates:"), labels)
    mine = _pairs(_section(ours, "Parameter Estimates:"), labels)
    assert mine == lav


def test_summary_reports_observations_used_and_total(summary_case):
    ref, res, ours = summary_case
    lav = next(line for line in _lavaan_text(ref) if "Number of observations" in line)
    mine = next(line for line in ours if "Number of observations" in line)
    assert mine.split()[3:] == lav.split()[3:]
    assert res.n == ref["nobs"] and res.n_total == ref["norig"]
    if ref["nobs"] != ref["norig"]:
        assert any(line.split() == ["Used", "Total"] for line in ours)


def test_summary_prints_the_baseline_test(summary_case):
    ref, _, ours = summary_case
    lav = _section(_lavaan_text(ref), "Model Test Baseline Model:")
    mine = _section(ours, "Model Test Baseline Model:")
    for label in ("Test statistic", "Degrees of freedom", "P-value", "Scaling correction factor"):
        a = [line.split() for line in lav if line.strip().startswith(label)]
        b = [line.split() for line in mine if line.strip().startswith(label)]
        assert len(a) == len(b)
        if a:
            n = len(label.split())
            assert [float(x) for x in b[0][n:]] == pytest.approx(
                [float(x) for x in a[0][n:] if x != "for"], abs=1.5e-3
            )


def test_summary_prints_the_robust_rmsea_interval(summary_case):
    ref, res, ours = summary_case
    fit = ref["fit"]
    if res.estimator not in ("MLR", "MLM"):
        pytest.skip(f"{res.estimator} without a robust test: the summary has no robust RMSEA")
    for key, label in (
        ("rmsea.ci.lower.robust", "Robust RMSEA 90% CI lower"),
        ("rmsea.ci.upper.robust", "Robust RMSEA 90% CI upper"),
    ):
        line = next(line for line in ours if line.strip().startswith(label))
        assert float(line.split()[-1]) == pytest.approx(fit[key], abs=1e-3)


def test_summary_has_std_lv_and_marks_residual_variances(summary_case):
    ref, res, ours = summary_case
    lav = pd.DataFrame(ref["estimates"])
    lav["rhs"] = lav["rhs"].fillna("")
    est = res.estimates.assign(**{"std.lv": res.std_lv})
    m = lav.merge(est, on=["lhs", "op", "rhs"], suffixes=("_lav", ""), how="left")
    ok = m["std.lv_lav"].notna()
    assert ok.sum() > 10
    assert m.loc[ok, "std.lv"].to_numpy() == pytest.approx(
        m.loc[ok, "std.lv_lav"].to_numpy(), abs=1e-3
    )
    header = next(line for line in ours if "Std.Err" in line)
    assert header.split()[-2:] == ["Std.lv", "Std.all"]
    lav_var = [x.split()[0] for x in _section(_lavaan_text(ref), "Variances:")[1:] if x.strip()]
    our_var = [x.split()[0] for x in _section(ours, "Variances:")[1:] if x.strip()]
    assert sorted(our_var) == sorted(lav_var)
    assert any(v.startswith(".") for v in our_var)


def test_ckm_fit_prints_each_warning_once(ecsi, tmp_path, capsys):
    from ckm_research.cli import main

    model = tmp_path / "ecsi.lav"
    model.write_text(ECSI_HEYWOOD, encoding="utf-8")
    assert main(["fit", str(model), str(ECSI)]) == 0
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert both.count("variance of the latent variable 'Loyalty' is negative") == 1
    assert "warning: the estimated (residual) variance of the latent variable 'Loyalty'" in (
        captured.err
    )
    assert "Warnings:" not in captured.out
    # the summary itself still marks the residual variance: '.Loyalty' with its negative value
    line = next(x for x in captured.out.splitlines() if x.strip().startswith(".Loyalty"))
    assert float(line.split()[1]) < 0
    # and its R² as lavaan's summary(fit, rsquare = TRUE) does: NA (it would exceed 1)
    r2 = captured.out[captured.out.index("R-Square:") :].splitlines()
    assert next(x for x in r2 if x.split()[:1] == ["Loyalty"]).split()[1] == "NA"


# ---------------------------------------------------------------------- ckm power
def test_ckm_power_prints_estimates_bias_coverage_and_se_ratio(tmp_path, capsys):
    """``ckm power`` printed only power in the terminal; the mean estimate, bias,
    coverage and SE ratio were in --json alone."""
    from ckm_research.cli import main
    from ckm_research.inference.power import power_analysis
    from tests.reference_compare import REF

    ref = json.loads((REF / "json" / "power_cfa3.json").read_text())
    pop = tmp_path / "pop.lav"
    pop.write_text(ref["population"], encoding="utf-8")
    ana = tmp_path / "ana.lav"
    ana.write_text(ref["analysis"], encoding="utf-8")
    args = ["--n", "80", "120", "--reps", "20", "--seed", "5", "--jobs", "1"]
    assert main(["power", str(pop), "--analysis", str(ana), *args]) == 0
    out = capsys.readouterr().out
    assert "mean est" in out and "coverage" in out and "SE ratio" in out
    assert "N = 80" in out and "N = 120" in out
    res = power_analysis(
        ref["population"], [80, 120], reps=20, analysis=ref["analysis"], random_state=5,
        n_jobs=1, progress=False,
    )  # fmt: skip
    block = out[out.index("Estimates over the converged replications") :]
    for n, g in res.table.groupby("n"):
        section = block[block.index(f"N = {n}") :].splitlines()
        row = g[g["op"] == "=~"].iloc[1]
        line = next(x for x in section if x.strip().startswith(f"{row.lhs} =~ {row.rhs}"))
        values = [float(v) for v in line.split()[3:9] if v[0].isdigit() or v[0] == "-"]
        ratio = row.mean_se / row.sd_est
        expected = [row.true, row.mean_est, row.bias, row.bias / row.true, row.coverage, ratio]
        assert values == pytest.approx(expected, abs=1.5e-3)


def test_report_flags_a_heywood_case_of_the_interaction_model(heywood_fit, tmp_path):
    from ckm_research.report import analysis
    from ckm_research.report.render import Report
    from ckm_research.report.store import StageOutput

    _results(tmp_path, heywood_fit, {"stage": "power", "status": "skipped"})
    out = StageOutput(tmp_path, "moderation", display=False, check=False)
    analysis.flag_heywood(out, heywood_fit[0], model="The model with the latent interactions")
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    doc["stages"]["moderation"] = json.loads(out.save().read_text(encoding="utf-8"))
    (tmp_path / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    rep = Report(tmp_path)
    assert "Model with the latent interactions: Inadmissible solution" in rep.summary()
    section = rep.results_moderation()
    assert 'class="problem"' in section and "The model with the latent interactions" in section


def test_json_has_std_lv_and_the_total_number_of_cases():
    from tests.reference_compare import fit_like_lavaan, load

    ref = load("parity_heywood_hs_listwise_mlr")
    doc = fit_like_lavaan(ref).to_dict()
    assert (doc["n"], doc["n_total"]) == (ref["nobs"], ref["norig"])
    lav = {(r["lhs"], r["op"], r["rhs"]): r["std.lv"] for r in ref["estimates"]}
    ours = {(r["lhs"], r["op"], r["rhs"]): r["std.lv"] for r in doc["estimates"]}
    for key, value in lav.items():
        assert ours[key] == pytest.approx(value, abs=1e-3), key
