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

4. with ``missing = "ml"`` weights the casewise FIML log-likelihood,
   :math:`\\sum_i w_i \\ell_i`, the EM estimates of the saturated model and
   the saturated information (``lav_samplestats_missing_patterns`` with ``wt``),
   again with MLR inference.

``fit(model, data, sampling_weights="w")`` does the same for ML and MLR with
complete data (or listwise deletion) and with ``missing='ml'``, one group or
several.  Weights with ``missing='ml.x'``, the least-squares and MLM-type
estimators, ordered items, general constraints, latent product terms or the
bootstrap are refused with a :class:`~ckm_research.errors.CkmError` that says
what to do instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckm_research.data.frames import require_column
from ckm_research.errors import CkmError, DataError
from ckm_research.sem import missing as mis
from ckm_research.sem.engine import BaseEngine
from ckm_research.sem.estimators import FIML_ESTIMATORS
from ckm_research.sem.fiml import FIMLEngine, _ml_stat, _saturated_loglik
from ckm_research.sem.ml import MLEngine, SampleMoments

__all__ = [
    "WEIGHTS_KEY",
    "sampling_weights_column",
    "normalize_weights",
    "case_weights",
    "check_weights_options",
    "WeightedMLEngine",
    "WeightedFIMLEngine",
    "fiml_case_mask",
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
    require_column(frame, column, "sampling weights column")
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
        f"sampling_weights is not supported with {what} by ckm-research (it supports "
        "lavaan's sampling.weights for ML and MLR, with complete data, listwise deletion or "
        f"missing='ml'): {instead}."
    )


def check_weights_options(estimator: str, missing: str, ordered) -> str:
    """The estimator a weighted fit uses, or a :class:`CkmError` for a combination
    that is not supported.

    lavaan (``lavaan()``: with ``sampling.weights`` an estimator ``"ML"`` or
    ``"default"`` becomes ``"MLR"``) fits ML with sampling weights as MLR, with
    complete data and with ``missing = "ml"``; ``'ML'`` (and ``'FIML'``, ML with
    ``missing='ml'``) is returned as ``'MLR'`` here too (the caller adds a note).
    """
    if ordered:
        raise refuse_weights(
            "ordered items (" + estimator + ")",
            "fit the weighted ordinal model in lavaan (sem(..., ordered = ..., "
            "sampling.weights = 'w')), or treat the items as continuous with estimator='MLR'",
        )
    if missing not in ("listwise", "ml"):
        raise refuse_weights(
            f"missing={missing!r}",
            "use missing='ml' (FIML with fixed covariates) or 'listwise', or fit the weighted "
            "model in lavaan",
        )
    if estimator not in FIML_ESTIMATORS:
        raise refuse_weights(
            f"estimator='{estimator}'",
            "use estimator='MLR' (lavaan's default with sampling weights; 'ML' and 'FIML' "
            "are fitted as 'MLR' too), or fit the weighted model in lavaan",
        )
    return "MLR"


class _CaseCounts:
    """Results report the numbers of cases per group (lavaan's ``lavInspect(fit,
    "nobs")``) and the weights column, while the engine computes with the
    weighted numbers of cases :math:`N_g^w` (lavaan's ``nobs`` of the sample
    statistics)."""

    weights_column: str = ""
    n_cases: list

    def run(self):
        res = super().run()
        res.n_per_group = tuple(self.n_cases)
        res.notes["sampling_weights"] = self.weights_column
        res.notes["summary_lines"] = list(res.notes.get("summary_lines", [])) + [
            (self.weights_column, "Sampling weights variable")
        ]
        return res


