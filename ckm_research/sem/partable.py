"""The parameter table: the one representation everything else reads.

Turns parsed lavaan syntax into lavaan's parameter table (``lavaanify``),
applying the defaults of ``lavaan::sem()`` / ``lavaan::cfa()`` (Rosseel, 2012,
section 5; ``?lavOptions``):

* ``auto.fix.first``: the first loading of each factor is fixed at 1 (unless
  ``std_lv``, in which case all factor variances are fixed at 1);
* ``auto.fix.single``: the residual variance of the only indicator of a
  factor is fixed at 0;
* ``auto.var``: residual variances of all observed variables (except fixed
  exogenous covariates) and (residual) variances of all factors are free;
* ``auto.cov.lv.x``: covariances among exogenous factors are free;
* ``auto.cov.y``: residual covariances among purely dependent variables
  (observed or latent, dependent in some regression and predictor in none)
  are free;
* ``fixed.x``: variances and covariances of observed exogenous covariates are
  fixed at their sample values;
* ``int.ov.free``, ``int.lv.free = FALSE``: with a mean structure, observed
  intercepts are free and factor means fixed at 0 (lavaan's ``growth()`` turns
  both around); either applies only to the rows lavaan adds, never to an
  intercept or mean the user writes (``f ~ 1`` is free);
* ``orthogonal = FALSE``: with ``orthogonal = TRUE`` the covariances lavaan adds
  between latent variables (exogenous factors, and residual covariances of
  purely dependent factors) are fixed at 0;
* ordered items get thresholds ``|`` (free), fixed intercepts, and a scaling
  row ``~*~`` fixed at 1 (lavaan's delta parameterization); with several groups
  and ``group_equal`` holding ``"thresholds"``, the scaling factors and the
  latent means of groups 2.. are free (lavaan's ``auto.delta``).

Rows appear in lavaan's order: the user's rows first, then the defaults.
Parameters sharing a label share one free parameter (equality constraint).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from ckm_research.errors import IdentificationError, ModelSpecificationError
from ckm_research.sem.syntax import ParsedModel, parse_model

__all__ = ["ParTable", "build_partable", "VariableRoles", "is_simple_equality"]


@dataclass(frozen=True)
class VariableRoles:
    """The roles lavaan gives variables (``lavNames``)."""

    ov: tuple[str, ...]
    lv: tuple[str, ...]
    ov_x: tuple[str, ...]
    lv_x: tuple[str, ...]
    ov_y: tuple[str, ...]
    lv_y: tuple[str, ...]
    ov_ind: tuple[str, ...]
    ov_ord: tuple[str, ...]
    interactions: tuple[str, ...]
    ov_interactions: tuple[str, ...] = ()
    lv_formative: tuple[str, ...] = ()


@dataclass
class ParTable:
    """A lavaan-style parameter table with the variable roles.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``id lhs op rhs user group free ustart label exo start``;
        ``free`` is the 1-based index of the free parameter (0 if fixed).
    roles : VariableRoles
    ngroups : int
    definitions, constraints : tuple
        From the syntax.
    """

    table: pd.DataFrame
    roles: VariableRoles
    ngroups: int
    definitions: tuple
    constraints: tuple
    meanstructure: bool
    std_lv: bool

    @property
    def n_free(self) -> int:
        return int(self.table["free"].max()) if len(self.table) else 0

    def free_rows(self) -> pd.DataFrame:
        return self.table[self.table["free"] > 0]


def _unique(seq):
    seen = {}
    for s in seq:
        if s not in seen:
            seen[s] = None
    return list(seen)


def variable_roles(model: ParsedModel, ordered=()) -> VariableRoles:
    """Classify the model's variables as lavaan does (:func:`_variable_roles`); the
    result (immutable) is computed once per model and ``ordered``."""
    try:
        return _variable_roles_cached(model, _frozen(ordered))
    except TypeError:  # an unhashable argument: compute without the cache
        return _variable_roles(model, ordered)


@functools.lru_cache(maxsize=256)
def _variable_roles_cached(model: ParsedModel, ordered) -> VariableRoles:
    return _variable_roles(model, ordered)


def _variable_roles(model: ParsedModel, ordered=()) -> VariableRoles:
    """Classify the model's variables as lavaan does (``lav_partable_vnames``).

    A latent variable that is an indicator of another one (a first-order factor
    of a higher-order factor) is neither ``lv.x`` nor ``lv.y``: it is endogenous,
    so it has a residual variance and no default covariances.  ``interactions``
    are the product terms with a latent component (``X:Z``), ``ov_interactions``
    the products of two observed variables (``x1:x2``), which are observed
    variables of the model in their own right (lavaan's ``ov.interaction``).
    A composite (``C <~ x1 + x2``, lavaan's ``lv.formative``) is a latent
    variable; the variables forming it are predictors (``eqs.x``).
    """
    st = model.statements
    # factors (=~) and composites (<~, lavaan's lv.formative), in order of appearance
    lv = _unique(s.lhs for s in st if s.op in ("=~", "<~"))
    lv_formative = _unique(s.lhs for s in st if s.op == "<~")
    lv_set = set(lv)
    # every indicator, observed or latent (lavaan's v.ind): a factor that measures
    # another factor (a first-order factor of a higher-order one) is endogenous
    v_ind = set(s.rhs for s in st if s.op == "=~")
    ov_ind = _unique(s.rhs for s in st if s.op == "=~" and s.rhs not in lv_set)
    # product terms: with a latent component they are latent interactions (fitted by
    # ckm_research.moderation); between observed variables the product is itself an
    # observed (exogenous) variable named "x1:x2", as in lavaan (lav_data_full)
    products = _unique(s.rhs for s in st if s.op == "~" and ":" in s.rhs)
    interactions = [t for t in products if any(v in lv_set for v in t.split(":"))]
    ov_interactions = [t for t in products if t not in interactions]

    def names(term):
        return term.split(":") if term in interactions else [term]

    eqs_y = _unique(s.lhs for s in st if s.op == "~")
    eqs_x = []
    for s in st:
        if s.op in ("~", "<~"):  # the variables forming a composite are predictors
            eqs_x.extend(names(s.rhs))
    eqs_x = _unique(eqs_x)
    others = []
    for s in st:
        if s.op in ("~", "~~", "~1", "|", "~*~", "<~"):
            others.append(s.lhs)
            if s.op in ("~", "~~", "<~"):
                others.extend(names(s.rhs))
    ov = _unique(ov_ind + [v for v in others if v and v not in lv_set])
    ov_ind_set = set(ov_ind)
    # (pure) exogenous observed covariates: predictors only, no user (co)variance or intercept
    user_vc = set()
    for s in st:
        if s.op in ("~~", "~1"):
            user_vc.add(s.lhs)
            if s.op == "~~":
                user_vc.add(s.rhs)
    ov_x = [
        v for v in ov if v in eqs_x and v not in eqs_y and v not in ov_ind_set and v not in user_vc
    ]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    eqs_x_set = set(eqs_x)
    ov_y = [v for v in ov if v in eqs_y and v not in ov_ind_set and v not in eqs_x_set]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x_set]
    ordered = set(ordered)
    with_thresholds = {s.lhs for s in st if s.op == "|"}
    ov_ord = [v for v in ov if v in ordered or v in with_thresholds]
    return VariableRoles(
        tuple(ov),
        tuple(lv),
        tuple(ov_x),
        tuple(lv_x),
        tuple(ov_y),
        tuple(lv_y),
        tuple(ov_ind),
        tuple(ov_ord),
        tuple(interactions),
        tuple(ov_interactions),
        tuple(lv_formative),
    )


def build_partable(
    model: str | ParsedModel,
    *,
    ngroups: int = 1,
    meanstructure: bool = False,
    std_lv: bool = False,
    fixed_x: bool = True,
    ordered=(),
    nthresholds: dict[str, int] | None = None,
    group_equal: tuple[str, ...] = (),
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    orthogonal: bool = False,
    group_partial: tuple[str, ...] = (),
    general_constraints: bool = False,
    parameterization: str = "delta",
) -> ParTable:
    """Build lavaan's parameter table for a model.

    Parameters
    ----------
    model : str or ParsedModel
        lavaan syntax.
    ngroups : int
        Number of groups (blocks).
    meanstructure : bool
        Add intercepts/means (``~1``) for all variables.
    std_lv : bool
        Identify factors by unit variances instead of first loadings.
    fixed_x : bool
        Treat observed exogenous covariates as fixed (lavaan default).
    ordered : sequence of str
        Observed variables that are ordinal.
    nthresholds : dict, optional
        Number of thresholds per ordered variable (levels - 1).
    group_equal : tuple of str
        lavaan's ``group.equal``: any of ``loadings intercepts means thresholds
        residuals residual.covariances lv.variances lv.covariances regressions``.
    int_ov_free, int_lv_free : bool
        lavaan's ``int.ov.free`` (default ``True``) and ``int.lv.free`` (default
        ``False``): whether the observed intercepts and the latent means lavaan adds
        to a mean structure are free (``False``: fixed at 0).  ``growth()`` uses
        ``int_ov_free=False, int_lv_free=True``.
    orthogonal : bool
        lavaan's ``orthogonal``: fix the covariances lavaan adds between latent
        variables at 0 (those the user writes stay free).
    group_partial : tuple of str
        lavaan's ``group.partial``: parameters, written ``lhs op rhs`` as in
        lavaan (``"visual=~x2"``, ``"x3~1"``; spaces are ignored), that stay free
        across groups although ``group_equal`` covers them.
    general_constraints : bool
        Let constraints other than ``a == b`` between two labels through (kept
        in ``constraints`` for :mod:`ckm_research.sem.constraints`, which the
        ML/MLR engine applies); by default they are refused, for callers that
        would otherwise ignore them.
    parameterization : {'delta', 'theta'}
        lavaan's ``parameterization`` for ordered items: in ``'delta'`` their
        residual variances are computed (fixed, no value) and the scaling factors
        ``~*~`` of groups 2.. are free when ``group_equal`` holds
        ``"thresholds"``; in ``'theta'`` the residual variances are fixed at 1,
        free in groups 2.. when the thresholds are equal (``lav_partable_flat``).

    Returns
    -------
    ParTable
    """
    parsed = parse_model(model) if isinstance(model, str) else model
    key = (
        parsed, ngroups, meanstructure, std_lv, fixed_x, _frozen(ordered),
        tuple((nthresholds or {}).items()), _frozen(group_equal), int_ov_free, int_lv_free,
        orthogonal, _frozen(group_partial), general_constraints, parameterization,
    )  # fmt: skip
    try:
        hash(key)
    except TypeError:  # e.g. unhashable values in an argument: build without the cache
        return _build_partable(parsed, *key[1:])
    pt = _build_partable_cached(key)
    # a fresh table each time: callers may change theirs
    return dataclasses.replace(pt, table=pt.table.copy())


def _frozen(values):
    """``values`` as a hashable key with the same meaning (a string stays a string)."""
    return values if isinstance(values, (str, tuple)) else tuple(values)


@functools.lru_cache(maxsize=128)
def _build_partable_cached(key: tuple) -> ParTable:
    """:func:`build_partable` for one model and options, built once (the model and the
    options are immutable; the caller copies the table)."""
    return _build_partable(*key)


def _build_partable(
    parsed: ParsedModel,
    ngroups: int,
    meanstructure: bool,
    std_lv: bool,
    fixed_x: bool,
    ordered: tuple,
    nthresholds: tuple,
    group_equal: tuple,
    int_ov_free: bool,
    int_lv_free: bool,
    orthogonal: bool,
    group_partial: tuple,
    general_constraints: bool,
    parameterization: str,
) -> ParTable:
    """The work of :func:`build_partable` (``nthresholds`` as ``(name, count)`` pairs)."""
    nthresholds = dict(nthresholds)
    roles = variable_roles(parsed, ordered)
    lv_set = set(roles.lv)
    ov_x_set = set(roles.ov_x)
    ord_set = set(roles.ov_ord)
    formative = set(roles.lv_formative)
    nthresholds = nthresholds or {}

    rows: list[dict] = []
    index: dict[tuple[str, str, str, int], int] = {}

    def key(lhs, op, rhs, g):
        if op == "~~" and (rhs, op, lhs, g) in index:
            return (rhs, op, lhs, g)
        return (lhs, op, rhs, g)

    # 1. user rows
    for s in parsed.statements:
        if len(s.modifiers) > 1 and len(s.modifiers) != ngroups:
            # lavaan stops too ("wrong number of arguments in modifier")
            raise ModelSpecificationError(
                f"the modifier c(...) of '{s.lhs} {s.op} {s.rhs}' has {len(s.modifiers)} values "
                f"but the model has {ngroups} group(s); give one value per group, or a single "
                "value (a label shared by all groups makes the parameter equal across them)"
            )
    for g in range(1, ngroups + 1):
        for s in parsed.statements:
            k = key(s.lhs, s.op, s.rhs, g)
            mod = s.modifier(g - 1)
            if k in index:
                # repeated statement: later modifiers win (lavaan merges them)
                row = rows[index[k]]
                if mod.fixed is not None:
                    row["ustart"], row["fixed"] = mod.fixed, True
                if mod.free:
                    row["fixed"], row["force_free"] = False, True
                if mod.label:
                    if row["label"] and row["label"] != mod.label:
                        # lavaan 0.6.14 keeps the first label silently
                        raise ModelSpecificationError(
                            f"the parameter '{s.lhs} {s.op} {s.rhs}' is given two labels, "
                            f"'{row['label']}' and '{mod.label}' (line {s.line}); give one (to "
                            "make two parameters equal, give them the same label)"
                        )
                    row["label"] = mod.label
                if mod.start is not None:
                    row["start"] = mod.start
                continue
            index[k] = len(rows)
            rows.append(
                dict(
                    lhs=s.lhs,
                    op=s.op,
                    rhs=s.rhs,
                    user=1,
                    group=g,
                    fixed=mod.fixed is not None,
                    force_free=mod.free,
                    ustart=mod.fixed if mod.fixed is not None else np.nan,
                    label=mod.label or "",
                    start=mod.start if mod.start is not None else np.nan,
                    exo=0,
                )
            )

    # 2. default rows
    ov_nox = [v for v in roles.ov if v not in ov_x_set]
    defaults: list[tuple[str, str, str]] = []
    for v in roles.ov_ord:
        for t in range(1, nthresholds.get(v, 0) + 1):
            defaults.append((v, "|", f"t{t}"))
    defaults += [(v, "~~", v) for v in ov_nox + list(roles.lv)]
    defaults += [(a, "~~", b) for a, b in combinations(roles.lv_x, 2)]
    lvov_y = list(roles.lv_y) + list(roles.ov_y)
    defaults += [(a, "~~", b) for a, b in combinations(lvov_y, 2)]
    ox = list(roles.ov_x)
    for j in range(len(ox)):
        for i in range(j, len(ox)):
            defaults.append((ox[j], "~~", ox[i]))
    defaults += [(v, "~*~", v) for v in roles.ov_ord]
    if meanstructure:
        defaults += [(v, "~1", "") for v in list(roles.ov) + list(roles.lv)]
    for g in range(1, ngroups + 1):
        for lhs, op, rhs in defaults:
            k = key(lhs, op, rhs, g)
            if k in index:
                continue
            index[k] = len(rows)
            rows.append(
                dict(
                    lhs=lhs,
                    op=op,
                    rhs=rhs,
                    user=0,
                    group=g,
                    fixed=False,
                    force_free=False,
                    ustart=np.nan,
                    label="",
                    start=np.nan,
                    exo=0,
                )
            )

    # 3. free / fixed as lavaan's defaults say
    first_loading: dict[tuple[str, int], int] = {}
    n_indicators: dict[tuple[str, int], list[str]] = {}
    for i, r in enumerate(rows):
        if r["op"] == "=~":
            first_loading.setdefault((r["lhs"], r["group"]), i)
            n_indicators.setdefault((r["lhs"], r["group"]), []).append(r["rhs"])
    single_ind = {
        (v[0], g) for (lvn, g), v in n_indicators.items() if len(v) == 1 and v[0] not in lv_set
    }
    for i, r in enumerate(rows):
        op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
        user_set = r["fixed"] or r["force_free"]
        if op == "=~":
            if not std_lv and first_loading[(lhs, r["group"])] == i and not user_set:
                r["fixed"], r["ustart"] = True, 1.0
        elif op == "~~" and lhs == rhs:
            if lhs in lv_set and std_lv and not user_set:
                # lavaan frees the factor variances of groups 2.. when loadings are equal
                free_var = (
                    r["group"] > 1
                    and "loadings" in group_equal
                    and "lv.variances" not in group_equal
                )
                if not free_var:
                    r["fixed"], r["ustart"] = True, 1.0
            elif lhs in formative and r["user"] == 0:
                # a composite has no disturbance (lavaan's lav_partable_flat, lv.formative)
                r["fixed"], r["ustart"] = True, 0.0
            elif lhs in ov_x_set and fixed_x:
                r["fixed"], r["exo"] = True, 1
            elif lhs in ord_set and not user_set:
                if parameterization == "theta":
                    # theta: unit residual variances, free in groups 2.. with equal thresholds
                    if not (r["group"] > 1 and "thresholds" in group_equal):
                        r["fixed"], r["ustart"] = True, 1.0
                else:
                    r["fixed"], r["ustart"] = True, np.nan  # delta parameterization: computed
            elif (lhs, r["group"]) in single_ind and not user_set and r["user"] == 0:
                r["fixed"], r["ustart"] = True, 0.0
        elif op == "~~":
            if lhs in ov_x_set and rhs in ov_x_set and fixed_x and not user_set:
                r["fixed"], r["exo"] = True, 1
            elif orthogonal and lhs in lv_set and rhs in lv_set and r["user"] == 0:
                r["fixed"], r["ustart"] = True, 0.0
        elif op == "~1":
            # int.lv.free = FALSE fixes only the latent means lavaan adds itself: a
            # mean the user writes (f ~ 1) is free (lavaan's lav_partable_flat)
            if lhs in lv_set and not user_set and r["user"] == 0 and not int_lv_free:
                # lavaan frees the factor means of groups 2.. when intercepts are equal,
                # or thresholds of ordered items (lav_partable_flat)
                free_mean = (
                    r["group"] > 1
                    and ("intercepts" in group_equal or ("thresholds" in group_equal and ord_set))
                    and "means" not in group_equal
                )
                if not free_mean:
                    r["fixed"], r["ustart"] = True, 0.0
            elif lhs in ord_set and not user_set:
                r["fixed"], r["ustart"] = True, 0.0
            elif lhs in ov_x_set and fixed_x and not user_set:
                r["fixed"], r["exo"] = True, 1
            elif lhs not in lv_set and not int_ov_free and r["user"] == 0:
                r["fixed"], r["ustart"] = True, 0.0
        elif op == "~*~":
            # delta parameterization: the scaling factors of groups 2.. are free when the
            # thresholds are equal across groups (lavaan's auto.delta, lav_partable_flat)
            free_delta = (
                r["group"] > 1 and "thresholds" in group_equal and parameterization == "delta"
            )
            if not user_set and not free_delta:
                r["fixed"], r["ustart"] = True, 1.0

    # group.equal: shared automatic labels across groups
    partial = _check_group_partial(rows, group_partial)
    if ngroups > 1 and group_equal:
        _apply_group_equal(rows, group_equal, lv_set, ord_set, ov_x_set, partial)

    # 4. free parameter numbering; equal labels share an index; == constraints merge labels
    alias = _label_aliases(parsed, rows, general_constraints)
    free_idx: dict[str, int] = {}
    counter = 0
    for r in rows:
        if r["fixed"]:
            r["free"] = 0
            continue
        lab = alias.get(r["label"], r["label"]) if r["label"] else ""
        if lab and lab in free_idx:
            r["free"] = free_idx[lab]
            continue
        counter += 1
        r["free"] = counter
        if lab:
            free_idx[lab] = counter
    # labels attached to fixed rows with the same label as free ones: keep fixed
    table = pd.DataFrame(rows)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table = table[
        ["id", "lhs", "op", "rhs", "user", "group", "free", "ustart", "label", "exo", "start"]
    ]
    table["free"] = table["free"].astype(int)
    _check_identification(table, roles, std_lv)
    return ParTable(
        table=table,
        roles=roles,
        ngroups=ngroups,
        definitions=parsed.definitions,
        constraints=parsed.constraints,
        meanstructure=meanstructure,
        std_lv=std_lv,
    )


# lavaan's lav_partable_labels: which rows of group 1 each group.equal value covers
# (ov.nox: observed variables that are not exogenous covariates)
_GROUP_EQUAL_OPS = {
    "loadings": lambda r, lv, ordv, ox: r["op"] == "=~",
    "intercepts": lambda r, lv, ordv, ox: (
        r["op"] == "~1" and r["lhs"] not in lv and r["lhs"] not in ox
    ),
    "means": lambda r, lv, ordv, ox: r["op"] == "~1" and r["lhs"] in lv,
    "thresholds": lambda r, lv, ordv, ox: r["op"] == "|" and r["lhs"] in ordv,
    "residuals": lambda r, lv, ordv, ox: (
        r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] not in lv and r["lhs"] not in ox
    ),
    "residual.covariances": lambda r, lv, ordv, ox: (
        r["op"] == "~~" and r["lhs"] != r["rhs"] and r["lhs"] not in lv and r["lhs"] not in ox
    ),
    "lv.variances": lambda r, lv, ordv, ox: (
        r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in lv
    ),
    "lv.covariances": lambda r, lv, ordv, ox: (
        r["op"] == "~~" and r["lhs"] != r["rhs"] and r["lhs"] in lv
    ),
    "regressions": lambda r, lv, ordv, ox: r["op"] == "~",
}


def _row_name(r) -> str:
    """lavaan's name of a parameter, ``lhs op rhs`` without spaces (``"x3~1"``)."""
    return f"{r['lhs']}{r['op']}{r['rhs']}"


def _check_group_partial(rows, group_partial) -> set[str]:
    """lavaan's ``group.partial`` names with the spaces removed, each checked to be a
    parameter of the model (lavaan ignores a name it does not find; a typo would
    silently keep the parameter equal, so it is an error here)."""
    if isinstance(group_partial, str):
        group_partial = [group_partial]
    names = {_row_name(r) for r in rows}
    out = set()
    for entry in group_partial:
        if not isinstance(entry, str):
            raise ModelSpecificationError(
                f"group_partial entries must be strings such as 'visual=~x2'; got {entry!r}"
            )
        name = "".join(entry.split())
        if name not in names:
            hint = ""
            if "~~" in name:
                a, _, b = name.partition("~~")
                if f"{b}~~{a}" in names:
                    hint = f"; the model writes it '{b}~~{a}' (lavaan matches the exact order)"
            raise ModelSpecificationError(
                f"group_partial names '{entry}', which is not a parameter of the model"
                + (hint or "; write lavaan's lhs op rhs, e.g. 'visual=~x2' or 'x3~1'")
                + " (lavaan would silently ignore it)"
            )
        out.add(name)
    return out


def _apply_group_equal(rows, group_equal, lv_set, ord_set, ov_x_set=frozenset(), partial=()):
    """Equality constraints across groups as lavaan's ``lav_partable_labels``.

    Each group-1 row a ``group_equal`` value covers (and ``partial`` does not
    name) shares one label with the same row of every other group; a row with a
    user label keeps it (``c(a, b)*x2`` stays free), and when any row of such a
    set is fixed, all are fixed at the first fixed value (lavaan's rule for
    equality constraints that involve fixed parameters).
    """
    unknown = [g for g in group_equal if g not in _GROUP_EQUAL_OPS]
    if unknown:
        raise ModelSpecificationError(
            f"unknown group_equal value(s) {unknown}; choose from {sorted(_GROUP_EQUAL_OPS)}"
        )
    others: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        if r["group"] > 1:
            others.setdefault((r["lhs"], r["op"], r["rhs"]), []).append(r)
    for r1 in rows:
        if r1["group"] != 1 or _row_name(r1) in partial:
            continue
        if not any(_GROUP_EQUAL_OPS[g](r1, lv_set, ord_set, ov_x_set) for g in group_equal):
            continue
        members = [r1, *others.get((r1["lhs"], r1["op"], r1["rhs"]), [])]
        members = [r for r in members if not r["label"]]  # a user label overrides
        if len(members) < 2:
            continue
        fixed = [r for r in members if r["fixed"]]
        if fixed:
            for r in members:
                r["fixed"], r["force_free"], r["ustart"] = True, False, fixed[0]["ustart"]
            continue
        for r in members:
            r["label"] = f".{r1['lhs']}{r1['op']}{r1['rhs']}"


def is_simple_equality(constraint, labels) -> bool:
    """``a == b`` between two parameter labels: merged into one free parameter
    (lavaan's ``ceq.simple``), not handled as a general constraint."""
    return (
        constraint.op == "=="
        and constraint.lhs.strip() in labels
        and constraint.rhs.strip() in labels
    )


def _label_aliases(parsed: ParsedModel, rows, general: bool = False) -> dict[str, str]:
    """Simple equality constraints ``a == b`` merge the two labels; other
    constraints are refused unless ``general`` (then the engine applies them)."""
    labels = {r["label"] for r in rows if r["label"]}
    parent = {lab: lab for lab in labels}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for c in parsed.constraints:
        if not is_simple_equality(c, labels):
            if general:
                continue
            a, b = c.lhs.strip(), c.rhs.strip()
            if c.op == "==" and a.isidentifier() and b.isidentifier():
                bad = a if a not in labels else b
                raise ModelSpecificationError(
                    f"the constraint '{a} == {b}' (line {c.line}) names '{bad}', which is not "
                    "a parameter label"
                )
            raise ModelSpecificationError(
                f"the constraint '{c.lhs} {c.op} {c.rhs}' (line {c.line}) is not supported "
                "here (LMS and population models take only simple equalities between labels, "
                "a == b); fit() applies general linear, nonlinear and inequality constraints "
                "with estimator='ML' or 'MLR' on complete data, also with "
                "interaction='dblcent'"
            )
        a, b = c.lhs.strip(), c.rhs.strip()
        parent[find(a)] = find(b)
    return {lab: find(lab) for lab in labels}


def _check_identification(table: pd.DataFrame, roles: VariableRoles, std_lv: bool) -> None:
    """Catch factors and composites with no fixed scale (lavaan would report a
    singular information matrix)."""
    # plain arrays: this runs on every fit (and every bootstrap refit by fit())
    op, lhs, rhs, group = (table[c].to_numpy() for c in ("op", "lhs", "rhs", "group"))
    free, ustart = table["free"].to_numpy(), table["ustart"].to_numpy(dtype=float)
    is_var = (op == "~~") & (lhs == rhs)
    for kind in ("<~", "=~"):
        rows = np.flatnonzero(op == kind)
        for name, g in sorted(set(zip(lhs[rows], group[rows], strict=True))):
            sub = rows[(lhs[rows] == name) & (group[rows] == g)]
            var_row = is_var & (lhs == name) & (group == g)
            fixed_nonzero = bool(((free[sub] == 0) & (ustart[sub] != 0)).any())
            if kind == "<~":
                var_zero = bool(((free[var_row] == 0) & (ustart[var_row] == 0)).all())
                if not fixed_nonzero and var_zero:
                    raise IdentificationError(
                        f"the composite '{name}' has no fixed scale: all its weights are free "
                        "(lavaan 0.6.14 does not fix a weight of '<~' either; its fit then has "
                        f"no standard errors). Fix one weight, e.g. {name} <~ 1*{rhs[sub[0]]} "
                        "+ ..."
                    )
                continue
            # loadings constrained equal to another group's take their scale from there
            others = free[rows[group[rows] != g]]
            mine = free[sub]
            shared = bool(np.isin(mine[mine > 0], others[others > 0]).any())
            var_fixed = bool((free[var_row] == 0).any())
            if not (fixed_nonzero or shared) and not var_fixed:
                raise IdentificationError(
                    f"the factor '{name}' has no fixed scale: all its loadings and its variance "
                    "are free. Fix one loading (e.g. 1*item) or its variance (e.g. "
                    f"{name} ~~ 1*{name}), or use std_lv=True."
                )
