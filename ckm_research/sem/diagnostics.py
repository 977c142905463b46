"""The tools a lavaan user reaches for after fitting.

Each function takes the :class:`~ckm_research.sem.results.SEMResults` that
:func:`ckm_research.fit` returns and gives tidy :class:`pandas.DataFrame`
output with lavaan's column names:

=====================  ======================================================
function               lavaan
=====================  ======================================================
:func:`modindices`     ``modindices(fit)``: modification indices, expected
                       parameter changes (Sörbom, 1989) and their
                       standardized versions (Saris, Satorra & van der Veld,
                       2009)
:func:`score_test`     ``lavTestScore(fit)``: score tests of releasing the
                       equality constraints or of adding parameters
                       (Satorra, 1989; Bentler, 1990)
:func:`factor_scores`  ``lavPredict(fit)``: regression (Thurstone, 1935),
                       Bartlett (1937) and, for ordinal items, empirical
                       Bayes modal factor scores, also with missing cells
:func:`residuals`      ``lavResiduals(fit)``: residual means and covariances
                       (raw, correlation or standardized) with z statistics
                       and the SRMR/CRMR summary (Maydeu-Olivares, 2017)
:func:`wald_test`      ``lavTestWald(fit, constraints)``: Wald test of
                       constraints written with parameter labels
:func:`lrt`            ``lavTestLRT(fit0, fit1)``: (scaled) chi-square
                       difference tests of nested models (Satorra & Bentler,
                       2001, 2010)
=====================  ======================================================

The score tests (modification indices, ``score_test``) are computed at the
estimates of the fitted model with the expected information, as lavaan
computes them by default.  The modification indices work in the reduced
parameterization the engine estimates (one parameter per shared label),
which gives lavaan's statistics without its constrained inverse;
``score_test`` releases constraints through lavaan's bordered information
matrix of the unconstrained model.
ML, MLR, FIML and WLSMV fits are supported (WLSMV with the DWLS score and
information, and EBM factor scores); what is not supported raises
:class:`~ckm_research.errors.CkmError` naming the lavaan feature.
"""

from __future__ import annotations

import warnings
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import
from ckm_research.sem.ml import ml_discrepancy, ml_information
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import ParTable

__all__ = ["modindices", "score_test", "factor_scores", "residuals", "wald_test", "lrt"]

#: lavaan's threshold on the variance of a score (``.Machine$double.eps^(1/3)``):
#: below it a parameter cannot be freed (it is not identified) and its index is NA
_V_EPS = np.finfo(float).eps ** (1.0 / 3.0)


def _engine(results, what: str):
    eng = getattr(results, "_engine", None)
    if eng is None:
        raise CkmError(
            f"{what} needs the fitted model: pass the SEMResults returned by fit() in this "
            "session (a result read back from JSON has no model)"
        )
    from ckm_research.sem.engine import BaseEngine

    if not isinstance(eng, BaseEngine):
        kind = "LMS" if "LMS" in type(eng).__name__ else type(eng).__name__
        raise CkmError(
            f"{what} is not supported for {kind} fits (latent interactions by LMS, which lavaan "
            "does not have either); refit with interaction='dblcent' (product indicators) to "
            f"use {what}"
        )
    return eng


def _check_ml(eng, what: str, lavaan_name: str, fiml: bool = False, wlsmv: bool = False) -> None:
    from ckm_research.sem.ml import MLEngine
    from ckm_research.sem.weights import WeightedMLEngine

    ok = (
        type(eng) in (MLEngine, WeightedMLEngine)  # sampling weights: lavaan's too
        or (fiml and _is_fiml(eng))
        or (wlsmv and _is_wlsmv(eng))
    )
    if not ok:
        if eng.opts.estimator == "WLSMV":
            kind = "WLSMV (categorical) fits"
        elif eng.opts.missing == "ml":
            kind = "FIML fits (missing='ml')"
        else:
            kind = f"{type(eng).__name__} fits"
        avail = "ML, MLR and FIML fits" if fiml else "complete-data ML and MLR fits"
        raise CkmError(
            f"{what} (lavaan's {lavaan_name}) is not supported for {kind}; it is available for "
            f"{avail}. Refit with estimator='ML' (or 'MLR') to screen the model, or use lavaan "
            "for this fit."
        )


# ---------------------------------------------------------------- candidates
def _eqs_names(t: pd.DataFrame) -> list[str]:
    """lavaan's ``unique(c(eqs.y, eqs.x))``: variables of the regressions, in order."""
    reg = t[(t["op"] == "~") & (t["group"] == 1)]
    return list(dict.fromkeys([*reg["lhs"], *reg["rhs"]]))


def _lower_pairs(names) -> list[tuple[str, str]]:
    """Lower triangle with diagonal, column by column (lavaan's ``lower.tri`` order)."""
    names = list(names)
    return [(names[j], names[i]) for j, i in combinations_with_replacement(range(len(names)), 2)]


def _full_rows(pt: ParTable) -> list[tuple[str, str, str]]:
    """Every parameter lavaan's ``lav_partable_full`` lists for one group:
    loadings of every factor on every (non-x) observed variable outside the
    regressions, all (residual) (co)variances of the indicators, of the
    covariates and of the factors, all regressions among the variables of
    the regressions (but no indicator on a factor), and the intercepts."""
    t = pt.table
    roles = pt.roles
    ov, lv = list(roles.ov), list(roles.lv)
    ov_x = set(roles.ov_x)
    ov_nox = [v for v in ov if v not in ov_x]
    ov_ind = set(roles.ov_ind)
    eqs = _eqs_names(t)
    eqs_set = set(eqs)
    rows = [(f, "=~", v) for f in lv for v in ov_nox if v not in eqs_set]
    other = {v for v in ov if v not in ov_ind}
    rows += [(a, "~~", b) for a, b in _lower_pairs(ov_nox) if a not in other and b not in other]
    rows += [(a, "~~", b) for a, b in _lower_pairs(roles.ov_x)]
    rows += [(a, "~~", b) for a, b in _lower_pairs(lv)]
    lv_set = set(lv)
    rows += [(y, "~", x) for y in eqs for x in eqs if x != y and not (y in ov_ind and x in lv_set)]
    if pt.meanstructure:
        rows += [(v, "~1", "") for v in ov + lv]
    return rows


def _extended(eng):
    """The model with every candidate parameter added (lavaan's
    ``lav_object_extended(fit, add = lav_partable_full(...), all.free = TRUE)``).

    Returns the extended RAM model, its free-parameter vector at the
    estimates (candidates at their current values, new ones at zero), the
    number of the model's own free parameters, and the candidate rows.
    """
    pt = eng.pt
    t = pt.table
    q = eng.model.n_free
    row_vals = eng.row_values()
    have = set()
    for r in t.itertuples(index=False):
        have.add((r.lhs, r.op, r.rhs, r.group))
        if r.op == "~~":
            have.add((r.rhs, r.op, r.lhs, r.group))
    cand = []  # (row position in the extended table)
    ext = t.copy()
    ext_vals = list(row_vals)
    exo = t["exo"].to_numpy()
    for pos in np.flatnonzero(t["free"].to_numpy() == 0):
        # fixed-x moments carry no information (lavaan gives them NA, then drops them)
        if t["op"].iat[pos] in ("~*~", "|") or exo[pos] == 1:
            continue
        cand.append(int(pos))
    new = []
    for g in range(1, pt.ngroups + 1):
        for lhs, op, rhs in _full_rows(pt):
            if (lhs, op, rhs, g) in have:
                continue
            have.add((lhs, op, rhs, g))
            new.append(
                dict(lhs=lhs, op=op, rhs=rhs, user=10, group=g, free=0, ustart=0.0, label="",
                     exo=0, start=np.nan)
            )  # fmt: skip
            ext_vals.append(0.0)
    if new:
        add = pd.DataFrame(new)
        add.insert(0, "id", np.arange(len(t) + 1, len(t) + len(new) + 1))
        ext = pd.concat([ext, add[ext.columns]], ignore_index=True)
        cand += list(range(len(t), len(ext)))
    free = ext["free"].to_numpy().copy()
    free[cand] = q + 1 + np.arange(len(cand))
    ext["free"] = free
    ext_pt = ParTable(
        table=ext,
        roles=pt.roles,
        ngroups=pt.ngroups,
        definitions=(),
        constraints=(),
        meanstructure=pt.meanstructure,
        std_lv=pt.std_lv,
    )
    model = RAMModel(ext_pt, ov_order=eng.model.ov)
    model.values = np.asarray(ext_vals, dtype=float)
    theta = np.concatenate([eng.theta, model.values[cand]])
    return model, theta, q, np.asarray(cand, dtype=int)


def _score_statistics(eng):
    """Per-case score (gradient of the log-likelihood / N) and expected
    information of the extended model at the estimates."""
    model, theta, q, cand = _extended(eng)
    n = float(eng.ntotal)
    score, info = _score_information(eng, model, theta)
    return model, theta, q, cand, score, info, n


def _score_information(eng, model: RAMModel, theta: np.ndarray):
    """Score and expected information per case for the parameters of
    ``model`` (the fitted model extended or unconstrained), by estimator."""
    if _is_fiml(eng):
        return _fiml_score_information(eng, model, theta)
    if _is_wlsmv(eng):
        return _wls_score_information(eng, model, theta)
    return _ml_score_information(eng, model, theta)


def _is_wlsmv(eng) -> bool:
    return eng.opts.estimator == "WLSMV"


def _wls_score_information(eng, model: RAMModel, theta: np.ndarray):
    """DWLS (WLSMV) score and information: with :math:`r` the residual
    thresholds and polychoric correlations and :math:`W` the diagonal weight,
    :math:`s = \\tfrac{N-1}{N}\\Delta^\\top W r` (the derivative of lavaan's
    objective :math:`\\tfrac12\\tfrac{N-1}{N} r^\\top W r`) and
    :math:`I = \\Delta^\\top W\\Delta` (lavaan's expected information of
    DWLS)."""
    import copy

    if getattr(eng, "mixed", False):
        _refuse_multigroup_wls(eng, "modification indices and score tests")
    if getattr(eng, "theta_param", False):
        raise CkmError(
            "modification indices and score tests of a fit with parameterization='theta' are "
            "not supported; refit with the default parameterization='delta' (the same model)"
        )
    other = copy.copy(eng)  # the engine's Delta and moments for another parameter table
    other.model = model
    other.pt = model.partable
    # several groups: sum over groups, weights (N_g - 1)/N in the score and N_g/N in
    # the information (lavaan's objective and expected information)
    moms = getattr(eng, "moms", [eng.mom])
    weights = getattr(eng, "weights", [eng.weight])
    Dg = other.delta_groups(theta) if len(moms) > 1 else [other.delta(theta)]
    est = other.wls_est(theta)
    n = float(eng.n)
    score, info, off = 0.0, 0.0, 0
    for mom, w, D in zip(moms, weights, Dg, strict=True):
        r = mom.wls_obs - est[off : off + len(mom.wls_obs)]
        off += len(mom.wls_obs)
        score = score + (mom.n - 1) / n * (D.T @ (w * r))
        info = info + mom.n / n * (D.T @ (D * w[:, None]))
    return score, info


