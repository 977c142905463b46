"""``fit()``: any lavaan-syntax CFA/SEM with ML, MLR, FIML, MLM(V)(S) or the WLS family.

The pipeline is lavaan's (Rosseel, 2012): syntax -> parameter table ->
model matrices -> estimation -> inference -> output.  Estimators are defined
as lavaan defines them:

========  ==========================================================  ==================
name      estimation and inference                                     lavaan equivalent
========  ==========================================================  ==================
ML        normal-theory ML, expected-information SEs, chi-square       ``estimator="ML"``
MLR       ML with Huber-White SEs and the Yuan-Bentler (Mplus)         ``estimator="MLR"``
          scaled test statistic
FIML      casewise ML for incomplete data (MAR), observed-information  ``missing="ml"``
          SEs, chi-square against the EM-estimated saturated model
WLSMV     DWLS on polychoric correlations and thresholds, robust SEs,  ``estimator="WLSMV"``
          mean-and-variance adjusted (scaled-shifted) test             with ``ordered=``
MLM       ML with robust.sem SEs and the Satorra-Bentler scaled test   ``estimator="MLM"``
MLMV      ... with the scaled-and-shifted test                         ``estimator="MLMV"``
MLMVS     ... with the mean-and-variance adjusted test                 ``estimator="MLMVS"``
GLS ...   least squares: GLS, ULS, WLS, DWLS (on polychoric            ``estimator="GLS"``
          correlations with ``ordered=``), and WLSM(V)(S), ULSM(V)(S)
          with robust.sem SEs and Satorra-Bentler type tests
========  ==========================================================  ==================

The full list, with lavaan's ``se`` and ``test`` of each name, is the table of
:mod:`ckm_research.sem.estimators` (:data:`ESTIMATORS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.numerics import single_thread_blas
from ckm_research.sem.checks import check_latent_names, run_engine
from ckm_research.sem.engine import GroupData
from ckm_research.sem.estimators import (
    ESTIMATORS,
    FIML_ESTIMATORS,
    check_estimator,
    estimator_spec,
)
from ckm_research.sem.ml import MLEngine
from ckm_research.sem.options import FitOptions
from ckm_research.sem.partable import build_partable, variable_roles
from ckm_research.sem.results import SEMResults
from ckm_research.sem.syntax import ParsedModel, parse_model
from ckm_research.textfile import model_text

__all__ = [
    "fit",
    "fit_with_options",
    "build_engine",
    "read_model_text",
    "interaction_error",
    "FitOptions",
    "ESTIMATORS",
]


def _resolve_ordered(ordered, ov: tuple[str, ...]) -> tuple[str, ...]:
    """The model's ordered items from ``FitOptions.ordered`` (``()``, ``'all'`` or names)."""
    if ordered is None or ordered is False:
        return ()
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return tuple(ov)
    if isinstance(ordered, str):
        ordered = [s.strip() for s in ordered.split(",") if s.strip()]
    ordered = list(ordered)
    unknown = [o for o in ordered if o not in ov]
    if unknown:
        raise ModelSpecificationError(
            "ordered names variable(s) that the model does not use: " + ", ".join(unknown)
        )
    return tuple(o for o in ov if o in set(ordered))


def _prepare_frame(data, ov, group, missing_values) -> pd.DataFrame:
    from ckm_research.data.frames import require_column
    from ckm_research.data.io import read_data

    frame = read_data(data, missing_values=missing_values)
    if group is not None:
        require_column(frame, group, "group column", ModelSpecificationError)
    return frame


