"""ckm_research.sem.distributions gives exactly what scipy.stats gives.

The engine computes p-values, quantiles and the RMSEA interval with these
functions instead of scipy.stats (which costs about a second to import); they
must agree bit for bit with scipy.stats, including at the ends of the support
and for invalid arguments (nan, df <= 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from ckm_research.sem import distributions as dist
from ckm_research.sem import fit_measures as fmx

X = np.array([-np.inf, -3.0, -1e-300, 0.0, 1e-300, 1e-8, 0.3, 1.0, 2.5, 10.0, 85.3, 400.0,
              5e3, np.inf, np.nan])  # fmt: skip
Q = np.array([-0.1, 0.0, 1e-300, 1e-12, 0.025, 0.05, 0.5, 0.95, 0.975, 1 - 1e-12, 1.0, 1.1,
              np.nan])  # fmt: skip
DF = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 24.0, 301.0, np.nan])


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype


@pytest.mark.parametrize("name", ["cdf", "sf", "pdf"])
def test_norm_probabilities(name):
    _same(getattr(dist.norm, name)(X), getattr(stats.norm, name)(X))
    for x in X:
        _same(getattr(dist.norm, name)(x), getattr(stats.norm, name)(x))
    _same(getattr(dist.norm, name)(3), getattr(stats.norm, name)(3))  # an int


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_norm_quantiles(name):
    _same(getattr(dist.norm, name)(Q), getattr(stats.norm, name)(Q))
    _same(getattr(dist.norm, name)([0.025, 0.975]), getattr(stats.norm, name)([0.025, 0.975]))
    _same(getattr(dist.norm, name)(0.975), getattr(stats.norm, name)(0.975))


@pytest.mark.parametrize("name", ["cdf", "sf"])
def test_chi2_probabilities(name):
    xx, dd = np.meshgrid(X, DF)
    _same(getattr(dist.chi2, name)(xx, dd), getattr(stats.chi2, name)(xx, dd))
    _same(getattr(dist.chi2, name)(X, 24), getattr(stats.chi2, name)(X, 24))
    for x in X:
        for df in DF:
            _same(getattr(dist.chi2, name)(x, df), getattr(stats.chi2, name)(x, df))


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_chi2_quantiles(name):
    qq, dd = np.meshgrid(Q, DF)
    _same(getattr(dist.chi2, name)(qq, dd), getattr(stats.chi2, name)(qq, dd))
    for q in Q:
        _same(getattr(dist.chi2, name)(q, 3), getattr(stats.chi2, name)(q, 3))


def test_ncx2_cdf():
    xx, dd, nn = np.meshgrid(X, DF, [-1.0, 0.0, 1e-9, 0.5, 36.8, 900.0, np.nan])
    _same(dist.ncx2.cdf(xx, dd, nn), stats.ncx2.cdf(xx, dd, nn))
    _same(dist.ncx2.cdf(85.3, 24, 36.8), stats.ncx2.cdf(85.3, 24, 36.8))
    # what is not re-implemented comes from scipy.stats
    _same(dist.ncx2.sf(3.84, 1, 2.0), stats.ncx2.sf(3.84, 1, 2.0))


@pytest.mark.parametrize("df", [1, 2, 5, 24, 120, 1200])
@pytest.mark.parametrize("ratio", [1.05, 1.5, 3.0, 8.0])
@pytest.mark.parametrize("target", [0.95, 0.05])
def test_ncp_inverts_the_noncentral_cdf(df, ratio, target):
    """ncx2.ncp is the root brentq finds on scipy.stats.ncx2.cdf (to 1e-12 relative)."""
    x = df * ratio + 4
    f = lambda lam: stats.ncx2.cdf(x, df, lam) - target  # noqa: E731
    if f(0) < 0:
        pytest.skip("no non-negative root: rmsea_ci does not call ncp here")
    want = optimize.brentq(f, 0.0, 10 * x, xtol=1e-12, rtol=1e-14, maxiter=500)
    assert dist.ncx2.ncp(x, df, target) == pytest.approx(want, rel=1e-12, abs=1e-11)


def _rmsea_ci_brentq(chisq, df, n, level=0.90):
    """rmsea_ci as it was (brentq on scipy.stats.ncx2.cdf), for comparison."""

    def solve(target, upper):
        def f(lam):
            return stats.ncx2.cdf(chisq, df, lam) - target if lam > 0 else (
                stats.chi2.cdf(chisq, df) - target)  # fmt: skip

        return optimize.brentq(f, 0.0, upper, xtol=1e-12, rtol=1e-14, maxiter=500)

    up, low = 1 - (1 - level) / 2, (1 - level) / 2
    p0 = stats.chi2.cdf(chisq, df)
    lo = 0.0 if df < 1 or p0 < up else np.sqrt(solve(up, chisq) / (n * df))
    n_r = max(n, chisq * 4)
    if df < 1 or p0 < low or stats.ncx2.cdf(chisq, df, n_r) - low > 0:
        hi = 0.0
    else:
        hi = np.sqrt(solve(low, n_r) / (n * df))
    return lo, hi


@pytest.mark.parametrize(
    "chisq,df,n",
    [(85.306, 24, 301), (30.0, 24, 301), (24.5, 24, 301), (12.0, 2, 100), (3000.0, 1300, 500),
     (0.5, 3, 50), (1500.0, 1300, 500), (7.0, 1, 1000)],
)  # fmt: skip
def test_rmsea_ci_as_brentq(chisq, df, n):
    lo, hi = fmx.rmsea_ci(chisq, df, n)
    want = _rmsea_ci_brentq(chisq, df, n)
    assert lo == pytest.approx(want[0], rel=1e-11, abs=1e-13)
    assert hi == pytest.approx(want[1], rel=1e-11, abs=1e-13)
