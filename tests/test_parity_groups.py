"""Multiple groups and df = 0 against lavaan 0.6.14 (lavaan parity issue, topic "groups").

Fixtures: tests/reference/R/parity/groups.R (``Rscript tests/reference/make_reference.R
parity:groups_...``), written to tests/reference/json/parity_groups_*.json.
"""

from __future__ import annotations

import pytest

from tests.reference_compare import compare_estimates, compare_fit, fit_like_lavaan, load

#: the measures a multi-group robust FIML fit must reproduce; the *.scaled
#: baseline ones follow from the independence model's scaling factor
MLR_FIML_REQUIRED = [
    "chisq",
    "df",
    "chisq.scaled",
    "chisq.scaling.factor",
    "baseline.chisq",
    "baseline.chisq.scaled",
    "baseline.chisq.scaling.factor",
    "cfi.scaled",
    "tli.scaled",
    "nnfi.scaled",
    "rfi.scaled",
    "nfi.scaled",
    "ifi.scaled",
    "rni.scaled",
    "cfi.robust",
    "tli.robust",
    "rmsea.robust",
    "rmsea.scaled",
    "srmr",
]


@pytest.fixture(scope="module")
def fits():
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            ref = load(f"parity_groups_{case}")
            cache[case] = (ref, fit_like_lavaan(ref))
        return cache[case]

    return get


# ---- 1. robust FIML with several groups ---------------------------------------------
@pytest.mark.parametrize("case", ["hs_missing_mlr", "hs_missing_ml"])
def test_fiml_groups_estimates(fits, case):
    ref, res = fits(case)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if "mlr" in case else 0.01)


def test_fiml_groups_mlr_baseline_scaled_per_group(fits):
    """The independence model has its own parameters in each group: its scaling
    factor (and with it baseline.chisq.scaled, cfi.scaled, tli.scaled) comes from a
    block-diagonal information, not one pooled over the groups."""
    ref, res = fits("hs_missing_mlr")
    compare_fit(res.fit_measures, ref["fit"], required=MLR_FIML_REQUIRED)


def test_fiml_groups_ml_fit(fits):
    ref, res = fits("hs_missing_ml")
    compare_fit(
        res.fit_measures,
        ref["fit"],
        required=["chisq", "baseline.chisq", "cfi", "tli", "rmsea", "cfi.robust", "srmr"],
    )


# ---- 2. residual-based measures with several groups -------------------------------------
RESIDUAL_MEASURES = [
    "rmr",
    "rmr_nomean",
    "srmr",
    "srmr_bentler",
    "srmr_bentler_nomean",
    "crmr",
    "crmr_nomean",
    "srmr_mplus",
    "srmr_mplus_nomean",
]


@pytest.mark.parametrize(
    "case",
    [
        "hs_ml",
        "hs_mlr",
        "hs_missing_ml",
        # the variances are not reproduced (equal residuals, structural part): lavaan's
        # crmr scales the implied means by the sample standard deviations
        "sem_load_int",
        "sem_regr_resid",
        "sem_all",
    ],
)
def test_residual_measures_groups(fits, case):
    ref, res = fits(case)
    compare_fit(
        res.fit_measures,
        {k: ref["fit"][k] for k in RESIDUAL_MEASURES},
        atol=1e-5,
        required=RESIDUAL_MEASURES,
    )


@pytest.mark.parametrize("case", ["hs_ml", "hs_mlr"])
def test_complete_data_groups(fits, case):
    ref, res = fits(case)
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if "mlr" in case else 0.01)
    req = ["chisq", "cfi", "tli", "rmsea", "baseline.chisq", "aic", "bic", "gfi"]
    if case.endswith("mlr"):
        req += ["chisq.scaled", "baseline.chisq.scaled", "cfi.scaled", "cfi.robust"]
    compare_fit(res.fit_measures, ref["fit"], required=req)


# ---- 3. a saturated model (df = 0) -----------------------------------------------------
#: lavaan's Hoelter N at df = 0 is 1 when its chi-square is rounding noise above machine
#: epsilon, NA when it is exactly 0; ours is NaN (documented in fit_measures.other_indices)
DF0_NOISE = {"cn_05", "cn_01"}


