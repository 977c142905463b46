"""CFA/SEM: syntax, estimators, fit measures and the tools used after fitting."""

from ckm_research.sem.diagnostics import factor_scores, modindices, residuals, score_test

__all__ = ["modindices", "score_test", "factor_scores", "residuals"]