def fit(
    model: str | Path,
    data,
    *,
    estimator: str = "ML",
    ordered: Iterable[str] | str | bool | None = None,
    group: str | None = None,
    group_equal: Iterable[str] = (),
    std_lv: bool = False,
    missing_values: Iterable[float] | None = None,
    level: float = 0.95,
    control: dict | None = None,
    interaction: str | None = None,
    fixed_x: bool | None = None,
    missing: str | None = None,
    meanstructure: bool | None = None,
    orthogonal: bool = False,
    std_ov: bool = False,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    group_partial: Iterable[str] | str = (),
    cluster: str | None = None,
    sampling_weights: str | None = None,
    parameterization: str = "delta",
    **lavaan_options: Any,
) -> SEMResults:
    """Fit a CFA/SEM written in lavaan syntax.

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan model syntax, or a path to a file holding it.
    data : pandas.DataFrame or path
        The data (CSV, Excel, SPSS ``.sav`` or Stata ``.dta`` when a path).
    estimator : str
        One of :data:`ckm_research.sem.estimators.ESTIMATORS` (lavaan's
        names and defaults; see the module docstring).  ``'FIML'`` is ML with ``missing="ml"``;
        ``'MLR'`` with incomplete data uses FIML too (as lavaan's
        ``estimator="MLR", missing="ml"``).
    ordered : 'all', list of str or None
        Ordinal items (required for WLSMV and the other estimators of
        :data:`~ckm_research.sem.estimators.ORDINAL_ESTIMATORS`; ``'all'`` means every observed
        variable of the model).
    group : str, optional
        Column defining groups for a multiple-group model.
    group_equal : iterable of str
        lavaan's ``group.equal`` (e.g. ``["loadings", "intercepts"]``).
    std_lv : bool
        Identify factors by unit variances (lavaan ``std.lv = TRUE``).
    missing_values : iterable of float, optional
        Codes to treat as missing (e.g. ``[-99]``).
    level : float
        Confidence level of the intervals.
    missing : {'listwise', 'ml', 'ml.x'}, optional
        lavaan's ``missing``: listwise deletion (the default, as in lavaan) or
        casewise ML (FIML; the default for ``estimator='FIML'``).  Use
        ``estimator='MLR', missing='ml'`` for robust FIML.  With observed
        exogenous covariates and ``fixed_x=True``, ``'ml'`` deletes the cases
        with a missing covariate (with a note saying how many), as lavaan
        does; ``'ml.x'`` keeps them, the covariates then enter the likelihood
        as random variables (lavaan's ``missing = "ml.x"``).
    fixed_x : bool, optional
        Treat observed exogenous covariates as fixed (lavaan's ``fixed.x``):
        their variances and covariances are set to the sample values and are
        not parameters.  The default is lavaan's: ``True``, except for the
        least-squares estimators of continuous items (GLS, ULS, WLS, DWLS),
        where lavaan's default is ``False``.
    control : dict, optional
        Optimiser settings, as lavaan's ``control``: ``{"iter.max": 500}``.
    interaction : {'dblcent', 'lms', 'qml'}, optional
        How latent product terms (``Y ~ X + Z + X:Z``) are estimated: double-
        mean-centred product indicators (the default when the model has a
        product term), LMS or QML; see :mod:`ckm_research.moderation.dispatch`.
        Such models are fitted by :func:`ckm_research.fit` (which sends them to
        :mod:`ckm_research.moderation`); this function, the SEM engine's entry,
        refuses them with a :class:`CkmError` saying so.
    meanstructure : bool, optional
        lavaan's ``meanstructure``: ``True`` adds the intercepts of the observed
        variables and the means of the latent variables to the model (with
        complete data and free intercepts the chi-square and df do not change).
        ``None`` or ``False`` (lavaan's ``"default"``): a mean structure only
        where the model needs one (``~ 1`` in the syntax, ``missing='ml'``,
        several groups, WLSMV).
    orthogonal : bool
        lavaan's ``orthogonal``: the covariances the model adds between latent
        variables (exogenous factors, residuals of purely dependent factors) are
        fixed at 0; covariances written in the syntax stay free.
    std_ov : bool
        lavaan's ``std.ov``: standardize the observed variables before fitting
        (per group, after listwise deletion; divisor N - 1 as R's ``scale()``),
        except ordinal items and, with ``fixed_x=True``, the exogenous covariates,
        which lavaan leaves on their scale.
    int_ov_free, int_lv_free : bool
        lavaan's ``int.ov.free`` (default ``True``) and ``int.lv.free`` (default
        ``False``): whether the observed intercepts and the latent means added to
        a mean structure are free or fixed at 0.  Intercepts and means written in
        the syntax are free either way.  :func:`growth` sets
        ``int_ov_free=False, int_lv_free=True``.
    group_partial : str or iterable of str
        lavaan's ``group.partial``: parameters that ``group_equal`` would make
        equal across groups but that stay free, written as lavaan writes them,
        ``lhs op rhs`` (``["visual=~x2", "x3~1"]``; spaces are ignored, a
        covariance in the model's order, ``"x1~~x4"``).  A name that is not a
        parameter of the model is an error (lavaan ignores it).
    cluster : None
        lavaan's ``cluster`` (cluster-robust SEs, two-level SEM) is not
        supported: any value raises a :class:`ModelSpecificationError` that
        says to fit such a model in lavaan or Mplus.
    sampling_weights : str, optional
        lavaan's ``sampling.weights``: the name of a column of case weights.
        As lavaan, the weights of the cases used are rescaled to sum to the
        total number of cases (over all groups), the sample moments are
        weighted, and the estimator is MLR (robust Huber-White SEs with
        weighted casewise scores, Yuan-Bentler scaled test): ``estimator='ML'``
        becomes ``'MLR'``, with a note saying so (``'FIML'`` too).  Supported for
        ML/MLR with complete data or listwise deletion and with
        ``missing='ml'`` (weighted FIML), one group or several; a column with
        missing, negative or non-numeric values, or only zeros, is refused
        naming the column and rows.  See :mod:`ckm_research.sem.weights`.
    parameterization : {'delta', 'theta'}
        lavaan's ``parameterization`` for ordered items: ``'delta'`` (the
        default) fixes the total variances of the latent responses at 1 (their
        residual variances follow; scaling factors ``~*~``), ``'theta'`` fixes
        their residual variances at 1 (in groups 2.. free when the thresholds
        are equal).  The same model, the estimates are rescaled; ignored
        without ordered items, as in lavaan.
    **lavaan_options
        Other lavaan options are refused with a :class:`CkmError` that names
        the lavaan option, says it is not supported and what to do instead
        (``se``, ``test``, ``conditional_x`` ...);
        a name that is no lavaan option gets the list of ``fit()``'s options.

    Returns
    -------
    SEMResults
        With ``.options`` (the options as one validated
        :class:`~ckm_research.sem.options.FitOptions`), ``.model_text`` and
        ``.model`` (parameter table and model matrices).

    Raises
    ------
    ckm_research.errors.CkmError
        For any problem with the model, the data or the options; the message
        names the variable, row or parameter at fault.  The options are
        validated first, all in :meth:`FitOptions.from_kwargs
        <ckm_research.sem.options.FitOptions.from_kwargs>`.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = fit(model, hs)
    >>> res.estimates[["lhs", "op", "rhs", "est", "se"]].head(3).round(3)
          lhs  op rhs    est     se
    0  visual  =~  x1  1.000  0.000
    1  visual  =~  x2  0.554  0.100
    2  visual  =~  x3  0.729  0.109
    >>> round(float(res.fit_measures["chisq"]), 3), round(float(res.fit_measures["cfi"]), 3)
    (85.306, 0.931)

    In R: ``lavaan::sem(model, data, estimator = "ML")``.
    """
    options = FitOptions.from_kwargs(
        estimator=estimator, ordered=ordered, group=group, group_equal=group_equal,
        std_lv=std_lv, missing_values=missing_values, level=level, control=control,
        interaction=interaction, fixed_x=fixed_x, missing=missing, meanstructure=meanstructure,
        orthogonal=orthogonal, std_ov=std_ov, int_ov_free=int_ov_free, int_lv_free=int_lv_free,
        group_partial=group_partial, cluster=cluster, sampling_weights=sampling_weights,
        parameterization=parameterization, **lavaan_options,
    )  # fmt: skip
    return fit_with_options(model, data, options)


