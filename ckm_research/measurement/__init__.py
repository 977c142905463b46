"""Measurement quality: reliability, validity, common-method checks, invariance.

The methods section of a survey study reports, for the measurement model:

* reliability (:mod:`~ckm_research.measurement.reliability`): Cronbach's
  alpha, composite reliability (omega) and the AVE, as psych and semTools;
* validity (:mod:`~ckm_research.measurement.validity`): standardized
  loadings, HTMT, the Fornell-Larcker table, and flags against cited
  thresholds; :func:`validity_report` gathers everything;
* inference for them (:mod:`~ckm_research.measurement.discriminant`,
  :mod:`~ckm_research.measurement.reliability_inference`): HTMT/HTMT2 with
  bootstrap intervals and the test of H0: HTMT >= c, Ronkko & Cho's (2022)
  CICFA(sys) and chi2(sys), full collinearity VIFs (Kock, 2015), and
  intervals for alpha (Feldt; bootstrap), omega and the AVE (delta method;
  bootstrap); the categorical omega of ordinal items (Green & Yang, 2009);
* common method variance (:mod:`~ckm_research.measurement.cmv`): Harman's
  single-factor test, the unmeasured latent method construct, and the marker
  techniques of Lindell & Whitney (2001) and Williams et al. (2010);
* invariance across groups (:mod:`~ckm_research.measurement.invariance`):
  the configural -> metric -> scalar -> strict sequence with chi-square
  difference tests (Satorra-Bentler 2001 for MLR) and changes in CFI and
  RMSEA, a partial-invariance search by score tests, the ordinal (WLSMV)
  sequence of Wu & Estabrook (2016), Wald tests of equal paths, and groups
  made by cutting a score; :func:`multigroup_comparison`
  (:mod:`~ckm_research.measurement.groups`) runs the whole comparison, as
  ``ckm invariance`` and the pipeline do.

Every number is checked against lavaan 0.6.14 / semTools 0.5.6 / psych
(``tests/reference/R/measurement.R``).
"""

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ``ckm --help`` does not load scipy and pandas
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    {
        **names_from(
            "ckm_research.measurement.cmv",
            ["CFAMarkerResult", "HarmanResult", "LindellWhitneyResult", "ULMCResult",
             "cfa_marker", "harman_single_factor", "lindell_whitney", "ulmc", "cmv_checks"],
        ),
        **names_from(
            "ckm_research.measurement.groups", ["GroupComparison", "multigroup_comparison"]
        ),
        **names_from(
            "ckm_research.measurement.discriminant",
            ["DiscriminantCFA", "HTMTInference", "HTMT_THRESHOLDS", "RONKKO_CHO_CUTOFFS",
             "VIF_THRESHOLD", "ValidityInference", "discriminant_cfa", "full_collinearity_vif",
             "htmt_inference", "validity_inference"],
        ),
        **names_from(
            "ckm_research.measurement.reliability_inference",
            ["alpha_intervals", "reliability_intervals"],
        ),
        **names_from(
            "ckm_research.measurement.invariance",
            ["LEVELS", "InvarianceResult", "chisq_difference", "compare_paths",
             "factor_scores", "measurement_invariance", "split_groups"],
        ),
        **names_from(
            "ckm_research.measurement.invariance_ordinal",
            ["ORDINAL_LEVELS", "ordinal_invariance", "wu_estabrook_syntax"],
        ),
        **names_from(
            "ckm_research.measurement.reliability",
            ["average_variance_extracted", "composite_reliability", "cronbach_alpha",
             "omega_categorical"],
        ),
        **names_from(
            "ckm_research.measurement.validity",
            ["THRESHOLDS", "ValidityReport", "fornell_larcker", "htmt",
             "standardized_loadings", "validity_flags", "validity_report"],
        ),
    },
)

__all__ = [
    "cronbach_alpha",
    "composite_reliability",
    "average_variance_extracted",
    "htmt",
    "fornell_larcker",
    "standardized_loadings",
    "validity_flags",
    "validity_report",
    "ValidityReport",
    "THRESHOLDS",
    "harman_single_factor",
    "HarmanResult",
    "ulmc",
    "ULMCResult",
    "lindell_whitney",
    "LindellWhitneyResult",
    "cfa_marker",
    "CFAMarkerResult",
    "cmv_checks",
    "chisq_difference",
    "measurement_invariance",
    "InvarianceResult",
    "LEVELS",
    "compare_paths",
    "factor_scores",
    "split_groups",
    "ordinal_invariance",
    "wu_estabrook_syntax",
    "ORDINAL_LEVELS",
    "omega_categorical",
    "alpha_intervals",
    "reliability_intervals",
    "htmt_inference",
    "HTMTInference",
    "discriminant_cfa",
    "DiscriminantCFA",
    "full_collinearity_vif",
    "HTMT_THRESHOLDS",
    "RONKKO_CHO_CUTOFFS",
    "VIF_THRESHOLD",
    "validity_inference",
    "ValidityInference",
    "multigroup_comparison",
    "GroupComparison",
]