def _ml_score_information(eng, model: RAMModel, theta: np.ndarray):
    """Score and expected information per case of complete-data ML for the
    parameters of ``model``.  With fixed exogenous covariates (``fixed.x``)
    the information leaves out their moments, as lavaan does, which matters
    for parameters that would make a covariate endogenous."""
    from ckm_research.sem.robust import h1_information_expected

    moments = [gd.moments for gd in eng.groups]
    n = float(eng.ntotal)
    weights = [m.n / n for m in moments]
    ms = eng.opts.meanstructure
    # lavaan's F_ML is half ours: dlogL/dtheta / N = -grad(F_ours) / 2
    _, grad = ml_discrepancy(model, theta, moments)
    if not eng.n_exo():
        return -0.5 * grad, ml_information(model, theta, weights, meanstructure=ms)
    keep = eng.non_exo_mask()
    info = np.zeros((model.n_free, model.n_free))
    for g, w in enumerate(weights):
        Sig, _ = model.implied(theta, g)
        D = model.jacobian(theta, g, meanstructure=ms)[keep]
        W = h1_information_expected(Sig, ms)[np.ix_(keep, keep)]
        info += w * (D.T @ W @ D)
    return -0.5 * grad, info


def _is_fiml(eng) -> bool:
    from ckm_research.sem.fiml import FIMLEngine

    return isinstance(eng, FIMLEngine)


def _fiml_score_information(eng, model: RAMModel, theta: np.ndarray):
    """Score per case of the casewise (FIML) log-likelihood and the expected
    information per case with missing data (lavaan's ``information =
    "expected"`` with ``missing = "ml"``: the normal information of each
    case's observed variables at the model-implied moments, Savalei, 2010),
    for the parameters of ``model``."""
    from ckm_research.sem import missing as mis

    n = float(eng.ntotal)
    grad = np.zeros(model.n_free)
    info = np.zeros((model.n_free, model.n_free))
    for g, pat in enumerate(eng.patterns):
        pc = model.pieces(theta, g)
        g_mu, g_sigma = mis.fiml_gradient(pat, pc["mu"], pc["sigma"])
        rows, X, Y, DMU = model.rank2_factors(pc, g)
        g_rows = 2.0 * np.sum(X * (g_sigma @ Y), axis=0) + DMU.T @ g_mu
        np.add.at(grad, model.free[rows] - 1, g_rows)
        A1 = mis.fiml_information_h1(pat, pc["mu"], pc["sigma"], information="expected")
        D = model.jacobian(theta, g, meanstructure=True)
        info += pat.n_cases / n * (D.T @ A1 @ D)
    return grad / n, info


# ------------------------------------------------------------- standardizing
def _sepc(eng, table: pd.DataFrame, epc: np.ndarray, est: np.ndarray, cov_std: bool = True):
    """``sepc.lv``, ``sepc.all`` and ``sepc.nox`` of candidate rows (lavaan's
    ``lav_standardize_lv`` / ``_all`` / ``_all_nox`` applied to ``|EPC|`` with
    ``cov.std = TRUE``, the sign of the EPC put back): loadings and
    regressions rescaled by the model-implied standard deviations, covariances
    divided by the square roots of the two (residual) variance estimates."""
    model = eng.model
    lv = set(model.lv)
    ov_x = set(eng.pt.roles.ov_x)
    t = eng.pt.table
    out = {k: np.full(len(table), np.nan) for k in ("sepc.lv", "sepc.all", "sepc.nox")}
    for g in range(model.ngroups):
        # model-implied variances from the row values (WLSMV: with the items'
        # residual variances of the delta parameterization)
        A, S, _ = model._matrices(eng.row_values(), g)
        E = model.total_effects_inverse(A)
        var = dict(zip(model.variables, np.diag(E @ S @ E.T), strict=True))
        sd = {k: np.sqrt(v) if v > 0 else np.nan for k, v in var.items()}
        tg = t[t["group"] == g + 1]
        vals = eng.row_values()[tg.index.to_numpy()]
        resid = {
            a: abs(v)
            for a, b, op, v in zip(tg["lhs"], tg["rhs"], tg["op"], vals, strict=True)
            if op == "~~" and a == b
        }
        rows = np.flatnonzero(table["group"].to_numpy() == g + 1)
        for r in rows:
            op, a, b = table["op"].iat[r], table["lhs"].iat[r], table["rhs"].iat[r]
            sign = np.sign(epc[r])
            e = abs(est[r])
            if op == "~~" and a == b and e < np.sqrt(np.finfo(float).eps):
                for k in out:
                    out[k][r] = 0.0
                continue
            s_lv = e
            s_all = None
            s_nox = None
            if op == "=~":
                s_lv = e * sd[a]
                if b in lv:
                    s_lv /= sd[b]
                    s_all = s_nox = s_lv
                else:
                    s_all = s_nox = s_lv / sd[b]
            elif op == "~":
                s_lv = e / sd[a] if a in lv else e
                s_lv = s_lv * sd[b] if b in lv else s_lv
                s_all = s_lv / sd[a] if a not in lv else s_lv
                s_nox = s_all
                if b not in lv:
                    s_all = s_all * sd[b]
                    s_nox = s_nox * (sd[b] if b not in ov_x else 1.0)
            elif op == "~~" and a == b:
                s_lv = e / var[a] if a in lv else e
                s_all = s_lv if a in lv else e / var[a]
                s_nox = s_all if a not in ov_x else e
            elif op == "~~":
                if cov_std:  # correlations of the residuals
                    ra, rb = np.sqrt(resid.get(a, np.nan)), np.sqrt(resid.get(b, np.nan))
                else:  # lavaan's cov.std = FALSE: by the total standard deviations
                    ra, rb = sd[a], sd[b]
                s_lv = e / (ra if a in lv else 1.0) / (rb if b in lv else 1.0)
                s_all = e / ra / rb
                s_nox = s_all if not (a in ov_x or b in ov_x) else e / ra / rb
            elif op == "~1":
                s_lv = e / sd[a] if a in lv else e
                s_all = s_lv if a in lv else e / sd[a]
                s_nox = s_all if a not in ov_x else e
            out["sepc.lv"][r] = sign * s_lv
            out["sepc.all"][r] = sign * (s_all if s_all is not None else np.nan)
            out["sepc.nox"][r] = sign * (s_nox if s_nox is not None else np.nan)
    return out


# ------------------------------------------------------------------ modindices
def modindices(
    results,
    sort: bool = False,
    minimum_value: float = 0.0,
    maximum_number: int | None = None,
    standardized: bool = True,
    power: bool = False,
    delta: float = 0.1,
    alpha: float = 0.05,
    high_power: float = 0.75,
    na_remove: bool = True,
    op: str | list[str] | None = None,
    cov_std: bool = True,
    information: str = "expected",
    free_remove: bool = True,
) -> pd.DataFrame:
    """Modification indices and expected parameter changes (lavaan's ``modindices``).

    For every parameter the model fixes (at zero or another value) the
    modification index is the score test of freeing it alone (Sörbom, 1989;
    Satorra, 1989):

    .. math::

        MI_j = N\\,\\frac{s_j^2}{V_{jj}}, \\qquad
        V = I_{jj} - I_{j\\theta} I_{\\theta\\theta}^{-1} I_{\\theta j},
        \\qquad EPC_j = s_j / V_{jj},

    with :math:`s_j` the derivative of the log-likelihood per case and
    :math:`I` the expected information per case at the estimates, :math:`\\theta`
    the model's free parameters (with their equality constraints).  An index
    is missing (and dropped) where :math:`V_{jj} < \\epsilon^{1/3}` (the
    parameter would not be identified), as in lavaan.  The standardized
    EPCs (Saris, Satorra & Sörbom, 1987; Saris, Satorra & van der Veld, 2009)
    rescale the EPC as lavaan's ``std.lv``, ``std.all`` and ``std.nox``
    (covariances into correlations of the residuals, ``cov.std = TRUE``).

    The candidate parameters are lavaan's (``lav_partable_full``): the fixed
    rows of the model (e.g. marker loadings), loadings of every factor on
    every indicator, all residual covariances of the indicators, covariances
    of the factors, regressions among the variables of the regressions and,
    with a mean structure, intercepts.  Rows whose index cannot be computed
    are dropped (lavaan's ``na.remove = TRUE``).  With fixed exogenous
    covariates (``fixed_x``) their moments carry no information, as in
    lavaan; their fixed (co)variances are not listed (lavaan lists some of
    them with ``mi`` = 0, rounding noise).

    Parameters
    ----------
    results : SEMResults
        An ML, MLR, FIML or WLSMV fit (MLR uses the same expected information
        and score as ML, as lavaan does for ``modindices``; FIML the casewise
        score and the expected information with missing data, as lavaan's
        ``modindices`` of a ``missing = "ml"`` fit; WLSMV the DWLS score
        :math:`\\tfrac{N-1}{N}\\Delta^\\top W r` and information
        :math:`\\Delta^\\top W\\Delta`, as lavaan).
    sort : bool
        Sort by decreasing ``mi`` (lavaan's ``sort.``).
    minimum_value : float
        Keep only rows with ``mi`` above it (lavaan's ``minimum.value``).
    maximum_number : int, optional
        At most this many rows (after sorting).
    standardized : bool
        Add ``sepc.lv sepc.all sepc.nox``.
    power : bool
        Add lavaan's power columns ``delta ncp power decision`` (Saris,
        Satorra & van der Veld, 2009) and drop ``sepc.lv sepc.nox``.
    delta, alpha, high_power : float
        The misspecification size, test level and power threshold of
        ``power=True``.
    na_remove : bool
        Drop rows whose index is missing.
    op : str or list of str, optional
        Keep only these operators (``"=~"``, ``"~~"``, ``"~"``, ``"~1"``).
    cov_std : bool
        Standardize covariances by the residual standard deviations (lavaan's
        default) or, with ``False``, by the total ones.
    information : {'expected'}
        lavaan's ``information`` (``"observed"`` and ``"first.order"`` are not
        supported).
    free_remove : {True}
        lavaan's ``free.remove`` (listing the free parameters too is not
        supported).

    Returns
    -------
    pandas.DataFrame
        ``lhs op rhs [group] mi epc sepc.lv sepc.all sepc.nox``.

    Raises
    ------
    CkmError
        For LMS fits (not supported) and invalid arguments.

    References
    ----------
    Sörbom, D. (1989). Model modification. *Psychometrika*, 54, 371-384.
    Saris, W. E., Satorra, A., & van der Veld, W. M. (2009). Testing structural
    equation models or detection of misspecifications? *Structural Equation
    Modeling*, 16, 561-582.

    Examples
    --------
    >>> from ckm_research import fit, modindices
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> res = fit(model, hs)
    >>> modindices(res, sort=True, maximum_number=3)[["lhs", "op", "rhs", "mi", "epc"]].round(3)
          lhs  op rhs      mi    epc
    0  visual  =~  x9  36.411  0.577
    1      x7  ~~  x8  34.145  0.536
    2  visual  =~  x7  18.631 -0.422

    In R: ``lavaan::modindices(fit, sort. = TRUE, maximum.number = 10)``.
    """
    eng = _engine(results, "modindices")
    _check_ml(eng, "modindices", "modindices()", fiml=True, wlsmv=True)
    if maximum_number is not None and (
        isinstance(maximum_number, bool) or not isinstance(maximum_number, (int, np.integer))
        or maximum_number < 0
    ):  # fmt: skip
        raise CkmError(
            "The 'maximum_number' parameter of modindices must be an int in the range "
            f"[0, inf). Got {maximum_number!r} instead."
        )
    if information != "expected":
        raise CkmError(
            f"modindices(information={information!r}) is not supported; modification indices "
            "use the expected information (lavaan's default, information='expected')"
        )
    if free_remove is not True:
        raise CkmError(
            "modindices(free_remove=False) (lavaan's free.remove = FALSE) is not supported; "
            "the indices of the free parameters are zero at the estimates anyway"
        )
    if power:
        standardized = True
    model, theta, q, cand, score, info, n = _score_statistics(eng)
    ext = model.table
    e = q + np.arange(len(cand))
    r = np.arange(q)
    I_rr = info[np.ix_(r, r)]
    try:
        I_rr_inv = np.linalg.inv(I_rr)
    except np.linalg.LinAlgError:
        raise CkmError(
            "could not compute modification indices: the information matrix is singular"
        ) from None
    I_er = info[np.ix_(e, r)]
    V = np.diag(info[np.ix_(e, e)]) - np.einsum("ij,jk,ik->i", I_er, I_rr_inv, I_er)
    V = np.where(V < _V_EPS, np.nan, V)
    s = score[e]
    mi = n * s**2 / V
    epc = s / V
    out = pd.DataFrame(
        {
            "lhs": ext["lhs"].to_numpy()[cand],
            "op": ext["op"].to_numpy()[cand],
            "rhs": ext["rhs"].to_numpy()[cand],
            "group": ext["group"].to_numpy()[cand],
            "mi": mi,
            "epc": epc,
        }
    )
    if standardized:
        vals = model.values[cand].copy()
        is_var = (out["op"] == "~~") & (out["lhs"] == out["rhs"])
        exo = ext["exo"].to_numpy()[cand] == 1
        est = np.where(is_var & ~exo, vals, epc) if cov_std else epc
        sepc = _sepc(eng, out, epc, est, cov_std)
        out = pd.concat([out, pd.DataFrame(sepc, index=out.index)], axis=1)
    if power:
        out["delta"] = delta
        out["ncp"] = out["mi"] / out["epc"] ** 2 * delta**2
        crit = stats.chi2.ppf(1 - alpha, 1)
        out["power"] = stats.ncx2.sf(crit, 1, out["ncp"])
        sig = stats.chi2.sf(out["mi"], 1) < alpha
        hp = out["power"] > high_power
        big = out["epc"].abs() > delta
        dec = np.full(len(out), "", dtype=object)
        dec[~sig & ~hp] = "(i)"
        dec[sig & ~hp] = "**(m)**"
        dec[~sig & hp] = "(nm)"
        dec[sig & hp & ~big] = "epc:nm"
        dec[sig & hp & big] = "*epc:m*"
        out["decision"] = dec
        out = out.drop(columns=["sepc.lv", "sepc.nox"])
    if eng.pt.ngroups == 1:
        out = out.drop(columns="group")
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable", na_position="last")
    if minimum_value > 0:
        out = out[out["mi"].notna() & (out["mi"] > minimum_value)]
    if maximum_number is not None:
        out = out.iloc[:maximum_number]
    if na_remove:
        out = out[out["mi"].notna()]
    if op is not None:
        ops = [op] if isinstance(op, str) else list(op)
        out = out[out["op"].isin(ops)]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------ score test
