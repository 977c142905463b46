"""The model variants a study fits, written from the researcher's model.

From one structural model in lavaan syntax the pipeline fits:

* the **measurement model** (:func:`cfa_syntax`): the same factors and
  indicators, every factor correlated with every other (lavaan's ``cfa()``
  default), residual covariances of indicators kept, regressions dropped;
* the **structural model with its indirect effects** (:func:`indirect_syntax`):
  every regression coefficient labelled and one ``:=`` definition per chain of
  paths ``X -> M ... -> Y``, so that the engine estimates each indirect effect
  with its delta-method standard error (and the bootstrap can resample it);
* the **interaction model** (:func:`interaction_syntax`): latent product terms
  ``Y ~ X:Z`` added, with the main effects they need.

The variants are written as text (:func:`to_syntax`) so that the report can
show exactly what was fitted. Labels the researcher gave are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from ckm_research.errors import CkmError
from ckm_research.sem.partable import variable_roles
from ckm_research.sem.syntax import Modifier, ParsedModel, Statement, parse_model

__all__ = ["to_syntax", "cfa_syntax", "indirect_syntax", "IndirectEffect",
           "interaction_syntax", "indicators", "structural_paths", "population_syntax",
           "drop_factor"]


def _num(value: float) -> str:
    return f"{value:.17g}"


def _modifier_text(mod: Modifier) -> list[str]:
    parts = []
    if mod.fixed is not None:
        parts.append(_num(mod.fixed))
    elif mod.free:
        parts.append("NA")
    if mod.label is not None:
        parts.append(mod.label)
    if mod.start is not None:
        parts.append(f"start({_num(mod.start)})")
    return parts


def _term(stmt: Statement) -> str:
    rhs = "1" if stmt.op == "~1" else stmt.rhs
    if not stmt.modifiers:
        return rhs
    if len(stmt.modifiers) == 1:
        return "*".join(_modifier_text(stmt.modifiers[0]) + [rhs])
    # one modifier per group: c(...) of each kind present
    pieces = []
    mods = stmt.modifiers
    if any(m.fixed is not None or m.free for m in mods):
        pieces.append("c(" + ", ".join(_num(m.fixed) if m.fixed is not None else "NA"
                                       for m in mods) + ")")
    if any(m.label is not None for m in mods):
        if not all(m.label is not None for m in mods):
            raise CkmError(f"cannot write the group-specific labels of {stmt.lhs} {stmt.op} "
                           f"{stmt.rhs} back as syntax")
        pieces.append("c(" + ", ".join(m.label for m in mods) + ")")
    if any(m.start is not None for m in mods):
        raise CkmError(f"cannot write group-specific start values of {stmt.lhs} {stmt.op} "
                       f"{stmt.rhs} back as syntax")
    return "*".join(pieces + [rhs])


def to_syntax(parsed: ParsedModel, *, header: str = "") -> str:
    """lavaan syntax for a parsed model, one statement per line.

    ``parse_model(to_syntax(m))`` has the same statements, definitions and
    constraints as ``m`` (comments and line breaks are not kept).
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()] if header else []
    # consecutive statements with the same left side and operator share a line
    current: tuple[str, str] | None = None
    for st in parsed.statements:
        op = "~" if st.op == "~1" else st.op
        if (st.lhs, op) == current:
            lines[-1] += f" + {_term(st)}"
        else:
            lines.append(f"{st.lhs} {op} {_term(st)}")
            current = (st.lhs, op)
    current = None
    for d in parsed.definitions:
        lines.append(f"{d.name} := {d.expression}")
    for c in parsed.constraints:
        lines.append(f"{c.lhs} {c.op} {c.rhs}")
    return "\n".join(lines) + "\n"


def indicators(model: str | ParsedModel) -> dict[str, list[str]]:
    """``{factor: [indicators]}`` in the order written."""
    parsed = parse_model(model) if isinstance(model, str) else model
    out: dict[str, list[str]] = {}
    for st in parsed.statements:
        if st.op == "=~":
            out.setdefault(st.lhs, []).append(st.rhs)
    return out


