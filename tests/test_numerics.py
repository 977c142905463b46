"""The shared numerics layer (issue 10): one optimiser, one derivative helper, one Wald
table, one JSON cleaner, one BLAS limit, one file digest, one ``:=`` evaluator.

The Wald table is checked against lavaan's ``parameterEstimates()`` /
``standardizedSolution()`` columns stored in the engine fixtures; the other helpers
against closed forms.  That the engines give the same numbers through these helpers
is checked by the engine fixture tests (tests/test_sem_*.py, test_parity_*.py).
"""

from __future__ import annotations

import ast
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckm_research.errors import ModelSpecificationError
from ckm_research.numerics import (
    minimize,
    numerical_hessian,
    numerical_jacobian,
    sha256_file,
    single_thread_blas,
    to_json_ready,
    wald_table,
)
from ckm_research.sem.syntax import DefinedParameters, evaluate_definitions, parse_model
from tests.reference_compare import load

ROOT = Path(__file__).resolve().parents[1] / "ckm_research"


# ---------------------------------------------------------------- Wald table
@pytest.mark.parametrize("case", ["engine_hs_cfa_ml", "engine_poldem_mlr"])
def test_wald_table_reproduces_lavaan_parameter_estimates(case):
    ref = pd.DataFrame(load(case)["estimates"])
    free = ref["se"].astype(float) > 0
    ref = ref[free]
    w = wald_table(ref["est"].to_numpy(float), ref["se"].to_numpy(float), 0.95)
    for col in ("z", "pvalue", "ci.lower", "ci.upper"):
        np.testing.assert_allclose(w[col], ref[col].to_numpy(float), rtol=1e-9, atol=1e-12)
    # standardizedSolution: the same formulas on est.std and se.std
    ws = wald_table(ref["std.all"].to_numpy(float), ref["se.std"].to_numpy(float), 0.95)
    np.testing.assert_allclose(ws["z"], ref["z.std"].to_numpy(float), rtol=1e-9)
    np.testing.assert_allclose(ws["ci.lower"], ref["ci.lower.std"].to_numpy(float), rtol=1e-9)


def test_wald_table_fixed_parameters_and_level():
    w = wald_table(np.array([1.0, 0.5]), np.array([0.0, 0.25]), level=0.90)
    assert math.isnan(w["z"][0]) and math.isnan(w["pvalue"][0])
    assert w["ci.lower"][0] == w["ci.upper"][0] == 1.0  # a fixed value is its own interval
    assert w["ci.upper"][1] == pytest.approx(0.5 + 1.6448536269514722 * 0.25, rel=1e-12)
    # se_min=None: plain division (an infinite z where se is 0)
    assert np.isinf(wald_table(np.array([1.0]), np.array([0.0]), se_min=None)["z"][0])


# ---------------------------------------------------------------- optimiser
def _rosenbrock(x):
    f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
    return f, g


def _rosenbrock_newton(x, f, g, it, s):
    H = np.array([[2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]], [-400 * x[0], 200.0]])
    d = -np.linalg.solve(H, g)
    if g @ d >= 0:  # not a descent direction: steepest descent
        d = -g
    return d, float(g @ d)


def test_minimize_newton_with_step_halving_finds_the_minimum():
    res = minimize(_rosenbrock, np.array([-1.2, 1.0]), _rosenbrock_newton, ftol=1e-14, xtol=1e-9)
    assert res.status == "converged"
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.fun < 1e-12


def test_minimize_reports_no_descent_and_max_iter():
    def uphill(x, f, g, it, s):
        return g, float(g @ g)  # an ascent direction: no step length decreases f

    res = minimize(_rosenbrock, np.array([-1.2, 1.0]), uphill)
    assert res.status == "no_descent" and res.nit == 1
    np.testing.assert_array_equal(res.x, [-1.2, 1.0])
    # accept_below_min takes the tiny step instead
    res = minimize(_rosenbrock, np.array([-1.2, 1.0]), uphill, armijo=0.0,
                   accept_below_min=True, min_alpha=1e-8, max_iter=2)  # fmt: skip
    assert res.status == "max_iter" and res.nit == 2


def test_minimize_quasi_newton_gets_the_last_step():
    steps = []

    def direction(x, f, g, it, s):
        steps.append(s)
        return -g / 400.0, float(-(g @ g) / 400.0)

    minimize(_rosenbrock, np.array([0.5, 0.5]), direction, max_iter=3)
    assert steps[0] is None and steps[1] is not None and steps[1].shape == (2,)