def _lavaan_order(t: pd.DataFrame) -> np.ndarray:
    """Positions of our parameter-table rows in lavaan's order (all rows of
    group 1, then of group 2, ...), as a permutation: ``order[k]`` is the row
    lavaan numbers ``k + 1`` (its ``id`` and ``.pK.`` label)."""
    return np.argsort(t["group"].to_numpy(), kind="stable")


def _unconstrained(eng, add_rows=()):
    """The model without its equality constraints (every free row its own
    parameter, numbered in lavaan's order), the constraint rows and their
    names (lavaan's ``con.jac`` and its ``==`` rows).  ``add_rows`` (lhs, op,
    rhs, group) are appended as free parameters at zero (lavaan's
    ``lav_object_extended(fit, add = )``); the returned table has them last."""
    t0 = eng.pt.table
    order = _lavaan_order(t0)
    t = t0
    if add_rows:
        add = pd.DataFrame(
            [
                dict(
                    lhs=a,
                    op=o,
                    rhs=b,
                    user=10,
                    group=g,
                    free=0,
                    ustart=0.0,
                    label="",
                    exo=0,
                    start=np.nan,
                )
                for a, o, b, g in add_rows
            ]  # fmt: skip
        )
        add.insert(0, "id", np.arange(len(t0) + 1, len(t0) + len(add) + 1))
        t = pd.concat([t0, add[t0.columns]], ignore_index=True)
        order = np.concatenate([order, np.arange(len(t0), len(t))])
    plabel = np.empty(len(t), dtype=object)
    plabel[order] = [f".p{k + 1}." for k in range(len(t))]
    free = t["free"].to_numpy().copy()
    free[len(t0) :] = 1  # the added parameters
    free_rows = [r for r in order if free[r] > 0]
    free[len(t0) :] = 0
    ufree = np.zeros(len(t), dtype=int)
    ufree[free_rows] = np.arange(1, len(free_rows) + 1)
    ut = t.copy()
    ut["free"] = ufree
    upt = ParTable(
        table=ut,
        roles=eng.pt.roles,
        ngroups=eng.pt.ngroups,
        definitions=(),
        constraints=(),
        meanstructure=eng.pt.meanstructure,
        std_lv=eng.pt.std_lv,
    )
    model = RAMModel(upt, ov_order=eng.model.ov)
    vals = np.concatenate([eng.row_values(), np.zeros(len(t) - len(t0))])
    model.values = vals.copy()
    theta = vals[free_rows]
    labels = t["label"].to_numpy()
    rank = np.empty(len(t), dtype=int)
    rank[order] = np.arange(len(t))
    # the user's constraints (a == b) first, as written, then those of shared
    # labels, first row against each other one (lavaan's order of its == rows)
    cons = []  # (lhs name, rhs name, row a, row b)
    first_row = {}
    for r in order:
        if labels[r] and labels[r] not in first_row:
            first_row[labels[r]] = r
    for c in eng.pt.constraints:
        a, b = c.lhs.strip(), c.rhs.strip()
        cons.append((a, b, first_row[a], first_row[b]))
    shared = []
    for k in np.unique(free[free > 0]):
        rows = sorted(np.flatnonzero(free == k), key=lambda r: rank[r])
        by_label: dict[str, list[int]] = {}
        for r in rows:
            by_label.setdefault(labels[r], []).append(r)
        for lab, rs in by_label.items():
            if not lab:
                continue
            shared += [((rank[rs[0]], rank[r]), rs[0], r) for r in rs[1:]]
    shared.sort(key=lambda c: c[0])
    cons += [(plabel[a], plabel[b], a, b) for _, a, b in shared]
    R = np.zeros((len(cons), len(free_rows)))
    for i, (_, _, a, b) in enumerate(cons):
        R[i, ufree[a] - 1] = 1.0
        R[i, ufree[b] - 1] = -1.0
    names = pd.DataFrame({"lhs": [c[0] for c in cons], "op": "==", "rhs": [c[1] for c in cons]})
    return model, theta, R, names, plabel, ufree, t


def _ginv(a: np.ndarray) -> np.ndarray:
    """Moore-Penrose inverse with ``MASS::ginv``'s tolerance."""
    return np.linalg.pinv(a, rcond=np.sqrt(np.finfo(float).eps))


def _released_inverse(info: np.ndarray, R1: np.ndarray) -> np.ndarray:
    """Top-left block of the inverse of the bordered information
    :math:`\\begin{pmatrix} I & R_1^\\top \\\\ R_1 & 0 \\end{pmatrix}`: the
    covariance of the estimates under the constraints ``R1`` (the rest released)."""
    q = info.shape[0]
    if R1.shape[0] == 0:
        return _ginv(info)
    Z = np.block([[info, R1.T], [R1, np.zeros((R1.shape[0], R1.shape[0]))]])
    return _ginv(Z)[:q, :q]


