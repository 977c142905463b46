"""Parse lavaan model syntax into a list of statements.

The grammar follows the lavaan tutorial (Rosseel, 2012, *Journal of
Statistical Software* 48(2), section 4) and ``?lavaan::model.syntax``:

=========  =====================================  ==========================
operator   meaning                                example
=========  =====================================  ==========================
``=~``     is measured by (factor loadings)       ``F =~ x1 + x2 + x3``
``<~``     is formed by (composite weights)       ``C <~ 1*x1 + x2 + x3``
``~``      is regressed on                        ``y ~ a*x + z``
``~~``     (residual) (co)variance                ``x1 ~~ x2``
``~ 1``    intercept or mean                      ``y ~ 1``
``|``      threshold of an ordinal item           ``u1 | t1 + t2``
``:=``     defined parameter                      ``ind := a*b``
``==``     equality constraint                    ``a == b``
=========  =====================================  ==========================

Modifiers precede a variable with ``*``: a number fixes the parameter
(``1*x1``), ``NA`` frees it, an identifier labels it (``a*x``; parameters that
share a label are constrained equal), ``start(v)`` sets its starting value,
and several modifiers may be chained (``NA*x1 + start(.8)*x1`` or
``a*start(.5)*x``).  ``c(...)`` gives one modifier per group.  A product of
two latent variables, ``X:Z``, on the right of ``~`` denotes a latent
interaction term (as in the R package modsem); a product of two observed
variables, ``x1:x2``, is an observed covariate built from the data, as in
lavaan (see :mod:`ckm_research.sem.products`).  ``C <~ x1 + x2`` defines a
composite (lavaan's formative latent variable: no disturbance, weights free
unless fixed, e.g. ``C <~ 1*x1 + x2``).  lavaan's model blocks (``level: 1``,
``group: 1``, ``class: 1``) are refused with an error saying what to do.

Comments start with ``#`` or ``!`` and run to the end of the line;
statements end at a newline or ``;`` unless the line ends in an operator or
``+`` (then the statement continues on the next line).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ckm_research.errors import ModelSyntaxError

__all__ = ["Modifier", "Statement", "ParsedModel", "parse_model"]

# order matters: longest operators first
_OPERATORS = ("=~", "~~", "~*~", ":=", "==", "<=", ">=", "<~", "~", "|", "<", ">")
_OP_RE = re.compile(r"(=~|~\*~|~~|:=|==|<=|>=|<~|~|\||<|>)")
# lavaan accepts any syntactic R name, in any script (R's make.names: letters of the
# locale, digits, '.' and '_'); \w is Unicode-aware, so 满意度 or Zufriedenheit_ä are names
_NAME_RE = re.compile(r"^(?:[^\W\d]|\.)[\w.]*$")
_NUMBER_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Modifier:
    """What the syntax says about one parameter (for one group).

    Attributes
    ----------
    fixed : float or None
        Value the parameter is fixed at (``1*x``).
    free : bool
        ``NA*x``: explicitly free (overrides default fixing, e.g. of the
        first loading).
    label : str or None
        Label; equal labels mean equal parameters.
    start : float or None
        Starting value.
    """

    fixed: float | None = None
    free: bool = False
    label: str | None = None
    start: float | None = None


@dataclass(frozen=True)
class Statement:
    """One ``lhs op rhs`` element of the model (a single parameter)."""

    lhs: str
    op: str
    rhs: str
    modifiers: tuple[Modifier, ...] = ()
    line: int = 0

    def modifier(self, group: int = 0) -> Modifier:
        """The modifier that applies to ``group`` (0-based)."""
        if not self.modifiers:
            return Modifier()
        if len(self.modifiers) == 1:
            return self.modifiers[0]
        return self.modifiers[group] if group < len(self.modifiers) else Modifier()


@dataclass(frozen=True)
class Definition:
    """A defined parameter ``name := expression``."""

    name: str
    expression: str
    line: int = 0


@dataclass(frozen=True)
class Constraint:
    """A constraint ``lhs op rhs`` with op in ``== < >``."""

    lhs: str
    op: str
    rhs: str
    line: int = 0


@dataclass(frozen=True)
class ParsedModel:
    """The statements of a model, in the order written."""

    statements: tuple[Statement, ...]
    definitions: tuple[Definition, ...] = field(default_factory=tuple)
    constraints: tuple[Constraint, ...] = field(default_factory=tuple)
    text: str = ""
    #: what the syntax does differently from lavaan 0.6.14 (shown with the results)
    notes: tuple[str, ...] = ()


def _strip_comment(line: str) -> str:
    out = []
    quote = None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "#!":
            break
        out.append(ch)
    return "".join(out)


def _logical_statements(text: str) -> list[tuple[str, int, int]]:
    """Split the model text into statements.

    Returns ``(statement, line, column)`` with 1-based line and the column of
    the statement's first character, joining continuation lines.
    """
    result: list[tuple[str, int, int]] = []
    pending = ""
    pending_line = 0
    pending_col = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        code = _strip_comment(raw)
        parts = code.split(";")
        for part in parts:
            stripped = part.strip()
            if not stripped:
                continue
            if pending:
                # the previous statement ended in an operator: continue it
                pending = pending + " " + stripped
            elif result and stripped[0] in "+*" and not _ends_open(result[-1][0]):
                # a line starting with '+' continues the previous statement
                prev, pl, pc = result.pop()
                pending, pending_line, pending_col = prev + " " + stripped, pl, pc
            else:
                pending = stripped
                pending_line = lineno
                pending_col = raw.find(stripped[:1]) + 1 if stripped else 1
            if _ends_open(pending):
                continue
            result.append((pending, pending_line, pending_col))
            pending = ""
    if pending:
        raise ModelSyntaxError(
            f"the statement '{pending}' is incomplete (it ends in an operator)",
            line=pending_line,
            column=pending_col,
        )
    return result


def _ends_open(statement: str) -> bool:
    s = statement.rstrip()
    return s.endswith(("+", "*", "=~", "~~", "~", ":=", "==", "|", ","))


def _split_top(expr: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_number(token: str) -> float | None:
    token = token.strip()
    if _NUMBER_RE.match(token):
        return float(token)
    try:
        # allow simple arithmetic like 1/3 or sqrt(2)? Only numbers with unary sign.
        return None
    except ValueError:  # pragma: no cover - defensive
        return None


def _parse_modifier_token(tok: str, line: int, col: int) -> list[Modifier]:
    """One ``...*`` prefix -> a modifier per group (usually one)."""
    tok = tok.strip()
    if not tok:
        raise ModelSyntaxError("empty modifier before '*'", line, col)
    m = re.fullmatch(r"(c)\((.*)\)", tok, flags=re.S)
    if m:
        items = [t.strip() for t in _split_top(m.group(2), ",")]
        mods = []
        for it in items:
            mods.extend(_parse_modifier_token(it, line, col))
        return mods
    m = re.fullmatch(r"(start|label|equal|fixed)\((.*)\)", tok, flags=re.S)
    if m:
        kind, inner = m.group(1), m.group(2).strip()
        if kind in ("start", "fixed"):
            values = [t.strip() for t in _split_top(inner, ",")]
            out = []
            for v in values:
                num = _parse_number(v)
                if num is None:
                    raise ModelSyntaxError(f"{kind}() needs a number, got '{v}'", line, col)
                out.append(Modifier(start=num) if kind == "start" else Modifier(fixed=num))
            return out
        values = [t.strip().strip("\"'") for t in _split_top(inner, ",")]
        return [Modifier(label=v) for v in values]
    if tok in ("NA", "na"):
        return [Modifier(free=True)]
    num = _parse_number(tok)
    if num is not None:
        return [Modifier(fixed=num)]
    if tok.startswith(('"', "'")) and tok.endswith(('"', "'")):
        tok = tok[1:-1]
    if _NAME_RE.match(tok):
        return [Modifier(label=tok)]
    raise ModelSyntaxError(
        f"cannot read the modifier '{tok}' (expected a number, NA, a label, start(), or c())",
        line,
        col,
    )


def _merge(
    mods_list: list[list[Modifier]], term: str = "", line: int = 0, col: int = 0
) -> tuple[Modifier, ...]:
    """Merge chained modifiers (``a*start(.5)*x``) group by group.

    Two modifiers of one kind (two labels ``a*b*x``, two values ``0.5*0.7*x``,
    two ``start()``) are refused: lavaan 0.6.14 stops on two labels ("wrong
    number of arguments in modifier") and multiplies two numbers, keeping one
    of them here would change the model silently.
    """
    ngroups = max(len(m) for m in mods_list)
    for g in range(ngroups):
        picked = [m[0] if len(m) == 1 else (m[g] if g < len(m) else Modifier()) for m in mods_list]
        for kind, values in (
            ("labels", [m.label for m in picked if m.label is not None]),
            ("fixed values", [m.fixed for m in picked if m.fixed is not None]),
            ("start values", [m.start for m in picked if m.start is not None]),
        ):
            if len(values) > 1:
                if kind == "labels":
                    lavaan = (
                        'lavaan refuses it too ("wrong number of arguments in modifier"). '
                        "Give one label; to make two parameters equal, give them the same label"
                    )
                elif kind == "fixed values":
                    lavaan = (
                        f"lavaan multiplies the numbers (fixing it at {math.prod(values):g}). "
                        "Write the one value meant"
                    )
                else:
                    lavaan = "lavaan keeps one of them. Give one"
                raise ModelSyntaxError(
                    f"'{term}' gives one parameter two {kind} "
                    f"({', '.join(f'{v:g}' if isinstance(v, float) else v for v in values)}); "
                    f"{lavaan}.",
                    line,
                    col,
                )
    out = []
    for g in range(ngroups):
        fixed, free, label, start = None, False, None, None
        for mods in mods_list:
            mod = mods[0] if len(mods) == 1 else (mods[g] if g < len(mods) else Modifier())
            fixed = mod.fixed if mod.fixed is not None else fixed
            free = free or mod.free
            label = mod.label if mod.label is not None else label
            start = mod.start if mod.start is not None else start
        if free and fixed is not None:
            fixed = None
        out.append(Modifier(fixed=fixed, free=free, label=label, start=start))
    return tuple(out)


def _parse_term(
    term: str, line: int, col: int, op: str, notes: list[str] | None = None
) -> tuple[str, tuple[Modifier, ...]]:
    term = term.strip()
    if not term:
        raise ModelSyntaxError("empty term (two '+' in a row, or a '+' at the end?)", line, col)
    # '?' start values (old syntax): 0.5?x
    if "?" in term and "*" not in term:
        start, _, var = term.partition("?")
        num = _parse_number(start)
        if num is None:
            raise ModelSyntaxError(f"cannot read the start value in '{term}'", line, col)
        return var.strip(), (Modifier(start=num),)
    pieces = _split_top(term, "*")
    var = pieces[-1].strip()
    if op == "~" and var == "1":
        var = ""
    elif not _NAME_RE.match(var) and not (
        ":" in var and all(_NAME_RE.match(v) for v in var.split(":"))
    ):
        raise ModelSyntaxError(
            f"'{var}' is not a valid variable name (names start with a letter (of any "
            "alphabet), '.' or '_' and contain letters, digits, '.' and '_')",
            line,
            col,
        )
    if len(pieces) == 1:
        return var, ()
    mods = [_parse_modifier_token(p, line, col) for p in pieces[:-1]]
    merged = _merge(mods, term, line, col)
    labelled = [k for k, m in enumerate(mods) if any(x.label is not None for x in m)]
    valued = [k for k, m in enumerate(mods) if any(x.fixed is not None or x.free for x in m)]
    if notes is not None and labelled and valued:
        notes.append(
            f"line {line}: '{term}' chains a label with a fixed value or NA; ckm-research "
            "applies both, but lavaan 0.6.14 keeps only the label of such a chain (it frees a "
            "fixed parameter, or keeps a marker loading fixed at 1 after NA). To fit the same "
            f"model in lavaan, write the modifiers as separate terms (e.g. a*{var} + "
            f"0.5*{var})."
        )
    return var, merged


_BLOCK_RE = re.compile(r"(level|group|class)\s*:(?!=)\s*(.*)", flags=re.I | re.S)


def _refuse_block(stmt: str, line: int) -> None:
    """Refuse lavaan's model blocks (``level: 1``, ``group: 1``, ``class: 1``).

    lavaan's parser (``lavParseModelString``) reads a line ``name: value`` as
    the start of a block: ``level:`` blocks define a two-level SEM (fitted with
    ``cluster =``), ``group:`` blocks a group-specific model, ``class:`` blocks
    a mixture model.  None of them is supported here.

    Raises
    ------
    ckm_research.errors.ModelSpecificationError
        Naming the lavaan feature and what to do instead.
    """
    from ckm_research.errors import ModelSpecificationError

    m = _BLOCK_RE.fullmatch(stmt.strip())
    if not m:
        return
    kind = m.group(1).lower()
    if kind == "level":
        raise ModelSpecificationError(
            f"line {line}: '{stmt.strip()}' starts a level block of a two-level SEM (lavaan's "
            "multilevel SEM, 'level: 1' / 'level: 2' with cluster =): two-level models are not "
            "supported by ckm-research, and cluster-robust standard errors are not offered "
            "either. Fit the model "
            'in lavaan (sem(model, data, cluster = "<cluster column>") with the level: '
            "blocks, or a single-level model with cluster = for cluster-robust SEs) or in "
            "Mplus (TYPE = TWOLEVEL, or TYPE = COMPLEX with CLUSTER =)."
        )
    what = {
        "group": "a group block (lavaan's group-specific model syntax 'group: 1')",
        "class": "a class block (lavaan's mixture-model syntax 'class: 1')",
    }[kind]
    todo = {
        "group": "write one model for all groups and let parameters differ with c() "
        "modifiers (e.g. f =~ x1 + c(a1, a2)*x2), with group='<column>'",
        "class": "fit latent class or mixture models in Mplus or another program",
    }[kind]
    raise ModelSpecificationError(
        f"line {line}: '{stmt.strip()}' starts {what}, which is not supported by "
        f"ckm-research; {todo}"
    )


def _refuse_self_measurement(statements: list[Statement]) -> None:
    """Refuse ``F =~ F``: a factor measured by itself (as lavaan's ``lavaanify``,
    "latent variable `F' can not be measured by itself").

    Such a line usually means a factor was given the name of one of its items
    (``x4 =~ x4 + x5 + x6``).

    Raises
    ------
    ckm_research.errors.ModelSpecificationError
        Naming the factor, the line and what to do (rename the factor).
    """
    from ckm_research.errors import ModelSpecificationError

    for s in statements:
        if s.op in ("=~", "<~") and s.lhs == s.rhs:
            raise ModelSpecificationError(
                f"line {s.line}: the latent variable '{s.lhs}' is measured by itself "
                f"('{s.lhs} {s.op} {s.rhs}'; lavaan: \"latent variable `{s.lhs}' can not be "
                'measured by itself"). A factor cannot have the name of one of its items: '
                f"rename the factor (e.g. F_{s.lhs} {s.op} {s.rhs} + ...)."
            )


def parse_model(text: str) -> ParsedModel:
    """Parse lavaan model syntax.

    Parameters
    ----------
    text : str
        The model, in lavaan syntax.

    Returns
    -------
    ParsedModel
        The statements (one per parameter), defined parameters and
        constraints, in the order written.

    Raises
    ------
    ModelSyntaxError
        With the line and column of the first problem.

    Examples
    --------
    >>> m = parse_model("F =~ x1 + a*x2 + a*x3\\nF ~~ 1*F")
    >>> [(s.lhs, s.op, s.rhs) for s in m.statements]
    [('F', '=~', 'x1'), ('F', '=~', 'x2'), ('F', '=~', 'x3'), ('F', '~~', 'F')]
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(
            f"the model must be a string of lavaan syntax, got {type(text).__name__}"
        )
    # a ParsedModel is immutable (frozen dataclasses of tuples): the same text gives the
    # same object, parsed once (bootstrap, power and the report refit one model many times)
    return _parse_model_cached(text)


@functools.lru_cache(maxsize=256)
def _parse_model_cached(text: str) -> ParsedModel:
    """:func:`parse_model` of a string (errors are raised each time: not cached)."""
    statements: list[Statement] = []
    definitions: list[Definition] = []
    constraints: list[Constraint] = []
    notes: list[str] = []
    for stmt, line, col in _logical_statements(text):
        _refuse_block(stmt, line)
        m = _OP_RE.search(stmt)
        if not m:
            raise ModelSyntaxError(
                f"no operator found in '{stmt}' (expected one of =~ ~ ~~ := == | )", line, col
            )
        op = m.group(1)
        lhs = stmt[: m.start()].strip()
        rhs = stmt[m.end() :].strip()
        op_col = col + m.start()
        if op == ":=":
            if not _NAME_RE.match(lhs):
                raise ModelSyntaxError(
                    f"'{lhs}' is not a valid name for a defined parameter", line, col
                )
            if not rhs:
                raise ModelSyntaxError(f"the definition of '{lhs}' is empty", line, op_col)
            definitions.append(Definition(lhs, rhs, line))
            continue
        if op in ("==", "<", ">", "<=", ">="):
            if not lhs or not rhs:
                raise ModelSyntaxError(f"incomplete constraint '{stmt}'", line, op_col)
            constraints.append(Constraint(lhs, op if op == "==" else op[0], rhs, line))
            continue
        if not lhs:
            raise ModelSyntaxError(f"missing left-hand side before '{op}'", line, op_col)
        if not rhs:
            raise ModelSyntaxError(f"missing right-hand side after '{op}'", line, op_col)
        lhs_names = [s.strip() for s in lhs.split("+")]
        for name in lhs_names:
            if not _NAME_RE.match(name):
                raise ModelSyntaxError(f"'{name}' is not a valid variable name", line, col)
        if op == "|":
            # thresholds: u | t1 + t2  (modifiers allowed: u | a*t1 + 0*t2)
            for term in _split_top(rhs, "+"):
                var, mods = _parse_term(term, line, op_col, op)
                if not re.fullmatch(r"t\d+", var):
                    raise ModelSyntaxError(
                        f"thresholds are named t1, t2, ...; got '{var}'", line, op_col
                    )
                for name in lhs_names:
                    statements.append(Statement(name, "|", var, mods, line))
            continue
        for term in _split_top(rhs, "+"):
            var, mods = _parse_term(term, line, op_col + 1, op, notes)
            if ":" in var and op != "~":
                raise ModelSyntaxError(
                    f"the product term '{var}' may only appear on the right of '~'", line, op_col
                )
            for name in lhs_names:
                if op == "~" and var == "":
                    statements.append(Statement(name, "~1", "", mods, line))
                else:
                    statements.append(Statement(name, op, var, mods, line))
    if not statements:
        raise ModelSyntaxError("the model is empty: it has no =~, ~ or ~~ statements")
    _refuse_self_measurement(statements)
    return ParsedModel(
        tuple(statements), tuple(definitions), tuple(constraints), text, tuple(notes)
    )


#: functions and constants a ``:=`` expression may use (lavaan evaluates R code)
_FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs, "pi": math.pi}


