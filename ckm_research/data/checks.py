"""Check that data can be used to fit a model, before any estimation.

:func:`check_model_data` is run by the estimators on the observed variables a
model names. It turns the usual ways survey data go wrong into one clear
message instead of a numerical failure deep inside an optimiser:

- variables the model names that are not columns of the data (with close
  matches suggested, as ``difflib`` finds them);
- cells that are not numbers (the column, the first offending data rows and
  their values);
- columns with no answers, or with one value only (no variance);
- columns that are identical copies of one another (a singular covariance
  matrix);
- fewer rows than the model needs.

lavaan stops on most of these too, but later and less specifically (for
example "sample covariance matrix is not positive-definite").
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ckm_research.errors import DataError, ModelSpecificationError

__all__ = ["check_model_data"]

#: How many offending rows a message shows per column.
_MAX_ROWS_SHOWN = 5


def check_model_data(
    data: pd.DataFrame,
    variables: Sequence[str],
    *,
    min_rows: int | None = None,
) -> pd.DataFrame:
    """Check the columns a model needs and return them as floats.

    Parameters
    ----------
    data : pandas.DataFrame
        The data, one row per respondent (for example from
        :func:`ckm_research.data.io.read_data`).
    variables : sequence of str
        The observed variables the model names, in the model's order.
        Repeated names are taken once.
    min_rows : int, optional
        The fewest rows (with at least one answer on ``variables``) the model
        can be fitted to. By default ``len(variables) + 1``: with no more rows
        than variables the sample covariance matrix is singular. An estimator
        may ask for more (for example, at least as many rows as free
        parameters).

    Returns
    -------
    pandas.DataFrame
        The columns ``variables``, in that order, as ``float64``, with the
        data's index and ``attrs``; missing cells are ``NaN``. Rows are not
        dropped: deciding what to do with missing answers is the estimator's
        job.

    Raises
    ------
    ModelSpecificationError
        The model names variables that are not columns of the data; the
        message lists all of them, with close matches.
    DataError
        Any of: non-numeric or infinite cells, a column with no answers, a
        constant column, identical columns, columns that are an exact linear
        combination of others (lavaan: "sample covariance matrix is not
        positive-definite"), too few rows. All problems found
        are listed in one message (and in the exception's ``problems``
        attribute, one string each).

    Examples
    --------
    >>> import pandas as pd
    >>> from ckm_research.data.checks import check_model_data
    >>> df = pd.DataFrame({"x1": [1, 2, 3, 4], "x2": [2, 1, 4, 3], "id": list("abcd")})
    >>> check_model_data(df, ["x2", "x1"]).dtypes.tolist()
    [dtype('float64'), dtype('float64')]

    In R, lavaan runs similar checks inside ``lavaan::sem()`` itself.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            "The 'data' parameter of check_model_data must be a pandas DataFrame. "
            f"Got {type(data).__name__} instead."
        )
    names = _unique_names(variables)
    if min_rows is None:
        min_rows = len(names) + 1
        rows_reason = (
            f"more rows than its {len(names)} observed "
            f"variable{'s' if len(names) != 1 else ''}; otherwise their "
            "covariance matrix is singular"
        )
    else:
        if (
            isinstance(min_rows, bool)
            or not isinstance(min_rows, (int, np.integer))
            or min_rows < 1
        ):
            raise ValueError(
                "The 'min_rows' parameter of check_model_data must be an int in the range "
                f"[1, inf). Got {min_rows!r} instead."
            )
        rows_reason = ""

    _check_present(data, names)

    problems: list[str] = []
    flagged: set[str] = set()
    sub = data[names]
    numeric = all(isinstance(t, np.dtype) and t.kind in "fiu" for t in sub.dtypes)
    if numeric:
        # plain numpy numbers (the usual case): one conversion of the block, as
        # _to_float converts each column (this runs on every fit)
        matrix = sub.to_numpy(dtype=float, copy=True)  # the result is the caller's to edit
        for j in np.flatnonzero(np.isinf(matrix).any(axis=0)):
            name = names[j]
            problems.append(_infinite_problem(name, np.flatnonzero(np.isinf(matrix[:, j]))))
            flagged.add(name)
    else:
        columns: list[np.ndarray] = []
        for name in names:
            values, problem = _to_float(sub[name], name)
            if problem:
                problems.append(problem)
                flagged.add(name)
            columns.append(values.to_numpy(dtype=float))
        matrix = np.column_stack(columns)
    out = pd.DataFrame(matrix, index=data.index, columns=names)
    out.attrs = dict(data.attrs)

    usable_columns = []
    for j, name in enumerate(names):
        if name in flagged:
            continue
        column = matrix[:, j]
        observed = column[~np.isnan(column)]  # numpy, not pandas: this runs on every fit
        if not observed.size:
            problems.append(
                f"column {name!r} has no answers (every cell is missing); check the "
                "missing-value codes, or drop the item from the model."
            )
        elif (code := _undeclared_missing_code(observed)) is not None:
            rows = _rows(np.flatnonzero(column == code))
            problems.append(
                f"column {name!r} has the value {_fmt(code)} (rows {rows}), far below its "
                f"other answers ({_fmt(observed[observed != code].min())} to "
                f"{_fmt(observed.max())}): it looks like a missing-value code. Declare it "
                f"(missing_values=[{_fmt(code)}], or --missing-values {_fmt(code)} on the "
                "command line)."
            )
        elif not _finite_variance(observed):
            # lavaan: "some variables have only 1 observation or no finite variance"
            big = int(np.argmax(np.abs(np.where(np.isnan(column), 0.0, column))))
            problems.append(
                f"column {name!r} has no finite variance: its value {out[name].iloc[big]:.3g} "
                f"(row {big + 1}) is too large to compute with. Check that cell for a "
                'data-entry error, or rescale the column (lavaan: "some variables have only 1 '
                'observation or no finite variance").'
            )
        elif observed.min() == observed.max():
            problems.append(
                f"column {name!r} has the same value ({_fmt(observed[0])}) in all "
                f"{len(observed)} answered rows; an item without variance cannot be "
                "modelled: drop it from the model."
            )
        else:
            usable_columns.append(name)

    usable_x = matrix[:, [names.index(n) for n in usable_columns]]
    problems.extend(_identical_columns(out, usable_columns, usable_x))
    if not problems:
        problems.extend(_linear_dependencies(out, usable_columns, x=usable_x))

    # a row counts when it has any answer, numeric or not (text cells are reported above)
    if numeric:  # numbers only: a cell is an answer when it is not NaN
        n_rows = int((~np.isnan(matrix)).any(axis=1).sum())
    else:
        n_rows = int(sub.notna().any(axis=1).sum())
    if n_rows < min_rows:
        empty = len(out) - n_rows
        problems.append(
            f"the data have {n_rows} row{'s' if n_rows != 1 else ''} with answers on the "
            f"model's variables"
            + (f" ({empty} more with none)" if empty else "")
            + f", but this model needs at least {min_rows}"
            + (f" ({rows_reason})" if rows_reason else "")
            + "."
        )

    if problems:
        if len(problems) == 1:
            message = "The data cannot be used for this model: " + problems[0]
        else:
            message = (
                f"The data cannot be used for this model ({len(problems)} problems):\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        error = DataError(message)
        error.problems = problems
        raise error
    return out


# ---------------------------------------------------------------------------
# helpers

#: codes survey tools use for "no answer" (SPSS/Stata/Qualtrics conventions)
_MISSING_CODES = (-9.0, -99.0, -999.0, -9999.0, -98.0, -88.0, -77.0, 99.0, 999.0, 9999.0)


def _undeclared_missing_code(observed: np.ndarray) -> float | None:
    """A typical missing-value code left in a column of otherwise small answers
    (e.g. -99 among 1..7): returns the code, else None."""
    lowest, highest = observed.min(), observed.max()
    for code in _MISSING_CODES:
        if not lowest <= code <= highest:  # not in the column
            continue
        hit = observed == code
        if not hit.any() or hit.all():
            continue
        rest = observed[~hit]
        lo, hi = float(rest.min()), float(rest.max())
        span = max(hi - lo, 1.0)
        # far outside the range of the real answers
        if code < lo - 5 * span or code > hi + 5 * span:
            return code
    return None


def _unique_names(variables: Iterable[str]) -> list[str]:
    if isinstance(variables, str):
        variables = [variables]
    names = list(dict.fromkeys(variables))
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                "The 'variables' parameter of check_model_data must be a sequence of "
                f"column names (str). Got {name!r} ({type(name).__name__}) in it."
            )
    if not names:
        raise ModelSpecificationError(
            "The model names no observed variables, so there is nothing to fit."
        )
    return names


