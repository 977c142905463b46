"""Numerical building blocks shared by every package (one home for each).

- ``optimize.py``: :func:`minimize` (:class:`MinimizeResult`), the estimators'
  optimiser (damped Newton / Fisher scoring with step halving; why not scipy:
  see its module docstring), and :func:`structured_bfgs` (the secant correction
  of the expected information that the ML fit adds to Fisher scoring), and
  :func:`bfgs`, the latent-interaction estimators' BFGS (LMS and QML have no
  closed-form information matrix);
- ``derivatives.py``: :func:`numerical_jacobian`, :func:`numerical_hessian`
  (central differences);
- ``wald.py``: :func:`wald_table` (lavaan's z, p-value and confidence interval),
  :func:`two_sided_pvalue`, :func:`normal_quantile`;
- ``serialize.py``: :func:`to_json_ready` (NaN/numpy/pandas to JSON types),
  :func:`sha256_file`;
- ``linalg.py``: :func:`spd_inverse` (inverse of a symmetric positive-definite
  matrix by its Cholesky factor);
- ``threads.py``: :func:`single_thread_blas` (one BLAS thread while fitting);
- ``forked.py``: :func:`~ckm_research.numerics.forked.forked_sum` and
  :func:`~ckm_research.numerics.forked.default_jobs` (the columns of a large
  numerical Hessian in 2 forked processes).

The ``:=`` evaluator lives with the syntax it evaluates:
:class:`ckm_research.sem.syntax.DefinedParameters`.  This package imports
nothing else of ``ckm_research``, and only numpy at import time (scipy and
threadpoolctl when first used).
"""

from ckm_research.numerics.derivatives import numerical_hessian, numerical_jacobian
from ckm_research.numerics.linalg import spd_inverse
from ckm_research.numerics.optimize import MinimizeResult, bfgs, minimize, structured_bfgs
from ckm_research.numerics.serialize import sha256_file, to_json_ready
from ckm_research.numerics.threads import single_thread_blas
from ckm_research.numerics.wald import normal_quantile, two_sided_pvalue, wald_table

__all__ = [
    "minimize",
    "MinimizeResult",
    "structured_bfgs",
    "bfgs",
    "numerical_jacobian",
    "numerical_hessian",
    "wald_table",
    "spd_inverse",
    "two_sided_pvalue",
    "normal_quantile",
    "to_json_ready",
    "sha256_file",
    "single_thread_blas",
]
