"""ckm-research: an end-to-end toolkit for empirical Customer Knowledge
Management (CKM) studies: instrument, data, CFA/SEM, moderation, power, report.

The main entry point is :func:`fit`, which fits any CFA/SEM written in lavaan
syntax with ML, MLR, FIML, MLM, WLSMV or another lavaan estimator and returns
lavaan-style results; :func:`growth` fits latent growth curve models with
lavaan's ``growth()`` conventions.
"""

__version__ = "0.1.0"

from ckm_research._lazy import lazy_names, names_from  # noqa: E402

# The public API is imported when first used (PEP 562): ``import ckm_research``
# and ``ckm --help`` stay cheap (no scipy.stats, pandas), while
# ``ckm_research.fit`` and ``from ckm_research import fit`` work as before.
_LAZY = {
    "fit": "ckm_research.fitting",  # routes latent interactions to ckm_research.moderation
    "ESTIMATORS": "ckm_research.sem.estimators",
    **names_from(
        "ckm_research.sem.diagnostics",
        ["factor_scores", "lrt", "modindices", "residuals", "score_test", "wald_test"],
    ),
    "growth": "ckm_research.sem.growth",
    "SEMResults": "ckm_research.sem.results",
}
__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)

__all__ = [
    "fit",
    "growth",
    "SEMResults",
    "ESTIMATORS",
    "modindices",
    "score_test",
    "factor_scores",
    "residuals",
    "wald_test",
    "lrt",
    "__version__",
]