def _check_present(data: pd.DataFrame, names: list[str]) -> None:
    columns = [str(c) for c in data.columns]
    counts = Counter(columns)
    doubled = [n for n in names if counts[n] > 1]
    if doubled:
        raise DataError(
            "The data have more than one column named "
            + ", ".join(repr(n) for n in doubled)
            + "; rename the columns so that each model variable is unique."
        )
    absent = [n for n in names if n not in data.columns]
    if not absent:
        return
    described = []
    for name in absent:
        matches = _close_matches(name, columns)
        hint = f" (did you mean {' or '.join(repr(m) for m in matches)}?)" if matches else ""
        described.append(f"{name!r}{hint}")
    shown = ", ".join(columns[:30]) + (
        f", ... ({len(columns)} in all)" if len(columns) > 30 else ""
    )
    noun = "variable that is" if len(absent) == 1 else f"{len(absent)} variables that are"
    error = ModelSpecificationError(
        f"The model names {noun} not in the data: {', '.join(described)}. Check the "
        f"spelling in the model or rename the data's columns. The data have "
        f"{len(columns)} columns: {shown}."
    )
    error.variables = absent
    raise error


def _close_matches(name: str, columns: list[str]) -> list[str]:
    same_case = [c for c in columns if c.lower() == name.lower()]
    if same_case:
        return same_case
    lowered = {c.lower(): c for c in columns}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if found:
        return [lowered[f] for f in found]
    # a numbered item (sat7) with no close match: the items of the same scale (sat1..sat4)
    stem = re.fullmatch(r"(.*?[A-Za-z_.])\d+", name)
    if stem:
        prefix = stem.group(1).lower()
        return [c for c in columns if re.fullmatch(re.escape(prefix) + r"\d+", c.lower())][:5]
    return []


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _finite_variance(values: np.ndarray) -> bool:
    """Whether the variance of ``values`` is a finite double (not when a cell is
    so large that its square overflows, e.g. 1e300)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.var(values)))


def _rows(positions: np.ndarray) -> str:
    """1-based data-row numbers, the first few."""
    shown = ", ".join(str(int(p) + 1) for p in positions[:_MAX_ROWS_SHOWN])
    more = len(positions) - _MAX_ROWS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _to_float(series: pd.Series, name: str) -> tuple[pd.Series, str | None]:
    """Convert one column to float; describe the cells that are not numbers."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype(float), None
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        nan = pd.Series(np.nan, index=series.index, dtype=float)
        return nan, (
            f"column {name!r} holds dates or times, not numbers; drop it from the "
            "model or recode it."
        )
    if pd.api.types.is_numeric_dtype(dtype):
        values = pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=series.index)
    else:
        stripped = series.map(lambda v: v.strip() if isinstance(v, str) else v)
        stripped = stripped.mask(stripped.map(lambda v: isinstance(v, str) and v == ""))
        values = pd.to_numeric(stripped.astype(object), errors="coerce").astype(float)
        bad = stripped.notna().to_numpy() & values.isna().to_numpy()
        if bad.any():
            positions = np.flatnonzero(bad)
            examples = ", ".join(
                f"row {p + 1}: {series.iloc[p]!r}" for p in positions[:_MAX_ROWS_SHOWN]
            )
            more = len(positions) - _MAX_ROWS_SHOWN
            tokens = {str(series.iloc[p]).strip() for p in positions}
            hint = _non_numeric_hint(tokens)
            return values, (
                f"column {name!r} has {len(positions)} non-numeric cell"
                f"{'s' if len(positions) != 1 else ''} ({examples}"
                f"{f' and {more} more' if more > 0 else ''}; rows counted from 1 = the "
                f"first data row). {hint}"
            )
    infinite = np.flatnonzero(np.isinf(values.to_numpy()))
    if len(infinite):
        return values, _infinite_problem(name, infinite)
    return values, None


