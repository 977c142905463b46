"""CFA/SEM: syntax, estimators, fit measures and the tools used after fitting."""

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ckm_research.sem.estimators stays cheap
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    names_from(
        "ckm_research.sem.diagnostics",
        ["factor_scores", "lrt", "modindices", "residuals", "score_test", "wald_test"],
    ),
)

__all__ = ["modindices", "score_test", "factor_scores", "residuals", "wald_test", "lrt"]
