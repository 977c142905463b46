"""Bad models and troublesome data: clear errors and warnings, never silent numbers."""

import numpy as np
import pandas as pd
import pytest

from ckm_research import fit
from ckm_research.errors import (
    CkmError,
    ConvergenceError,
    HeywoodCaseWarning,
    IdentificationError,
    ModelSpecificationError,
    ModelSyntaxError,
)


def _data(cov, n=300, names=None, seed=1):
    rng = np.random.default_rng(seed)
    cov = np.asarray(cov, float)
    x = rng.multivariate_normal(np.zeros(len(cov)), cov, size=n)
    names = names or [f"x{i + 1}" for i in range(len(cov))]
    return pd.DataFrame(x, columns=names)


def _one_factor(n_items=4, loading=0.7, n=300, seed=1):
    c = np.full((n_items, n_items), loading**2)
    np.fill_diagonal(c, 1.0)
    return _data(c, n=n, seed=seed)


def test_negative_degrees_of_freedom():
    data = _one_factor(3)
    # 3 items: 6 moments; 3 loadings (one fixed) + 3 residuals + factor variance + 2 covs = 8 > 6
    with pytest.raises(IdentificationError, match="df = -"):
        fit("F =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ x3", data)


def test_factor_without_scale():
    with pytest.raises(IdentificationError, match="'F'"):
        fit("F =~ NA*x1 + x2 + x3 + x4", _one_factor())


def test_syntax_error_reports_line_and_column():
    with pytest.raises(ModelSyntaxError) as err:
        fit("F =~ x1 + x2\nF ~ ", _one_factor())
    assert err.value.line == 2


def test_absent_variables_are_listed_with_suggestions():
    with pytest.raises(ModelSpecificationError) as err:
        fit("F =~ x1 + x2 + x3 + x5", _one_factor())
    assert "x5" in str(err.value)


def test_unknown_estimator():
    with pytest.raises(CkmError, match="'estimator' parameter of fit must be one of"):
        fit("F =~ x1 + x2 + x3", _one_factor(), estimator="OLS")


def test_non_convergence_is_an_error_not_numbers():
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations"):
        fit("F =~ x1 + x2 + x3 + x4", _one_factor(), control={"iter.max": 2})


def test_bad_control():
    with pytest.raises(CkmError, match="iter.max"):
        fit("F =~ x1 + x2 + x3", _one_factor(), control={"iter.max": 0})


def test_heywood_case_is_a_warning_naming_the_variable():
    # r12 = r13 = .85 and r23 = .6 imply a standardized loading of x1 above 1
    cov = [[1.0, 0.85, 0.85], [0.85, 1.0, 0.6], [0.85, 0.6, 1.0]]
    data = _data(cov, n=2000, seed=3)
    with pytest.warns(HeywoodCaseWarning, match="'x1'"):
        res = fit("F =~ x1 + x2 + x3", data)
    assert any("x1" in w and "negative" in w for w in res.warnings)


def test_listwise_deletion_is_reported():
    data = _one_factor()
    data.iloc[:5, 0] = np.nan
    res = fit("F =~ x1 + x2 + x3 + x4", data)
    assert res.n == 295
    assert any("5 of 300 cases" in w for w in res.warnings)


def test_defined_parameter_with_an_unknown_label():
    with pytest.raises(ModelSpecificationError, match="'ind'.*'zz'"):
        fit("F =~ x1 + a*x2 + x3 + x4\nind := a*zz", _one_factor())
