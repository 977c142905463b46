"""ckm-research: an end-to-end toolkit for empirical Customer Knowledge
Management (CKM) studies: instrument, data, CFA/SEM, moderation, power, report.

The main entry point is :func:`fit`, which fits any CFA/SEM written in lavaan
syntax with ML, MLR, FIML, MLM, WLSMV or another lavaan estimator and returns
lavaan-style results; :func:`growth` fits latent growth curve models with
lavaan's ``growth()`` conventions.
"""

__version__ = "0.1.0"

from ckm_research.sem.api import ESTIMATORS, fit  # noqa: E402
from ckm_research.sem.diagnostics import (  # noqa: E402
    factor_scores,
    lrt,
    modindices,
    residuals,
    score_test,
    wald_test,
)
from ckm_research.sem.growth import growth  # noqa: E402
from ckm_research.sem.results import SEMResults  # noqa: E402

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
