"""Screen survey responses before any model is fitted.

:func:`screen` computes, for every respondent, the indicators of data quality
that reviewers ask for, and flags (it never drops: dropping is the caller's
explicit choice):

- **missing answers** by item and by respondent; a respondent is flagged when
  more than ``missing_max_share`` of the instrument's items are unanswered;
- **straight-lining**: the longest run of identical consecutive answers over
  the agreement-scale items in questionnaire order, the *longstring* index
  (Johnson, 2005; Curran, 2016); flagged at ``longstring_min`` or more;
- **attention checks**: instructed-response items answered otherwise than
  instructed (Meade & Craig, 2012); flagged at one failure or more;
- **multivariate outliers**: the squared Mahalanobis distance of each
  respondent's (reverse-coded) indicator answers from the sample mean, on the
  items that respondent answered, against a chi-square distribution with as
  many degrees of freedom as answered items; flagged when p < ``outlier_alpha``
  (.001, Tabachnick & Fidell, 2013). With missing answers the mean and
  covariance matrix are estimated from pairwise-complete data;
- **speed**: completion faster than ``seconds_per_item`` (2 s) times the
  number of items, when durations exist (Huang, Curran, Keeney, Poposki &
  DeShon, 2012).

References
----------
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses
in survey data. *Journal of Experimental Social Psychology*, 66, 4-19.
Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012).
Detecting and deterring insufficient effort responding to surveys. *Journal of
Business and Psychology*, 27(1), 99-114.
Johnson, J. A. (2005). Ascertaining the validity of individual protocols from
web-based personality inventories. *Journal of Research in Personality*, 39(1),
103-129.
Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey
data. *Psychological Methods*, 17(3), 437-455.
Tabachnick, B. G., & Fidell, L. S. (2013). *Using multivariate statistics*
(6th ed.). Pearson. (Section 4.1.4.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.instrument import Instrument

__all__ = ["ScreeningRules", "screen", "longstring", "mahalanobis", "CRITERIA",
           "SCREENING_COLUMNS"]

#: Screening criteria, as named by ``--drop`` and the ``flag_*`` columns.
from ckm_research.data.choices import CRITERIA  # noqa: E402  (light, for ckm --help)

#: Columns :func:`screen` returns.
SCREENING_COLUMNS = ("missing_items", "longstring", "attention_failures", "mahalanobis_d2",
                     "mahalanobis_df", "mahalanobis_p", *(f"flag_{c}" for c in CRITERIA),
                     "flagged")


@dataclass(frozen=True)
class ScreeningRules:
    """Cut-offs of the screening flags (see the module docstring)."""

    missing_max_share: float = 0.20
    longstring_min: int = 15
    outlier_alpha: float = 0.001
    seconds_per_item: float = 2.0
    min_items_for_distance: float = 0.5

    def __post_init__(self):
        checks = {
            "missing_max_share": (0 <= self.missing_max_share < 1, "a float in [0, 1)"),
            "longstring_min": (isinstance(self.longstring_min, (int, np.integer))
                               and self.longstring_min >= 2, "an int in [2, inf)"),
            "outlier_alpha": (0 < self.outlier_alpha < 1, "a float in (0, 1)"),
            "seconds_per_item": (self.seconds_per_item >= 0, "a float in [0, inf)"),
            "min_items_for_distance": (0 < self.min_items_for_distance <= 1,
                                       "a float in (0, 1]"),
        }
        for name, (ok, what) in checks.items():
            if not ok:
                raise ValueError(f"The '{name}' parameter of ScreeningRules must be {what}. "
                                 f"Got {getattr(self, name)!r} instead.")

    def as_dict(self) -> dict:
        return asdict(self)


def longstring(values: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive answers in each row.

    Missing answers (``NaN``) break a run. In R: ``careless::longstring(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> longstring(np.array([[4, 4, 4, 2, 2], [1, 2, np.nan, 2, 2]], dtype=float)).tolist()
    [3, 2]
    """
    values = np.asarray(values, dtype=float)
    n, k = values.shape
    best = np.zeros(n, dtype=int)
    run = np.zeros(n, dtype=int)
    prev = np.full(n, np.nan)
    for j in range(k):
        col = values[:, j]
        same = (col == prev) & ~np.isnan(col)
        run = np.where(np.isnan(col), 0, np.where(same, run + 1, 1))
        best = np.maximum(best, run)
        prev = col
    return best


def _nearest_pd(cov: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    vals = np.clip(vals, floor * max(vals.max(), 1.0), None)
    return (vecs * vals) @ vecs.T


def mahalanobis(values: np.ndarray, min_share: float = 0.5):
    """Squared Mahalanobis distances with missing answers.

    Each row's distance uses the variables it answered; the mean and
    covariance are estimated from available (pairwise-complete) data and
    made positive definite if needed. Rows with fewer than ``min_share`` of
    the variables answered get ``NaN``.

    Returns
    -------
    d2, df : numpy.ndarray
        Squared distances and their degrees of freedom (answered variables).
    """
    x = np.asarray(values, dtype=float)
    n, k = x.shape
    frame = pd.DataFrame(x)
    mean = frame.mean().to_numpy()
    cov = frame.cov(min_periods=3).to_numpy()
    if np.isnan(cov).any():  # a pair never answered together: treat as uncorrelated
        diag = np.diag(cov)
        cov = np.where(np.isnan(cov), 0.0, cov)
        np.fill_diagonal(cov, np.where(np.isnan(diag), 1.0, diag))
    cov = _nearest_pd(cov)
    d2 = np.full(n, np.nan)
    df = np.zeros(n, dtype=int)
    observed = ~np.isnan(x)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == p)
        m = int(pattern.sum())
        df[rows] = m
        if m == 0 or m < min_share * k:
            continue
        sub = cov[np.ix_(pattern, pattern)]
        centred = x[np.ix_(rows, pattern)] - mean[pattern]
        solved = np.linalg.solve(sub, centred.T).T
        d2[rows] = np.einsum("ij,ij->i", centred, solved)
    return d2, df