# ---------------------------------------------------------------- derivatives
def test_numerical_jacobian_and_hessian_closed_form():
    x = np.array([0.3, -1.2, 2.0])

    def fun(t):
        return np.array([np.sin(t[0]) * t[1], t[2] ** 3, t[0] * t[1] * t[2]])

    J = numerical_jacobian(fun, x)
    exact = np.array(
        [
            [np.cos(x[0]) * x[1], np.sin(x[0]), 0],
            [0, 0, 3 * x[2] ** 2],
            [x[1] * x[2], x[0] * x[2], x[0] * x[1]],
        ]
    )
    np.testing.assert_allclose(J, exact, atol=1e-8)
    # only some columns: the others are 0, the chosen ones identical
    Jc = numerical_jacobian(fun, x, columns=[2, -1])
    np.testing.assert_array_equal(Jc[:, 2], J[:, 2])
    assert not Jc[:, :2].any()

    def grad(t):  # gradient of t0^2 t1 + t2^2
        return np.array([2 * t[0] * t[1], t[0] ** 2, 2 * t[2]])

    H = numerical_hessian(grad, x)
    np.testing.assert_allclose(H, [[2 * x[1], 2 * x[0], 0], [2 * x[0], 0, 0], [0, 0, 2]], atol=1e-8)
    assert np.array_equal(H, H.T)


# ---------------------------------------------------------------- := evaluator
def test_defined_parameters_one_evaluator():
    text = "y ~ a*m + c*x\nm ~ b*x\nab := a*b\ntot := ab + c\nr := log(a)^2"
    defs = parse_model(text).definitions
    labels = ["a", "c", "b", "", "a"]
    values = np.array([0.5, 0.1, 0.4, 9.0, 7.0])  # a repeated label: the first row counts
    dp = DefinedParameters(defs, labels)
    np.testing.assert_allclose(dp.values(values), [0.2, 0.3, math.log(0.5) ** 2])
    assert dp.rows.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(evaluate_definitions(defs, labels, values), dp.values(values))
    with pytest.raises(ModelSpecificationError, match="'ab' .*uses 'b', which is not"):
        DefinedParameters(defs, ["a", "c"])
    bad = np.array([-0.5, 0.1, 0.4, 9.0, 7.0])
    with pytest.raises(ArithmeticError, match="cannot evaluate 'r := log"):
        dp.values(bad)
    with pytest.raises(ModelSpecificationError, match=r"'r := log\(a\)\^2' \(line 5\)"):
        evaluate_definitions(defs, labels, bad)


# ---------------------------------------------------------------- JSON, digest, BLAS
def test_to_json_ready():
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None]})
    out = to_json_ready(
        {"f": np.float32(0.5), "i": np.int64(3), "b": np.bool_(False), "inf": -np.inf,
         "t": (1, np.nan), "arr": np.array([[1, 2]]), "df": frame, "na": pd.NA,
         "p": Path("x") / "y", 7: "seven"}
    )  # fmt: skip
    assert out == {
        "f": 0.5, "i": 3, "b": False, "inf": None, "t": [1, None], "arr": [[1, 2]],
        "df": [{"a": 1.5, "b": "x"}, {"a": None, "b": None}], "na": None,
        "p": str(Path("x") / "y"), "7": "seven",
    }  # fmt: skip
    assert type(out["i"]) is int and type(out["f"]) is float


def test_sha256_file(tmp_path):
    data = bytes(range(256)) * 5000  # more than one 1 MiB chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_single_thread_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library that threadpoolctl can limit")
    with single_thread_blas():
        inner = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                 if p["user_api"] == "blas"]  # fmt: skip
    assert inner and all(n == 1 for n in inner)


# ---------------------------------------------------------------- one home each
def test_numerics_is_a_leaf_and_has_no_duplicates_elsewhere():
    for path in (ROOT / "numerics").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("ckm_research.") or node.module.startswith(
                    "ckm_research.numerics"
                ), f"{path.name} imports {node.module}"
    # the duplicates issue 10 found are gone (lms.py is being rewritten separately)
    defs = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defs.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert defs["sha256_file"] == ["numerics/serialize.py"]
    assert defs["numerical_jacobian"] == ["numerics/derivatives.py"]
    assert len(defs["PopulationModel"]) == 1
    assert "to_jsonable" not in defs and "clean_json" not in defs
    assert not (ROOT / "sem" / "numdiff.py").exists()


def test_spd_inverse_equals_lu_inverse_and_falls_back():
    from ckm_research.numerics import spd_inverse

    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 40))
    spd = a @ a.T / 40 + np.eye(40)
    inv = spd_inverse(spd)
    np.testing.assert_allclose(inv, np.linalg.inv(spd), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(inv, inv.T)
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])  # not positive definite: LU
    np.testing.assert_allclose(spd_inverse(indefinite), np.linalg.inv(indefinite))
    with pytest.raises(np.linalg.LinAlgError):
        spd_inverse(np.zeros((3, 3)))
