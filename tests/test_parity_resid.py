"""residuals() against lavaan 0.6.14's lavResiduals() under FIML (lavaan parity issue).

Fixtures: tests/reference/R/parity/resid.R (``parity_resid_*``: a MIMIC model with
the covariates ageyr, sex, grade under ``missing = "ml"``, ML and MLR; the HS CFA
with 10% MCAR, MLR; the weighted FIML SEM with covariates), which store
``lavResiduals(fit)`` for the types cor.bentler, raw and cor.bollen, and
``resid(fit, type = "standardized")`` and ``"normalized"`` (also for complete
data: ``parity_resid_hs_ml``, ``_hs_mlr``, ``_mimic_mlr``); and the
``lavResiduals`` every other FIML fixture with covariates stores (fimlx.R,
structure.R, weights.R).

lavaan's asymptotic covariance of the residuals under FIML uses the saturated
model's observed information with missing data, with the fixed covariates'
moments zeroed and left out of the inverse (``x.idx``), at the EM moments and at
the fitted ones; before, ours kept the covariates' moments there, and cov.z,
mean.z and the summaries' standard errors differed from lavaan's.  The
"normalized" residuals divide by the standard errors of the sample moments
(lavaan's ``lav_model_h1_acov``): before, ours used the normal-theory expected
information at the sample moments for every fit, which differs from lavaan's
for MLR, with fixed covariates and under FIML.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ckm_research import residuals
from tests.reference_compare import fit_like_lavaan, load

OWN = [
    "resid_fimlx_mimic_ml",
    "resid_fimlx_mimic_mlr",
    "resid_fiml_hs_mlr",
    "resid_weights_sem_fiml_mlr",
]
#: complete data (normalized residuals)
COMPLETE = ["resid_hs_ml", "resid_hs_mlr", "resid_mimic_mlr"]
#: other topics' FIML fixtures with fixed covariates (their lavResiduals, cor.bentler)
OTHERS = [
    "fimlx_mimic_ml",
    "fimlx_mimic_mlr",
    "fimlx_mimic_mlx",
    "fimlx_mimic_mlx_mlr",
    "fimlx_mimic_group_mlr",
    "fimlx_mimic_group_mlx",
    "fimlx_path_ml",
    "fimlx_path_mlx_mlr",
    "structure_fiml_covariates",
    "structure_fiml_covariates_mlr",
    "weights_sem_fiml_mlr",
]


class _Fits(dict):
    """Each case fitted once, when first asked for."""

    def __missing__(self, case):
        ref = load(f"parity_{case}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lavaan's deletion of cases with a missing covariate
            self[case] = (ref, fit_like_lavaan(ref))
        return self[case]


@pytest.fixture(scope="module")
def fits():
    return _Fits()


def _matrix(m) -> pd.DataFrame:
    vals = np.array([[np.nan if v is None else v for v in row] for row in m["values"]], float)
    return pd.DataFrame(vals, index=m["rownames"], columns=m["colnames"])


def _vector(v) -> pd.Series:
    return pd.Series({k: np.nan if x is None else x for k, x in v.items()}, dtype=float)


def _compare(ours: dict, lav: dict) -> None:
    """lavaan's list against ours, matched by variable name (lavaan lists the
    covariates last; we keep the order of the model's observed variables)."""
    assert ours["type"] == lav["type"]
    keys = [k for k in lav if k != "type"]
    assert set(keys) <= set(ours), (keys, list(ours))
    for key in keys:
        if key == "summary":
            want = pd.DataFrame(lav[key]).T.astype(float)
            # lavaan 0.6.14 misspells one row of the CRMR summary
            want = want.rename(index={"ucrmr.cilupper": "ucrmr.ci.upper"})
            got = ours[key]
            assert list(got.columns) == list(want.columns)
            assert list(got.index) == list(want.index)
            z = want.index.str.endswith(".z") | want.index.str.endswith(".pvalue")
            np.testing.assert_allclose(
                got[~z].to_numpy(), want[~z].to_numpy(), atol=1e-4, rtol=1e-4, err_msg=key
            )
            # test statistics and their p-values: ratios, as cov.z; the means'
            # close-fit z (-18 to -110) divides by a standard error of order 1e-3:
            # 1e-3 relative, as fit measures
            np.testing.assert_allclose(
                got[z].to_numpy(), want[z].to_numpy(), atol=1e-3, rtol=1e-3, err_msg=key
            )
            continue
        # z statistics are ratios of two estimated quantities: 1e-3 absolute
        z_type = lav["type"] in ("standardized", "normalized")
        atol = 1e-3 if key.endswith(".z") or z_type else 1e-4
        if "values" in lav[key]:
            want = _matrix(lav[key])
            got = ours[key].loc[want.index, want.columns]
        else:
            want = _vector(lav[key])
            got = ours[key][want.index]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=atol, err_msg=key)


def _per_group(ours, lav, ngroups):
    return [(ours[g], lav[g]) for g in lav] if ngroups > 1 else [(ours, lav)]


@pytest.mark.parametrize("case", OWN + OTHERS)
def test_cor_bentler_residuals_z_and_srmr_like_lavaan(fits, case):
    ref, res = fits[case]
    for ours, lav in _per_group(residuals(res), ref["lavResiduals"], res.ngroups):
        _compare(ours, lav)


@pytest.mark.parametrize("case", OWN)
@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("raw", "lavResiduals_raw"),
        ("cor.bollen", "lavResiduals_cor_bollen"),
        ("standardized", "resid_standardized"),
        ("normalized", "resid_normalized"),
    ],
)
def test_other_residual_types_like_lavaan(fits, case, kind, key):
    ref, res = fits[case]
    for ours, lav in _per_group(residuals(res, type=kind), ref[key], res.ngroups):
        _compare(ours, lav)


def test_covariates_moments_have_no_z(fits):
    """lavaan's residuals of the covariates' own moments are zero, and so are
    their z statistics (the moments carry no information under fixed.x)."""
    ref, res = fits["resid_fimlx_mimic_ml"]
    ours = residuals(res)
    ox = ref["ov_x"]
    assert ox == ["ageyr", "sex", "grade"]
    np.testing.assert_array_equal(ours["cov.z"].loc[ox, ox].to_numpy(), 0.0)
    np.testing.assert_array_equal(ours["mean.z"][ox].to_numpy(), 0.0)
    # and lavaan's cov.z of the indicators with the covariates are not zero
    assert np.all(_matrix(ref["lavResiduals"]["cov.z"]).loc["x1", ox].abs() > 1e-3)


@pytest.mark.parametrize("case", COMPLETE)
def test_normalized_residuals_like_lavaan(fits, case):
    """resid(fit, type = "normalized") divides by lavaan's lav_model_h1_acov: the
    sandwich for MLR, with the fixed covariates' moments left out."""
    ref, res = fits[case]
    _compare(residuals(res, type="normalized"), ref["resid_normalized"])
    _compare(residuals(res), ref["lavResiduals"])


@pytest.mark.parametrize("case", OTHERS)
def test_standardized_residuals_of_other_fiml_fixtures_like_lavaan(fits, case):
    ref, res = fits[case]
    got = residuals(res, type="standardized")
    for ours, lav in _per_group(got, ref["resid_standardized"], res.ngroups):
        _compare(ours, lav)