def _infinite_problem(name: str, infinite: np.ndarray) -> str:
    return (
        f"column {name!r} has infinite values in data rows {_rows(infinite)}; "
        "replace them with valid answers or leave the cells empty."
    )


def _non_numeric_hint(tokens: set[str]) -> str:
    decimal = sorted(t for t in tokens if re.fullmatch(r"[-+]?\d*,\d+", t))
    other = sorted(tokens - set(decimal))
    hints = []
    if decimal:
        hints.append(
            f"{', '.join(repr(t) for t in decimal[:3])} look{'s' if len(decimal) == 1 else ''} "
            "like a number with a decimal comma: save the file with '.' as the decimal "
            "separator (or as semicolon-separated CSV, which is read with decimal commas)."
        )
    if other and len(other) <= 3:
        quoted = " or ".join(repr(t) for t in other)
        hints.append(
            f"If {quoted} mark{'s' if len(other) == 1 else ''} a missing answer, declare it "
            "as a missing-value code (read_data(..., missing_values=[...]) or "
            "ckm fit --missing-values ...); otherwise recode the answers as numbers."
        )
    elif other:
        hints.append(
            "SEM needs numeric answers: recode text answers as numbers (for example Likert "
            "labels as 1-7), or declare missing-value codes."
        )
    return " ".join(hints)