def read_model_text(model: str | Path) -> str:
    """The model syntax: ``model`` itself, or the text of the ``.lav`` file it names.

    Read with :func:`ckm_research.textfile.model_text` (a byte-order mark is dropped; a
    file that is not UTF-8 raises ``ModelFileError`` naming the file, byte offset and
    line); anything else is passed on to :func:`~ckm_research.sem.syntax.parse_model`.
    """
    if isinstance(model, (str, Path)):
        return model_text(model)
    return model


def fit_with_options(model: str | Path, data, options: FitOptions) -> SEMResults:
    """:func:`fit` with its options already validated, as one :class:`FitOptions`.

    The entry for the package's own callers (the interaction methods,
    :func:`~ckm_research.sem.growth.growth`, the bootstrap, the power analysis),
    which pass the options on (changed with :func:`dataclasses.replace`) instead
    of re-typing fit()'s keywords.  A model with latent product terms (``X:Z``)
    is refused: :func:`ckm_research.fitting.fit_with_options` routes it to
    :mod:`ckm_research.moderation` (``ckm_research.sem`` never imports it).

    Parameters
    ----------
    model : str or pathlib.Path
        lavaan syntax, or a ``.lav`` file.
    data : pandas.DataFrame or path
    options : FitOptions
        From :meth:`FitOptions.from_kwargs`.

    Returns
    -------
    SEMResults
        With ``.options`` this ``options`` and ``.model_text`` the syntax.
    """
    model = read_model_text(model)
    parsed = parse_model(model)
    if variable_roles(parsed).interactions:
        raise interaction_error(variable_roles(parsed).interactions)
    roles = variable_roles(parsed)
    ov = roles.ov
    frame = _prepare_frame(data, ov, options.group, options.missing_values)
    check_latent_names(roles, frame.columns)
    if roles.ov_interactions:  # observed product terms x1:x2 (lavaan's ov.interaction)
        from ckm_research.sem.products import add_product_columns

        frame = add_product_columns(frame, parsed, roles)
    ordered_t = _resolve_ordered(options.ordered, ov)
    check_estimator(options.label, ordered=bool(ordered_t))
    # SEM fitting multiplies many small matrices: BLAS threads only add overhead (also
    # to the data checks and sample moments of building the engine)
    with single_thread_blas():
        engine = _build_engine(parsed, frame, options.replace(ordered=ordered_t))
        res = run_engine(engine, frame, parsed)
    res.options = options
    res.model_text = model
    return res


