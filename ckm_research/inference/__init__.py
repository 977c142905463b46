"""Inference by resampling and simulation, run in parallel.

* :mod:`~ckm_research.inference.bootstrap`: nonparametric bootstrap of any fit
  (standard errors, percentile and BCa intervals of parameters and ``:=``
  effects).
* :mod:`~ckm_research.inference.power`: Monte Carlo power of a population
  model, with the analytic RMSEA-based power beside it.
* :mod:`~ckm_research.inference.parallel`: the execution layer both use (local
  processes or a dask cluster; same seed, same numbers).
"""

from ckm_research.inference.bootstrap import BootstrapResult, bootstrap

__all__ = ["bootstrap", "BootstrapResult"]
