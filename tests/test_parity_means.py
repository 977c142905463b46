"""Mean structures as lavaan users write them, against lavaan 0.6.14 fixtures
(tests/reference/R/parity/means.R).

* A latent mean the user writes (``f ~ 1``) is free: lavaan's ``int.lv.free =
  FALSE`` fixes only the latent means it adds itself.  The old code fixed it at 0
  (the growth model gave chi-square 366 on 7 df instead of 8.07 on 5; the HS CFA
  with ``visual ~ 1`` stopped as "not identified").

Tolerances of the engine issue: estimates 1e-3 absolute, SEs 1 % relative (2 %
robust), std.all 1e-3, fit measures 1e-3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.reference_compare import compare_estimates, compare_fit, fit_like_lavaan, load

REQUIRED = [
    "npar",
    "chisq",
    "df",
    "pvalue",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "aic",
    "bic",
    "logl",
    "baseline.chisq",
    "baseline.df",
]
REQUIRED_MLR = ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"]

#: item 1: models written in full syntax, fitted by lavaan's sem()
WRITTEN_CASES = [
    "means_hs_latent_mean_ml",
    "means_hs_latent_mean_mlr",
    "means_growth_written_ml",
    "means_growth_cov_written_ml",
    "means_growth_cov_written_mlr",
]


def check_against(ref: dict, res) -> None:
    """Estimates, SEs, std.all and their SEs, fit measures and implied moments."""
    robust = ref["args"].get("estimator") == "MLR"
    rtol = 0.02 if robust else 0.01
    assert res.n == ref["nobs"]
    compare_estimates(res.estimates, ref["estimates"], se_rtol=rtol)
    compare_fit(res.fit_measures, ref["fit"], required=REQUIRED + (REQUIRED_MLR if robust else []))
    lav = pd.DataFrame(ref["estimates"])
    lav["rhs"] = lav["rhs"].fillna("")
    ss = res.standardized_solution.rename(columns={"se": "se_ours", "est.std": "std_ours"})
    m = lav.merge(ss, on=["lhs", "op", "rhs"])
    assert len(m) == len(lav)
    ok = m["se.std"].fillna(0) > 1e-8
    np.testing.assert_allclose(m.loc[ok, "se_ours"], m.loc[ok, "se.std"], rtol=rtol)
    cov = ref["implied"]["cov"]
    names = list(cov["rownames"])
    ours = next(iter(res.implied.values()))
    np.testing.assert_allclose(
        ours["cov"].loc[names, names].to_numpy(), np.asarray(cov["values"], float), atol=1e-3
    )
    mean = ref["implied"].get("mean")  # lavaan stores means only with a mean structure
    if mean is not None:
        np.testing.assert_allclose(
            ours["mean"].loc[list(mean)].to_numpy(),
            np.asarray(list(mean.values()), float),
            atol=1e-3,
        )


@pytest.mark.parametrize("name", WRITTEN_CASES)
def test_user_latent_means_are_free(name):
    ref = load(f"parity_{name}")
    res = fit_like_lavaan(ref)
    check_against(ref, res)
    est = res.estimates
    for lv in ("visual", "i", "s"):
        row = est[(est["lhs"] == lv) & (est["op"] == "~1")]
        if len(row):
            assert row["se"].iloc[0] > 0, f"{lv} ~ 1 must be a free parameter"


#: items 2 and 3: growth() and the everyday options, each fitted as lavaan was called
OPTION_CASES = [
    "means_growth_ml",
    "means_growth_mlr",
    "means_growth_cov_ml",
    "means_growth_cov_mlr",
    "means_growth_fiml",
    "means_growth_fiml_mlr",
    "means_hs_meanstructure_ml",
    "means_hs_meanstructure_mlr",
    "means_hs_orthogonal_ml",
    "means_pd_orthogonal_ml",
    "means_hs_orthogonal_sem_ml",
    "means_hs_std_ov_ml",
    "means_hs_std_ov_mlr",
]


@pytest.mark.parametrize("name", OPTION_CASES)
def test_lavaan_options(name):
    ref = load(f"parity_{name}")
    res = fit_like_lavaan(ref)
    check_against(ref, res)


@pytest.mark.parametrize("name", ["means_hs_int_lv_free_ml", "means_hs_int_ov_free_ml"])
def test_int_ov_free_and_int_lv_free(name):
    """lavaan's cfa()/sem() overwrite int.ov.free/int.lv.free, so these fixtures come
    from lavaan() with sem()'s auto.* options; fit() takes the two options as given."""
    ref = load(f"parity_{name}")
    assert ref["fun"] == "lavaan"
    ref = {**ref, "args": {k: v for k, v in ref["args"].items() if not k.startswith("auto.")}}
    res = fit_like_lavaan(ref)
    check_against(ref, res)