def _build_engine(parsed: ParsedModel, frame: pd.DataFrame, options: FitOptions):
    """The unfitted engine for ``parsed`` and ``frame``; its ``opts`` are ``options`` with
    the model-dependent values resolved (ordered items, mean structure, lavaan's implied
    group.equal, MLR with sampling weights)."""
    from ckm_research.data.checks import check_model_data

    ordered = _resolve_ordered(options.ordered, variable_roles(parsed).ov)
    estimator, group, group_equal = options.estimator, options.group, options.group_equal
    fixed_x, missing, std_ov = options.fixed_x, options.missing, options.std_ov
    sampling_weights = options.sampling_weights
    roles = variable_roles(parsed, ordered)
    ov = roles.ov
    # numeric checks on the model's variables (names the column and rows at fault)
    npar_guess = 2 * len(ov) + len(roles.lv)
    clean = check_model_data(frame, list(ov), min_rows=max(3, min(npar_guess, len(ov) + 1)))
    if group is not None:
        glabels = list(pd.unique(frame[group].dropna()))
        if len(glabels) < 2:
            raise CkmError(f"the group column '{group}' has fewer than two distinct values")
        gcol = frame[group].to_numpy()
    else:
        glabels = [None]
        gcol = None
    spec = estimator_spec(estimator)
    options.check_ordered(ordered)
    if ordered and any(g in ("intercepts", "thresholds") for g in group_equal):
        # lavaan (lav_options_set): with ordered items "intercepts" implies "thresholds"
        # and "thresholds" implies "intercepts" (of the continuous items)
        group_equal = tuple(dict.fromkeys([*group_equal, "thresholds", "intercepts"]))
    meanstructure = (
        options.meanstructure
        or missing != "listwise"
        or bool(ordered)
        or any(s.op == "~1" for s in parsed.statements)
        or any(g in ("intercepts", "means", "thresholds") for g in group_equal)
        or len(glabels) > 1  # lavaan: multiple groups imply a mean structure
    )
    notes: list[str] = []
    weights_all = None
    alias = options.estimator_alias
    if sampling_weights is not None:
        from ckm_research.sem.weights import check_weights_options, sampling_weights_column

        weights_all = sampling_weights_column(frame, sampling_weights)
        estimator = check_weights_options(estimator, missing, ordered)
        if estimator != spec.name:  # lavaan: estimator "ML" becomes "MLR" with weights
            notes.append(
                f"sampling weights: estimator '{options.label}' was fitted as 'MLR' (robust "
                "Huber-White standard errors and the Yuan-Bentler scaled test), as lavaan "
                "does with sampling.weights; naive ML standard errors ignore the weighting"
            )
            spec = estimator_spec(estimator)
            alias = None
    if std_ov and fixed_x and roles.ov_x:
        notes.append(
            "std_ov=True with fixed-x covariates: lavaan 0.6.14 reports another baseline "
            "chi-square (so CFI, TLI, NFI ...) and log-likelihood (AIC, BIC) for this model; "
            "ckm-research's baseline and incremental indices are those of the unstandardized "
            "data, as they do not depend on the scale"
        )
    groups: list[GroupData] = []
    group_weights: list[np.ndarray] = []
    for lab in glabels:
        sub = clean if gcol is None else clean[gcol == lab]
        x = sub.to_numpy(dtype=float)
        if missing == "listwise":
            keep = ~np.isnan(x).any(axis=1)
            if weights_all is not None:
                w = weights_all if gcol is None else weights_all[gcol == lab]
                group_weights.append(w[keep])
            dropped = int((~keep).sum())
            if dropped:
                where = "" if lab is None else f" in group {lab}"
                notes.append(
                    f"{dropped} of {len(x)} cases{where} have missing values and were deleted "
                    "listwise; use estimator='FIML' (or missing='ml') to keep them"
                )
            x = x[keep]
        else:
            if weights_all is not None:
                from ckm_research.sem.weights import fiml_case_mask

                w = weights_all if gcol is None else weights_all[gcol == lab]
                ix = [ov.index(v) for v in roles.ov_x] if missing == "ml" and fixed_x else []
                group_weights.append(w[fiml_case_mask(x, ix)])
            if missing == "ml" and fixed_x:
                from ckm_research.sem.fiml import drop_missing_covariates

                x = drop_missing_covariates(x, ov, roles.ov_x, lab, notes)
            allmiss = np.isnan(x).all(axis=1)
            if allmiss.any():
                notes.append(f"{int(allmiss.sum())} cases with no observed values were removed")
                x = x[~allmiss]
        if std_ov:
            # lavaan scales the numeric variables but not the fixed-x covariates
            keep_raw = set(ordered) | (set(roles.ov_x) if fixed_x else set())
            x = _standardize_columns(x, [v not in keep_raw for v in ov])
        groups.append(GroupData(lab, x, extra={"n_total": int(len(sub))}))  # lavaan norig
    if weights_all is not None:
        from ckm_research.sem.weights import WEIGHTS_KEY, normalize_weights

        labels = glabels if len(glabels) > 1 else None
        for gd, w in zip(groups, normalize_weights(group_weights, labels), strict=True):
            gd.extra[WEIGHTS_KEY] = w
    for gd in groups:
        if gd.data.shape[0] < len(ov) + 1 and missing == "listwise":
            where = "" if gd.label is None else f" in group {gd.label}"
            raise CkmError(
                f"too few complete cases{where}: {gd.data.shape[0]} for {len(ov)} observed "
                "variables; the sample covariance matrix is singular. Collect more data or "
                "use estimator='FIML'."
            )
    nthresholds = {}
    if ordered:
        for v in ordered:
            j = ov.index(v)
            levels = np.unique(np.concatenate([gd.data[:, j] for gd in groups]))
            levels = levels[~np.isnan(levels)]
            nthresholds[v] = len(levels) - 1
    pt = build_partable(
        parsed,
        ngroups=len(groups),
        meanstructure=meanstructure,
        std_lv=options.std_lv,
        ordered=ordered,
        nthresholds=nthresholds,
        group_equal=group_equal,
        fixed_x=fixed_x,
        int_ov_free=options.int_ov_free,
        int_lv_free=options.int_lv_free,
        orthogonal=options.orthogonal,
        group_partial=options.group_partial,
        general_constraints=True,
        parameterization=options.parameterization,
    )
    opts = options.replace(
        estimator=estimator,
        estimator_alias=alias,
        meanstructure=meanstructure,
        ordered=ordered,
        group_equal=group_equal,
    )
    if pt.constraints:
        engine = _constrained_engine(pt, groups, opts, notes)
        if engine is not None:
            if weights_all is not None:
                from ckm_research.sem.weights import refuse_weights

                raise refuse_weights(
                    "general (linear, nonlinear or inequality) constraints",
                    "fit the weighted model in lavaan, or write the constraints as equal "
                    "labels (a == b, or the same label on both parameters)",
                )
            return engine
    if ordered:
        from ckm_research.sem.wlsmv import WLSMVEngine

        return WLSMVEngine(pt, groups, opts, notes)
    if missing in ("ml", "ml.x") and weights_all is not None:
        from ckm_research.sem.weights import WeightedFIMLEngine

        return WeightedFIMLEngine(pt, groups, opts, notes, weights_column=sampling_weights)
    if missing in ("ml", "ml.x"):
        from ckm_research.sem.fiml import FIMLEngine

        return FIMLEngine(pt, groups, opts, notes)
    if spec.fitted_by != "ML":
        from ckm_research.sem.ls import LSEngine

        if spec.se == "robust.sem":
            notes.append(
                f"{estimator} without ordered items: {spec.fitted_by} on the covariances of "
                "continuous items, as lavaan does; pass ordered='all' (--ordered all) for "
                "ordinal items"
            )

        return LSEngine(pt, groups, opts, notes)
    if weights_all is not None:
        from ckm_research.sem.weights import WeightedMLEngine

        return WeightedMLEngine(pt, groups, opts, notes, weights_column=sampling_weights)
    return MLEngine(pt, groups, opts, notes)