def structural_paths(model: str | ParsedModel) -> list[tuple[str, str]]:
    """``(outcome, predictor)`` of every regression (product terms excluded)."""
    parsed = parse_model(model) if isinstance(model, str) else model
    return [(s.lhs, s.rhs) for s in parsed.statements if s.op == "~" and ":" not in s.rhs]


def cfa_syntax(model: str) -> str:
    """The measurement model of ``model``: loadings and indicator covariances only.

    Factors are left free to correlate (the engine correlates exogenous
    factors, as lavaan's ``cfa()``); intercepts, thresholds and constraints on
    kept parameters stay; regressions, and definitions that use them, go.
    """
    parsed = parse_model(model)
    lv = set(variable_roles(parsed).lv)
    keep = [s for s in parsed.statements
            if s.op == "=~" or (s.op in ("~~", "~1", "|") and s.lhs not in lv)
            or (s.op == "~~" and s.lhs in lv and s.rhs in lv)]
    labels = {m.label for s in keep for m in s.modifiers if m.label}
    defs = tuple(d for d in parsed.definitions if _uses_only(d.expression, labels))
    cons = tuple(c for c in parsed.constraints
                 if _uses_only(c.lhs, labels) and _uses_only(c.rhs, labels))
    return to_syntax(ParsedModel(tuple(keep), defs, cons),
                     header="Measurement model (CFA) of the study model: every factor "
                            "correlated;\nregressions left out.")


def _uses_only(expression: str, labels: set[str]) -> bool:
    import re

    names = set(re.findall(r"(?:[^\W\d]|\.)[\w.]*", expression))  # any alphabet
    names -= {"exp", "log", "sqrt", "abs", "pi"}
    return names <= labels


@dataclass(frozen=True)
class IndirectEffect:
    """One chain of regression paths ``path[0] -> path[1] -> ... -> path[-1]``."""

    name: str
    path: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def source(self) -> str:
        return self.path[0]

    @property
    def target(self) -> str:
        return self.path[-1]

    @property
    def mediators(self) -> tuple[str, ...]:
        return self.path[1:-1]

    def describe(self) -> str:
        return " \u2192 ".join(self.path)


def _fresh(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}{k}"
    taken.add(name)
    return name


def indirect_syntax(model: str, *, max_chains: int = 500) -> tuple[str, list[IndirectEffect]]:
    """``model`` with every regression labelled and one ``:=`` per indirect effect.

    An indirect effect is a chain ``X -> M1 -> ... -> Y`` of two or more
    regression paths (product of the coefficients; Bollen, 1987, *Sociological
    Methodology* 17, 37-69). Single-group models only.

    Returns
    -------
    (str, list of IndirectEffect)
        The syntax to fit and the effects defined in it (``ind_X_M_Y``).
    """
    parsed = parse_model(model)
    if any(len(s.modifiers) > 1 for s in parsed.statements if s.op == "~"):
        raise CkmError("indirect effects are defined for single-group models only")
    names = set(variable_roles(parsed).ov) | set(variable_roles(parsed).lv)
    taken = set(names) | {m.label for s in parsed.statements for m in s.modifiers if m.label}
    taken |= {d.name for d in parsed.definitions}
    label_of: dict[tuple[str, str], str] = {}
    statements = []
    for st in parsed.statements:
        if st.op == "~" and ":" not in st.rhs:
            mod = st.modifier(0)
            if mod.fixed is not None:
                label = None  # a fixed path: its value enters as a number
            elif mod.label is None:
                label = _fresh(f"b_{st.lhs}_{st.rhs}", taken)
                st = Statement(st.lhs, st.op, st.rhs,
                               (Modifier(fixed=None, free=mod.free, label=label,
                                         start=mod.start),), st.line)
            else:
                label = mod.label
            label_of[(st.lhs, st.rhs)] = label if label is not None else _num(mod.fixed)
        statements.append(st)
    children: dict[str, list[str]] = {}
    for (y, x) in label_of:
        children.setdefault(x, []).append(y)
    chains: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...]):
        if len(chains) > max_chains:
            raise CkmError(f"the model has more than {max_chains} indirect paths; define the "
                           "ones of interest with := in the model instead")
        for nxt in children.get(path[-1], []):
            if nxt in path:
                continue  # a feedback loop: no indirect effect through it
            new = path + (nxt,)
            if len(new) >= 3:
                chains.append(new)
            walk(new)

    for x in list(children):
        walk((x,))
    effects, defs = [], list(parsed.definitions)
    from ckm_research.sem.syntax import Definition

    for chain in chains:
        labels = tuple(label_of[(chain[i + 1], chain[i])] for i in range(len(chain) - 1))
        name = _fresh("ind_" + "_".join(chain), taken)
        effects.append(IndirectEffect(name, chain, labels))
        defs.append(Definition(name, "*".join(labels)))
    out = ParsedModel(tuple(statements), tuple(defs), parsed.constraints)
    return to_syntax(out, header="Structural model with labelled paths and its indirect "
                                 "effects (:=)."), effects