def score_test(
    results,
    release=None,
    univariate: bool = True,
    cumulative: bool = False,
    epc: bool = False,
    standardized: bool | None = None,
    add: str | None = None,
    information: str = "expected",
) -> dict[str, pd.DataFrame]:
    """Score (Lagrange multiplier) tests of the equality constraints
    (lavaan's ``lavTestScore``).

    The constraints are those of shared labels (``a*y2 ... a*y6``) and of
    ``group_equal``.  With :math:`s` the score per case of the model without
    constraints at the constrained estimates, :math:`I` its expected
    information per case and :math:`R` the Jacobian of the constraints, the
    statistic of releasing the set :math:`r` of constraints is

    .. math::

        X^2 = N\\, s^\\top P_r\\, s, \\qquad
        P_r = \\left[\\begin{pmatrix} I & R_{-r}^\\top \\\\ R_{-r} & 0
        \\end{pmatrix}^{+}\\right]_{11},

    with :math:`|r|` degrees of freedom (Satorra, 1989; Bentler, 1990,
        the multivariate LM test of EQS).  ``test`` releases all of them (or
    ``release``), ``uni`` each one alone, ``cumulative`` the first 1, 2, ...
    in decreasing order of the univariate statistics (the order used to free
    constraints one by one in a partial invariance search).

    Parameters
    ----------
    results : SEMResults
        An ML, MLR, FIML or WLSMV fit with equality constraints.  As lavaan,
        the statistic is the ordinary (not robust) score test also for MLR
        (lavaan warns that the robust version is not implemented).
    release : sequence of int, optional
        1-based numbers of the constraints (rows of ``uni``) to release
        together in ``test``; the others stay.
    univariate, cumulative : bool
        Add the ``uni`` and ``cumulative`` tables.
    epc : bool
        Add the ``epc`` table: expected change of every parameter when all
        constraints are released (``epc``), the expected value ``epv`` and,
        with ``standardized``, ``sepc.lv sepc.all sepc.nox``.
    standardized : bool, optional
        Default: ``epc``.
    add : str, optional
        Parameters to add, in lavaan syntax (``"x1 ~~ x2; visual =~ x9"``):
        the tests are then of freeing them (their "== 0" constraints), each
        alone (``uni``, with its ``epc`` when ``epc=True``) and together
        (``test``), the model's own constraints kept (lavaan's ``add``; in a
        multiple-group model each is added in every group).
    information : {'expected'}
        The information matrix (lavaan's default).

    Returns
    -------
    dict of pandas.DataFrame
        ``test`` (``test X2 df p.value``), ``uni`` and ``cumulative``
        (``lhs op rhs X2 df p.value``; ``lhs``/``rhs`` are lavaan's parameter
        labels ``.pK.``, K the row of lavaan's parameter table), ``epc``.

    References
    ----------
    Satorra, A. (1989). Alternative test criteria in covariance structure
    analysis: A unified approach. *Psychometrika*, 54, 131-151.
    Bentler, P. M. (1990). EQS Structural Equations Program Manual. BMDP.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> metric = fit(model, hs, group="school", group_equal=["loadings"])
    >>> score_test(metric, cumulative=True)["uni"].round(3).head(3)
        lhs  op    rhs     X2  df  p.value
    0  .p2.  ==  .p38.  0.668   1    0.414
    1  .p3.  ==  .p39.  0.516   1    0.473
    2  .p5.  ==  .p41.  4.649   1    0.031

    In R: ``lavaan::lavTestScore(fit, cumulative = TRUE)``.
    """
    eng = _engine(results, "score_test")
    _check_ml(eng, "score_test", "lavTestScore()", fiml=True, wlsmv=True)
    add_rows = _parse_add(eng, add) if add is not None else []
    if add_rows and release is not None:
        raise CkmError("score_test: 'add' and 'release' cannot be used together (as in lavaan)")
    if information != "expected":
        raise CkmError(
            "The 'information' parameter of score_test must be 'expected'. "
            f"Got {information!r} instead."
        )
    if eng.opts.estimator == "MLR":
        warnings.warn(
            "score_test: the robust (MLR) score test is not implemented (nor in lavaan); this "
            "is the ordinary score test with the expected information",
            UserWarning,
            stacklevel=2,
        )
    if standardized is None:
        standardized = epc
    if cumulative:
        univariate = True
    model, theta, R, names, plabel, ufree, ext = _unconstrained(eng, add_rows)
    if R.shape[0] == 0 and not add_rows:
        raise CkmError(
            "score_test: the model has no equality constraints (shared labels or group_equal) "
            "to test; use modindices() for fixed parameters, or add= for a set of them"
        )
    n_model_cons = R.shape[0]
    if add_rows:
        # releasing "added parameter == 0": one identity row per added parameter
        q_all = R.shape[1]
        R_add = np.zeros((len(add_rows), q_all))
        n_model_par = q_all - len(add_rows)
        R_add[np.arange(len(add_rows)), n_model_par + np.arange(len(add_rows))] = 1.0
        R = np.vstack([R, R_add])
        ng = eng.pt.ngroups
        add_names = pd.DataFrame(
            {
                "lhs": [f"{a}{o}{b}" + (f".g{g}" if g > 1 and ng > 1 else "")
                        for a, o, b, g in add_rows],
                "op": "==",
                "rhs": "0",
            }
        )  # fmt: skip
        names = pd.concat([names, add_names], ignore_index=True)
    n = float(eng.ntotal)
    s, info = _score_information(eng, model, theta)
    ncon = R.shape[0]
    if add_rows:
        r_idx = np.arange(n_model_cons, ncon)
        J = _released_inverse(info, R[:n_model_cons])
    elif release is None:
        r_idx = np.arange(ncon)
        J = _ginv(info)
    else:
        r_idx = np.asarray(release, dtype=int) - 1
        if r_idx.size == 0 or r_idx.min() < 0 or r_idx.max() >= ncon:
            raise CkmError(
                f"The 'release' parameter of score_test must list constraint numbers in "
                f"[1, {ncon}]. Got {release!r} instead."
            )
        J = _released_inverse(info, np.delete(R, r_idx, axis=0))

    def stat(P):
        return float(n * s @ P @ s)

    x2 = stat(J)
    out = {
        "test": pd.DataFrame(
            {
                "test": ["score"],
                "X2": [x2],
                "df": [len(r_idx)],
                "p.value": [stats.chi2.sf(x2, len(r_idx))],
            }
        )  # fmt: skip
    }
    ts = np.zeros(ncon)
    epc_uni = np.zeros(ncon)
    if univariate:
        for r in r_idx:
            P1 = _released_inverse(info, np.delete(R, r, axis=0))
            ts[r] = stat(P1)
            if add_rows:
                epc_uni[r] = (s @ P1)[R.shape[1] - ncon + r]
        uni = names.iloc[r_idx].reset_index(drop=True)
        uni["X2"] = ts[r_idx]
        uni["df"] = 1
        uni["p.value"] = stats.chi2.sf(uni["X2"], 1)
        if epc and add_rows:
            uni["epc"] = epc_uni[r_idx]
        out["uni"] = uni
    if cumulative:
        order = np.argsort(-ts, kind="stable")
        row_order = np.argsort(-ts[r_idx], kind="stable")
        cum = np.array(
            [
                stat(_released_inverse(info, np.delete(R, order[: k + 1], axis=0)))
                for k in range(len(r_idx))
            ]
        )
        tab = names.iloc[r_idx].iloc[row_order].reset_index(drop=True)
        tab["X2"] = cum
        tab["df"] = np.arange(1, len(r_idx) + 1)
        tab["p.value"] = stats.chi2.sf(tab["X2"], tab["df"])
        out["cumulative"] = tab
    if epc:
        P = _released_inverse(info, np.delete(R, r_idx, axis=0))
        e_free = s @ P
        t = ext
        order = np.argsort(np.array([int(p[2:-1]) for p in plabel]), kind="stable")
        vals = model.values
        e_rows = np.where(ufree > 0, e_free[np.maximum(ufree, 1) - 1], np.nan)
        lab = t["label"].where(~t["label"].str.startswith("."), "")
        tab = pd.DataFrame(
            {
                "lhs": t["lhs"], "op": t["op"], "rhs": t["rhs"], "group": t["group"],
                "free": ufree, "label": lab, "plabel": plabel, "est": vals, "epc": e_rows,
                "epv": vals + e_rows,
            }
        )  # fmt: skip
        if standardized:
            is_var = (t["op"] == "~~") & (t["lhs"] == t["rhs"]) & (t["exo"] != 1)
            est = np.where(is_var, vals, e_rows)
            sepc = _sepc(eng, tab.reset_index(drop=True), e_rows, est)
            for k, v in sepc.items():
                tab[k] = np.where(np.isnan(e_rows), np.nan, v)
        # the added parameters: not free, no label (lavaan's epc table)
        n0 = len(eng.pt.table)
        tab.loc[n0:, "free"] = 0
        tab.loc[n0:, "plabel"] = ""
        tab = tab.iloc[order].reset_index(drop=True)
        if eng.pt.ngroups == 1:
            tab = tab.drop(columns="group")
        out["epc"] = tab
    return out


def _parse_add(eng, add) -> list[tuple[str, str, str, int]]:
    """The parameters of ``score_test(add=)``: lavaan syntax, each statement in
    every group; parameters the model already has are refused."""
    from ckm_research.sem.syntax import parse_model

    if not isinstance(add, str) or not add.strip():
        raise CkmError(
            "The 'add' parameter of score_test must be lavaan syntax naming parameters to add "
            f"(e.g. 'x1 ~~ x2; visual =~ x9'). Got {add!r} instead."
        )
    parsed = parse_model(add.replace(";", "\n"))
    known = set(eng.model.variables)
    t = eng.pt.table
    have = set()
    for r in t.itertuples(index=False):
        have.add((r.lhs, r.op, r.rhs, r.group))
        if r.op == "~~":
            have.add((r.rhs, r.op, r.lhs, r.group))
    rows = []
    for g in range(1, eng.pt.ngroups + 1):
        for st in parsed.statements:
            if st.op not in ("=~", "~", "~~", "~1"):
                raise CkmError(f"score_test(add=): '{st.lhs} {st.op} {st.rhs}' is not a parameter")
            bad = [v for v in (st.lhs, st.rhs) if v and v not in known]
            if bad:
                raise CkmError(
                    f"score_test(add=): '{bad[0]}' is not a variable of the model; variables are "
                    + ", ".join(eng.model.variables)
                )
            if (st.lhs, st.op, st.rhs, g) in have:
                raise CkmError(
                    f"score_test(add=): '{st.lhs} {st.op} {st.rhs}' is already a parameter of "
                    "the model; add= names parameters the model fixes at zero by leaving them out"
                )
            rows.append((st.lhs, st.op, st.rhs, g))
    return rows


# --------------------------------------------------------------- factor scores
def _factor_scores_ebm(eng, newdata) -> pd.DataFrame:
    """Empirical Bayes modal factor scores of ordinal items (lavaan's EBM for
    categorical indicators): per response pattern, the minimum over
    :math:`\\eta` of :math:`\\tfrac12(\\eta-\\mu_\\eta)^\\top\\Psi^{-1}(\\eta-\\mu_\\eta)
    - \\sum_j \\log[\\Phi(z_{j,c+1}) - \\Phi(z_{j,c})]`,
    :math:`z_{j,c} = (\\tau_{j,c} - \\lambda_j^\\top\\eta)/\\sqrt{\\theta_{jj}}`;
    missing answers are left out of the sum."""
    from scipy import optimize

    model = eng.model
    lv = list(model.lv)
    ov = list(model.ov)
    k = len(ov)
    vals = eng.row_values()
    A, S, m = model._matrices(vals, 0)
    E = model.total_effects_inverse(A)
    C = E @ S @ E.T
    lam = A[:k, k:]
    sd = np.sqrt(np.diag(S)[:k])
    psi_inv = np.linalg.inv(C[k:, k:])
    mu_eta = (E @ m)[k:]
    t = eng.pt.table
    taus: dict[str, list[float]] = {v: [] for v in ov}
    for r in eng.th_rows:
        taus[t["lhs"].iat[r]].append(vals[r])
    cuts = [np.concatenate([[-np.inf], taus[v], [np.inf]]) for v in ov]
    fitted = eng.groups[0].data
    levels = [np.unique(fitted[:, j][~np.isnan(fitted[:, j])]) for j in range(k)]
    if newdata is None:
        y, index = fitted, None
    else:
        from ckm_research.data.frames import as_frame, check_columns

        frame = as_frame(newdata)
        check_columns(frame, ov)
        y = frame[ov].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        index = frame.index
    cat = np.full(y.shape, -1)
    for j in range(k):
        ok = ~np.isnan(y[:, j])
        known = np.isin(y[ok, j], levels[j])
        if not known.all():
            raise CkmError(
                f"factor_scores: '{ov[j]}' has a category the fitted data do not have; "
                f"its categories are {levels[j].tolist()}"
            )
        cat[ok, j] = np.searchsorted(levels[j], y[ok, j])
    patterns, inverse = np.unique(cat, axis=0, return_inverse=True)
    scores = np.zeros((len(patterns), len(lv)))
    for p_i, c in enumerate(patterns):
        obs = np.flatnonzero(c >= 0)
        lo = np.array([cuts[j][c[j]] for j in obs])
        hi = np.array([cuts[j][c[j] + 1] for j in obs])
        lam_o, sd_o = lam[obs], sd[obs]

        def objective(eta, lo=lo, hi=hi, lam_o=lam_o, sd_o=sd_o):
            yhat = lam_o @ eta
            zl, zh = (lo - yhat) / sd_o, (hi - yhat) / sd_o
            prob = np.clip(stats.norm.cdf(zh) - stats.norm.cdf(zl), 1e-300, None)
            dens = (stats.norm.pdf(zh) - stats.norm.pdf(zl)) / sd_o
            dev = eta - mu_eta
            f = 0.5 * dev @ psi_inv @ dev - np.sum(np.log(prob))
            return f, psi_inv @ dev + lam_o.T @ (dens / prob)

        sol = optimize.minimize(
            objective, mu_eta.copy(), jac=True, method="BFGS", options={"gtol": 1e-10}
        )
        scores[p_i] = sol.x
    return pd.DataFrame(scores[inverse.ravel()], columns=lv, index=index)


