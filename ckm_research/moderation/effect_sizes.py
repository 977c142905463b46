"""Standardized latent interaction effects and their effect sizes.

**Standardized interaction.**  With latent :math:`X, Z` jointly normal with
means 0, the product :math:`XZ` has

.. math::

    \\operatorname{Var}(XZ) = \\operatorname{Var}(X)\\operatorname{Var}(Z)
    + \\operatorname{Cov}(X, Z)^2

(Bohrnstedt & Goldberger, 1969, *JASA* 64(328), 1439-1442, with zero
means), so the product of the *standardized* :math:`X` and :math:`Z` has variance
:math:`1 + r_{XZ}^2`, not 1.  The standardized coefficient of ``Y ~ X:Z`` that
keeps the meaning "change in SD units of Y per SD of X, per SD of Z" is

.. math::

    \\beta_{XZ} = b_{XZ}\\, \\frac{SD(X)\\, SD(Z)}{SD(Y)}

(Wen, Marsh & Hau, 2010, *Structural Equation Modeling* 17(1), 1-22;
modsem's ``standardized_estimates``, and its ``correction = TRUE`` for product
indicators), where :math:`SD(Y)` is the model-implied SD of the outcome, whose
variance includes the product term's variance and its covariances with the other
predictors.  lavaan's ``std.all`` of a product-indicator model instead divides by
the SD of the product *factor* (``b * SD(X.Z) / SD(Y)``), i.e. it sets the
product's variance to 1.

* LMS results (:func:`~ckm_research.moderation.lms.fit_lms`): the variances are
  those of the mixture implied by the model, integrated over the moderators by
  the fit's quadrature rule (exact for these moments), so :math:`\\operatorname{Var}(Y)`
  holds :math:`b^2[\\operatorname{Var}(X)\\operatorname{Var}(Z) + \\operatorname{Cov}(X,Z)^2]`;
  the ``std.all`` column of an LMS fit is this formula
  (:meth:`ckm_research.moderation.lms.DenseLMSEngine.std_all`).
* QML results (:func:`~ckm_research.moderation.qml.fit_qml`; Klein & Muthén,
  2007): the same structural model and parameter table as LMS, so the same
  formula with the same model-implied moments (the QML engine's quadrature rule has 3
  nodes per moderator, exact to degree 5, and these moments are of degree 4 at most
  in the nodes), and the delta method with QML's covariance matrix (the inverse
  observed quasi-information).
* Product-indicator results (``interaction="dblcent"``): the implied variances of
  the fitted linear model (the product factor's variance is a free parameter,
  as in lavaan); only the product rows differ from lavaan's ``std.all``.

Standard errors are delta-method SEs, :math:`\\nabla\\beta^\\top V \\nabla\\beta`, with
the Jacobian by central differences (:func:`ckm_research.numerics.numerical_jacobian`)
and :math:`V` the fit's covariance matrix of the free parameters.

**Effect sizes** (LMS and QML results).  For each outcome :math:`Y` of product terms:

* :math:`R^2_1 = 1 - \\psi_Y / \\operatorname{Var}(Y)`, the interaction model's
  R-squared (implied mixture variance; lavaan's definition of R-squared);
* :math:`R^2_0`, the same for the model *without the product terms* refitted by
  ML (modsem's ``estimate_h0``; the baseline model of the LRT);
* :math:`\\Delta R^2 = R^2_1 - R^2_0`, the variance of :math:`Y` explained by its
  product terms over and above the first-order effects: the latent version of the
  hierarchical regression step of Aiken & West (1991, *Multiple regression: testing
  and interpreting interactions*, ch. 3) and of modsem's "R-Squared Change (H1 -
  H0)";
* Cohen's :math:`f^2 = \\Delta R^2 / (1 - R^2_1)` (Cohen, 1988, ch. 9; Aiken &
  West, 1991): 0.02, 0.15, 0.35 small, medium, large; Aguinis et al. (2005)
  report a median of 0.002 for moderators in applied research;
* the likelihood-ratio test of the interaction model against the model without
  product terms (Klein & Moosbrugger, 2000; modsem's ``compare_fit``:
  :math:`D = 2(\\ell_1 - \\ell_0)` on as many df as free product coefficients).
  For QML :math:`\\ell_1` is the *quasi*-log-likelihood (Klein & Muthén, 2007: the
  density of the scaling indicators given the others is replaced by the normal one
  with the same mean and variance), so :math:`D` is a quasi-likelihood ratio, and
  the table says so in ``lrt.kind``.  Its chi-square p-value keeps its meaning under
  the null hypothesis: the quasi-density is a proper density for every parameter
  value (a product of normal conditional densities, Jacobian 1) and at zero product
  coefficients it *is* the normal density of the model without products
  (:mod:`ckm_research.moderation.qml`), so the QML family nests the null model and
  is correctly specified under it; away from the null :math:`\\ell_1` is an
  approximation, so :math:`D` is not the LMS likelihood ratio (on oneInt the two
  differ by about 0.1 in 676).

When an outcome has several product terms, :math:`R^2_0` drops all of them
together (as modsem's baseline model), so :math:`\\Delta R^2` and :math:`f^2` are
those of the outcome's product terms jointly; the LRT is the joint test of every
product term of the model.  Both are reported on each term's row, with the terms
they cover in ``terms``.  Each term's own share is ``delta.r2.term``: at the fitted
parameters, the squared multiple correlation of :math:`Y` on all its predictors
(first-order and product terms, from the model-implied moments of the variables
and the products, integrated over the moderators) minus that on all but this term,
the population version of the last step of a hierarchical regression (Cohen, Cohen,
West & Aiken, 2003, ch. 5), and ``f2.term`` = ``delta.r2.term`` /
(1 - that full squared multiple correlation).  With one product term of centred
normal factors ``delta.r2.term`` = :math:`b^2[\\operatorname{Var}(X)\\operatorname{Var}(Z)
+ \\operatorname{Cov}(X,Z)^2]/\\operatorname{Var}(Y)`.

In R::

    est <- modsem::modsem(model, data, method = "lms")
    modsem::standardized_estimates(est)          # std. interaction, delta SEs
    summary(est, H0 = TRUE, r.squared = TRUE)   # R-squared H1, H0 and change, D
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError
from ckm_research.numerics import numerical_jacobian, wald_table

__all__ = [
    "product_variance",
    "standardized_interaction",
    "standardized_interactions",
    "interaction_effect_sizes",
]


# interaction methods whose engine has the LMS model's parameter table and moments
_MIXTURE_METHODS = ("lms", "qml")
_LRT_KIND = {"lms": "likelihood ratio", "qml": "quasi-likelihood ratio"}


def product_variance(var_x, var_z, cov_xz, mean_x=0.0, mean_z=0.0):
    """Variance of the product of two jointly normal variables.

    .. math::

        \\operatorname{Var}(XZ) = \\sigma_X^2\\sigma_Z^2 + \\sigma_{XZ}^2
        + \\mu_X^2\\sigma_Z^2 + \\mu_Z^2\\sigma_X^2 + 2\\mu_X\\mu_Z\\sigma_{XZ}

    (Bohrnstedt & Goldberger, 1969); with centred variables the first two
    terms.

    Examples
    --------
    >>> float(product_variance(1.0, 1.0, 0.5))
    1.25
    """
    return (
        np.asarray(var_x) * var_z + np.asarray(cov_xz) ** 2 + np.asarray(mean_x) ** 2 * var_z
        + np.asarray(mean_z) ** 2 * var_x + 2 * np.asarray(mean_x) * mean_z * cov_xz
    )  # fmt: skip


def standardized_interaction(b, var_x, var_z, var_y):
    """Standardized coefficient of ``Y ~ X:Z``: :math:`b\\,SD(X)SD(Z)/SD(Y)`
    (Wen, Marsh & Hau, 2010), ``var_y`` the outcome's total variance.

    Examples
    --------
    >>> round(float(standardized_interaction(0.5, 4.0, 1.0, 2.0)), 4)
    0.7071
    """
    return np.asarray(b) * np.sqrt(np.abs(var_x) * np.abs(var_z)) / np.sqrt(np.abs(var_y))


# ----------------------------------------------------------------- internals
def _method(result) -> str:
    info = (getattr(result, "notes", None) or {}).get("interaction")
    est = getattr(result, "estimates", None)
    if not info and est is not None:
        observed = sorted({r for o, r in zip(est["op"], est["rhs"], strict=True)
                           if o == "~" and ":" in str(r)})  # fmt: skip
        if observed:
            raise CkmError(
                f"The 'result' parameter has product terms of observed variables "
                f"({', '.join(observed)}), fitted as a regression on the product column; "
                "standardized_interactions takes latent interaction fits (interaction='lms', "
                "'qml' or 'dblcent'). Write each variable as a single-indicator factor "
                "(X =~ x1) and fit with interaction='lms'."
            )
    if not info or result.engine is None:
        raise CkmError(
            "The 'result' parameter must be a fit of a latent interaction model "
            "(ckm_research.fit(..., interaction='lms', 'qml' or 'dblcent')) made in this "
            "session. "
            "Got a result without product terms instead."
        )
    if len(getattr(result.engine, "group_labels", ())) > 1:
        raise CkmError(
            "The 'result' parameter is a multi-group LMS fit; standardized interaction effects "
            "and their effect sizes are computed for one group. Fit each group's rows "
            "separately (interaction='lms' on the subset) to get them per group."
        )
    return str(info.get("method"))


def _structural_columns(ops, lhs, rhs, free, latent, extra=()) -> list[int]:
    """0-based free parameters that the latent (and ``extra``) variances depend on:
    regressions, (co)variances among those variables and loadings of latent
    indicators (higher-order factors).  Loadings, residual variances and intercepts
    of the observed indicators do not enter the standardized structural paths, so
    their Jacobian columns are 0 and are not differenced."""
    keep = set(latent) | set(extra)
    cols = set()
    for op, a, b, f in zip(ops, lhs, rhs, free, strict=True):
        if f <= 0:
            continue
        if op == "~" or (op == "~~" and a in keep and b in keep) or (op == "=~" and b in keep):
            cols.add(int(f) - 1)
    return sorted(cols)


def _lms_paths(engine):
    """Rows (indices into ``row_values``) of the structural paths of an LMS or QML
    model, their (lhs, op, rhs), and a function theta -> standardized values (the
    engine's ``row_values``, ``implied_latent`` and ``row_free``, which the QML engine
    shares with the LMS engines)."""
    M = engine.model
    t = M.partable.table
    nb = len(t)
    rows, keys = [], []
    for r, (a, op, b) in enumerate(zip(t["lhs"], t["op"], t["rhs"], strict=True)):
        if op == "~":
            rows.append(r)
            keys.append((a, op, b))
    # product rows after the base rows of their outcome, in the order written
    for i, term in enumerate(M.terms):
        at = max((k + 1 for k, key in enumerate(keys) if key[0] == term.lhs), default=len(keys))
        while at < len(keys) and ":" in keys[at][2] and keys[at][0] == term.lhs:
            at += 1
        rows.insert(at, nb + i)
        keys.insert(at, (term.lhs, "~", term.term))
    pos = {v: i for i, v in enumerate(M.variables)}
    members = [tuple(k[2].split(":")) if ":" in k[2] else None for k in keys]

    def fun(theta):
        vals = engine.row_values(theta)
        _, cov = engine.implied_latent(theta)
        sd = np.sqrt(np.abs(np.diag(cov)))
        out = np.empty(len(rows))
        for j, (r, (a, _, b), mem) in enumerate(zip(rows, keys, members, strict=True)):
            scale = sd[pos[mem[0]]] * sd[pos[mem[1]]] if mem else sd[pos[b]]
            out[j] = vals[r] * scale / sd[pos[a]]
        return out

    ops = list(t["op"]) + ["~"] * len(M.terms)
    lhs = list(t["lhs"]) + [u.lhs for u in M.terms]
    rhs = list(t["rhs"]) + [u.term for u in M.terms]
    extra = {v for k in keys for v in (k[0], *k[2].split(":"))}
    cols = _structural_columns(ops, lhs, rhs, engine.row_free(), M.ram.lv, extra)
    return keys, lambda th: engine.row_values(th)[rows], fun, cols


def _dblcent_paths(result):
    engine = result.engine
    ram = engine.model
    if getattr(ram, "ngroups", 1) != 1:
        raise CkmError(
            "The 'result' parameter is a multi-group fit; standardized interaction effects are "
            "computed for one group. Fit each group's rows separately to get them per group."
        )
    t = engine.pt.table
    info = result.notes["interaction"]
    factor_term = {v["factor"]: k for k, v in info.get("terms", {}).items()}
    rows, keys, members = [], [], []
    for r, (a, op, b) in enumerate(zip(t["lhs"], t["op"], t["rhs"], strict=True)):
        if op != "~" or a in factor_term:
            continue
        rows.append(r)
        if b in factor_term:
            term = factor_term[b]
            keys.append((a, op, term))
            members.append(tuple(term.split(":")))
        else:
            keys.append((a, op, b))
            members.append(None)
    pos = {v: i for i, v in enumerate(ram.variables)}

    def fun(theta):
        vals = ram.row_values(theta)
        A, S, _ = ram.matrices_from_rows(vals, 0)
        E = ram.total_effects_inverse(A)
        sd = np.sqrt(np.abs(np.diag(E @ S @ E.T)))
        out = np.empty(len(rows))
        for j, (r, (a, _, b), mem) in enumerate(zip(rows, keys, members, strict=True)):
            scale = sd[pos[mem[0]]] * sd[pos[mem[1]]] if mem else sd[pos[b]]
            out[j] = vals[r] * scale / sd[pos[a]]
        return out

    extra = {v for k in keys for v in (k[0], *k[2].split(":"))} | set(factor_term)
    cols = _structural_columns(t["op"], t["lhs"], t["rhs"], ram.free, ram.lv, extra)
    return keys, lambda th: ram.row_values(th)[rows], fun, cols


def _level(result, level):
    if level is None:
        opts = getattr(result, "options", None)
        level = getattr(opts, "level", None) or 0.95
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise CkmError(
            f"The 'level' parameter of standardized_interactions must be a float in the range "
            f"(0, 1). Got {level!r} instead."
        )
    return float(level)


# ---------------------------------------------------------------- public API
def standardized_interactions(result, level: float | None = None) -> pd.DataFrame:
    """Standardized structural paths of a latent interaction model, with the
    product terms standardized by :math:`SD(X)SD(Z)/SD(Y)` and delta-method SEs.

    Parameters
    ----------
    result : SEMResults
        A fit of :func:`ckm_research.fit` with product terms
        (``interaction="lms"``, ``"qml"`` or ``"dblcent"``), single group.
    level : float, optional
        Confidence level (default: the fit's).

    Returns
    -------
    pandas.DataFrame
        One row per regression (``op == "~"``) of the structural model, product
        terms as ``Y ~ X:Z``: ``lhs op rhs est est.std se z pvalue ci.lower
        ci.upper``; ``est`` is the unstandardized estimate, ``est.std`` the
        standardized one (for other paths :math:`b\\,SD(X)/SD(Y)`, lavaan's
        ``std.all``).

    Raises
    ------
    CkmError
        If ``result`` is not an interaction fit of this session or has several groups.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit(model, load_dataset("oneInt"), interaction="lms")
    >>> standardized_interactions(res)[["lhs", "rhs", "est.std"]].round(2)
      lhs  rhs  est.std
    0   Y    X     0.38
    1   Y    Z     0.41
    2   Y  X:Z     0.44

    In R: ``modsem::standardized_estimates(est)`` (LMS, QML) or
    ``standardized_estimates(est, correction = TRUE, std.errors = "delta")``
    (product indicators).
    """
    method = _method(result)
    level = _level(result, level)
    if method in _MIXTURE_METHODS:
        keys, raw, fun, cols = _lms_paths(result.engine)
    elif method == "dblcent":
        keys, raw, fun, cols = _dblcent_paths(result)
    else:
        raise CkmError(
            f"Standardized interaction effects are computed for fits by LMS, QML and product "
            f"indicators (interaction='lms', 'qml' or 'dblcent'); this fit used {method!r}. "
            "Refit the model with one of those methods."
        )
    theta = np.asarray(result.theta, dtype=float)
    est_std = fun(theta)
    vcov = result.vcov
    if vcov is None:
        se = np.full(len(keys), np.nan)
    else:
        J = numerical_jacobian(fun, theta, columns=cols)
        var = np.einsum("ij,jk,ik->i", J, np.asarray(vcov, dtype=float), J)
        se = np.sqrt(np.clip(var, 0.0, None))
    wald = wald_table(est_std, se, level)
    return pd.DataFrame(
        {
            "lhs": [k[0] for k in keys],
            "op": [k[1] for k in keys],
            "rhs": [k[2] for k in keys],
            "est": raw(theta),
            "est.std": est_std,
            "se": se,
            "z": wald["z"],
            "pvalue": wald["pvalue"],
            "ci.lower": wald["ci.lower"],
            "ci.upper": wald["ci.upper"],
        }
    )


def _r2_linear(ram, theta, names):
    vals = ram.row_values(theta)
    A, S, _ = ram.matrices_from_rows(vals, 0)
    E = ram.total_effects_inverse(A)
    C = E @ S @ E.T
    pos = {v: i for i, v in enumerate(ram.variables)}
    return {y: 1.0 - S[pos[y], pos[y]] / C[pos[y], pos[y]] for y in names}


def _lms_moments_with_products(engine, theta):
    """Model-implied covariance matrix of the variables and the product terms of an
    LMS model, integrated over the moderators by the fit's quadrature rule.

    Given the moderators' nodes the moderator of a term is a constant ``c_j``, so the
    product is the linear function ``c_j * other`` of the normal variables: per node
    the moments of ``[v; P] = T_j v`` are ``T_j m_j`` and ``T_j C_j T_j'``, and the
    mixture's are their weighted sums (plus the spread of the node means).  These
    moments are polynomials of degree 4 at most in the nodes, so the QML engine's
    3-node rule gives them exactly too."""
    M = engine.model
    _, _, pc = M.moments(theta, engine.z)
    w = engine.w
    n = len(M.variables)
    k = len(M.terms)
    J = len(w)
    T = np.zeros((J, n + k, n))
    T[:, :n, :n] = np.eye(n)
    for t in range(k):
        T[:, n + t, M.term_o[t]] = pc["modval"][:, M.term_m[t]]
    mean_j = np.einsum("jab,jb->ja", T, pc["Em"])
    cov_j = T @ pc["Cfull"] @ np.swapaxes(T, 1, 2)
    mean = w @ mean_j
    cov = np.einsum("j,jab->ab", w, cov_j) + np.einsum("j,ja,jb->ab", w, mean_j, mean_j)
    return cov - np.outer(mean, mean)


def _r2_projection(cov, y, predictors):
    """Squared multiple correlation of ``y`` on ``predictors`` (indices into ``cov``)."""
    if not predictors:
        return 0.0
    S = cov[np.ix_(predictors, predictors)]
    c = cov[predictors, y]
    return float(c @ np.linalg.solve(S, c) / cov[y, y])


def interaction_effect_sizes(result) -> pd.DataFrame:
    """R-squared change, Cohen's f-squared and the likelihood-ratio test of the
    product terms of an LMS or QML fit (definitions in the module docstring).

    Parameters
    ----------
    result : SEMResults
        A fit with ``interaction="lms"`` or ``"qml"``.

    Returns
    -------
    pandas.DataFrame
        One row per product term: ``lhs op rhs`` (``Y ~ X:Z``), ``r2`` (the
        interaction model's R-squared of ``lhs``), ``r2.h0`` (the refitted model
        without product terms), ``delta.r2``, ``f2``, ``terms`` (the product terms of
        ``lhs`` that ``delta.r2`` and ``f2`` cover), ``delta.r2.term`` and ``f2.term``
        (this term's unique share at the fitted parameters), ``lrt.stat`` (modsem's D),
        ``lrt.df``, ``lrt.pvalue`` (joint test of all product terms of the model),
        ``lrt.kind`` (``"likelihood ratio"`` for LMS, ``"quasi-likelihood ratio"``
        for QML, whose :math:`\\ell_1` is the quasi-log-likelihood).

    Raises
    ------
    CkmError
        If ``result`` is not an LMS or QML fit of this session.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit(model, load_dataset("oneInt"), interaction="lms")
    >>> interaction_effect_sizes(res)[["rhs", "r2", "r2.h0", "delta.r2", "f2"]].round(2)
       rhs   r2  r2.h0  delta.r2    f2
    0  X:Z  0.6   0.38      0.22  0.55

    In R: ``summary(modsem(model, data, method = "lms"), H0 = TRUE, r.squared = TRUE)``
    and ``modsem::compare_fit(estimate_h0(est), est)``; ``method = "qml"`` alike.
    """
    method = _method(result)
    if method not in _MIXTURE_METHODS:
        raise CkmError(
            "interaction_effect_sizes needs an LMS or QML fit (interaction='lms' or 'qml'): "
            "its R-squared change and likelihood-ratio test compare it with the refitted "
            f"model without product terms. Got a fit by {method!r} instead."
        )
    engine = result.engine
    M = engine.model
    theta = np.asarray(result.theta, dtype=float)
    outcomes = list(dict.fromkeys(t.lhs for t in M.terms))
    pos = {v: i for i, v in enumerate(M.variables)}
    _, cov = engine.implied_latent(theta)
    _, S, _ = M.ram.matrices_from_rows(M.ram.row_values(theta[: M.n_base]), 0)
    r2 = {y: 1.0 - S[pos[y], pos[y]] / cov[pos[y], pos[y]] for y in outcomes}
    r2_h0 = _r2_linear(M.ram, np.asarray(engine.h0_theta, dtype=float), outcomes)
    fm = result.fit_measures
    lrt, df = float(fm.get("lrt.stat", np.nan)), float(fm.get("lrt.df", np.nan))
    pval = float(stats.chi2.sf(lrt, df)) if df > 0 and np.isfinite(lrt) else np.nan
    # the unique share of each term: R-squared of the outcome's best linear predictor
    # from all its predictors, minus that from all but this term (implied moments)
    full = _lms_moments_with_products(engine, theta)
    t = M.partable.table
    nv = len(M.variables)
    rows = []
    for i, term in enumerate(M.terms):
        y = term.lhs
        preds = [pos[b] for a, op, b in zip(t["lhs"], t["op"], t["rhs"], strict=True)
                 if op == "~" and a == y]  # fmt: skip
        prods = [nv + j for j, u in enumerate(M.terms) if u.lhs == y]
        r2_all = _r2_projection(full, pos[y], preds + prods)
        unique = r2_all - _r2_projection(full, pos[y], preds + [p for p in prods if p != nv + i])
        d = r2[y] - r2_h0[y]
        rows.append(
            {
                "lhs": y, "op": "~", "rhs": term.term, "r2": r2[y], "r2.h0": r2_h0[y],
                "delta.r2": d, "f2": d / (1.0 - r2[y]) if r2[y] < 1 else np.nan,
                "terms": ", ".join(u.term for u in M.terms if u.lhs == y),
                "delta.r2.term": unique,
                "f2.term": unique / (1.0 - r2_all) if r2_all < 1 else np.nan,
                "lrt.stat": lrt, "lrt.df": df, "lrt.pvalue": pval, "lrt.kind": _LRT_KIND[method],
            }
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["lhs", "op", "rhs", "r2", "r2.h0", "delta.r2", "f2", "terms", "delta.r2.term",
                 "f2.term", "lrt.stat", "lrt.df", "lrt.pvalue", "lrt.kind"],
    )  # fmt: skip
