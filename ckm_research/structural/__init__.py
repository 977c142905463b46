"""The structural model: fitting a study's models with its options, admissibility, R².

Between the estimation engine (:mod:`ckm_research.sem`) and the report:

* :mod:`~ckm_research.structural.fitting`: :func:`fit_model` fits any model of the
  study (measurement, structural, interaction, group models) through
  :func:`ckm_research.fit` with the study's ``estimator`` and ``missing`` choice
  (:func:`fit_options`; :func:`interaction_fit_options` for a model with latent
  interactions), the toolkit's warnings returned as text;
  :func:`estimator_text` says how, in words;
* :mod:`~ckm_research.structural.admissibility`: Heywood cases with the one-sided
  test of Kolenikov & Bollen (2012) (:func:`heywood_cases`, :func:`heywood_text`,
  :func:`power_blocker`) and the variance explained (:func:`r_squared`, lavaan's
  ``inspect(fit, "r2")``).

The notebooks and the ``ckm`` command line call these same functions.
"""

from ckm_research._lazy import lazy_names, names_from

__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    {
        **names_from(
            "ckm_research.structural.fitting",
            ["fit_model", "fit_options", "interaction_fit_options", "estimator_text"],
        ),
        **names_from(
            "ckm_research.structural.admissibility",
            ["HEYWOOD_REFS", "heywood_cases", "heywood_text", "power_blocker", "r_squared"],
        ),
    },
)

__all__ = [
    "fit_model", "fit_options", "interaction_fit_options", "estimator_text", "heywood_cases",
    "heywood_text", "power_blocker", "r_squared", "HEYWOOD_REFS",
]  # fmt: skip
