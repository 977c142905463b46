"""FIML with observed exogenous covariates against lavaan 0.6.14 (lavaan parity issue).

Fixtures: tests/reference/R/parity/fimlx.R (``parity_fimlx_*``), on
HolzingerSwineford1939 x1..x9 with 10% of the cells MCAR and the covariates
ageyr, sex, grade, seven of whose rows miss a covariate.  lavaan's conventions
under ``fixed.x = TRUE``:

* ``missing = "ml"`` deletes the cases with a missing covariate (with a warning);
* ``missing = "ml.x"`` keeps them, the covariates entering the likelihood;
* either way logl and unrestricted.logl leave out the covariates' own
  log-likelihood, the baseline model keeps the covariates' block fixed, and
  the robust (MLR) statistics leave out the covariates' moments.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ckm_research.errors import CkmError
from tests.reference_compare import compare_estimates, compare_fit, fit_like_lavaan, load

CASES = [
    "fimlx_mimic_ml",
    "fimlx_mimic_mlr",
    "fimlx_mimic_mlx",
    "fimlx_mimic_mlx_mlr",
    "fimlx_mimic_fixedx_false_mlr",
    "fimlx_mimic_group_mlr",
    "fimlx_mimic_group_mlx",
    "fimlx_path_ml",
    "fimlx_path_mlx_mlr",
]

#: the measures the task is about: all must be present on both sides
REQUIRED = [
    "npar", "chisq", "df", "pvalue", "logl", "unrestricted.logl", "aic", "bic", "bic2",
    "baseline.chisq", "baseline.df", "cfi", "tli", "nfi", "rfi", "ifi", "rni", "pnfi",
    "rmsea", "srmr", "ecvi", "mfi",
]  # fmt: skip
REQUIRED_MLR = [
    "chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
    "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "rmsea.scaled",
    "cfi.robust", "tli.robust", "rmsea.robust",
]  # fmt: skip


class _Fits(dict):
    """Each case fitted once, when first asked for."""

    def __missing__(self, case):
        ref = load(f"parity_{case}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self[case] = (ref, fit_like_lavaan(ref))
        return self[case]


@pytest.fixture(scope="module")
def fits():
    return _Fits()


@pytest.mark.parametrize("case", CASES)
def test_estimates_and_fit_like_lavaan(fits, case):
    ref, res = fits[case]
    robust = ref["args"]["estimator"] == "MLR"
    nobs = ref["nobs"]
    required = REQUIRED + (REQUIRED_MLR if robust else [])
    compare_fit(res.fit_measures, ref["fit"], required=required)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if robust else 0.01)
    assert res.n == (sum(nobs) if isinstance(nobs, list) else nobs)


@pytest.mark.parametrize("case", CASES)
def test_standardized_ses_like_lavaan(fits, case):
    ref, res = fits[case]
    ss = res.standardized_solution
    lav = {(r["lhs"], r["op"], r["rhs"], r.get("group", 1)): r["se.std"] for r in ref["estimates"]}
    checked = 0
    for row in ss.itertuples(index=False):
        se_lav = lav.get((row.lhs, row.op, row.rhs, row.group if "group" in ref["args"] else 1))
        if se_lav and se_lav > 1e-8:
            tol = 0.02 if ref["args"]["estimator"] == "MLR" else 0.01
            assert row.se == pytest.approx(se_lav, rel=tol), (row.lhs, row.op, row.rhs)
            checked += 1
    assert checked >= 8


def test_ml_deletes_cases_with_a_missing_covariate(fits):
    ref, res = fits["fimlx_mimic_ml"]
    deleted = ref["norig"] - ref["nobs"]
    assert deleted == 6 and f"{deleted} cases were deleted" in ref["warnings"][0]
    note = [w for w in res.warnings if "exogenous covariate" in w]
    assert len(note) == 1
    assert note[0].startswith(f"{deleted} of {ref['norig']} cases") and "missing='ml.x'" in note[0]
    # ml.x keeps them, as lavaan
    ref_x, res_x = fits["fimlx_mimic_mlx"]
    assert res_x.n == ref_x["nobs"] == ref_x["norig"]
    assert not any("exogenous covariate" in w for w in res_x.warnings)


def test_fixed_x_false_keeps_every_case(fits):
    """lavaan deletes the cases only with fixed.x = TRUE."""
    ref, res = fits["fimlx_mimic_fixedx_false_mlr"]
    assert res.n == ref["nobs"] == ref["norig"]
    assert not any("exogenous covariate" in w for w in res.warnings)


def test_ml_deletes_per_group(fits):
    ref, res = fits["fimlx_mimic_group_mlr"]
    assert list(res.n_per_group) == ref["nobs"]
    for label, n_orig, n_kept in zip(res.group_labels, ref["norig"], ref["nobs"], strict=True):
        note = [w for w in res.warnings if f"in group {label} " in w]
        assert len(note) == 1 and note[0].startswith(f"{n_orig - n_kept} of {n_orig} cases")


def test_ml_x_is_refused_with_wlsmv():
    ref = load("parity_fimlx_mimic_mlx")
    with pytest.raises(CkmError, match="missing='ml.x' is not available with WLSMV"):
        fit_like_lavaan(ref, estimator="WLSMV", ordered="all")


def test_cli_passes_ml_x(tmp_path, capsys):
    from ckm_research.cli import main
    from tests.reference_compare import REF

    ref = load("parity_fimlx_mimic_mlx")
    model = tmp_path / "mimic.lav"
    model.write_text(ref["model"])
    out = tmp_path / "fit.json"
    data = REF / ref["data_csv"]
    code = main(["fit", str(model), str(data), "--missing", "ml.x", "--json", str(out)])
    assert code == 0
    import json

    got = json.loads(out.read_text())
    assert got["n"] == ref["nobs"]
    assert np.isclose(got["fit"]["logl"], ref["fit"]["logl"], atol=1e-3)