def factor_scores(
    results,
    method: str | None = None,
    newdata=None,
    type: str = "lv",  # noqa: A002
) -> pd.DataFrame:
    """Factor scores of every case (lavaan's ``lavPredict(fit, method = )``).

    With :math:`\\Lambda` the loadings, :math:`\\Theta` the residual
    covariances, :math:`\\Sigma_{\\eta y}` the model-implied covariances of
    the factors with the indicators and :math:`\\mu`, :math:`\\mu_\\eta` the
    model-implied means (the sample means without a mean structure):

    * ``"regression"`` (Thurstone, 1935; the conditional mean of the factors):
      :math:`\\hat\\eta_i = \\mu_\\eta + \\Sigma_{\\eta y}\\Sigma^{-1}(y_i - \\mu)`;
    * ``"Bartlett"`` (Bartlett, 1937; weighted least squares, conditionally
      unbiased): :math:`\\hat\\eta_i = \\mu_\\eta + (\\Lambda^\\top\\Theta^{-1}
      \\Lambda)^{-1}\\Lambda^\\top\\Theta^{-1}(y_i - \\mu)`, computed as lavaan
      with :math:`\\Sigma^{-1}` in place of :math:`\\Theta^{-1}` (the same
      weights) and a generalized inverse, so that a factor none of whose
      indicators is observed gets a missing score.

    With missing cells (FIML fits) each case uses the rows and columns of
    its observed indicators only, as lavaan does.  Observed predictors in
    regressions (covariates) enter as lavaan's "dummy" factors measured
    without error; without a mean structure the factor means are those
    implied by the covariates' sample means (lavaan's ``computeEETA``).

    Parameters
    ----------
    results : SEMResults
        An ML, MLR, FIML or WLSMV fit.
    method : {'regression', 'Bartlett', 'EBM'}, optional
        lavaan's ``method``; the default is ``'regression'``, and ``'EBM'``
        for WLSMV fits, as lavaan.  ``'EBM'`` (empirical Bayes modal) is the
        mode of the posterior of the factors given the ordinal answers, with
        the model's factor distribution as prior and probit item response
        functions from the thresholds, loadings and residual variances
        (lavaan's ``lav_predict_eta_ebm_ml``); for continuous indicators it
        equals the regression scores.  lavaan's ``'ML'`` is not supported.
    newdata : pandas.DataFrame, optional
        Score these cases instead (lavaan's ``newdata``; single-group fits),
        with the model's observed variables as columns; the fitted moments are
        used.  Incomplete rows get NaN, except for FIML fits, which score
        them from their observed values.
    type : {'lv'}
        lavaan's ``type``; ``"ov"`` and ``"yhat"`` are not supported.

    Returns
    -------
    pandas.DataFrame
        One column per factor (in the model's order), one row per case used
        in the fit (in the order of the data, group by group), plus ``group``
        (the group label) with several groups.

    References
    ----------
    Bartlett, M. S. (1937). The statistical conception of mental factors.
    *British Journal of Psychology*, 28, 97-104.
    Thurstone, L. L. (1935). *The vectors of mind*. University of Chicago Press.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> factor_scores(fit(model, hs), method="Bartlett").head(2).round(3)
       visual  textual  speed
    0  -1.370   -0.100  0.232
    1   0.076   -1.198  0.989

    In R: ``lavaan::lavPredict(fit, method = "Bartlett")``.
    """
    eng = _engine(results, "factor_scores")
    methods = {"regression": "regression", "bartlett": "Bartlett", "ebm": "EBM"}
    if method is None:
        method = "EBM" if _is_wlsmv(eng) else "regression"
    if not isinstance(method, str) or method.lower() not in methods:
        raise CkmError(
            "The 'method' parameter of factor_scores must be one of 'regression', 'Bartlett', "
            f"'EBM'. Got {method!r} instead."
        )
    method = methods[method.lower()]
    if type != "lv":
        raise CkmError(
            f"factor_scores(type={type!r}) (lavaan's lavPredict(type = )) is not supported; "
            "only the factor scores (type='lv') are; the model-implied item values are "
            "loadings times these scores"
        )
    if _is_wlsmv(eng):
        if method != "EBM":
            raise CkmError(
                f"factor_scores(method='{method}') is not supported for WLSMV (ordinal) fits; "
                "use method='EBM' (empirical Bayes modal, lavaan's default for ordinal items)"
            )
        return _factor_scores_ebm(eng, newdata)
    if method == "EBM":
        # with normal indicators the posterior mode is the posterior mean
        method = "regression"
    model = eng.model
    lv = list(model.lv)
    if not lv:
        raise CkmError("factor_scores: the model has no latent variables")
    k = model.n_ov
    if newdata is not None:
        if eng.pt.ngroups > 1:
            raise CkmError(
                "factor_scores(newdata=) is available for single-group fits; split the data by "
                "group and use the group's own fit"
            )
        from ckm_research.data.frames import as_frame, check_columns

        frame = as_frame(newdata)
        check_columns(frame, list(model.ov))
        y_new = frame[list(model.ov)].apply(pd.to_numeric, errors="coerce").to_numpy(float).copy()
        if not _is_fiml(eng):
            y_new[np.isnan(y_new).any(axis=1)] = np.nan
    # observed predictors in regressions are, for lavaan, "dummy" factors measured
    # without error (lavaan's ov.x.dummy / ov.y.dummy); their rows of the loading
    # matrix select them, and their own regressions are structural paths
    t = eng.pt.table
    reg = t[t["op"] == "~"]
    ov_ind = set(eng.pt.roles.ov_ind)
    rhs_reg = set(reg["rhs"])
    dummy = [i for i, v in enumerate(model.ov) if v in rhs_reg and v not in ov_ind]
    frames = []
    for g, gd in enumerate(eng.groups):
        A, _, m_vec = model.matrices(eng.theta, g)
        C, mu_all = model.implied(eng.theta, g, full=True)
        Sig = C[:k, :k]
        mu = mu_all[:k]
        mu_eta = mu_all[k:]
        if not eng.opts.meanstructure:
            # no mean structure: the sample means, and factor means implied by
            # the covariates' sample means (lavaan's computeEY / computeEETA)
            mu = gd.moments.mean if gd.moments is not None else np.nanmean(gd.data, axis=0)
            m_x = np.zeros_like(m_vec)
            for i in dummy:
                if model.ov[i] in eng.pt.roles.ov_x:
                    m_x[i] = mu[i]
            mu_eta = (model.total_effects_inverse(A) @ m_x)[k:]
        C_ey = C[k:, :k]
        # loadings (and regressions of observed outcomes) on the factors and on
        # the dummy factors; a dummy's own row selects it
        Lam = np.hstack([A[:k, k:], A[:k, dummy]])
        Lam[dummy] = 0.0
        Lam[dummy, len(model.lv) + np.arange(len(dummy))] = 1.0
        y = gd.data if newdata is None else y_new
        fs = np.full((y.shape[0], len(lv)), np.nan)
        obs = ~np.isnan(y)
        patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
        for p, pat in enumerate(patterns):
            rows = np.flatnonzero(inverse.ravel() == p)
            o = np.flatnonzero(pat)
            if not len(o):
                continue
            dev = y[np.ix_(rows, o)] - mu[o]
            if method == "regression":
                W = np.linalg.solve(Sig[np.ix_(o, o)], C_ey[:, o].T).T
            else:
                # lavaan's form, equal to the Theta one for complete data; a factor
                # without an observed indicator gets a zero row, hence NaN
                L = Lam[o]
                Si = np.linalg.inv(Sig[np.ix_(o, o)])
                W = (_ginv(L.T @ Si @ L) @ L.T @ Si)[: len(lv)]
                W[np.all(W == 0, axis=1)] = np.nan
            fs[rows] = mu_eta + dev @ W.T
        out = pd.DataFrame(fs, columns=lv, index=None if newdata is None else frame.index)
        if eng.pt.ngroups > 1:
            out.insert(0, "group", gd.label)
        frames.append(out)
    if newdata is not None:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------- residuals
_RESIDUAL_TYPES = ("raw", "cor.bentler", "cor.bollen", "standardized", "normalized")
_RMS_ROWS = ("", ".se", ".exactfit.z", ".exactfit.pvalue")
_URMS_ROWS = (
    "",
    ".se",
    ".ci.lower",
    ".ci.upper",
    ".closefit.h0.value",
    ".closefit.z",
    ".closefit.pvalue",
)


def _vech(m: np.ndarray) -> np.ndarray:
    from ckm_research.sem.model import vech_indices

    ri, ci = vech_indices(m.shape[0])
    return m[ri, ci]


def _unvech(v: np.ndarray, p: int) -> np.ndarray:
    from ckm_research.sem.model import vech_indices

    ri, ci = vech_indices(p)
    out = np.zeros((p, p))
    out[ri, ci] = v
    out[ci, ri] = v
    return out


def _h1_scores(mean, cov, S, ybar, ms):
    """Derivative per case of the normal log-likelihood of the data moments
    ``S, ybar`` wrt ``(mean, vech(cov))`` (off-diagonals count twice)."""
    K = np.linalg.inv(cov)
    d = ybar - mean
    W = S + np.outer(d, d)
    G = 0.5 * (K @ W @ K - K)
    g = _vech(G) * np.where(_vech(np.eye(len(ybar))) == 1, 1.0, 2.0)
    return np.concatenate([K @ d, g]) if ms else g


def _h1_information_observed(S, ybar, Sig, mu, ms) -> np.ndarray:
    """Observed information per case of the saturated normal model at the
    model-implied moments (lavaan's ``h1.information = "structured"`` with
    ``information = "observed"``), by central differences of the score."""
    from ckm_research.numerics import numerical_hessian

    p = len(ybar)

    def score(x):
        mean = x[:p] if ms else mu
        cov = _unvech(x[p:] if ms else x, p)
        return _h1_scores(mean, cov, S, ybar, ms)

    x0 = np.concatenate([mu, _vech(Sig)]) if ms else _vech(Sig)
    return -numerical_hessian(score, x0, 1e-6)


