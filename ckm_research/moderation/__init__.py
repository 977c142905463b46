"""Latent interactions (moderation) and their probing.

* :mod:`~ckm_research.moderation.product_indicators`: double-mean-centred
  product indicators (``interaction="dblcent"``).
* :mod:`~ckm_research.moderation.lms`: Latent Moderated Structural equations
  (``interaction="lms"``).
* :mod:`~ckm_research.moderation.simple_slopes`: simple slopes, Johnson-Neyman
  intervals and their plots.
"""

from ckm_research.moderation.product_indicators import fit_dblcent, product_indicator_model

__all__ = ["fit_dblcent", "product_indicator_model"]
