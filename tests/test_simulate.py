"""The simulator: population moments, the latent interaction, respondent behaviour,
reproducibility, errors, and the shipped example data."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from ckm_research.cli import main
from ckm_research.data.simulate import (
    DEFAULT_POPULATION,
    InstrumentPopulation,
    PopulationError,
    load_population,
    simulate,
)
from ckm_research.instrument import load_instrument
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import build_partable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example"


@pytest.fixture(scope="module")
def ckm():
    return load_instrument()


@pytest.fixture(scope="module")
def pop():
    return load_population()


@pytest.fixture(scope="module")
def model(pop, ckm):
    return InstrumentPopulation(pop, ckm)


@pytest.fixture(scope="module")
def big(pop, ckm):
    """20,000 respondents with their latent scores (no missing, no careless)."""
    return simulate(20_000, seed=7, population=pop, instrument=ckm, return_latent=True)


# --- the population model --------------------------------------------------------------


def test_population_file_matches_the_study(model, ckm):
    assert model.exogenous[:6] == ["CIP", "TMI", "RTS", "OST", "CUL", "STG"]
    assert set(model.exogenous) == {"CIP", "TMI", "RTS", "OST", "CUL", "STG", "MKR", "CTU",
                                    "TTU", "CPT"}
    assert model.endogenous == ["CKM", "INS", "SAT", "LOY"]
    interactions = [t for d in model.population.regressions.values() for t in d if ":" in t]
    assert "CKM:CTU" in interactions
    assert set(model.loadings()) == set(ckm.item_ids("indicator"))


def test_linear_moments_agree_with_the_sem_engine(pop, ckm):
    """With the interactions removed, the item covariance matrix computed by the
    simulator equals the one the project's RAM engine implies for the same model
    written in lavaan syntax with fixed values."""
    linear = pop.model_copy(deep=True)
    for dep in linear.regressions:
        linear.regressions[dep] = {t: c for t, c in linear.regressions[dep].items()
                                   if ":" not in t}
    m = InstrumentPopulation(linear, ckm)
    load = m.loadings()
    items = list(load)
    lines = []
    for factor, ids in ckm.constructs().items():
        lines.append(f"{factor} =~ " + " + ".join(f"{load[i][1]}*{i}" for i in ids))
    meth = linear.method_loading
    lines.append("METHOD =~ " + " + ".join(f"{meth}*{i}" for i in items))
    for dep, preds in linear.regressions.items():
        lines.append(f"{dep} ~ " + " + ".join(f"{c}*{t}" for t, c in preds.items()))
    exo = m.exogenous + ["METHOD"]
    phi = np.zeros((len(exo), len(exo)))
    phi[:-1, :-1] = m.phi
    phi[-1, -1] = 1.0
    for a in range(len(exo)):
        for b in range(a, len(exo)):
            lines.append(f"{exo[a]} ~~ {float(phi[a, b])!r}*{exo[b]}")
    for dep in m.endogenous:
        lines.append(f"{dep} ~~ {m.residual_variances[dep]!r}*{dep}")
        if dep != "CKM":
            lines.append(f"{dep} ~~ 0*METHOD")
    lines += ["INS ~~ 0*LOY", "INS ~~ 0*SAT", "SAT ~~ 0*LOY", "CKM ~~ 0*METHOD"]
    for i in items:
        lines.append(f"{i} ~~ {float(1 - load[i][1] ** 2 - meth ** 2)!r}*{i}")
    pt = build_partable("\n".join(lines))
    ram = RAMModel(pt, ov_order=items)
    assert ram.n_free == 0
    sigma, _ = ram.implied(np.zeros(0))
    ours = m.item_covariance().loc[items, items].to_numpy()
    np.testing.assert_allclose(ours, sigma, atol=1e-12)
    # and every latent variance is 1: standardised paths
    c_full, _ = ram.implied(np.zeros(0), full=True)
    lv = [ram.variables.index(f) for f in m.factors]
    np.testing.assert_allclose(np.diag(c_full)[lv], 1.0, atol=1e-12)


def test_residual_variances_include_the_interaction_variance(model):
    """INS = .45 CKM + ... + .15 CKM:CTU - .10 CKM:TTU + zeta; the product terms add
    b^2 (1 + r^2) and a cross term (Isserlis), so psi_INS is smaller than without."""
    cov = model.latent_covariance()
    r_ckm_ctu, r_ckm_ttu = cov.loc["CKM", "CTU"], cov.loc["CKM", "TTU"]
    r_ctu_ttu = cov.loc["CTU", "TTU"]
    products = (0.15**2 * (1 + r_ckm_ctu**2) + 0.10**2 * (1 + r_ckm_ttu**2)
                - 2 * 0.15 * 0.10 * (1 * r_ctu_ttu + r_ckm_ttu * r_ckm_ctu))
    b = np.array([0.45, 0.10, 0.10, -0.05])
    names = ["CKM", "CTU", "TTU", "CPT"]
    linear = b @ cov.loc[names, names].to_numpy() @ b
    assert model.r_squared["INS"] == pytest.approx(linear + products, abs=1e-12)
    assert model.residual_variances["INS"] == pytest.approx(1 - linear - products, abs=1e-12)
    np.testing.assert_allclose(np.diag(cov), 1.0, atol=1e-12)


def test_latent_scores_recover_the_population_paths(big, model):
    """The latent interaction is a product of latent scores: regressing INS on the
    true scores and their products recovers the population values."""
    _, latent = big
    for name in model.factors:
        assert latent[name].var() == pytest.approx(1.0, abs=0.05), name
        assert latent[name].mean() == pytest.approx(0.0, abs=0.04), name
    x = latent[["CKM", "CTU", "TTU", "CPT"]].copy()
    x["CKM:CTU"] = latent["CKM"] * latent["CTU"]
    x["CKM:TTU"] = latent["CKM"] * latent["TTU"]
    design = np.column_stack([np.ones(len(x)), x.to_numpy()])
    coef, *_ = np.linalg.lstsq(design, latent["INS"].to_numpy(), rcond=None)
    truth = model.population.regressions["INS"]
    for k, term in enumerate(x.columns, start=1):
        assert coef[k] == pytest.approx(truth[term], abs=0.02), term
    # simple slopes: CKM -> INS is steeper where customer turbulence is high
    high = latent["CTU"] > 1
    low = latent["CTU"] < -1
    slope_high = np.polyfit(latent.loc[high, "CKM"], latent.loc[high, "INS"], 1)[0]
    slope_low = np.polyfit(latent.loc[low, "CKM"], latent.loc[low, "INS"], 1)[0]
    assert slope_high - slope_low > 0.3  # CKM matters more under customer turbulence


def test_answers_follow_the_thresholds_and_loadings(big, model, ckm):
    data, latent = big
    cuts = np.asarray(model.population.thresholds)
    expected = np.diff(np.concatenate([[0.0], stats.norm.cdf(cuts), [1.0]]))
    observed = data["cip1"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(observed, expected, atol=0.015)
    # reverse-keyed items are written as answered: negatively related to their factor
    for item in ckm.reverse_keyed:
        factor = ckm.item(item).construct
        r = np.corrcoef(data[item].astype(float), latent[factor])[0, 1]
        assert r < -0.4, item
    r = np.corrcoef(data["cip1"].astype(float), latent["CIP"])[0, 1]
    assert r > 0.6
    # the marker correlates with the substantive items only through the method factor
    r_marker = np.corrcoef(latent["MKR"], latent["CKM"])[0, 1]
    assert abs(r_marker) < 0.03


# --- respondent behaviour ----------------------------------------------------------------


def test_same_seed_same_data_and_other_seed_other_data(pop, ckm):
    a = simulate(300, seed=11, missing=0.02, careless=0.05, population=pop, instrument=ckm)
    b = simulate(300, seed=11, missing=0.02, careless=0.05, population=pop, instrument=ckm)
    c = simulate(300, seed=12, missing=0.02, careless=0.05, population=pop, instrument=ckm)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert list(a.columns) == ["respondent", "duration_sec", *ckm.item_ids()]
    assert a["respondent"].is_unique


def test_missing_cells_leave_other_answers_unchanged(pop, ckm):
    full = simulate(500, seed=3, population=pop, instrument=ckm)
    holes = simulate(500, seed=3, missing=0.05, population=pop, instrument=ckm)
    items = ckm.item_ids()
    share = holes[items].isna().to_numpy().mean()
    assert 0.04 < share < 0.06
    assert not full[items].isna().any().any()
    observed = holes[items].notna()
    assert (holes[items][observed] == full[items][observed]).sum().sum() == observed.sum().sum()


def test_careless_respondents(pop, ckm):
    data, latent = simulate(400, seed=5, careless=0.10, population=pop, instrument=ckm,
                            return_latent=True)
    kinds = latent["careless"]
    assert (kinds != "").sum() == 40
    assert (kinds == "straightline").sum() == 20
    agree = [i.id for i in ckm.items() if i.kind != "profile"]
    straight = data.loc[kinds == "straightline", agree]
    assert (straight.nunique(axis=1) == 1).all()
    attentive = data.loc[kinds == "", agree]
    assert (attentive.nunique(axis=1) > 2).all()
    assert data.loc[kinds != "", "duration_sec"].median() < \
        data.loc[kinds == "", "duration_sec"].median() / 4
    # attentive respondents pass attention checks, except for the rare lapse
    passed = (data.loc[kinds == "", "att1"] == 5).mean()
    assert passed > 0.95


def test_profile_answers_follow_the_population_file(big, pop, ckm):
    data, _ = big
    shares = data["industry"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, pop.profile["industry"], atol=0.015)
    assert data["tenure"].between(0, 60).all()
    assert data["tenure"].median() == pytest.approx(7, abs=1)


# --- errors ------------------------------------------------------------------------------


def _edited(tmp_path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_POPULATION.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "pop.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["loadings"].__setitem__("CKM", [0.8, 0.8]), ["loadings.CKM", "5 items"]),
        (lambda d: d["loadings"].pop("SAT"), ["SAT", "loadings"]),
        (lambda d: d["loadings"].__setitem__("XYZ", [0.7] * 4), ["XYZ", "no construct"]),
        (lambda d: d.__setitem__("thresholds", [0.0, -1.0]), ["thresholds", "increase"]),
        (lambda d: d.__setitem__("thresholds", [0.0, 1.0]), ["thresholds", "7 answers"]),
        (lambda d: d["regressions"]["CIP"].__setitem__("LOY", 0.2)
         if "CIP" in d["regressions"] else d["regressions"].__setitem__("CIP", {"LOY": 0.2}),
         ["feedback loop"]),
        (lambda d: d["regressions"]["INS"].__setitem__("CKM", 0.99), ["regressions.INS", "< 1"]),
        (lambda d: d["regressions"]["LOY"].__setitem__("SAT:CTU", 0.1),
         ["SAT:CTU", "interaction"]),
        (lambda d: d["correlations"].__setitem__("default", 0.95), ["positive definite"]),
        (lambda d: d["loadings"].__setitem__("CIP", [0.99, 0.7, 0.7, 0.7]), ["cip1", "0.99"]),
        (lambda d: d["profile"].__setitem__("size", [0.5, 0.5]), ["profile.size", "5"]),
        (lambda d: d.__setitem__("speed", 3), ["speed"]),
    ],
)
def test_population_errors_name_the_field(tmp_path, edit, words):
    path = _edited(tmp_path, edit)
    with pytest.raises(PopulationError) as info:
        simulate(10, seed=1, population=path)
    for word in words:
        assert word in str(info.value)


def test_parameter_errors():
    with pytest.raises(ValueError, match=r"'n' parameter of simulate must be an int"):
        simulate(0, seed=1)
    with pytest.raises(ValueError, match=r"'missing' parameter .* \[0, 1\)\. Got 1.5"):
        simulate(10, seed=1, missing=1.5)
    with pytest.raises(ValueError, match=r"'seed' parameter"):
        simulate(10, seed=-3)


# --- the command line and the shipped example ------------------------------------------


def test_cli_writes_what_the_api_returns(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    assert main(["simulate", "--n", "120", "--seed", "9", "--missing", "0.02", "--careless",
                 "0.05", "--output", str(out)]) == 0
    assert "Wrote 120" in capsys.readouterr().err
    api = simulate(120, seed=9, missing=0.02, careless=0.05)
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(
        pd.io.common.StringIO(api.to_csv(index=False))))


def test_cli_bad_options_exit_2(tmp_path, capsys):
    assert main(["simulate", "--n", "10", "--seed", "1", "--missing", "2",
                 "--output", str(tmp_path / "x.csv")]) == 2
    assert "not a share in [0, 1)" in capsys.readouterr().err
    assert main(["simulate", "--n", "10", "--seed", "1", "--output",
                 str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "x.pdf" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nloadings: {}\n", encoding="utf-8")
    assert main(["simulate", "--n", "10", "--seed", "1", "--population", str(bad),
                 "--output", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "thresholds" in err


def _recorded_command() -> list[str]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("ckm simulate")]
    assert len(lines) == 1, "data/example/README.md records one `ckm simulate` command"
    return shlex.split(lines[0])


def test_example_data_is_what_the_recorded_command_makes(tmp_path, monkeypatch):
    argv = _recorded_command()
    assert argv[:2] == ["ckm", "simulate"]
    out = argv.index("--output")
    assert argv[out + 1] == "data/example/ckm_example.csv"
    argv[out + 1] = str(tmp_path / "again.csv")
    monkeypatch.chdir(ROOT)
    assert main(argv[1:]) == 0
    shipped = (EXAMPLE / "ckm_example.csv").read_bytes()
    assert (tmp_path / "again.csv").read_bytes() == shipped


def test_example_data_shape(ckm):
    data = pd.read_csv(EXAMPLE / "ckm_example.csv")
    assert 350 <= len(data) <= 450
    assert set(ckm.item_ids()) <= set(data.columns)
    items = data[ckm.item_ids()]
    assert 0 < items.isna().to_numpy().mean() < 0.05
