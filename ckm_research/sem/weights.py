"""Sampling weights, as lavaan's ``sampling.weights`` (lavaan 0.6.14).

lavaan (``lav_data_full``, ``lav_samplestats_from_data``, ``lav_options_set``,
``lav_mvnorm_information_firstorder``):

1. takes the weights of the cases it keeps (after listwise deletion) and
   rescales them to sum to the total number of cases over all groups
   (``sampling.weights.normalization = "total"``, the default):
   :math:`w_i \\leftarrow w_i N / \\sum_j w_j`;
2. weights the sample moments, :math:`\\bar y_g = \\sum_i w_i y_i / N_g^w`,
   :math:`S_g = \\sum_i w_i (y_i - \\bar y_g)(y_i - \\bar y_g)^\\top / N_g^w`
   (``stats::cov.wt(method = "ML")``), with :math:`N_g^w = \\sum_{i \\in g} w_i`
   the group's weighted number of cases (its ``nobs`` in the sample
   statistics); the ML discrepancy, the test statistic and the log-likelihood
   are those of these moments, :math:`\\sum_g N_g^w F_g`;
3. turns ``estimator = "ML"`` into MLR: the standard errors are the Huber-White
   sandwich :math:`N^{-1}A^{-1}BA^{-1}` with :math:`A` the observed information
   of the weighted moments and :math:`B = N^{-1}\\sum_i w_i^2 s_i s_i^\\top` the
   first-order information of the weighted casewise scores :math:`w_i s_i`,
   and the test is the Yuan-Bentler (Mplus) scaled statistic with these
   informations (a pseudo-ML, or design-based, estimator: Asparouhov, 2005,
   *Structural Equation Modeling* 12, 411-434).

``fit(model, data, sampling_weights="w")`` does the same for ML and MLR with
complete data (or listwise deletion), one group or several.  Weights with
``missing = "ml"`` (FIML), the least-squares and MLM-type estimators, ordered
items, general constraints or latent product terms are refused with a
:class:`~ckm_research.errors.CkmError` that says what to do instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError, DataError
from ckm_research.sem.api import MLEngine

__all__ = [
    "WEIGHTS_KEY",
    "sampling_weights_column",
    "normalize_weights",
    "case_weights",
    "check_weights_options",
    "WeightedMLEngine",
]

#: where a group's normalized weights are kept (``GroupData.extra``)
WEIGHTS_KEY = "sampling_weights"

#: how many offending rows an error message shows
_MAX_ROWS_SHOWN = 8


def _rows(positions: np.ndarray) -> str:
    """1-based data-row numbers, the first few."""
    shown = ", ".join(str(int(p) + 1) for p in positions[:_MAX_ROWS_SHOWN])
    more = len(positions) - _MAX_ROWS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def sampling_weights_column(frame: pd.DataFrame, column) -> np.ndarray:
    """The sampling weights of every data row, checked as lavaan checks them.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, one row per case.
    column : str
        The name of the weights column (lavaan's ``sampling.weights = "w"``).

    Returns
    -------
    numpy.ndarray
        The weights as floats, one per row of ``frame`` (not yet normalized).

    Raises
    ------
    CkmError
        ``column`` is not a string or not a column of the data.
    DataError
        The column has non-numeric, missing, infinite or negative values (the
        message names the column and the first rows, counted from 1 = the first
        data row), or all its values are zero.
    """
    if not isinstance(column, str):
        raise CkmError(
            "The 'sampling_weights' parameter of fit must be the name of a column of the "
            f"data (lavaan's sampling.weights). Got {column!r} instead."
        )
    if column not in frame.columns:
        raise CkmError(
            f"the sampling weights column '{column}' is not in the data; columns are: "
            + ", ".join(map(str, frame.columns[:30]))
            + (" ..." if frame.shape[1] > 30 else "")
        )
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    problems = []
    bad = np.flatnonzero(raw.notna().to_numpy() & np.isnan(values))
    if len(bad):
        problems.append(f"non-numeric values in rows {_rows(bad)}")
    missing = np.flatnonzero(raw.isna().to_numpy())
    if len(missing):
        problems.append(f"missing values in rows {_rows(missing)}")
    infinite = np.flatnonzero(np.isinf(values))
    if len(infinite):
        problems.append(f"infinite values in rows {_rows(infinite)}")
    negative = np.flatnonzero(values < 0)
    if len(negative):
        problems.append(f"negative values in rows {_rows(negative)}")
    if problems:
        raise DataError(
            f"the sampling weights column '{column}' has " + "; ".join(problems) + " (rows "
            "counted from 1 = the first data row). Sampling weights must be non-negative "
            "numbers for every case: fix or drop these rows (lavaan stops too)."
        )
    if not np.any(values > 0):
        raise DataError(
            f"the sampling weights column '{column}' is zero in every row; give the cases "
            "positive weights."
        )
    return values


def normalize_weights(weights: list[np.ndarray], group_labels=None) -> list[np.ndarray]:
    """Rescale the weights of the cases kept, per group, to sum to the total number
    of cases (lavaan's ``sampling.weights.normalization = "total"``).

    Raises
    ------
    DataError
        A group whose weights are all zero (it would have no cases).
    """
    for k, w in enumerate(weights):
        if len(w) and not np.any(w > 0):
            where = "" if group_labels is None else f" of group {group_labels[k]}"
            raise DataError(
                f"the sampling weights of every case{where} are zero: the group would have "
                "no cases; give its cases positive weights or drop the group."
            )
    total = float(sum(w.sum() for w in weights))
    n = sum(len(w) for w in weights)
    return [np.asarray(w, dtype=float) * (n / total) for w in weights]


def case_weights(group) -> np.ndarray | None:
    """The normalized sampling weights of one group (``GroupData``), or ``None``."""
    extra = getattr(group, "extra", None) or {}
    return extra.get(WEIGHTS_KEY)


def refuse_weights(what: str, instead: str) -> CkmError:
    """One phrasing for the combinations with sampling weights that are not supported."""
    return CkmError(
        f"sampling_weights is not supported with {what} by ckm-research (lavaan's "
        f"sampling.weights is supported for ML and MLR with complete data): {instead}."
    )


def check_weights_options(estimator: str, missing: str, ordered) -> str:
    """The estimator a weighted fit uses, or a :class:`CkmError` for a combination
    that is not supported.

    lavaan (``lavaan()``: "sampling.weights ... estimator ML -> MLR") fits
    ``estimator = "ML"`` with sampling weights as MLR; ``'ML'`` is returned as
    ``'MLR'`` here too (the caller adds a note saying so).
    """
    if ordered:
        raise refuse_weights(
            "ordered items (" + estimator + ")",
            "fit the weighted ordinal model in lavaan (sem(..., ordered = ..., "
            "sampling.weights = 'w')), or treat the items as continuous with estimator='MLR'",
        )
    if missing != "listwise":
        raise refuse_weights(
            f"missing={missing!r} (FIML)",
            "use missing='listwise' (the default), or fit the weighted FIML model in lavaan "
            "(sem(..., missing = 'ml', sampling.weights = 'w'))",
        )
    if estimator not in ("ML", "MLR"):
        raise refuse_weights(
            f"estimator='{estimator}'",
            "use estimator='MLR' (lavaan's default with sampling weights; 'ML' is fitted as "
            "'MLR' too), or fit the weighted model in lavaan",
        )
    return "MLR"


class WeightedMLEngine(MLEngine):
    """ML on weighted sample moments with MLR inference (lavaan's
    ``sampling.weights``; see the module docstring).

    The groups carry their normalized weights in ``extra[WEIGHTS_KEY]``;
    :class:`~ckm_research.sem.api.MLEngine` weights the moments and
    :mod:`ckm_research.sem.robust` the casewise scores.  Here each group's
    number of cases in the computations is its weighted one,
    :math:`N_g^w = \\sum_{i\\in g} w_i` (lavaan's ``nobs`` of the sample
    statistics), while the results report the numbers of cases, as lavaan's
    ``lavInspect(fit, "nobs")``.
    """

    def __init__(self, *args, weights_column: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.weights_column = weights_column
        self.n_cases = list(self.n_per_group)
        self.n_per_group = [float(gd.moments.n) for gd in self.groups]

    def run(self):
        res = super().run()
        res.n_per_group = tuple(self.n_cases)
        res.notes["sampling_weights"] = self.weights_column
        res.notes["summary_lines"] = list(res.notes.get("summary_lines", [])) + [
            (self.weights_column, "Sampling weights variable")
        ]
        return res
