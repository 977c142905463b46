"""Inference by resampling and simulation, run in parallel.

* :mod:`~ckm_research.inference.bootstrap`: nonparametric bootstrap of any fit
  (standard errors, percentile and BCa intervals of parameters and ``:=``
  effects).
* :mod:`~ckm_research.inference.power`: Monte Carlo power of a population
  model, with the analytic RMSEA-based power beside it.
* :mod:`~ckm_research.inference.parallel`: the execution layer both use (local
  processes or a dask cluster; same seed, same numbers).
* :mod:`~ckm_research.inference.workflows`: the study's runs of both, as the
  pipeline's notebooks call them: bootstrap intervals of the ``:=`` effects
  (:func:`bootstrap_defined`) and power at the fitted model's estimates
  (:func:`run_power`), each on its own stream of the study seed (:func:`study_stream`).
"""

import sys
import types

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ``ckm --help`` does not load scipy and pandas
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    {
        **names_from("ckm_research.inference.bootstrap", ["bootstrap", "BootstrapResult"]),
        **names_from(
            "ckm_research.inference.workflows",
            ["SEED_STREAMS", "study_stream", "bootstrap_defined", "run_power"],
        ),
    },
)


class _Package(types.ModuleType):
    """Keep ``ckm_research.inference.bootstrap`` the function, as when it was imported eagerly.

    Importing the submodule ``ckm_research.inference.bootstrap`` binds the
    package's attribute ``bootstrap`` to the module; the function is bound instead.
    """

    def __setattr__(self, name, value):
        if name == "bootstrap" and isinstance(value, types.ModuleType):
            value = value.bootstrap
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["bootstrap", "BootstrapResult", "bootstrap_defined", "run_power", "study_stream",
           "SEED_STREAMS"]