def _residual_acov(eng, kind: str, observed: bool = False) -> list[np.ndarray]:
    """Asymptotic covariance of the residuals of each group (lavaan's
    ``lav_residuals_acov`` with ``z.type = "standardized"``, ``h1.acov =
    "unstructured"``): :math:`Q\\,\\Gamma\\,Q^\\top` with :math:`\\Gamma` the
    covariance of the sample moments (normal theory for ML, the sandwich
    :math:`A_1^{-1}B_1A_1^{-1}` for MLR), :math:`Q = I - w_g \\Delta_g
    I(\\hat\\theta)^{-1}\\Delta_g^\\top A_{1,g}` and :math:`A_1` the saturated
    model's information at the fitted moments (Ogasawara, 2001;
    Maydeu-Olivares, 2017); rescaled to correlation units for ``cor.*``.
    With fixed exogenous covariates (``fixed.x``) their means, variances and
    covariances carry no information: their rows and columns of :math:`A_1` and
    of the information behind :math:`\\Gamma` are zeroed (lavaan's ``x.idx``),
    with complete data and under FIML alike.  With ``observed`` only
    :math:`\\Gamma` of each group, lavaan's ``lav_model_h1_acov`` (the
    ``z.type = "normalized"`` residuals' standard errors)."""
    from ckm_research.numerics import numerical_jacobian
    from ckm_research.sem.robust import (
        casewise_scores_moments,
        h1_information_expected,
        weighted_scores,
    )

    ms = eng.opts.meanstructure
    robust = eng.opts.estimator == "MLR"
    n = float(eng.ntotal)
    deltas, A1s, gammas = [], [], []
    fiml = _is_fiml(eng)
    for g, gd in enumerate(eng.groups):
        S, ybar = gd.moments.cov, gd.moments.mean
        Sig, mu = eng.model.implied(eng.theta, g)
        if not ms:
            mu = ybar
        ng = gd.moments.n
        if fiml:
            # missing data: the saturated model's observed information at the EM
            # moments (unstructured) and at the fitted ones (structured), the
            # first-order one for MLR (lavaan's information = "observed"); with
            # fixed.x the covariates' moments zeroed in both and left out of the
            # inverse, as lavaan's x.idx (lav_mvnorm_missing_logl_hessian_samplestats,
            # lav_mvnorm_missing_scores_mu_vech_sigma)
            from ckm_research.sem import missing as mis

            pat = eng.patterns[g]
            keep = eng.non_exo_mask()
            I1_inv = np.zeros((len(keep), len(keep)))
            I1_inv[np.ix_(keep, keep)] = np.linalg.inv(
                mis.fiml_information_h1(pat, ybar, S, "observed")[np.ix_(keep, keep)]
            )
            if robust:
                B1 = mis.fiml_information_h1(pat, ybar, S, "firstorder")
                gammas.append(I1_inv @ B1 @ I1_inv / ng)
            else:
                gammas.append(I1_inv / ng)
            A1 = mis.fiml_information_h1(pat, mu, Sig, "observed")
            A1[~keep, :] = 0.0
            A1[:, ~keep] = 0.0
            A1s.append(A1)
            deltas.append(eng.model.jacobian(eng.theta, g, meanstructure=True))
            continue
        # fixed.x: the covariates' moments carry no information (lavaan zeroes
        # their rows and columns, x.idx, and inverts the rest)
        keep = eng.non_exo_mask()
        I1_inv = np.zeros((len(keep), len(keep)))
        I1_inv[np.ix_(keep, keep)] = np.linalg.inv(
            h1_information_expected(S, ms)[np.ix_(keep, keep)]
        )
        if robust:
            # with sampling weights the weighted scores w_i s_i and ng = sum w_i
            sc = weighted_scores(
                casewise_scores_moments(gd.data, ybar, S, ms), gd.extra.get("sampling_weights")
            )
            gammas.append(I1_inv @ (sc.T @ sc / ng) @ I1_inv / ng)
            A1 = _h1_information_observed(S, ybar, Sig, mu, ms)
        else:
            gammas.append(I1_inv / ng)
            A1 = h1_information_expected(Sig, ms)
        A1[~keep, :] = 0.0
        A1[:, ~keep] = 0.0
        A1s.append(A1)
        deltas.append(eng.model.jacobian(eng.theta, g, meanstructure=ms))
    if observed:
        return gammas
    weights = [gd.moments.n / n for gd in eng.groups]
    info = sum(w * D.T @ A @ D for w, D, A in zip(weights, deltas, A1s, strict=True))
    info_inv = _ginv(info)
    out = []
    for g, gd in enumerate(eng.groups):
        D, A1 = deltas[g], A1s[g]
        Q = np.eye(len(A1)) - weights[g] * (D @ info_inv @ D.T) @ A1
        acov = Q @ gammas[g] @ Q.T
        S = gd.moments.cov
        sd_inv = 1.0 / np.sqrt(np.diag(S))
        if kind == "cor.bentler":
            G = np.diag(_vech(np.outer(sd_inv, sd_inv)))
            if ms:
                G = _block_diag(np.diag(sd_inv), G)
            acov = G @ acov @ G
        elif kind == "cor.bollen":
            p = len(sd_inv)
            F = numerical_jacobian(lambda v, p=p: _vech(_cov2cor_vech(v, p)), _vech(S), 1e-7)
            if ms:
                F = _block_diag(np.diag(sd_inv), F)
            acov = F @ acov @ F.T
        out.append(acov)
    return out


def _cov2cor_vech(v, p):
    c = _unvech(v, p)
    d = 1.0 / np.sqrt(np.diag(c))
    return c * np.outer(d, d)


def _block_diag(a, b):
    out = np.zeros((a.shape[0] + b.shape[0], a.shape[1] + b.shape[1]))
    out[: a.shape[0], : a.shape[1]] = a
    out[a.shape[0] :, a.shape[1] :] = b
    return out


def _rms_summary(stats_: np.ndarray, acov: np.ndarray | None, pstar: int, name: str):
    """lavaan's ``lav_residuals_summary_rms``: the root mean square residual,
    its standard error and test of exact fit, and the unbiased estimate with
    its standard error, 90% interval and test of close fit (RMS <= .05)
    (Maydeu-Olivares, 2017, eq. 8-14)."""
    u = "u" + name
    index = [name + r for r in _RMS_ROWS] + [u + r for r in _URMS_ROWS]
    if len(stats_) == 0:
        return pd.Series([0.0, *[np.nan] * 3, 0.0, *[np.nan] * 3, 0.05, np.nan, np.nan], index)
    return _rms_values(stats_, acov, pstar, index)


@np.errstate(divide="ignore", invalid="ignore")
def _rms_values(stats_, acov, pstar, index):
    """The statistics of :func:`_rms_summary` (lavaan's ``lav_residuals_summary_rms``)."""
    rms = np.sqrt(np.sum(stats_**2) / pstar)
    tr2 = np.trace(acov @ acov)
    tr1 = np.trace(acov)
    avar = tr2 / (tr1 * 2 * pstar)
    se = np.sqrt(avar) if np.isfinite(avar) and avar >= np.finfo(float).eps else np.nan
    e_rms = np.sqrt(tr1 / pstar) * (4 * tr1**2 - tr2) / (4 * tr1**2)
    z = max(rms - e_rms, 0.0) / se
    vals = [rms, se, z, stats.norm.sf(z)]
    t_cov = float(stats_ @ stats_)
    eve = float(stats_ @ acov @ stats_)
    k = 1 - (tr2 + 2 * eve) / (4 * t_cov**2)
    urms = 1 / k * np.sqrt(max(t_cov - tr1, 0.0) / pstar)
    uavar = 1 / k**2 * (tr2 + 2 * eve) / (2 * pstar * t_cov)
    use = np.sqrt(uavar) if np.isfinite(uavar) and uavar >= np.finfo(float).eps else np.nan
    q = stats.norm.ppf(0.95)
    uz = (urms - 0.05) / use
    uvals = [urms, use, urms - q * use, urms + q * use, 0.05, uz, stats.norm.sf(uz)]
    return pd.Series(vals + uvals, index=index)