def screen(raw: pd.DataFrame, processed: pd.DataFrame, instrument: Instrument,
           duration: pd.Series | None = None,
           rules: ScreeningRules | None = None) -> tuple[pd.DataFrame, dict]:
    """Screening indicators and flags for every respondent.

    Parameters
    ----------
    raw : pandas.DataFrame
        Answers as given (before reverse coding), one column per item id.
    processed : pandas.DataFrame
        The same answers with reverse-keyed items reverse-coded.
    instrument : Instrument
    duration : pandas.Series, optional
        Completion times in seconds.
    rules : ScreeningRules, optional

    Returns
    -------
    per_respondent : pandas.DataFrame
        The columns of :data:`SCREENING_COLUMNS`, on ``raw``'s index.
    summary : dict
        Missingness by item, counts per flag, the rules and the items used,
        for the report and the manifest.
    """
    rules = rules or ScreeningRules()
    items = instrument.items()
    all_ids = [i.id for i in items]
    agree_ids = [i.id for i in items if i.kind != "profile" and i.scale.type == "ordinal"]
    indicator_ids = [i.id for i in items if i.kind == "indicator"]
    attention = [i for i in items if i.kind == "attention"]
    n = len(raw)
    out = pd.DataFrame(index=raw.index)

    answered = raw[all_ids].notna()
    out["missing_items"] = pd.array((~answered).sum(axis=1).to_numpy(), dtype="Int64")
    flag_missing = (~answered).mean(axis=1).to_numpy() > rules.missing_max_share

    ls = longstring(raw[agree_ids].to_numpy(dtype=float))
    out["longstring"] = pd.array(ls, dtype="Int64")
    flag_longstring = ls >= rules.longstring_min

    failures = np.zeros(n, dtype=int)
    per_check = {}
    for info in attention:
        col = raw[info.id].to_numpy(dtype=float)
        failed = ~np.isnan(col) & ~np.isin(col, info.expected)
        failures += failed
        per_check[info.id] = {"expected": list(info.expected), "failed": int(failed.sum()),
                              "unanswered": int(np.isnan(col).sum())}
    out["attention_failures"] = pd.array(failures, dtype="Int64")
    flag_attention = failures >= 1

    d2, df = mahalanobis(processed[indicator_ids].to_numpy(dtype=float),
                         rules.min_items_for_distance)
    with np.errstate(invalid="ignore"):
        pvals = np.where(np.isnan(d2), np.nan, stats.chi2.sf(d2, np.maximum(df, 1)))
    out["mahalanobis_d2"] = d2
    out["mahalanobis_df"] = pd.array(df, dtype="Int64")
    out["mahalanobis_p"] = pvals
    flag_outlier = ~np.isnan(pvals) & (pvals < rules.outlier_alpha)

    speed_cutoff = rules.seconds_per_item * len(all_ids)
    if duration is not None:
        dur = pd.to_numeric(duration, errors="coerce").to_numpy(dtype=float)
        flag_speed = ~np.isnan(dur) & (dur < speed_cutoff)
    else:
        flag_speed = np.zeros(n, dtype=bool)

    flags = {"missing": flag_missing, "longstring": flag_longstring,
             "attention": flag_attention, "outlier": flag_outlier, "speed": flag_speed}
    for name in CRITERIA:
        out[f"flag_{name}"] = flags[name].astype(bool)
    out["flagged"] = np.logical_or.reduce([flags[c] for c in CRITERIA])

    missing_by_item = pd.DataFrame({
        "item": all_ids,
        "missing": [int((~answered[c]).sum()) for c in all_ids],
    })
    missing_by_item["share"] = missing_by_item["missing"] / max(n, 1)
    per_resp = (~answered).sum(axis=1)
    summary = {
        "n": n,
        "rules": rules.as_dict(),
        "items_longstring": agree_ids,
        "items_mahalanobis": indicator_ids,
        "speed_cutoff_seconds": speed_cutoff if duration is not None else None,
        "has_duration": duration is not None,
        "missing_by_item": missing_by_item,
        "missing_by_respondent": {
            "complete": int((per_resp == 0).sum()),
            "distribution": {int(k): int(v) for k, v in per_resp.value_counts().sort_index()
                             .items()},
            "cells_missing": int((~answered).to_numpy().sum()),
            "cells": int(answered.size),
        },
        "attention_checks": per_check,
        "flag_counts": {c: int(flags[c].sum()) for c in CRITERIA},
        "flagged": int(out["flagged"].sum()),
    }
    return out, summary