@functools.lru_cache(maxsize=1024)
def _compile_expression(expression: str):
    return compile(expression.replace("^", "**"), "<definition>", "eval")


def evaluate_expression(expression: str, values: dict[str, float]) -> float:
    """Evaluate a ``:=`` expression with the given parameter values.

    Only arithmetic, ``exp log sqrt abs`` and parameter labels are allowed.
    Raises ``KeyError`` naming an unknown name.
    """
    code = _compile_expression(expression)
    for name in code.co_names:
        if name not in _FUNCTIONS and name not in values:
            raise KeyError(name)
    return float(eval(code, {"__builtins__": {}}, {**_FUNCTIONS, **values}))  # noqa: S307


class DefinedParameters:
    """The ``:=`` parameters of a model, compiled once: the one ``:=`` evaluator.

    The rules are lavaan's (``lav_partable_constraints_def``): arithmetic,
    ``^``, ``exp log sqrt abs pi``; a label refers to the first parameter-table
    row carrying it; a definition may use the ones before it.  Fits, the
    bootstrap and power evaluate the definitions thousands of times, so the
    expressions are compiled and checked here once.

    Parameters
    ----------
    definitions : sequence of Definition
    labels : sequence of str
        The label of every parameter-table row ("" when unlabelled).

    Attributes
    ----------
    names : tuple of str
    rows : ndarray of int
        The parameter-table rows the definitions use.

    Raises
    ------
    ModelSpecificationError
        Naming the definition, its line and the unknown label.

    Examples
    --------
    >>> defs = parse_model("y ~ a*m\\nm ~ b*x\\nab := a*b").definitions
    >>> DefinedParameters(defs, ["a", "b"]).values(np.array([0.5, 0.4])).tolist()
    [0.2]
    """

    def __init__(self, definitions, labels):
        from ckm_research.errors import ModelSpecificationError

        self.definitions = tuple(definitions)
        self.names = tuple(d.name for d in self.definitions)
        first: dict[str, int] = {}
        for r, lab in enumerate(labels):
            if lab and lab not in first:
                first[lab] = r
        known = set(first) | set(_FUNCTIONS)
        used: set[str] = set()
        self._code = []
        for d in self.definitions:
            try:
                code = _compile_expression(d.expression)
            except SyntaxError as exc:
                raise ModelSpecificationError(
                    f"cannot evaluate the defined parameter '{d.name} := {d.expression}' "
                    f"(line {d.line}): {exc}"
                ) from None
            for name in code.co_names:
                if name not in known:
                    raise ModelSpecificationError(
                        f"the defined parameter '{d.name}' (line {d.line}) uses '{name}', "
                        "which is not a parameter label; label the parameter in the model "
                        "(e.g. a*x)"
                    )
            used.update(n for n in code.co_names if n in first)
            known.add(d.name)
            self._code.append(code)
        self._rows = {lab: r for lab, r in first.items() if lab in used}
        self.rows = np.array(sorted(self._rows.values()), dtype=int)

    def __len__(self) -> int:
        return len(self.definitions)

    def values(self, row_values) -> np.ndarray:
        """The definitions' values given every row's value.

        Raises
        ------
        ArithmeticError
            Naming the definition that cannot be evaluated (division by zero,
            log of a negative number ...); the error itself is its ``__cause__``.
        """
        if not self.definitions:
            return np.zeros(0)
        env = dict(_FUNCTIONS)
        env.update({lab: float(row_values[r]) for lab, r in self._rows.items()})
        out = np.empty(len(self.definitions))
        for k, (d, code) in enumerate(zip(self.definitions, self._code, strict=True)):
            try:
                val = float(eval(code, {"__builtins__": {}}, env))  # noqa: S307
            except (ArithmeticError, ValueError) as exc:
                err = ArithmeticError(f"cannot evaluate '{d.name} := {d.expression}': {exc}")
                err.definition = d
                raise err from exc
            env[d.name] = val
            out[k] = val
        return out


def evaluate_definitions(definitions, labels, values) -> np.ndarray:
    """Values of the ``:=`` parameters, in order, given labelled parameters
    (:class:`DefinedParameters` compiled and evaluated once).

    Parameters
    ----------
    definitions : sequence of Definition
    labels, values : sequences of equal length
        Parameter labels ("" for unlabelled rows) and their values; the first
        value of a repeated label is used. A definition may use the ones
        before it.

    Raises
    ------
    ModelSpecificationError
        Naming the definition, its line and the unknown label or the error.
    """
    from ckm_research.errors import ModelSpecificationError

    try:
        return DefinedParameters(definitions, labels).values(values)
    except ArithmeticError as exc:
        d = getattr(exc, "definition", None)
        if d is None:
            raise
        raise ModelSpecificationError(
            f"cannot evaluate the defined parameter '{d.name} := {d.expression}' "
            f"(line {d.line}): {exc.__cause__}"
        ) from None