def _identical_columns(
    data: pd.DataFrame, names: list[str], x: np.ndarray | None = None
) -> list[str]:
    """Groups of identical columns (``x``: the columns ``names`` as floats, when the
    caller has them)."""
    groups: dict[bytes, list[str]] = {}
    for j, name in enumerate(names):
        values = data[name].to_numpy(dtype=float) if x is None else x[:, j]
        canonical = np.where(np.isnan(values), np.nan, values)  # one NaN bit pattern
        groups.setdefault(canonical.tobytes(), []).append(name)
    problems = []
    for group in groups.values():
        if len(group) > 1:
            listed = ", ".join(repr(g) for g in group[:-1]) + f" and {group[-1]!r}"
            problems.append(
                f"columns {listed} are identical in every row (a copied column?); their "
                "covariance matrix is singular: keep one of them in the model."
            )
    return problems


def _linear_dependencies(
    data: pd.DataFrame, names: list[str], tol: float = 1e-8, x: np.ndarray | None = None
) -> list[str]:
    """Columns whose covariance matrix is singular: one is an exact linear
    combination of others (a sum score among the items, a recoded copy).

    lavaan stops there ("sample covariance matrix is not positive-definite");
    so do we, naming the columns and the combination.  The covariance is taken
    over the complete rows, or pairwise where there are too few of them; a
    dependency shows as an eigenvalue of the correlation matrix below ``tol``.
    """
    if len(names) < 2:
        return []
    if x is None:
        x = data[names].to_numpy(dtype=float)
    complete = x[~np.isnan(x).any(axis=1)]
    if complete.shape[0] > len(names):
        cov = np.cov(complete, rowvar=False)
    else:
        cov = data[names].cov().to_numpy()
    if not np.isfinite(cov).all():
        return []
    sd = np.sqrt(np.diag(cov))
    if (sd <= 0).any():
        return []
    corr = cov / np.outer(sd, sd)
    values, vectors = np.linalg.eigh(corr)
    null = vectors[:, values < tol]
    if null.shape[1] == 0:
        return []
    weights = np.abs(null[:, 0])
    involved = [names[i] for i in np.flatnonzero(weights > 1e-6 * weights.max())]
    target = names[int(np.argmax(weights))]
    others = [v for v in involved if v != target]
    equation = ""
    if complete.shape[0] > len(names) and others:
        rows = data[involved].dropna()
        design = np.column_stack([rows[others].to_numpy(), np.ones(len(rows))])
        coef, *_ = np.linalg.lstsq(design, rows[target].to_numpy(), rcond=None)
        terms = [f"{_fmt(round(c, 4))}*{v}" for c, v in zip(coef[:-1], others, strict=True)]
        if abs(coef[-1]) > 1e-8:
            terms.append(_fmt(round(coef[-1], 4)))
        equation = f" ({target} = {' + '.join(terms).replace('+ -', '- ')})"
    more = f" ({null.shape[1]} such dependencies in all)" if null.shape[1] > 1 else ""
    listed = ", ".join(repr(v) for v in involved[:-1]) + f" and {involved[-1]!r}"
    return [
        f"columns {listed} are linearly dependent: one is an exact linear combination "
        f"of the others{equation}{more}. Their covariance matrix is singular (lavaan: "
        "'sample covariance matrix is not positive-definite'); is one of them a sum or "
        "mean score of the others? Drop it from the model."
    ]
