"""CFA/SEM: syntax, estimators, fit measures and the tools used after fitting."""

from ckm_research.sem.diagnostics import (
    factor_scores,
    lrt,
    modindices,
    residuals,
    score_test,
    wald_test,
)

__all__ = ["modindices", "score_test", "factor_scores", "residuals", "wald_test", "lrt"]
