"""The estimators of :func:`ckm_research.fit`, in one table.

Each name is a lavaan ``estimator =`` shortcut and means what it means in
lavaan 0.6 (``lav_options.R``, ``lav_options_set``): a discrepancy function
(``ML``, ``GLS``, ``ULS``, ``WLS`` or ``DWLS``) with a default for the standard
errors (``se``) and the test statistic (``test``):

=======  ========  ==================  ==================  ========================
name     fits by   se                  test                data
=======  ========  ==================  ==================  ========================
ML       ML        standard            standard            continuous
MLR      ML        robust.huber.white  yuan.bentler.mplus  continuous (also FIML)
FIML     ML        standard            standard            continuous, missing="ml"
MLM      ML        robust.sem          satorra.bentler     continuous, complete
MLMV     ML        robust.sem          scaled.shifted      continuous, complete
MLMVS    ML        robust.sem          mean.var.adjusted   continuous, complete
GLS      GLS       standard            standard            continuous
ULS      ULS       standard            standard            continuous or ordered
WLS      WLS       standard            standard            continuous or ordered
DWLS     DWLS      standard            standard            continuous or ordered
WLSM     DWLS      robust.sem          satorra.bentler     continuous or ordered
WLSMV    DWLS      robust.sem          scaled.shifted      continuous or ordered
WLSMVS   DWLS      robust.sem          mean.var.adjusted   continuous or ordered
ULSM     ULS       robust.sem          satorra.bentler     continuous or ordered
ULSMV    ULS       robust.sem          scaled.shifted      continuous or ordered
ULSMVS   ULS       robust.sem          mean.var.adjusted   continuous or ordered
=======  ========  ==================  ==================  ========================

(ordered items: polychoric correlations and thresholds, lavaan's delta
parameterization; continuous items: the covariances, and the means with a
mean structure, with :math:`S` on :math:`N - 1`.)

Everything that reads the list of estimators (the ``fit()`` check, the CLI's
``--estimator`` choices, the docs) takes it from :data:`ESTIMATORS` here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ckm_research.errors import CkmError

__all__ = [
    "ESTIMATORS",
    "ORDINAL_ESTIMATORS",
    "FIML_ESTIMATORS",
    "EstimatorSpec",
    "estimator_spec",
    "check_estimator",
    "NOT_SUPPORTED",
    "is_ordinal_fit",
]


@dataclass(frozen=True)
class EstimatorSpec:
    """One estimator shortcut: lavaan's ``estimator``, ``se`` and ``test``.

    Attributes
    ----------
    name : str
        The shortcut (``"MLM"``).
    fitted_by : str
        The discrepancy function minimised (lavaan's ``lavInspect(fit,
        "options")$estimator``: ``"ML"``, ``"GLS"``, ``"ULS"``, ``"WLS"``,
        ``"DWLS"``).
    se : str
        lavaan's default ``se``.
    test : str
        lavaan's default ``test``.
    continuous, ordinal : bool
        Whether it fits continuous items and ordered (polychoric) items.
    summary : str
        One line for help texts.
    """

    name: str
    fitted_by: str
    se: str
    test: str
    continuous: bool
    ordinal: bool
    summary: str


_SPECS = (
    EstimatorSpec("ML", "ML", "standard", "standard", True, False, "normal-theory ML"),
    EstimatorSpec(
        "MLR", "ML", "robust.huber.white", "yuan.bentler.mplus", True, False,
        "ML with robust SEs and the Yuan-Bentler scaled test (non-normal answers)",
    ),
    EstimatorSpec("FIML", "ML", "standard", "standard", True, False, "ML with missing='ml'"),
    EstimatorSpec(
        "MLM", "ML", "robust.sem", "satorra.bentler", True, False,
        "ML with robust SEs and the Satorra-Bentler scaled test (complete data)",
    ),
    EstimatorSpec(
        "MLMV", "ML", "robust.sem", "scaled.shifted", True, False,
        "ML with robust SEs and the scaled-and-shifted test (complete data)",
    ),
    EstimatorSpec(
        "MLMVS", "ML", "robust.sem", "mean.var.adjusted", True, False,
        "ML with robust SEs and the Satterthwaite mean-and-variance adjusted test",
    ),
    EstimatorSpec(
        "WLSMV", "DWLS", "robust.sem", "scaled.shifted", True, True,
        "DWLS (on polychoric correlations for ordered items), robust SEs, "
        "scaled-and-shifted test",
    ),
    EstimatorSpec(
        "WLSM", "DWLS", "robust.sem", "satorra.bentler", True, True,
        "DWLS, robust SEs, Satorra-Bentler scaled test",
    ),
    EstimatorSpec(
        "WLSMVS", "DWLS", "robust.sem", "mean.var.adjusted", True, True,
        "DWLS, robust SEs, mean-and-variance adjusted test",
    ),
    EstimatorSpec(
        "ULSMV", "ULS", "robust.sem", "scaled.shifted", True, True,
        "ULS, robust SEs, scaled-and-shifted test",
    ),
    EstimatorSpec(
        "ULSM", "ULS", "robust.sem", "satorra.bentler", True, True,
        "ULS, robust SEs, Satorra-Bentler scaled test",
    ),
    EstimatorSpec(
        "ULSMVS", "ULS", "robust.sem", "mean.var.adjusted", True, True,
        "ULS, robust SEs, mean-and-variance adjusted test",
    ),
    EstimatorSpec(
        "GLS", "GLS", "standard", "standard", True, False,
        "generalized least squares (normal-theory weight S^-1)",
    ),
    EstimatorSpec(
        "ULS", "ULS", "standard", "standard", True, True,
        "unweighted least squares, naive SEs and test",
    ),
    EstimatorSpec(
        "WLS", "WLS", "standard", "standard", True, True,
        "full WLS (ADF; Browne, 1984), weight Gamma^-1",
    ),
    EstimatorSpec(
        "DWLS", "DWLS", "standard", "standard", True, True,
        "diagonally weighted least squares, naive SEs and test",
    ),
)  # fmt: skip

_BY_NAME = {s.name: s for s in _SPECS}

#: every estimator fit() accepts, in the order help texts list them
ESTIMATORS: tuple[str, ...] = tuple(s.name for s in _SPECS)

#: the estimators for ordered items (``ordered=``)
ORDINAL_ESTIMATORS: tuple[str, ...] = tuple(s.name for s in _SPECS if s.ordinal)

#: the estimators fitted by casewise (full-information) ML with lavaan's standard or
#: Huber-White SEs: ML, MLR and the alias FIML. They take incomplete data (``missing="ml"``),
#: general constraints and sampling weights, and are the choices of the study pipeline, the
#: power analysis and ``ckm validity``.
FIML_ESTIMATORS: tuple[str, ...] = tuple(
    s.name for s in _SPECS if s.fitted_by == "ML" and s.se != "robust.sem"
)

#: lavaan estimator names not supported (yet), with what to use instead
NOT_SUPPORTED: dict[str, str] = {
    "MLF": "'MLR'",
    "PML": "'WLSMV'",
    "MML": "'WLSMV'",
    "IV": "'ML'",
    "BAYES": "'ML' (or blavaan in R)",
}


def estimator_spec(name: str) -> EstimatorSpec:
    """The :class:`EstimatorSpec` of a (validated, upper-case) estimator name."""
    return _BY_NAME[name]


def _not_supported(name: str, detail: str = "") -> CkmError:
    alt = NOT_SUPPORTED.get(name, "one of " + ", ".join(f"'{e}'" for e in ESTIMATORS))
    return CkmError(
        f"estimator='{name}' is a lavaan estimator that ckm-research does not support yet"
        f"{detail}; use estimator={alt} instead"
    )


def check_estimator(estimator, *, ordered: bool) -> EstimatorSpec:
    """Validate ``estimator`` for continuous (``ordered=False``) or ordered items.

    Raises
    ------
    CkmError
        For a name that is not a lavaan estimator, a lavaan estimator not
        supported (yet), naming what to use instead, or an estimator that
        does not fit this kind of item.
    """
    if not isinstance(estimator, str):
        raise CkmError(
            "The 'estimator' parameter of fit must be one of "
            + ", ".join(f"'{e}'" for e in ESTIMATORS)
            + f". Got {estimator!r} instead."
        )
    name = estimator.upper()
    spec = _BY_NAME.get(name)
    if spec is not None and (spec.ordinal if ordered else spec.continuous):
        return spec
    if spec is None and name not in NOT_SUPPORTED:
        raise CkmError(
            "The 'estimator' parameter of fit must be one of "
            + ", ".join(f"'{e}'" for e in ESTIMATORS)
            + f". Got {estimator!r} instead."
        )
    if ordered and spec is not None:
        raise CkmError(
            f"ordered items need one of the estimators {', '.join(ORDINAL_ESTIMATORS)} "
            f"(got '{name}'); lavaan would switch to WLSMV silently, ckm-research asks you "
            "to choose"
        )
    detail = " for continuous items" if spec is not None else ""
    raise _not_supported(name, detail)


def is_ordinal_fit(result) -> bool:
    """Whether a :class:`~ckm_research.SEMResults` comes from ordered items
    (WLSMV, WLSM, ULSMV, or DWLS/ULS/WLS with ``ordered=``)."""
    engine = getattr(result, "_engine", None)
    ordered = getattr(getattr(engine, "opts", None), "ordered", None)
    if ordered is not None:
        return bool(ordered)
    spec = _BY_NAME.get(str(getattr(result, "estimator", "")).upper())
    return spec is not None and not spec.continuous
