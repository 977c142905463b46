"""Nonparametric bootstrap (ckm_research.inference.bootstrap).

What is checked:

* the resamples are the documented ones: replicate b is the fit to the cases
  drawn by ``default_rng(SeedSequence(seed).spawn(B)[b]).integers(0, N, N)``
  (recomputed here in closed form, and with ``ckm_research.fit`` for FIML and
  for product indicators rebuilt in each resample);
* percentile and BCa limits against a direct computation of Efron's formulas
  (closed-form jackknife of a regression slope);
* bootstrap SEs close to the ML SEs on normal data;
* failed resamples counted and reported, never dropped silently;
* the same seed gives the same numbers with 1 or 2 local workers and on a dask
  LocalCluster; the CLI's JSON takes se/CIs from the bootstrap and says so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.inference import parallel
from ckm_research.inference.bootstrap import (
    bca_interval,
    bootstrap,
    jackknife_acceleration,
    norm_inter,
)
from ckm_research.inference.population import PopulationModel

POP = """
f1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
f2 =~ 0.8*x4 + 0.7*x5 + 0.6*x6
f2 ~ 0.4*f1
f1 ~~ 1*f1
f2 ~~ 0.84*f2
x1 ~~ 0.36*x1
x2 ~~ 0.51*x2
x3 ~~ 0.64*x3
x4 ~~ 0.36*x4
x5 ~~ 0.51*x5
x6 ~~ 0.64*x6
"""
MODEL = """
f1 =~ x1 + a*x2 + x3
f2 =~ x4 + x5 + x6
f2 ~ b*f1
ab := a*b
"""


@pytest.fixture(scope="module")
def normal_data() -> pd.DataFrame:
    return PopulationModel(POP).simulate(300, random_state=11)


def _resample_counts(seed: int, n_boot: int, n: int) -> list[np.ndarray]:
    """The documented streams: resample b uses SeedSequence(seed).spawn(B)[b]."""
    out = []
    for child in np.random.SeedSequence(seed).spawn(n_boot):
        idx = np.random.default_rng(child).integers(0, n, n)
        out.append(idx)
    return out


# ---------------------------------------------------------------------------
# interval formulas


def _norm_inter_direct(t, a):
    """Davison & Hinkley (1997) eq. 5.8, written out for one probability."""
    t = np.sort(t)
    R = len(t)
    k = int(np.floor((R + 1) * a))
    if (R + 1) * a == k:
        return t[k - 1]
    zk, zk1 = stats.norm.ppf(k / (R + 1)), stats.norm.ppf((k + 1) / (R + 1))
    return t[k - 1] + (stats.norm.ppf(a) - zk) / (zk1 - zk) * (t[k] - t[k - 1])


def test_norm_inter_interpolates_order_statistics():
    t = np.random.default_rng(3).normal(size=99)
    # (B + 1) * 0.05 = 5 exactly: the 5th order statistic
    assert norm_inter(t, 0.05)[0] == np.sort(t)[4]
    for a in (0.025, 0.1, 0.5, 0.975):
        assert norm_inter(t, a)[0] == pytest.approx(_norm_inter_direct(t, a), rel=1e-12)
    # extreme probabilities fall back on the extreme order statistics
    assert norm_inter(t, 0.001)[0] == t.min()
    assert norm_inter(t, 0.9999)[0] == t.max()


def test_bca_of_a_regression_slope_against_a_direct_computation():
    rng = np.random.default_rng(5)
    n, B, seed, level = 40, 400, 123, 0.9
    x = rng.exponential(size=n)
    y = 0.5 * x + rng.standard_t(4, size=n) * (0.5 + x)  # skewed, heteroscedastic
    data = pd.DataFrame({"x": x, "y": y})

    def slope(xx, yy):
        return np.cov(xx, yy, bias=True)[0, 1] / np.var(xx)

    boot = bootstrap("y ~ b*x", data, n_boot=B, random_state=seed, n_jobs=1, level=level,
                     ci="bca", progress=False)  # fmt: skip
    row = boot.estimates.query("op == '~'").iloc[0]
    j = int(row.name)
    theta = slope(x, y)
    assert row["est"] == pytest.approx(theta, rel=1e-8)
    # the replicates are the slopes of the documented resamples
    direct = np.array([slope(x[i], y[i]) for i in _resample_counts(seed, B, n)])
    np.testing.assert_allclose(boot.replicates[:, j], direct, rtol=1e-7, atol=1e-10)
    # jackknife: delete-one slopes in closed form
    jack = np.array([slope(np.delete(x, i), np.delete(y, i)) for i in range(n)])
    np.testing.assert_allclose(boot.jackknife[:, j], jack, rtol=1e-7, atol=1e-10)
    # Efron (1987) / Efron & Tibshirani (1993, eq. 14.10-14.15), written out
    d = jack.mean() - jack
    a = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
    z0 = stats.norm.ppf(np.mean(direct < theta))
    zl, zu = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    a1 = stats.norm.cdf(z0 + (z0 + zl) / (1 - a * (z0 + zl)))
    a2 = stats.norm.cdf(z0 + (z0 + zu) / (1 - a * (z0 + zu)))
    assert boot.acceleration[j] == pytest.approx(a, rel=1e-6)
    assert row["bca.lower"] == pytest.approx(_norm_inter_direct(direct, a1), rel=1e-6)
    assert row["bca.upper"] == pytest.approx(_norm_inter_direct(direct, a2), rel=1e-6)
    assert (row["ci.lower"], row["ci.upper"]) == (row["bca.lower"], row["bca.upper"])
    assert row["perc.lower"] == pytest.approx(_norm_inter_direct(direct, (1 - level) / 2))
    assert row["perc.upper"] == pytest.approx(_norm_inter_direct(direct, (1 + level) / 2))
    # SE with divisor B, as lavaan
    assert row["se"] == pytest.approx(np.std(direct), rel=1e-7)
    # the skewness moves BCa away from the percentile interval
    assert abs(a) > 0.01
    assert row["bca.lower"] != pytest.approx(row["perc.lower"], rel=1e-3)


def test_bca_interval_edge_cases():
    t = np.linspace(1, 2, 50)
    assert bca_interval(t, 0.5, 0.0) != bca_interval(t, 1.5, 0.0)
    assert np.isnan(bca_interval(t, 0.5, 0.0)).all()  # all replicates above: z0 infinite
    assert bca_interval(np.ones(10), 1.0, 0.1) == (1.0, 1.0)
    assert jackknife_acceleration(np.ones(5)) == 0.0
    # symmetric jackknife values: no acceleration; z0 = 0 and a = 0 give the percentile
    assert jackknife_acceleration(np.array([-1.0, 0.0, 1.0])) == 0.0
    t = np.random.default_rng(0).normal(size=1000)
    s = np.sort(t)
    lo, hi = bca_interval(t, (s[499] + s[500]) / 2, 0.0)  # half the replicates below
    np.testing.assert_allclose((lo, hi), norm_inter(t, [0.025, 0.975]), rtol=1e-12)


# ---------------------------------------------------------------------------
# the bootstrap of SEM fits


def test_bootstrap_se_close_to_ml_se_on_normal_data(normal_data):
    res = fit(MODEL, normal_data)
    boot = bootstrap(MODEL, normal_data, n_boot=400, random_state=1, n_jobs=1, bca=False,
                     result=res, progress=False)  # fmt: skip
    assert boot.counts()["converged"] == 400
    est = res.estimates
    free = est["se"].to_numpy() > 0
    ratio = boot.estimates["se"].to_numpy()[free] / est["se"].to_numpy()[free]
    # Monte Carlo error of a bootstrap SE with B = 400 is about 1/sqrt(2B) = 3.5%
    assert np.all(np.abs(ratio - 1) < 0.2), ratio
    assert abs(np.mean(ratio) - 1) < 0.06
    # the defined effect gets a bootstrap SE and intervals around its estimate
    ab = boot.estimates.query("op == ':='").iloc[0]
    assert ab["se"] > 0 and ab["perc.lower"] < ab["est"] < ab["perc.upper"]
    assert np.isnan(ab["bca.lower"])  # bca=False
    # fixed parameters keep se 0 and the estimate as interval, as lavaan
    fixed = boot.estimates[~free & (boot.estimates["op"] != ":=")]
    assert (fixed["se"] == 0).all() and (fixed["ci.lower"] == fixed["est"]).all()


def test_moment_refit_agrees_with_a_full_fit_of_the_resample(normal_data):
    seed, B = 9, 3
    boot = bootstrap(MODEL, normal_data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     progress=False)  # fmt: skip
    for b, idx in enumerate(_resample_counts(seed, B, len(normal_data))):
        ref = fit(MODEL, normal_data.iloc[idx].reset_index(drop=True)).estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=2e-6)


def test_product_indicators_are_rebuilt_in_each_resample():
    items = [(f"{f}{j}", r) for f in "xzy" for j, r in ((1, .36), (2, .51), (3, .64))]
    pop = PopulationModel(
        "X =~ 0.8*x1 + 0.7*x2 + 0.6*x3\nZ =~ 0.8*z1 + 0.7*z2 + 0.6*z3\n"
        "Y =~ 0.8*y1 + 0.7*y2 + 0.6*y3\nY ~ 0.3*X + 0.2*Z + 0.3*X:Z\n"
        "X ~~ 1*X\nZ ~~ 1*Z\nX ~~ 0.2*Z\nY ~~ 0.6*Y\n"
        + "\n".join(f"{v} ~~ {r}*{v}" for v, r in items)
    )
    data = pop.simulate(250, random_state=4)
    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z"
    seed, B = 21, 2
    boot = bootstrap(model, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     progress=False)  # fmt: skip
    assert "refit from resampled sample moments" in boot.method
    assert boot.estimates.query("rhs == 'X:Z'").shape[0] == 1
    for b, idx in enumerate(_resample_counts(seed, B, len(data))):
        # fit() builds the product indicators from the resample itself
        ref = fit(model, data.iloc[idx].reset_index(drop=True)).estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=2e-6)


def test_fiml_refit_path_for_fiml():
    # FIML resamples are refitted from weighted pattern moments (tests/test_bootstrap_fiml.py)
    data = PopulationModel(POP).simulate(120, random_state=2)
    data.iloc[::7, 1] = np.nan
    seed, B = 5, 2
    boot = bootstrap(MODEL, data, n_boot=B, random_state=seed, n_jobs=1, bca=False,
                     estimator="FIML", progress=False)  # fmt: skip
    assert boot.method.startswith("FIML refit")
    for b, idx in enumerate(_resample_counts(seed, B, len(data))):
        ref = fit(MODEL, data.iloc[idx].reset_index(drop=True), estimator="FIML").estimates
        np.testing.assert_allclose(boot.replicates[b], ref["est"].to_numpy(), atol=1e-6)


def test_failed_resamples_are_counted_and_reported():
    # 12 cases and 6 items: resamples with fewer than 7 distinct cases have a singular
    # covariance matrix and cannot be fitted
    data = PopulationModel(POP).simulate(12, random_state=8)
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6"
    res = fit(model, data)
    boot = bootstrap(model, data, n_boot=60, random_state=3, n_jobs=1, bca=False,
                     result=res, progress=False)  # fmt: skip
    c = boot.counts()
    assert c["requested"] == 60
    assert c["converged"] + c["not_converged"] + c["failed"] == 60
    assert c["failed"] + c["not_converged"] > 0
    assert sum(boot.failures.values()) == c["failed"] + c["not_converged"]
    bad = boot.status != 0
    assert np.isnan(boot.replicates[bad]).all() and np.isfinite(boot.replicates[~bad]).any()
    assert (boot.estimates["n.valid"].max()) == c["converged"]
    out = boot.apply_to(res)
    assert any("bootstrap resamples failed" in w for w in out.warnings)
    assert out.to_dict()["bootstrap"]["resamples"] == c


def test_bootstrap_parameter_errors(normal_data):
    with pytest.raises(CkmError, match="'n_boot' parameter of bootstrap must be an int"):
        bootstrap(MODEL, normal_data, n_boot=1)
    with pytest.raises(CkmError, match="'ci' parameter"):
        bootstrap(MODEL, normal_data, n_boot=10, ci="normal")
    with pytest.raises(CkmError, match="'n_jobs' parameter of bootstrap"):
        bootstrap(MODEL, normal_data, n_boot=10, n_jobs=0)
    with pytest.raises(CkmError, match="'random_state'"):
        bootstrap(MODEL, normal_data, n_boot=10, random_state=-1)


# ---------------------------------------------------------------------------
# reproducibility across execution modes


@pytest.fixture(scope="module")
def dask_cluster():
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
        protocol="tcp", host="127.0.0.1",
    )  # fmt: skip
    yield cluster
    cluster.close()


def test_same_seed_same_numbers_with_1_or_2_workers_and_on_dask(normal_data, dask_cluster):
    kw = dict(n_boot=40, random_state=77, bca=True, progress=False)
    res = fit(MODEL, normal_data)
    one = bootstrap(MODEL, normal_data, n_jobs=1, result=res, **kw)
    two = bootstrap(MODEL, normal_data, n_jobs=2, result=res, **kw)
    dsk = bootstrap(MODEL, normal_data, scheduler=dask_cluster.scheduler_address, result=res,
                    **kw)  # fmt: skip
    for other in (two, dsk):
        np.testing.assert_array_equal(one.replicates, other.replicates)
        np.testing.assert_array_equal(one.jackknife, other.jackknife)
        pd.testing.assert_frame_equal(one.estimates, other.estimates)
    # another seed gives other resamples
    three = bootstrap(MODEL, normal_data, n_jobs=1, result=res, **dict(kw, random_state=78))
    assert not np.array_equal(one.replicates, three.replicates)


def test_run_replications_streams_in_order_whatever_the_chunking():
    class Draw(parallel.ReplicationTask):
        def run(self, state, index, rng):
            return index, float(rng.standard_normal())

    root, seeds = parallel.spawn_seeds(5, 23)
    a = list(parallel.run_replications(Draw(), 23, seeds=seeds, n_jobs=1, chunk_size=4))
    b = list(parallel.run_replications(Draw(), 23, seeds=seeds, n_jobs=2, chunk_size=3))
    assert [i for i, _ in a] == list(range(23)) and a == b
    assert [r[0] for _, r in a] == list(range(23))
    expected = [np.random.default_rng(s).standard_normal() for s in
                np.random.SeedSequence(5).spawn(23)]  # fmt: skip
    assert [r[1] for _, r in a] == expected


# ---------------------------------------------------------------------------
# the command line


def test_cli_fit_bootstrap_json(tmp_path, normal_data):
    from ckm_research.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "d.csv"
    normal_data.to_csv(data, index=False)
    out = tmp_path / "fit.json"
    code = main(["fit", str(model), str(data), "--bootstrap", "30", "--seed", "4", "--jobs", "1",
                 "--boot-ci", "bca", "--json", str(out)])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["se"] == "bootstrap"
    assert doc["bootstrap"]["resamples"]["requested"] == 30
    assert doc["bootstrap"]["ci"] == "BCa" and doc["bootstrap"]["seed"] == 4
    boot = bootstrap(MODEL, normal_data, n_boot=30, random_state=4, n_jobs=1, ci="bca",
                     progress=False)  # fmt: skip
    got = pd.DataFrame(doc["estimates"])
    np.testing.assert_allclose(got["se"], boot.estimates["se"], rtol=1e-9)
    np.testing.assert_allclose(got["ci.lower"].astype(float), boot.estimates["bca.lower"],
                               rtol=1e-9)  # fmt: skip
    assert "boot.perc.lower" in got.columns
    assert main(["fit", str(model), str(data), "--bootstrap", "1"]) == 2


# ---------------------------------------------------------------------------
# BCa: only when asked for, and as scipy computes it


def test_bca_interval_matches_scipy_bootstrap_on_the_same_resamples():
    """Our BCa limits from scipy's own resamples (``bootstrap_distribution``) and the
    delete-one jackknife equal ``scipy.stats.bootstrap(method='BCa')`` up to the
    quantile rule: scipy interpolates linearly between order statistics, we as boot's
    ``norm.inter``, so the two may differ within the order statistics around the limit."""
    x = np.random.default_rng(5).exponential(size=30)
    res = stats.bootstrap(
        (x,), np.std, method="BCa", n_resamples=9999, rng=np.random.default_rng(1)
    )
    t = res.bootstrap_distribution
    jack = np.array([np.std(np.delete(x, i)) for i in range(len(x))])
    ours = bca_interval(t, float(np.std(x)), jackknife_acceleration(jack), 0.95)
    s = np.sort(t)
    perc = norm_inter(t, [0.025, 0.975])
    for got, want, p in zip(ours, res.confidence_interval, perc, strict=True):
        i = int(np.searchsorted(s, want))
        gap = s[i + 1] - s[i - 2]
        assert abs(got - want) <= gap
        assert abs(p - want) > 20 * gap  # the comparison tells BCa from percentile


def test_jackknife_runs_only_when_bca_is_asked_for(normal_data, tmp_path):
    perc = bootstrap(MODEL, normal_data, n_boot=20, random_state=2, n_jobs=1, progress=False)
    assert perc.jackknife is None and not perc.has_bca
    assert perc.summary_dict()["bca"] is None
    free = perc.estimates["se"] > 0  # fixed parameters keep ci = est, as in lavaan
    assert free.any() and perc.estimates.loc[free, "bca.lower"].isna().all()
    res = fit(MODEL, normal_data)
    cols = perc.apply_to(res).estimates.columns
    assert "boot.perc.lower" in cols and "boot.bca.lower" not in cols
    bca = bootstrap(MODEL, normal_data, n_boot=20, random_state=2, n_jobs=1, ci="bca",
                    progress=False)  # fmt: skip
    assert bca.jackknife.shape[0] == len(normal_data)
    assert "boot.bca.lower" in bca.apply_to(res).estimates.columns
    # the resamples are the same either way
    np.testing.assert_array_equal(perc.replicates, bca.replicates)


def test_cli_fit_bootstrap_percentile_json_has_no_bca_limits(tmp_path, normal_data):
    from ckm_research.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL, encoding="utf-8")
    data = tmp_path / "d.csv"
    normal_data.to_csv(data, index=False)
    out = tmp_path / "fit.json"
    code = main(["fit", str(model), str(data), "--bootstrap", "10", "--seed", "4", "--jobs", "1",
                 "--json", str(out)])  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["bootstrap"]["ci"] == "percentile" and doc["bootstrap"]["bca"] is None
    cols = pd.DataFrame(doc["estimates"]).columns
    assert "boot.perc.lower" in cols and "boot.bca.lower" not in cols
