"""Latent interactions (moderation) and their probing.

* :mod:`~ckm_research.moderation.product_indicators`: double-mean-centred
  product indicators (``fit(..., interaction="dblcent")``, the default).
* :mod:`~ckm_research.moderation.lms`: Latent Moderated Structural equations
  (``fit(..., interaction="lms")``).
* :mod:`~ckm_research.moderation.simple_slopes`: simple slopes, Johnson-Neyman
  intervals and their plots.
* :mod:`~ckm_research.moderation.robustness`: the composite-score moderated
  regression (item means, centred products, HC3) and Gaussian copula
  endogeneity checks (Park & Gupta, 2012; Becker et al., 2022).
"""

from ckm_research.moderation.lms import fit_lms
from ckm_research.moderation.product_indicators import fit_dblcent, product_indicator_model
from ckm_research.moderation.robustness import composite_regression, gaussian_copula
from ckm_research.moderation.simple_slopes import (
    johnson_neyman,
    plot_johnson_neyman,
    plot_simple_slopes,
    simple_slopes,
)

__all__ = [
    "fit_dblcent",
    "fit_lms",
    "product_indicator_model",
    "simple_slopes",
    "johnson_neyman",
    "plot_simple_slopes",
    "plot_johnson_neyman",
    "composite_regression",
    "gaussian_copula",
]