@pytest.mark.parametrize("case", ["df0_ml", "df0_mlr", "df0_fiml", "df0_fiml_mlr", "df0_ml_2g"])
def test_saturated_model(fits, case):
    ref, res = fits(case)
    assert ref["fit"]["df"] == 0
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)
    lav = {k: v for k, v in ref["fit"].items() if k not in DF0_NOISE}
    required = ["rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "cfi", "tli"]
    if "mlr" in case:
        required += ["chisq.scaled", "baseline.chisq.scaled", "cfi.scaled", "tli.scaled"]
    if "mlr" in case or "fiml" in case:
        required += ["rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]
    if "fiml" in case:
        required += ["cfi.robust", "tli.robust", "rni.robust"]
    compare_fit(res.fit_measures, lav, required=required)
    # what lavaan leaves NA (p-values, the scaling factor, the scaled RMSEA ...) is NaN
    na = [k for k, v in lav.items() if v is None and k in res.fit_measures]
    assert "rmsea.pvalue" in na and "rmsea.notclose.pvalue" in na
    not_nan = [k for k in na if res.fit_measures[k] == res.fit_measures[k]]
    assert not not_nan, f"lavaan gives NA for {not_nan}"
    missing = [k for k, v in lav.items() if v is not None and k not in res.fit_measures]
    assert set(missing) <= {"gfi", "agfi", "pgfi"}, missing  # GFI under FIML: not computed
    assert all(res.fit_measures[k] != res.fit_measures[k] for k in DF0_NOISE)


# ---- 4. group.equal, group.partial and labels shared across groups --------------------
EQUALITY_CASES = [
    "sem_free",
    "sem_load_int",
    "sem_all",
    "sem_regr_resid",
    "sem_lv",
    "sem_lv_only",
    "sem_partial",
    "sem_partial_mlr",
    "shared_label",
    "shared_label_partial",
    "fixed_one_group",
    "stdlv_load",
    "stdlv_load_int_lvvar",
    "covariate_fixedx",
    "covariate_fixedx_false",
    "fiml_equal_partial",
]


@pytest.mark.parametrize("case", EQUALITY_CASES)
def test_group_equal_partial_and_labels(fits, case):
    """Every group.equal value lavaan has (thresholds: see the WLSMV test below),
    group.partial, c(a, a) labels and equalities that involve a fixed parameter give
    lavaan's free parameters, estimates, SEs and fit."""
    ref, res = fits(case)
    robust = ref["args"].get("estimator") == "MLR"
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02 if robust else 0.01)
    required = ["npar", "df", "chisq", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
    if robust:
        required += ["chisq.scaled", "cfi.scaled", "cfi.robust"]
    compare_fit(res.fit_measures, ref["fit"], required=required)
    # the same parameters are free, and the same ones are equal, as in lavaan's
    # parameter table (lavaan 0.6.14 numbers every row and adds .pX. == .pY. rows)
    assert _equality_classes(ref["partable"]) == _our_classes(res.engine.pt.table)


def _equality_classes(partable: list[dict]) -> set[frozenset]:
    """Sets of (lhs, op, rhs, group) rows that lavaan estimates as one parameter."""
    by_plabel = {r["plabel"]: r for r in partable if r.get("plabel")}
    by_label: dict = {}
    parent = {}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    rows = [r for r in partable if r["op"] not in ("==", ":=", "<", ">") and r["free"] > 0]
    for r in rows:
        parent[r["plabel"]] = r["plabel"]
        if r["label"]:
            by_label.setdefault(r["label"], []).append(r["plabel"])
    for plabels in by_label.values():
        for p in plabels[1:]:
            parent[find(p)] = find(plabels[0])
    for r in partable:
        if r["op"] == "==" and r["lhs"] in parent and r["rhs"] in parent:
            parent[find(r["rhs"])] = find(r["lhs"])
    classes: dict = {}
    for r in rows:
        key = (r["lhs"], r["op"], r["rhs"] or "", int(r["group"]))
        classes.setdefault(find(r["plabel"]), set()).add(key)
    assert all(p in by_plabel for p in parent)
    return {frozenset(c) for c in classes.values()}


def _our_classes(table) -> set[frozenset]:
    classes: dict = {}
    for r in table.itertuples():
        if r.free > 0:
            classes.setdefault(r.free, set()).add((r.lhs, r.op, r.rhs or "", int(r.group)))
    return {frozenset(c) for c in classes.values()}


def test_group_partial_spaces_and_string(fits):
    """lavaan removes the spaces of group.partial entries; a single string is one entry."""
    ref, _ = fits("sem_partial")
    res = fit_like_lavaan(ref, group_partial=["visual =~ x2", " x3 ~1 "])
    compare_fit(res.fit_measures, ref["fit"], required=["npar", "df", "chisq"])
    ref, _ = fits("fiml_equal_partial")
    assert ref["args"]["group.partial"] == "x3~1"


@pytest.mark.parametrize(
    ("partial", "match"),
    [
        (["visual=~x9"], "'visual=~x9', which is not a parameter"),
        (["x4~~x1"], "the model writes it 'x1~~x4'"),
        ([3], "must be strings"),
    ],
)
def test_group_partial_errors(fits, partial, match):
    from ckm_research.errors import ModelSpecificationError

    ref, _ = fits("sem_partial")
    with pytest.raises(ModelSpecificationError, match=match):
        fit_like_lavaan(ref, group_partial=partial)


def test_modifier_values_per_group():
    """lavaan stops on c(a, a, a)*x2 with two groups ("wrong number of arguments")."""
    from ckm_research import fit
    from ckm_research.errors import ModelSpecificationError
    from tests.reference_compare import load_data

    ref = load("parity_groups_shared_label")
    with pytest.raises(ModelSpecificationError, match="has 3 values but the model has 2 group"):
        fit(ref["model"].replace("c(a,a)", "c(a,a,a)"), load_data(ref), group="school")


# ---- more than two groups -----------------------------------------------------------------
def test_three_groups_robust_fiml(fits):
    ref, res = fits("age3_missing_mlr")
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)
    compare_fit(res.fit_measures, ref["fit"], required=MLR_FIML_REQUIRED)


def test_three_groups_equalities(fits):
    """group.equal, group.partial and c(a, a, b) labels with three groups (MLR)."""
    ref, res = fits("age3_equal")
    compare_estimates(res.estimates, ref["estimates"], se_rtol=0.02)
    compare_fit(
        res.fit_measures,
        ref["fit"],
        required=["npar", "df", "chisq", "chisq.scaled", "cfi.scaled", "cfi.robust", "crmr"],
    )
    assert _equality_classes(ref["partable"]) == _our_classes(res.engine.pt.table)
