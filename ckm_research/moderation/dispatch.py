"""Route a model with latent product terms to an interaction method.

:func:`ckm_research.fit` calls :func:`fit_with_interactions` when the model has
a product term (``Y ~ X + Z + X:Z``) or when ``interaction=`` is given:

==============  ===============================================  ===========================
interaction     method                                           R equivalent
==============  ===============================================  ===========================
``"dblcent"``   double-mean-centred product indicators, all      ``modsem(method =
(default)       pairs, residual covariances of products that     "dblcent")``
                share an indicator (Lin et al., 2010)
``"lms"``       latent moderated structural equations, ML by     ``modsem(method = "lms")``
                Gauss-Hermite quadrature (Klein & Moosbrugger,   (``missing = "ml"``)
                2000); FIML with ``missing="ml"`` or
                ``estimator="FIML"``; several groups with
                ``group=`` (and ``group_equal``), as modsem's
                multigroup LMS
``"qml"``       quasi-maximum likelihood: normal densities with  ``modsem(method = "qml")``
                the exact conditional moments, no numerical
                integration, so fast with many product or
                quadratic terms of exogenous factors (Klein &
                Muthén, 2007); complete cases only
==============  ===============================================  ===========================
"""

from __future__ import annotations

from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.sem.options import INTERACTION_METHODS, FitOptions
from ckm_research.sem.partable import variable_roles
from ckm_research.sem.syntax import ParsedModel

__all__ = ["INTERACTION_METHODS", "fit_with_interactions"]


def fit_with_interactions(model: str, parsed: ParsedModel, data, *, options: FitOptions):
    """Fit ``model`` by the chosen interaction method (``options.interaction``).

    Returns ``None`` when the model has no product term (the caller then fits
    it as an ordinary SEM; ``interaction`` has nothing to act on).  The other
    ``options`` (``missing``, ``fixed_x``, ...) go to the product-indicator fit
    unchanged; ``options.interaction`` was validated by
    :meth:`~ckm_research.sem.options.FitOptions.from_kwargs`.

    Raises
    ------
    CkmError
        For options the method cannot honour.
    """
    if not variable_roles(parsed).interactions:
        return None
    method = options.interaction or "dblcent"
    ordered, group, estimator = options.ordered, options.group, options.label
    if method == "dblcent":
        from ckm_research.moderation.product_indicators import fit_dblcent

        _check_single_indicator_products(parsed)

        return fit_dblcent(model, data, options=options)
    if method == "qml":
        return _fit_qml(model, data, options)
    from ckm_research.moderation.lms import fit_lms

    missing = options.missing  # estimator="FIML" is ML with missing="ml" (FitOptions)
    if missing not in (None, "listwise", "ml"):
        raise CkmError(
            f"LMS takes missing='listwise' or missing='ml' (FIML); got missing={missing!r}"
        )
    if ordered:
        raise CkmError("LMS needs continuous indicators; ordered items are not supported")
    if options.estimator != "ML":
        raise CkmError(
            f"LMS is a maximum-likelihood method: use estimator='ML' or 'FIML' (got "
            f"'{estimator}'); missing='ml' keeps incomplete cases (FIML)"
        )
    if options.std_lv:
        raise CkmError("LMS identifies factors by their first loading; use std_lv=False")
    return fit_lms(
        model, data, missing_values=options.missing_values, level=options.level,
        control=options.control, missing=missing, group=group,
        group_equal=options.group_equal, group_partial=options.group_partial,
    )  # fmt: skip


def _fit_qml(model: str, data, options: FitOptions):
    """QML (:func:`ckm_research.moderation.qml.fit_qml`) after refusing the options it
    cannot honour."""
    from ckm_research.moderation.qml import fit_qml

    missing = options.missing  # estimator="FIML" arrives as ML with missing="ml"
    if missing == "ml" or options.label == "FIML":
        raise CkmError(
            "QML here uses complete cases (missing='listwise'); for full-information ML with "
            "incomplete cases use interaction='lms' with missing='ml'"
        )
    if missing not in (None, "listwise"):
        raise CkmError(f"QML takes missing='listwise'; got missing={missing!r}")
    if options.ordered:
        raise CkmError("QML needs continuous indicators; ordered items are not supported")
    if options.group is not None:
        raise CkmError(
            "QML with several groups is not supported; use interaction='dblcent' or fit each "
            "group separately"
        )
    if options.estimator != "ML":
        raise CkmError(
            f"QML is a quasi-maximum-likelihood method: use estimator='ML' (got '{options.label}')"
        )
    if options.std_lv:
        raise CkmError("QML identifies factors by their first loading; use std_lv=False")
    return fit_qml(
        model, data, missing_values=options.missing_values, level=options.level,
        control=options.control,
    )  # fmt: skip


def _check_single_indicator_products(parsed: ParsedModel) -> None:
    """Refuse a latent product with an observed (or single-indicator) side for
    "dblcent".

    Every product indicator of ``X:z`` (``x1.z``, ``x2.z``, ...) then shares the
    indicator ``z``, so all their residual covariances are free (modsem's
    ``res.cov.method = "simple"``) and the product factor is not identified.
    lavaan 0.6.14 refuses such terms too ("Interaction terms involving latent
    variables ... are not supported").
    """
    from ckm_research.moderation.product_indicators import product_terms

    for term in product_terms(parsed):
        sizes = (len(term.left_indicators), len(term.right_indicators))
        if min(sizes) == 1 and max(sizes) > 1:
            single = term.left if sizes[0] == 1 else term.right
            other = term.right if single == term.left else term.left
            lv = {s.lhs for s in parsed.statements if s.op == "=~"}
            if single in lv:
                what, todo = "the single-indicator factor", "fit it with interaction='lms'"
            else:
                what = "the observed variable"
                todo = (
                    "fit it by LMS with the variable as a single-indicator factor: add "
                    f"'{single.upper()} =~ {single}', write '{other}:{single.upper()}' and "
                    "pass interaction='lms'"
                )
            raise ModelSpecificationError(
                f"the product term '{term.term}' multiplies a latent variable by {what} "
                f"'{single}': its double-mean-centred product indicators all share the "
                f"indicator of '{single}' and are not identified (lavaan 0.6.14 does not fit "
                f"latent-by-observed product terms either); {todo}"
            )