class WeightedMLEngine(_CaseCounts, MLEngine):
    """ML on weighted sample moments with MLR inference (lavaan's
    ``sampling.weights`` with complete data; see the module docstring).

    The groups carry their normalized weights in ``extra[WEIGHTS_KEY]``;
    :class:`~ckm_research.sem.ml.MLEngine` weights the moments and
    :mod:`ckm_research.sem.robust` the casewise scores.
    """

    def __init__(self, *args, weights_column: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.weights_column = weights_column
        self.n_cases = list(self.n_per_group)
        self.n_per_group = [float(gd.moments.n) for gd in self.groups]


def fiml_case_mask(x: np.ndarray, covariates: list[int]) -> np.ndarray:
    """The cases FIML keeps: not empty and, for fixed covariates (``missing='ml'``,
    ``fixed_x=True``), with every covariate observed (as
    :func:`ckm_research.sem.fiml.drop_missing_covariates` and the removal of
    empty cases in ``fit()``), so that the weights follow the cases."""
    keep = np.ones(x.shape[0], dtype=bool)
    if covariates:
        keep &= ~np.isnan(x[:, covariates]).any(axis=1)
    return keep & ~np.isnan(x).all(axis=1)


class WeightedFIMLEngine(_CaseCounts, FIMLEngine):
    """FIML with sampling weights and MLR inference (lavaan's ``sampling.weights``
    with ``missing = "ml"``).

    The casewise log-likelihood is weighted, :math:`\\sum_i w_i \\ell_i`
    (lavaan's ``lav_mvnorm_missing_loglik_samplestats`` with ``wt``), and so
    are the EM estimates of the saturated model, the saturated information
    (:class:`~ckm_research.sem.missing.MissingPatterns` with ``weights``), the
    casewise scores (:math:`w_i s_i`), the independence model's moments and,
    with fixed covariates, their sample moments, which lavaan takes from the
    EM estimates when there are weights (``lav_samplestats_from_data``).
    """

    def __init__(self, pt, groups, opts, notes, weights_column: str = ""):
        BaseEngine.__init__(self, pt, groups, opts, notes)
        self.label = "MLR"
        self.weights_column = weights_column
        self.patterns = [
            mis.MissingPatterns.from_data(gd.data, weights=case_weights(gd)) for gd in groups
        ]
        self.h1 = []
        for gd, pat in zip(groups, self.patterns, strict=True):
            em = mis.em_saturated(pat)
            self.h1.append(em)
            gd.moments = SampleMoments(pat.n_weighted, em.sigma, em.mu)
        self._fill_exo()
        self.coverage = [float(np.mean(~np.isnan(gd.data))) for gd in groups]
        self.n_cases = list(self.n_per_group)
        self.n_per_group = [pat.n_weighted for pat in self.patterns]

    def model_scores(self) -> list[np.ndarray]:
        """Weighted casewise scores :math:`w_i s_i` wrt the free parameters."""
        return [
            z * pat.weights[:, None]
            for z, pat in zip(super().model_scores(), self.patterns, strict=True)
        ]

    def yuan_bentler_trace(self, delta=None, einv=None, b0=None) -> float:
        if b0 is None:  # B0 per weighted case: sum_i w_i^2 s_i s_i' / N_g^w
            b0 = [
                z.T @ z / pat.n_weighted
                for z, pat in zip(self.model_scores(), self.patterns, strict=True)
            ]
        return super().yuan_bentler_trace(delta=delta, einv=einv, b0=b0)

    def _x_sample_moments(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """lavaan's ``cov.x``/``mean.x`` with weights and ``missing = "ml"``: the
        covariates' block of the (weighted) EM estimates."""
        ix = self._covariate_index()
        return self.h1[g].mu[ix], self.h1[g].sigma[np.ix_(ix, ix)]

    def _x_patterns(self, g: int):
        return mis.MissingPatterns.from_data(
            self._x_data(g), warn=False, weights=self.patterns[g].weights
        )

    def _baseline_x(self, g: int) -> tuple[np.ndarray, np.ndarray, float]:
        pat = self._x_patterns(g)
        if self.exo_index():
            mu, sigma = self._x_sample_moments(g)
            return mu, sigma, mis.fiml_loglik(pat, mu, sigma)
        em = mis.em_saturated(pat)
        return em.mu, em.sigma, float(em.loglik)

    def _x_loglik(self) -> tuple[float, float]:
        ix = self.exo_index()
        if not ix:
            return 0.0, 0.0
        h0 = h1 = 0.0
        for g, pat in enumerate(self.patterns):
            cov_x = self.h1[g].sigma[np.ix_(ix, ix)]
            h0 += _saturated_loglik(cov_x, pat.n_weighted)
            h1 += _saturated_loglik(self._x_sample_moments(g)[1], pat.n_weighted)
        return h0, h1

    def fiml_corrected(self, fm: dict, version: str = "V3"):
        """:meth:`FIMLEngine.fiml_corrected` with lavaan's group sizes for the
        FIML-corrected statistics: lavaan (``lav_fit_fiml_corrected``) refits the
        model and the independence model to the EM moments with ``sample.nobs``
        the weighted :math:`N_g^w`, which ``lav_samplestats_from_moments`` truncates
        to integers (``as.integer``), so :math:`T_3 = \\\\sum_g \\\\lfloor N_g^w\\\\rfloor
        F_g`.  With one group :math:`N^w = N` and nothing changes."""
        _, c3, _, c3_b = super().fiml_corrected(fm, version)
        xx3 = xx3_b = 0.0
        for g, h in enumerate(self.h1):
            n_int = float(np.floor(self.n_per_group[g] + 1e-8))
            sig, mu = self.model.implied(self.theta, g)
            xx3 += _ml_stat(h.mu, h.sigma, mu, sig, n_int)
            mu_b, sig_b = self._baseline_moments(g)
            xx3_b += _ml_stat(h.mu, h.sigma, mu_b, sig_b, n_int)
        return xx3, c3, xx3_b, c3_b
