"""``growth()``: latent growth curve models with lavaan's ``growth()`` conventions.

A growth model is a CFA whose loadings are fixed at the time scores (``i =~
1*t1 + 1*t2 + ...``, ``s =~ 0*t1 + 1*t2 + ...``) and whose mean structure
carries the growth: lavaan's ``growth()`` fits it as ``lavaan(model.type =
"growth")``, which differs from ``sem()`` in three options (``lavOptions``;
Bollen & Curran, 2006, *Latent Curve Models*, ch. 2-4):

* ``meanstructure = TRUE``: intercepts and latent means are in the model;
* ``int.ov.free = FALSE``: the intercepts of the repeated measures are fixed at
  0, so the means of the repeated measures come from the growth factors only;
* ``int.lv.free = TRUE``: the means (or intercepts, when the growth factors are
  regressed on covariates) of the growth factors are free.

Everything else (first-loading fix, free variances, covariances of the
exogenous factors, ``fixed.x`` for covariates) is as in ``sem()``.
"""

from __future__ import annotations

from pathlib import Path

from ckm_research.errors import CkmError
from ckm_research.sem.api import fit_with_options
from ckm_research.sem.options import FitOptions
from ckm_research.sem.results import SEMResults

__all__ = ["growth", "GROWTH_OPTIONS"]

#: the options lavaan's growth() sets (lavaan's R/lav_options.R, model.type "growth")
GROWTH_OPTIONS = {"meanstructure": True, "int_ov_free": False, "int_lv_free": True}


def growth(model: str | Path, data, **options) -> SEMResults:
    """Fit a latent growth curve model as lavaan's ``growth()`` does.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax, e.g. ``"i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\n
        s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"``.  Intercepts or means written in the
        syntax (``t1 ~ 1``) are free, as in lavaan.
    data : pandas.DataFrame or path
        The data, as for :func:`ckm_research.fit`.
    **options
        Any keyword argument of :func:`ckm_research.fit` (``estimator``,
        ``missing``, ``group``, ``std_lv``, ``orthogonal``, ...) except the three
        that define a growth model: ``meanstructure`` (always ``True``),
        ``int_ov_free`` (``False``) and ``int_lv_free`` (``True``).

    Returns
    -------
    SEMResults

    Raises
    ------
    ckm_research.errors.CkmError
        If ``meanstructure``, ``int_ov_free`` or ``int_lv_free`` is given with
        another value than growth()'s (lavaan would override it silently).

    Examples
    --------
    >>> from ckm_research import growth
    >>> from ckm_research.data.examples import load_dataset
    >>> demo_growth = load_dataset("Demo.growth")
    >>> res = growth("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\n"
    ...              "s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4", demo_growth)
    >>> res.estimates.query("op == '~1' and lhs in ['i', 's']")[["lhs", "est", "se"]].round(3)
       lhs    est     se
    19   i  0.615  0.077
    20   s  1.006  0.042

    In R: ``lavaan::growth(model, data = Demo.growth)``.
    """
    for name, value in GROWTH_OPTIONS.items():
        if name in options and options[name] != value:
            raise CkmError(
                f"growth() fits with {name}={value!r} (lavaan's growth(): meanstructure = "
                f"TRUE, int.ov.free = FALSE, int.lv.free = TRUE); got {name}="
                f"{options[name]!r}. Use ckm_research.fit() with the options you want, or "
                "write the intercepts in the syntax (t1 ~ 1 frees one, f ~ 0*1 fixes one)."
            )
    opts = FitOptions.from_kwargs(**options).replace(**GROWTH_OPTIONS)
    return fit_with_options(model, data, opts)