def interaction_syntax(model: str, interactions: list[tuple[str, str, str]]) -> str:
    """``model`` with the latent product terms ``Y ~ X:Z`` (and missing main effects)."""
    parsed = parse_model(model)
    statements = list(parsed.statements)
    have = {(s.lhs, s.rhs) for s in statements if s.op == "~"}
    for y, x, z in interactions:
        for term in (x, z, f"{x}:{z}"):
            if (y, term) not in have and (y, f"{z}:{x}") not in have:
                statements.append(Statement(y, "~", term))
                have.add((y, term))
    return to_syntax(ParsedModel(tuple(statements), parsed.definitions, parsed.constraints),
                     header="Structural model with latent interactions (product terms X:Z).")


def population_syntax(estimates, *, header: str = "") -> str:
    """A population model: every parameter of a fit fixed at its estimate.

    ``estimates`` is a fit's lavaan-style table (``lhs op rhs est``); loadings,
    regressions, (co)variances and intercepts become fixed values
    (``F =~ 0.74*x1``), as :class:`ckm_research.inference.population.PopulationModel`
    reads them. Defined parameters and product terms are left out.
    """
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    rows = estimates[estimates["op"].isin(["=~", "~", "~~", "~1"])]
    current = None
    for r in rows.itertuples(index=False):
        if ":" in str(r.rhs):
            continue
        op = "~" if r.op == "~1" else r.op
        term = f"{_num(float(r.est))}*{'1' if r.op == '~1' else r.rhs}"
        if (r.lhs, op) == current:
            lines[-1] += f" + {term}"
        else:
            lines.append(f"{r.lhs} {op} {term}")
            current = (r.lhs, op)
    return "\n".join(lines) + "\n"


def drop_factor(model: str, factor: str) -> str:
    """``model`` without ``factor``: its indicators, its paths and its (co)variances.

    Used for groups defined by a factor's own score: within each group that
    factor's range is restricted by construction, so it is left out of the
    group models. Definitions that use a removed label go too.
    """
    parsed = parse_model(model)
    keep = [s for s in parsed.statements
            if s.lhs != factor and s.rhs != factor
            and not (":" in s.rhs and factor in s.rhs.split(":"))]
    kept_ov = {s.rhs for s in keep if s.op == "=~"}
    gone_ov = {s.rhs for s in parsed.statements if s.op == "=~" and s.lhs == factor} - kept_ov
    keep = [s for s in keep if s.lhs not in gone_ov and s.rhs not in gone_ov]
    labels = {m.label for s in keep for m in s.modifiers if m.label}
    defs = tuple(d for d in parsed.definitions if _uses_only(d.expression, labels))
    cons = tuple(c for c in parsed.constraints
                 if _uses_only(c.lhs, labels) and _uses_only(c.rhs, labels))
    if not any(s.op == "=~" for s in keep):
        raise CkmError(f"the model has nothing left without {factor}")
    return to_syntax(ParsedModel(tuple(keep), defs, cons),
                     header=f"The study model without {factor} (the factor defining the groups).")
