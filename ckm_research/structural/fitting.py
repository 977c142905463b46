"""Fitting a study's models with its estimator and missing-data choice.

The notebooks and the command line fit every model of a study (measurement model,
structural model, interaction model, group models) through :func:`fit_model`, so
that each model gets the same options: :func:`fit_options` turns the study's two
choices, lavaan's ``estimator`` and ``missing``, into :func:`ckm_research.fit`'s
keywords (``"FIML"``, ML with ``missing = "ml"``), and the toolkit's warnings come
back as text for the report. :func:`interaction_fit_options` gives the options of
a model with latent interactions (LMS: ML on complete cases), and
:func:`estimator_text` says in words how the models were estimated.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from ckm_research.errors import CkmWarning

__all__ = ["fit_model", "fit_options", "interaction_fit_options", "estimator_text"]


def fit_options(estimator: str, missing: str) -> dict[str, Any]:
    """:func:`ckm_research.fit`'s keywords for a study's estimator and missing-data choice.

    Parameters
    ----------
    estimator : str
        ``"ML"``, ``"MLR"`` or ``"FIML"`` (ML with casewise ML for missing answers).
    missing : str
        ``"listwise"`` or ``"ml"`` (lavaan's ``missing``).

    Returns
    -------
    dict
        ``{"estimator": ..., "missing": ...}`` as lavaan spells them (``"FIML"`` kept
        as the estimator when it is asked for, or when ML meets ``missing = "ml"``).
    """
    if estimator == "FIML":
        return {"estimator": "FIML"}
    if missing == "ml":
        return (
            {"estimator": "FIML"}
            if estimator == "ML"
            else {"estimator": estimator, "missing": "ml"}
        )
    return {"estimator": estimator, "missing": "listwise"}


def estimator_text(estimator: str, missing: str) -> str:
    """How the model was estimated, in words (for the report)."""
    robust = estimator == "MLR"
    base = (
        "robust maximum likelihood (MLR: Huber-White standard errors and the "
        "Yuan-Bentler scaled chi-square)"
        if robust
        else "maximum likelihood (ML)"
    )
    if estimator == "FIML" or missing == "ml":
        return base + " with full-information ML for missing answers (FIML, assuming MAR)"
    return base + " on complete cases (listwise deletion)"


def fit_model(
    model_text: str,
    data: pd.DataFrame,
    *,
    estimator: str,
    missing: str,
    ci_level: float = 0.95,
    **options,
):
    """``ckm_research.fit`` with the pipeline's options; warnings returned as text.

    Returns
    -------
    (SEMResults, list of str)
    """
    import ckm_research

    opts = fit_options(estimator, missing)
    opts.update(options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ckm_research.fit(model_text, data, level=float(ci_level), **opts)
    messages = list(res.warnings or [])
    messages += [str(w.message) for w in caught if issubclass(w.category, CkmWarning)]
    if not res.converged:
        messages.append("the model did not converge: its estimates are not trustworthy")
    return res, list(dict.fromkeys(messages))


def interaction_fit_options(method: str, estimator: str, missing: str) -> tuple[str, str]:
    """Estimator and missing-data handling of the interaction model.

    LMS is a maximum-likelihood method (no robust corrections): ML on complete
    cases, or FIML (the mixture likelihood per missing-data pattern) with
    ``missing="ml"``; product indicators take the study's estimator (FIML when
    ``missing="ml"``).
    """
    if method == "lms":
        return "ML", ("ml" if missing == "ml" else "listwise")
    if estimator == "FIML" and missing == "listwise":
        return "ML", "listwise"
    return estimator, missing