def residuals(
    results,
    type: str = "cor.bentler",  # noqa: A002
    zstat: bool = True,
    summary: bool = True,
) -> dict:
    """Residual means and covariances with z statistics and the SRMR summary
    (lavaan's ``lavResiduals``).

    The residuals are the sample moments minus the model-implied ones:
    ``"raw"``; ``"cor.bentler"`` both rescaled by the sample standard
    deviations (the residuals the SRMR averages; Bentler, 1995); ``"cor.bollen"``
    the difference of the two correlation matrices (the CRMR's); ``"standardized"``
    the raw residuals divided by their standard errors (lavaan's ``resid(fit,
    type = "standardized")``); ``"normalized"`` divided by the standard errors
    of the sample moments (lavaan's ``resid(fit, type = "normalized")``: the
    same covariance of the sample moments as the z statistics, robust for MLR,
    from the observed information under FIML; the fixed covariates' own
    moments are left as they are).  With ``zstat`` each residual is divided by its
    asymptotic standard error (``cov.z``, ``mean.z``; residuals under 1e-4 are
    left as they are, as lavaan), and ``summary`` gives the SRMR (RMR, CRMR)
    with its standard error and test of exact fit, and the unbiased estimate
    with a 90% interval and test of close fit (Maydeu-Olivares, 2017;
    Maydeu-Olivares, Shi & Rosseel, 2018).

    Parameters
    ----------
    results : SEMResults
        An ML, MLR, FIML or WLSMV fit (the standard errors use the
        normal-theory or, for MLR, the robust covariance of the sample moments,
        as lavaan; with missing data the sample moments are the EM estimates of
        the saturated model and their covariance comes from its observed
        information; WLSMV gives lavaan's categorical output: ``cov`` of the
        polychoric correlations, ``mean``, ``th`` and the summary columns
        ``cor thresholds total``).
    type : {'cor.bentler', 'raw', 'cor.bollen', 'standardized', 'normalized'}
    zstat, summary : bool
        Add ``cov.z``/``mean.z`` and ``summary`` (not for ``standardized`` and
        ``normalized``, which are z statistics already).

    Returns
    -------
    dict
        lavaan's list: ``type``, ``cov`` (DataFrame), ``mean`` (Series, with a
        mean structure), ``cov.z``, ``mean.z``, ``summary`` (DataFrame with
        columns ``cov`` [``mean total``] and rows ``srmr srmr.se ...``).  With
        several groups, one such dict per group label.

    References
    ----------
    Maydeu-Olivares, A. (2017). Assessing the size of model misfit in
    structural equation models. *Psychometrika*, 82, 533-558.
    Maydeu-Olivares, A., Shi, D., & Rosseel, Y. (2018). Assessing fit in
    structural equation models: A Monte-Carlo evaluation of RMSEA versus
    SRMR confidence intervals and tests of close fit. *Structural Equation
    Modeling*, 25, 389-402.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> summary = residuals(fit(model, hs))["summary"]
    >>> round(float(summary.loc["srmr", "cov"]), 4)
    0.0652

    In R: ``lavaan::lavResiduals(fit)``.
    """
    eng = _engine(results, "residuals")
    if not isinstance(type, str) or type not in _RESIDUAL_TYPES:
        raise CkmError(
            "The 'type' parameter of residuals must be one of "
            + ", ".join(f"'{t}'" for t in _RESIDUAL_TYPES)
            + f". Got {type!r} instead."
        )
    z_type = type in ("standardized", "normalized")
    need_acov = zstat or summary or z_type
    if _is_wlsmv(eng):
        return _residuals_categorical(eng, type, zstat, summary)
    _check_ml(eng, "residuals", "lavResiduals()", fiml=True)
    ms = eng.opts.meanstructure
    ov = list(eng.model.ov)
    p = len(ov)
    acov_kind = "raw" if z_type else type
    acovs = None
    if need_acov:
        # "normalized": lavaan divides by the standard errors of the sample moments
        # (lav_model_h1_acov: the sandwich for MLR, FIML's observed information)
        acovs = _residual_acov(eng, acov_kind, observed=type == "normalized")
    out_groups = {}
    for g, gd in enumerate(eng.groups):
        S, ybar = eng.sample_moments(g)
        Sig, mu = eng.model.implied(eng.theta, g)
        if not ms:
            mu = ybar
        if type == "cor.bentler":
            sd = np.sqrt(np.diag(S))
            r_cov = (S - Sig) / np.outer(sd, sd)
            r_mean = (ybar - mu) / sd
        elif type == "cor.bollen":
            sd, sd_est = np.sqrt(np.diag(S)), np.sqrt(np.diag(Sig))
            r_cov = S / np.outer(sd, sd) - Sig / np.outer(sd_est, sd_est)
            r_mean = (ybar - mu) / sd  # lavaan rescales both means by the sample SDs
        else:
            r_cov, r_mean = S - Sig, ybar - mu
        res = {"type": type}
        se_all = None
        if need_acov:
            acov = acovs[g]
            dg = np.diag(acov).copy()
            dg[~np.isfinite(dg) | (dg < 0)] = np.nan
            se_all = np.sqrt(dg)
        se_mean = se_all[:p] if (se_all is not None and ms) else None
        se_cov = _unvech(se_all[p:] if ms else se_all, p) if se_all is not None else None

        def ratio(a, b, tiny):
            b = b.copy()
            b[np.abs(a) < tiny] = 1.0
            return a / b

        if z_type:
            r_cov = ratio(r_cov, se_cov, 1e-5)
            if ms:
                r_mean = ratio(r_mean, se_mean, 1e-5)
        res["cov"] = pd.DataFrame(r_cov, index=ov, columns=ov)
        if ms:
            res["mean"] = pd.Series(r_mean, index=ov)
        if zstat and not z_type:
            res["cov.z"] = pd.DataFrame(ratio(r_cov, se_cov, 1e-4), index=ov, columns=ov)
            if ms:
                res["mean.z"] = pd.Series(ratio(r_mean, se_mean, 1e-4), index=ov)
        if summary and not z_type:
            name = {"raw": "rmr", "cor.bentler": "srmr", "cor.bollen": "crmr"}[type]
            acov = acovs[g]
            st_cov = _vech(r_cov)
            pst = len(st_cov) - (p if name == "crmr" else 0)
            a_cov = acov[p:, p:] if ms else acov
            cols = {"cov": _rms_summary(st_cov, a_cov, pst, name)}
            if ms:
                cols["mean"] = _rms_summary(r_mean, acov[:p, :p], p, name)
                st = np.concatenate([r_mean, st_cov])
                pst_t = len(st) - (p if name == "crmr" else 0)
                cols["total"] = _rms_summary(st, acov, pst_t, name)
            res["summary"] = pd.DataFrame(cols)
        out_groups[gd.label] = res
    if eng.pt.ngroups == 1:
        return out_groups[eng.groups[0].label]
    return out_groups


# ------------------------------------------------------------------ Wald test
_SE_NAMES = {
    "ML": "standard",
    "FIML": "standard",
    "MLR": "robust.huber.white",
    "WLSMV": "robust.sem",
}


def _split_constraints(constraints) -> list[str]:
    if isinstance(constraints, str):
        parts = constraints.replace("\n", ";").split(";")
    else:
        parts = list(constraints)
    return [c.strip() for c in parts if c and c.strip() and not c.strip().startswith("#")]


def wald_test(results, constraints) -> pd.DataFrame:
    """Wald test of equality constraints on the parameters (lavaan's ``lavTestWald``).

    Each constraint ``lhs == rhs`` is written with parameter labels (and
    defined parameters, numbers and arithmetic), e.g. ``"a == b; c == 0;
    a1*b1 == 0.2"``.  With :math:`h(\\theta)` the vector of ``lhs - rhs``,
    :math:`H` its Jacobian and :math:`V` the covariance matrix of the
    estimates (the robust one for MLR),

    .. math:: W = h^\\top (H V H^\\top)^{-1} h \\sim \\chi^2_k

    (Wald, 1943; Bollen, 1989, p. 293).

    Parameters
    ----------
    results : SEMResults
        An ML, MLR, FIML or WLSMV fit.
    constraints : str or list of str
        Constraints separated by ``;`` or new lines.

    Returns
    -------
    pandas.DataFrame
        One row: ``stat df p.value se`` (``se`` the kind of covariance matrix
        used, lavaan's ``se`` option).

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + l2*x2 + l3*x3\\n"
    ...          "textual =~ x4 + l5*x5 + l6*x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> wald_test(fit(model, hs), "l2 == l3; l5 == l6").round(4)
          stat  df  p.value        se
    0  11.6497   2    0.003  standard

    In R: ``lavaan::lavTestWald(fit, constraints = "l2 == l3; l5 == l6")``.
    """
    from ckm_research.numerics import numerical_jacobian
    from ckm_research.sem.syntax import evaluate_definitions, evaluate_expression

    eng = _engine(results, "wald_test")
    cons = _split_constraints(constraints)
    if not cons:
        raise CkmError(
            "The 'constraints' parameter of wald_test must give at least one constraint "
            f"'lhs == rhs'. Got {constraints!r} instead."
        )
    sides = []
    for c in cons:
        if c.count("==") != 1 or any(op in c.replace("==", "") for op in ("<", ">", "=")):
            raise CkmError(
                f"wald_test: the constraint '{c}' is not an equality 'lhs == rhs'; lavaan's "
                "lavTestWald tests equality constraints only"
            )
        lhs, rhs = (x.strip() for x in c.split("=="))
        sides.append((lhs, rhs))
    t = eng.pt.table
    labels = t["label"].where(~t["label"].str.startswith("."), "").tolist()
    defs = eng.pt.definitions

    def env_of(theta):
        # WLSMV: the items' residual variances follow from theta (delta parameterization)
        full = getattr(eng, "full_row_values", None)
        vals = full(theta) if full is not None else eng.model.row_values(theta)
        env = {}
        for lab, v in zip(labels, vals, strict=True):
            if lab and lab not in env:
                env[lab] = float(v)
        if defs:
            for d, v in zip(defs, evaluate_definitions(defs, t["label"], vals), strict=True):
                env[d.name] = float(v)
        return env

    def h(theta):
        env = env_of(theta)
        return np.array(
            [evaluate_expression(a, env) - evaluate_expression(b, env) for a, b in sides]
        )

    try:
        h0 = h(eng.theta)
    except KeyError as exc:
        known = sorted(env_of(eng.theta))
        raise CkmError(
            f"wald_test: '{exc.args[0]}' is not a parameter label of the model; label the "
            "parameter in the model syntax (e.g. a*x2). Labels: " + ", ".join(known)
        ) from None
    H = numerical_jacobian(h, eng.theta)
    V = results.vcov
    M = H @ V @ H.T
    try:
        stat = float(h0 @ np.linalg.solve(M, h0))
    except np.linalg.LinAlgError:
        raise CkmError(
            "wald_test: the constraints are linearly dependent (their covariance matrix is "
            "singular); drop redundant constraints"
        ) from None
    df = len(sides)
    se = _SE_NAMES.get(eng.opts.estimator, "standard")
    return pd.DataFrame({"stat": [stat], "df": [df], "p.value": [stats.chi2.sf(stat, df)],
                         "se": [se]})  # fmt: skip


# ------------------------------------------------------------- LR difference
def lrt(*fits, method: str = "default", model_names=None) -> pd.DataFrame:
    """Chi-square difference tests of nested models (lavaan's ``lavTestLRT``).

    The models are sorted by their degrees of freedom and each is compared
    with the next less restricted one by
    :func:`ckm_research.measurement.invariance.chisq_difference`: the
    ordinary difference of the chi-squares for ML and FIML (with the RMSEA of
    the difference), and for MLR the scaled difference of Satorra & Bentler
    (2001), lavaan's default ``method = "satorra.bentler.2001"``.

    Parameters
    ----------
    *fits : SEMResults
        Two or more fits of nested models to the same data, with the same
        estimator.
    method : {'default', 'standard', 'satorra.bentler.2001', 'satorra.bentler.2010', \
'satorra.2000'}
        lavaan's ``method``; ``'default'`` is lavaan's default for the
        estimator.  ``'satorra.bentler.2010'`` (complete-data MLR only) is the
        strictly positive scaled difference of Satorra & Bentler (2010), with
        the scaling factor of the less restricted model evaluated at the
        restricted model's estimates (lavaan's ``M10`` model).
        ``'satorra.2000'`` (Satorra's scaled-and-shifted difference) is the
        default, and the only method, for WLSMV and ULSMV fits.
    model_names : list of str, optional
        Row names (default ``fit1, fit2, ...`` in the order given).

    Returns
    -------
    pandas.DataFrame
        lavaan's table: index the model names sorted by df, columns ``Df AIC
        BIC Chisq`` and ``Chisq diff`` [``RMSEA``] ``Df diff Pr(>Chisq)``
        (``RMSEA`` for the standard test only).  The ``Chisq`` column holds
        the unscaled statistics also for MLR, as in lavaan.

    References
    ----------
    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square
    test statistic for moment structure analysis. *Psychometrika*, 66,
    507-514.
    Satorra, A., & Bentler, P. M. (2010). Ensuring positiveness of the scaled
    difference chi-square test statistic. *Psychometrika*, 75, 243-248.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> model = ("visual =~ x1 + x2 + x3\\n"
    ...          "textual =~ x4 + x5 + x6\\n"
    ...          "speed =~ x7 + x8 + x9")
    >>> configural_fit = fit(model, hs, group="school")
    >>> metric_fit = fit(model, hs, group="school", group_equal=["loadings"])
    >>> lrt(metric_fit, configural_fit)[["Df", "Chisq", "Chisq diff", "Pr(>Chisq)"]].round(3)
            Df    Chisq  Chisq diff  Pr(>Chisq)
    fit2  48.0  115.851         NaN         NaN
    fit1  54.0  124.044       8.192       0.224

    In R: ``lavaan::lavTestLRT(configural, metric)``.
    """
    from ckm_research.measurement.invariance import chisq_difference

    if len(fits) < 2:
        raise CkmError("lrt needs at least two fitted models to compare")
    if method == "mean.var.adjusted.PLRT":
        raise CkmError(
            f"lrt(method='{method}') (lavaan's lavTestLRT method) is not supported; use "
            "method='default' (Satorra-Bentler 2001 for MLR, the standard test for ML) or "
            "'satorra.bentler.2010'"
        )
    if method == "satorra.2000" and not all(f.estimator in ("WLSMV", "ULSMV") for f in fits):
        raise CkmError(
            "lrt(method='satorra.2000') (lavaan's lavTestLRT method) is not supported for "
            f"{', '.join(sorted({f.estimator for f in fits}))} fits here: it is the test of "
            "WLSMV and ULSMV fits; use method='default' (Satorra-Bentler 2001 for MLR, the "
            "standard test for ML) or 'satorra.bentler.2010'"
        )
    names = list(model_names) if model_names is not None else [
        f"fit{i + 1}" for i in range(len(fits))
    ]  # fmt: skip
    if len(names) != len(fits):
        raise CkmError(
            f"The 'model_names' parameter of lrt must have {len(fits)} names. "
            f"Got {len(names)} instead."
        )
    for f in fits:
        _engine(f, "lrt")
    order = sorted(range(len(fits)), key=lambda i: fits[i].fit_measures["df"])
    rows = []
    method_used = None
    for k, i in enumerate(order):
        fm = fits[i].fit_measures
        row = {"Df": fm["df"], "AIC": fm.get("aic", np.nan), "BIC": fm.get("bic", np.nan),
               "Chisq": fm["chisq"], "Chisq diff": np.nan, "RMSEA": np.nan,
               "Df diff": np.nan, "Pr(>Chisq)": np.nan}  # fmt: skip
        if k > 0 and method == "satorra.bentler.2010" and not _scaled(fits[i]):
            warnings.warn(
                "lrt: method='satorra.bentler.2010' but the fits have no scaled (robust) test "
                "statistic; using the standard chi-square difference test (as lavaan)",
                UserWarning,
                stacklevel=2,
            )
            method = "standard"
        if k > 0 and method == "satorra.bentler.2010":
            d = _sb2010(fits[order[k - 1]], fits[i])
            method_used = d["method"]
            row.update({"Chisq diff": d["chisq.diff"], "Df diff": d["df.diff"],
                        "Pr(>Chisq)": d["pvalue"]})  # fmt: skip
        elif k > 0:
            d = chisq_difference(fits[order[k - 1]], fits[i], method=method)
            method_used = d["method"]
            row.update({"Chisq diff": d["chisq.diff"], "RMSEA": d.get("rmsea.diff", np.nan),
                        "Df diff": d["df.diff"], "Pr(>Chisq)": d["pvalue"]})  # fmt: skip
        rows.append(row)
    out = pd.DataFrame(rows, index=[names[i] for i in order])
    if method_used != "standard":
        out = out.drop(columns="RMSEA")
    out.attrs["method"] = method_used
    return out


