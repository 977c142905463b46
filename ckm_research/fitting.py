"""``ckm_research.fit``: every model of the package, latent interactions included.

The one entry a user calls (lavaan's ``sem()``/``cfa()``, and modsem's ``modsem()`` for
latent product terms).  It sits above the packages that do the work:

* a model with latent product terms (``Y ~ X + Z + X:Z``) goes to
  :func:`ckm_research.moderation.dispatch.fit_with_interactions` (double-mean-centred
  product indicators or LMS, ``interaction=``);
* every other model goes to the SEM engine, :func:`ckm_research.sem.api.fit_with_options`.

``ckm_research.sem`` never imports :mod:`ckm_research.moderation` (the interaction methods
fit their models with the SEM engine); :func:`ckm_research.sem.api.fit` refuses a
latent product term with a message pointing here.  Internal callers that may get an
interaction model (the bootstrap, the power analysis, the report's ``fit_model``, the
command line) call :func:`fit` or :func:`fit_with_options` of this module.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from ckm_research.errors import CkmError
from ckm_research.sem import api as sem_api
from ckm_research.sem.options import FitOptions
from ckm_research.sem.partable import variable_roles
from ckm_research.sem.results import SEMResults
from ckm_research.sem.syntax import parse_model

__all__ = ["fit", "fit_with_options"]


def fit(model: str | Path, data, **options: Any) -> SEMResults:
    """Fit a CFA/SEM written in lavaan syntax, with latent interactions (``X:Z``) too.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan model syntax, or a path to a file holding it; latent product terms
        ``X:Z`` are estimated as ``interaction`` says (modsem's methods).
    data : pandas.DataFrame or path
        The data (CSV, Excel, SPSS ``.sav`` or Stata ``.dta`` when a path).
    **options
        The options of :func:`ckm_research.sem.api.fit`, whose docstring describes each
        (``estimator``, ``ordered``, ``group``, ``group_equal``, ``std_lv``,
        ``missing_values``, ``level``, ``control``, ``interaction``, ``fixed_x``,
        ``missing``, ``meanstructure``, ...); validated once by
        :meth:`FitOptions.from_kwargs <ckm_research.sem.options.FitOptions.from_kwargs>`.
        ``interaction`` is ``'dblcent'`` (double-mean-centred product indicators, the
        default) or ``'lms'`` (:mod:`ckm_research.moderation.dispatch`).

    Returns
    -------
    SEMResults
        With ``.options`` and ``.model_text``.

    Raises
    ------
    ckm_research.errors.CkmError
        For any problem with the model, the data or the options.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\n"
    ...           "speed =~ x7 + x8 + x9", hs)
    >>> round(float(res.fit_measures["chisq"]), 3)
    85.306

    In R: ``lavaan::sem(model, data)``; with product terms ``modsem::modsem(model, data,
    method = "dblcent")``.
    """
    return fit_with_options(model, data, FitOptions.from_kwargs(**options))


# help(fit) and inspect show every option, with its default, as sem.api.fit declares it
fit.__signature__ = inspect.signature(sem_api.fit)


def fit_with_options(model: str | Path, data, options: FitOptions) -> SEMResults:
    """:func:`fit` with validated options: latent product terms to
    :mod:`ckm_research.moderation`, every other model to
    :func:`ckm_research.sem.api.fit_with_options`.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax, or a ``.lav`` file.
    data : pandas.DataFrame or path
    options : FitOptions

    Returns
    -------
    SEMResults
    """
    text = sem_api.read_model_text(model)
    # a product term needs a ':' that is not ':=' (skips a second parse on every refit)
    if isinstance(text, str) and ":" not in text.replace(":=", ""):
        return sem_api.fit_with_options(text, data, options)
    parsed = parse_model(text)
    if not variable_roles(parsed).interactions:  # ``interaction=`` has nothing to act on
        return sem_api.fit_with_options(text, data, options)
    if options.sampling_weights is not None:
        from ckm_research.sem.weights import refuse_weights

        raise refuse_weights(
            "latent product terms (X:Z)",
            "fit the weighted interaction model in lavaan, or fit it without weights",
        )
    _refuse_mean_options_with_interactions(options)
    from ckm_research.moderation.dispatch import fit_with_interactions

    res = fit_with_interactions(text, parsed, data, options=options)
    res.options = options
    res.model_text = text
    return res


def _refuse_mean_options_with_interactions(options: FitOptions) -> None:
    """The latent-interaction methods build their own model: refuse options they
    would ignore instead of dropping them silently."""
    given = [
        name
        for name, default in (
            ("meanstructure", False),
            ("orthogonal", False),
            ("std_ov", False),
            ("int_ov_free", True),
            ("int_lv_free", False),
        )
        if getattr(options, name) != default
    ]
    if given:
        raise CkmError(
            "the option(s) " + ", ".join(given) + " (lavaan's meanstructure, orthogonal, "
            "std.ov, int.ov.free, int.lv.free) are not supported for models with latent "
            "product terms (X:Z); fit the model without them, or standardize the data "
            "yourself before fitting instead of std_ov=True"
        )