def build_engine(
    parsed: ParsedModel, frame: pd.DataFrame, options: FitOptions | None = None, **kwargs
):
    """The unfitted estimation engine :func:`fit` builds for a parsed model and data.

    Public entry for other packages (e.g. ``inference.power``, which fits the engine to
    population moments) to the engine :func:`fit` uses.

    Parameters
    ----------
    parsed : ParsedModel
    frame : pandas.DataFrame
    options : FitOptions, optional
        The options; without it, ``kwargs`` (keywords of :func:`fit`) are validated into one.

    Returns
    -------
    MLEngine, LSEngine or another engine of ``ckm_research.sem``
        With the parameter table (``.pt``), the data groups and the options (``.opts``).
    """
    if options is None:
        options = FitOptions.from_kwargs(**kwargs)
    elif kwargs:
        options = options.replace(**kwargs)
    return _build_engine(parsed, frame, options)


def interaction_error(terms) -> CkmError:
    """The error of :func:`fit` for a model with latent product terms (``X:Z``): these
    are fitted by :func:`ckm_research.fit`, which routes them to
    :mod:`ckm_research.moderation` (the SEM engine does not import it)."""
    return ModelSpecificationError(
        "the model has latent product terms (" + ", ".join(map(str, terms)) + "): fit it "
        "with ckm_research.fit (from ckm_research import fit), which estimates latent "
        "interactions by product indicators or LMS (interaction='dblcent' or 'lms'); "
        "ckm_research.sem.api.fit fits models without them"
    )