def _sb2010(free, restricted) -> dict:
    """Satorra & Bentler's (2010) scaled difference (lavaan's
    ``lav_test_diff_SatorraBentler2010``): :math:`c_d = (d_0 c_0 - d_1
    c_{10})/(d_0 - d_1)` with :math:`c_{10}` the Yuan-Bentler scaling factor
    of the less restricted model at the restricted model's estimates."""
    import copy

    from ckm_research.sem.ml import MLEngine

    e1, e0 = free._engine, restricted._engine
    if type(e1) is not MLEngine or type(e0) is not MLEngine or free.estimator != "MLR":
        raise CkmError(
            "lrt(method='satorra.bentler.2010') needs two complete-data MLR fits; use "
            "method='default' otherwise"
        )
    f0, f1 = restricted.fit_measures, free.fit_measures
    t0, t1, d0, d1 = f0["chisq"], f1["chisq"], f0["df"], f1["df"]
    if d0 <= d1:
        raise CkmError("lrt: the two models have the same degrees of freedom; they are not nested")
    c0 = f0["chisq.scaling.factor"] if d0 > 0 else 1.0
    # the free model's parameters at the restricted model's values (0 where absent)
    t_0 = e0.pt.table
    vals0 = e0.row_values()
    where = {}
    for r, row in enumerate(t_0.itertuples(index=False)):
        where[(row.lhs, row.op, row.rhs, row.group)] = vals0[r]
        if row.op == "~~":
            where[(row.rhs, row.op, row.lhs, row.group)] = vals0[r]
    t_1 = e1.pt.table
    theta10 = np.zeros(e1.model.n_free)
    for row in t_1.itertuples(index=False):
        if row.free > 0:
            theta10[row.free - 1] = where.get((row.lhs, row.op, row.rhs, row.group), 0.0)
    e10 = copy.copy(e1)
    e10.theta = theta10
    e10._obs_info = None
    c10 = e10.robust_trace()[0] / d1 if d1 > 0 else 1.0
    cd = (d0 * c0 - d1 * c10) / (d0 - d1)
    delta = (t0 - t1) / cd
    return {
        "method": "satorra.bentler.2010",
        "chisq.diff": float(delta),
        "df.diff": float(d0 - d1),
        "scaling.factor": float(cd),
        "pvalue": float(stats.chi2.sf(delta, d0 - d1)),
    }


def _scaled(res) -> bool:
    return "chisq.scaling.factor" in res.fit_measures


def _refuse_multigroup_wls(eng, what: str) -> None:
    """The categorical diagnostics are for one group of ordinal items; say so otherwise."""
    if len(getattr(eng, "moms", (None,))) > 1:
        raise CkmError(
            f"{what} of a multiple-group {eng.label} fit are not supported; fit each group "
            "separately for them (the multiple-group fit itself is lavaan's)"
        )
    if getattr(eng, "mixed", False):
        raise CkmError(
            f"{what} of a {eng.label} fit with continuous and ordinal items are not "
            "supported; use lavaan for them (the fit itself is lavaan's)"
        )


def _residuals_categorical(eng, kind: str, zstat: bool, summary: bool) -> dict:
    """lavResiduals of a WLSMV fit (one or several groups): polychoric correlations
    and thresholds minus the model's, z statistics from :math:`Q\\,\\Gamma Q^\\top/N` with
    :math:`Q = I - \\Delta(\\Delta^\\top W\\Delta)^{-1}\\Delta^\\top W`, and
    the summary over the correlations, the thresholds and both (lavaan's
    categorical branch of ``lav_residuals_summary``).  lavaan 0.6.14 computes
    the ``total`` column with the statistics in the order (correlations,
    thresholds) but their covariance matrix in the order (thresholds,
    correlations); this is reproduced, so ``usrmr`` and its interval in that
    column are lavaan's, not those of the aligned formula."""
    if kind in ("standardized", "normalized", "cor.bollen"):
        raise CkmError(
            f"residuals(type={kind!r}) of a WLSMV fit is not supported; use 'cor.bentler' "
            "(or 'raw', the same for the unit-variance latent responses)"
        )
    if getattr(eng, "mixed", False):
        raise CkmError(
            f"residuals of a {eng.label} fit with continuous and ordinal items are not "
            "supported (lavaan 0.6.14 has no standard errors for them either); use a fit "
            "with all items ordered"
        )
    # several groups (lavaan's lav_residuals_acov): per group
    # Q_g = I - f_g Delta_g E^-1 Delta_g' W_g with E the information of all groups,
    # and the covariance Q_g Gamma_g Q_g' / N (lavaan divides every group's Gamma by
    # the total N)
    moms = getattr(eng, "moms", [eng.mom])
    several = len(moms) > 1
    est_all = eng.wls_est(eng.theta)
    obs_all = eng.wls_obs_all() if several else eng.mom.wls_obs
    Dg = eng.delta_groups(eng.theta) if several else [eng.delta(eng.theta)]
    weights = eng.weights if several else [eng.weight]
    fg = eng._fg() if several else np.ones(1)
    einv = None
    if zstat or summary:
        info = sum(f * D.T @ (D * w[:, None]) for f, D, w in zip(fg, Dg, weights, strict=True))
        einv = np.linalg.inv(info)
    out, off = {}, 0
    for g, mom in enumerate(moms):
        sl = slice(off, off + len(mom.wls_obs))
        off = sl.stop
        th_rows = eng.th_rows_g[g] if several else eng.th_rows
        acov = None
        if einv is not None:
            D, w = Dg[g], weights[g]
            Q = np.eye(len(w)) - fg[g] * (D @ einv @ D.T) * w[None, :]
            acov = Q @ (mom.gamma / eng.n) @ Q.T
        out[eng.groups[g].label] = _residuals_categorical_group(
            eng, kind, zstat, summary, th_rows, obs_all[sl] - est_all[sl], acov
        )
    return out if several else out[eng.groups[0].label]


def _residuals_categorical_group(eng, kind, zstat, summary, th_rows, r_all, acov) -> dict:
    """One group of :func:`_residuals_categorical`: ``r_all`` the residual
    thresholds and correlations, ``acov`` their covariance matrix."""
    model = eng.model
    ov = list(model.ov)
    p = len(ov)
    t = eng.pt.table
    th_names = [f"{t['lhs'].iat[r]}|{t['rhs'].iat[r]}" for r in th_rows]
    nth = len(th_names)
    R = np.zeros((p, p))
    ri, ci = np.tril_indices(p, k=-1)
    order = np.lexsort((ri, ci))
    R[ri[order], ci[order]] = r_all[nth:]
    R = R + R.T
    name = {"raw": "rmr", "cor.bentler": "srmr"}[kind]
    res = {
        "type": kind,
        "cov": pd.DataFrame(R, index=ov, columns=ov),
        "mean": pd.Series(np.zeros(p), index=ov),
        "th": pd.Series(r_all[:nth], index=th_names),
    }
    if not (zstat or summary):
        return res
    dg = np.diag(acov).copy()
    dg[~np.isfinite(dg) | (dg < 0)] = np.nan
    se = np.sqrt(dg)
    if zstat:
        se_cov = np.zeros((p, p))
        se_cov[ri[order], ci[order]] = se[nth:]
        se_cov = se_cov + se_cov.T

        def ratio(a, b):
            b = b.copy()
            b[np.abs(a) < 1e-4] = 1.0
            return a / b

        res["cov.z"] = pd.DataFrame(ratio(R, se_cov), index=ov, columns=ov)
        res["mean.z"] = pd.Series(np.zeros(p), index=ov)
        res["th.z"] = pd.Series(ratio(r_all[:nth], se[:nth]), index=th_names)
    if summary:
        st_cor = r_all[nth:]
        cols = {
            "cor": _rms_summary(st_cor, acov[nth:, nth:], len(st_cor) + p, name),
            "thresholds": _rms_summary(r_all[:nth], acov[:nth, :nth], nth, name),
            # lavaan pairs the statistics (correlations, thresholds) with the
            # covariance matrix in its own order (thresholds, correlations)
            "total": _rms_summary(
                np.concatenate([st_cor, r_all[:nth]]), acov, len(st_cor) + nth + p, name
            ),
        }
        res["summary"] = pd.DataFrame(cols)
    return res
