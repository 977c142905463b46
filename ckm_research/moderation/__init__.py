"""Latent interactions (moderation) and their probing.

* :mod:`~ckm_research.moderation.product_indicators`: double-mean-centred
  product indicators (``fit(..., interaction="dblcent")``, the default).
* :mod:`~ckm_research.moderation.lms`: Latent Moderated Structural equations
  (``fit(..., interaction="lms")``); several groups (``group=``) in
  :mod:`~ckm_research.moderation.lms_multigroup`.
* :mod:`~ckm_research.moderation.qml`: quasi-maximum likelihood (Klein &
  Muthén, 2007; ``fit(..., interaction="qml")``).
* :mod:`~ckm_research.moderation.simple_slopes`: simple slopes, Johnson-Neyman
  intervals and their plots.
* :mod:`~ckm_research.moderation.mediation`: moderated mediation (conditional
  indirect effects, their Johnson-Neyman region, the index of moderated mediation).
* :mod:`~ckm_research.moderation.effect_sizes`: standardized interaction effects
  (:math:`b\\,SD(X)SD(Z)/SD(Y)`, delta-method SEs), R-squared change, Cohen's
  f-squared and the likelihood-ratio test of the product terms.
* :mod:`~ckm_research.moderation.robustness`: the composite-score moderated
  regression (item means, centred products, HC3) and Gaussian copula
  endogeneity checks (Park & Gupta, 2012; Becker et al., 2022).
"""

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ``ckm --help`` (which imports this package's
# cli module) does not load scipy and pandas
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    names_from("ckm_research.moderation.lms", ["fit_lms"])
    | names_from("ckm_research.moderation.qml", ["fit_qml"])
    | names_from("ckm_research.moderation.product_indicators",
                 ["fit_dblcent", "product_indicator_model"])
    | names_from("ckm_research.moderation.simple_slopes",
                 ["johnson_neyman", "plot_johnson_neyman", "plot_simple_slopes", "simple_slopes"])
    | names_from("ckm_research.moderation.mediation",
                 ["conditional_indirect", "index_of_moderated_mediation",
                  "johnson_neyman_indirect", "moderated_mediation", "plot_conditional_indirect"])
    | names_from("ckm_research.moderation.effect_sizes",
                 ["standardized_interactions", "interaction_effect_sizes"])
    | names_from("ckm_research.moderation.robustness",
                 ["composite_regression", "gaussian_copula"]),
)  # fmt: skip

__all__ = [
    "fit_dblcent",
    "fit_lms",
    "fit_qml",
    "product_indicator_model",
    "simple_slopes",
    "johnson_neyman",
    "plot_simple_slopes",
    "plot_johnson_neyman",
    "conditional_indirect",
    "index_of_moderated_mediation",
    "johnson_neyman_indirect",
    "moderated_mediation",
    "plot_conditional_indirect",
    "composite_regression",
    "gaussian_copula",
    "standardized_interactions",
    "interaction_effect_sizes",
]