def _standardize_columns(x: np.ndarray, which: list[bool]) -> np.ndarray:
    """lavaan's ``std.ov``: centre and scale the chosen columns as R's ``scale()``
    (available cases per column, standard deviation with divisor N - 1)."""
    x = x.copy()
    for j, do in enumerate(which):
        if not do:
            continue
        col = x[:, j]
        sd = np.nanstd(col, ddof=1)
        if not np.isfinite(sd) or sd == 0:
            raise CkmError(
                f"std_ov=True cannot standardize a column with no variance (column {j + 1} "
                "of the model's observed variables)"
            )
        x[:, j] = (col - np.nanmean(col)) / sd
    return x


def _constrained_engine(pt, groups, opts, notes):
    """The ML/MLR engine for models with constraints other than ``a == b``
    (:mod:`ckm_research.sem.constraints`); ``None`` when there are none."""
    from ckm_research.sem import constraints

    cons = constraints.general_constraints(pt)
    if not cons:
        return None
    if opts.estimator not in FIML_ESTIMATORS or opts.ordered:
        raise ModelSpecificationError(
            f"the constraint '{cons[0].lhs} {cons[0].op} {cons[0].rhs}' (line {cons[0].line}) "
            f"is not supported with {opts.estimator}: general linear, nonlinear and inequality "
            "constraints are supported for estimator='ML', 'MLR' and 'FIML'. Simple "
            "equalities between labels (a == b) work with every estimator."
        )
    if opts.missing in ("ml", "ml.x"):
        return constraints.ConstrainedFIMLEngine(pt, groups, opts, notes)
    return constraints.ConstrainedMLEngine(pt, groups, opts, notes)
