"""Simple slopes and Johnson-Neyman intervals: delta-method SEs checked
against a numerical delta method through the fitted model's parameters, JN
bounds against a brute-force scan, and the plots."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research import fit
from ckm_research.errors import CkmError
from ckm_research.moderation.simple_slopes import (
    interaction_terms,
    johnson_neyman,
    plot_johnson_neyman,
    plot_simple_slopes,
    simple_slopes,
)

REF = Path(__file__).parent / "reference"
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "data" / "oneInt.csv").iloc[:600]


@pytest.fixture(scope="module", params=["dblcent", "lms"])
def res(request, data):
    return fit(MODEL, data, interaction=request.param)


def _row_value_fn(res, key):
    """theta -> value of the estimates row ``key``, through the engine's own
    parameter mapping (independent of the estimates table)."""
    eng = res.engine
    lhs, op, rhs = key
    if hasattr(eng, "implied_latent"):  # LMS: base table rows, then product rows
        t = eng.model.partable.table
        keys = list(zip(t["lhs"], t["op"], t["rhs"], strict=True)) + [
            (tm.lhs, "~", tm.term) for tm in eng.model.terms
        ]
        i = keys.index(key)
        return lambda th: eng.row_values(th)[i]
    t = eng.pt.table
    rhs_pi = rhs.replace(":", ".")
    i = t.index[(t["lhs"] == lhs) & (t["op"] == op) & (t["rhs"] == rhs_pi)][0]
    return lambda th: eng.model.row_values(th)[i]


def _numeric_jacobian(fun, theta, h=1e-6):
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        g[k] = (fun(tp) - fun(tm)) / (2 * h)
    return g


def test_simple_slopes_delta_method(res):
    tab = simple_slopes(res, "Y", "X", "Z")
    assert list(tab["label"]) == ["-1 SD", "Mean", "+1 SD"]
    var_z = res.estimates.set_index(["lhs", "op", "rhs"]).loc[("Z", "~~", "Z"), "est"]
    np.testing.assert_allclose(tab["moderator_value"], [-np.sqrt(var_z), 0, np.sqrt(var_z)],
                               rtol=1e-6, atol=1e-12)  # fmt: skip
    g1 = _row_value_fn(res, ("Y", "~", "X"))
    g3 = _row_value_fn(res, ("Y", "~", "X:Z"))
    for zv, slope, se in zip(tab["moderator_value"], tab["slope"], tab["se"], strict=True):

        def f(th, zv=zv):
            return g1(th) + g3(th) * zv

        assert slope == pytest.approx(f(res.theta), rel=1e-10)
        J = _numeric_jacobian(f, res.theta)
        assert se == pytest.approx(np.sqrt(J @ res.vcov @ J), rel=1e-5)
    row = tab.iloc[2]
    q = stats.norm.ppf(0.975)
    assert row["ci.upper"] - row["ci.lower"] == pytest.approx(2 * q * row["se"])
    assert row["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(row["slope"] / row["se"])))
    at = simple_slopes(res, "Y", "X", "Z", at=[0.5])
    assert at["slope"].iloc[0] == pytest.approx(g1(res.theta) + 0.5 * g3(res.theta))


def test_johnson_neyman_matches_brute_force_scan(res):
    jn = johnson_neyman(res, "Y", "X", "Z")
    grid = np.linspace(jn.mean - 10 * jn.sd, jn.mean + 10 * jn.sd, 200001)
    tab = simple_slopes(res, "Y", "X", "Z", at=grid)
    sig = np.abs(tab["z"].to_numpy()) > stats.norm.ppf(0.975)
    crossings = grid[1:][np.diff(sig.astype(int)) != 0]
    step = grid[1] - grid[0]
    assert len(crossings) == len(jn.bounds) == 2
    np.testing.assert_allclose(crossings, jn.bounds, atol=step)
    np.testing.assert_array_equal(jn.is_significant(grid), sig)
    # the slope of X is positive and significant for Z above the upper bound
    assert not jn.significant_inside
    assert "outside" in jn.describe()


def _stub(g1, g3, V, mean=0.0, sd=1.0):
    est = pd.DataFrame(
        {"lhs": ["Y", "Y"], "op": ["~", "~"], "rhs": ["X", "X:Z"], "est": [g1, g3]}
    )
    eng = SimpleNamespace(
        row_free_index=np.array([1, 2]),
        implied_latent=lambda th: (np.array([0.0, mean]), np.diag([1.0, sd**2])),
        model=SimpleNamespace(variables=("X", "Z")),
    )
    return SimpleNamespace(estimates=est, vcov=np.asarray(V), theta=np.zeros(2), engine=eng)


@pytest.mark.parametrize(
    "g1, g3, V, kind",
    [
        (0.05, 0.02, [[0.01, 0.0], [0.0, 0.0004]], "inside_or_none"),
        (0.10, 0.30, [[0.01, 0.002], [0.002, 0.004]], "outside"),
        (0.50, 0.01, [[0.001, 0.0], [0.0, 0.0001]], "inside"),
        (0.50, 0.00, [[0.001, 0.0], [0.0, 0.0]], "always"),
        (0.01, 0.00, [[0.01, 0.0], [0.0, 0.0]], "never"),
    ],
)
def test_johnson_neyman_cases_against_scan(g1, g3, V, kind):
    r = _stub(g1, g3, V)
    jn = johnson_neyman(r, "Y", "X", "Z")
    grid = np.linspace(-400, 400, 400001)
    sig = jn.is_significant(grid)
    slope = g1 + g3 * grid
    var = V[0][0] + 2 * grid * V[0][1] + grid**2 * V[1][1]
    brute = slope**2 > stats.norm.ppf(0.975) ** 2 * var
    np.testing.assert_array_equal(sig, brute)
    crossings = grid[1:][np.diff(brute.astype(int)) != 0]
    np.testing.assert_allclose(crossings, [b for b in jn.bounds if -400 < b < 400],
                               atol=grid[1] - grid[0])  # fmt: skip
    if kind == "always":
        assert jn.always_significant and brute.all()
    elif kind == "never":
        assert jn.never_significant and not brute.any()
    elif kind == "inside":
        assert jn.significant_inside and len(jn.bounds) == 2
    elif kind == "outside":
        assert not jn.significant_inside and len(jn.bounds) == 2


def test_plots(res, tmp_path):
    fig = plot_simple_slopes(res, "Y", "X", "Z")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 4  # three slopes and the zero line
    for ext in ("png", "svg"):
        fig.savefig(tmp_path / f"slopes.{ext}")
        assert (tmp_path / f"slopes.{ext}").stat().st_size > 1000
    fig2 = plot_johnson_neyman(res, "Y", "X", "Z")
    jn = johnson_neyman(res, "Y", "X", "Z")
    texts = " ".join(t.get_text() for t in fig2.axes[0].texts)
    for b in jn.bounds:
        if abs(b - jn.mean) <= 3 * jn.sd:
            assert f"{b:.2f}" in texts
    fig2.savefig(tmp_path / "jn.png")
    assert (tmp_path / "jn.png").stat().st_size > 1000


def test_errors(res):
    assert interaction_terms(res) == [("Y", "X:Z")]
    with pytest.raises(CkmError, match="no product term"):
        simple_slopes(res, "Y", "X", "Y")
    with pytest.raises(CkmError, match="must differ"):
        simple_slopes(res, "Y", "X", "X")
    with pytest.raises(CkmError, match="'level' parameter"):
        johnson_neyman(res, "Y", "X", "Z", level=95)
