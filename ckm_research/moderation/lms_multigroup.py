"""Multiple-group LMS: one latent interaction model fitted to several groups.

The groups are independent samples, so the log-likelihood of the whole data is
the sum of each group's LMS log-likelihood (Klein & Moosbrugger, 2000,
*Psychometrika* 65(4), 457-474, eq. 13, a finite mixture of normal densities
per case),

.. math::

    \\ell(\\theta) = \\sum_{g=1}^{G} \\sum_{i \\in g}
        \\log \\sum_j w_j\\, \\phi\\bigl(x_i; \\mu_g(z_j), \\Sigma_g(z_j)\\bigr),

where every group has its own block of the parameter table (lavaan's ``group``
column) and the parameters shared by equality constraints (``group_equal``,
labels such as ``c(a, a)*x2``) enter several groups' moments.  The gradient is
the sum of the groups' analytic gradients (each computed by the single-group
engines of :mod:`ckm_research.moderation.lms` and
:mod:`ckm_research.moderation.lms_engine` on the common parameter vector).

The parameterisation is lavaan's for several groups with a mean structure
(``lav_partable_flat``; :func:`ckm_research.sem.partable.build_partable`):
first loadings fixed at 1, indicator intercepts free in every group, latent
means and intercepts fixed at 0 in every group, except that with
``group_equal`` holding ``"intercepts"`` they are free in groups 2..G (and
with ``"loadings"`` the factor variances stay free in every group).  A product
term ``Y ~ X:Z`` has one coefficient per group; ``"regressions"`` in
``group_equal`` (or one label, ``c(w, w)*X:Z``) makes it equal across groups.
Without product terms the model and its log-likelihood are lavaan's
multiple-group ML fit's.

This is modsem's multigroup LMS (``modsem(model, data, method = "lms",
group = "g")``, modsem 1.0.9 and later, 2025), estimated as
:func:`ckm_research.moderation.lms.fit_lms` estimates one group: BFGS on the
analytic gradient from the multiple-group ML fit of the model without product
terms, standard errors from the observed information (differences of the
gradient).

Examples
--------
>>> from ckm_research import fit
>>> from ckm_research.data.examples import load_dataset
>>> d = load_dataset("oneInt")
>>> d["g"] = ["a", "b"] * 250
>>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
...          "Y ~ X + Z + X:Z")
>>> res = fit(model, d, interaction="lms", group="g",
...           group_equal=["loadings", "intercepts"])
>>> res.estimates.query("rhs == 'X:Z'")[["lhs", "op", "rhs", "group", "est"]].round(2)
   lhs op  rhs  group   est
11   Y  ~  X:Z      1  0.65
23   Y  ~  X:Z      2  0.74

In R: ``modsem::modsem(model, d, method = "lms", group = "g",
group.equal = c("loadings", "intercepts"))``.
"""

from __future__ import annotations

import numpy as np

from ckm_research.moderation.interaction_engine import InteractionEngine
from ckm_research.moderation.lms import (
    LMSModel,
    _bfgs_start,
    _estimates_table,
    _fit_measures,
    _linear_start,
    _LMSOutput,
    _maximise,
    _recentre,
    gradient_hessian,
)
from ckm_research.sem.engine import GroupData

__all__ = ["MultiGroupLMSEngine"]


class MultiGroupLMSEngine(InteractionEngine):
    """LMS log-likelihood, gradient and estimation over several groups.

    Parameters
    ----------
    model : LMSModel
        Built with ``ngroups`` equal to the number of groups.
    engines : list
        One single-group engine per group
        (:class:`~ckm_research.moderation.lms.DenseLMSEngine` or
        :class:`~ckm_research.moderation.lms_engine.LMSEngine`), each on
        ``model.for_group(g)`` and that group's data.
    group_labels : sequence
        The groups' values of the group column, in the order of the groups.
    n_total : sequence of int, optional
        Cases per group in the data, before listwise deletion (lavaan's
        ``norig``); default: the cases used.

    Attributes
    ----------
    theta : ndarray
        The estimates (after :meth:`estimate`).
    logl : float
        The maximised log-likelihood, summed over the groups.
    h0_logl : float
        The multiple-group ML (FIML with missing data) log-likelihood of the
        model without product terms.
    """

    label = "ML"

    def __init__(self, model: LMSModel, engines: list, group_labels, n_total=None):
        self.model = model
        self.engines = list(engines)
        self.group_labels = tuple(group_labels)
        self.n_per_group = tuple(int(e.n) for e in self.engines)
        n_total = self.n_per_group if n_total is None else tuple(int(t) for t in n_total)
        #: the groups' data (``SEMResults.n_total_per_group`` reads ``extra["n_total"]``)
        self.groups = [
            GroupData(lab, e.X, extra={"n_total": t})
            for lab, e, t in zip(self.group_labels, self.engines, n_total, strict=True)
        ]
        self.n = int(sum(self.n_per_group))
        self.theta: np.ndarray | None = None
        self.iterations = 0

    # ------------------------------------------------ fit contract (run_engine)
    def _data_arrays(self) -> list[np.ndarray]:
        return [e.X for e in self.engines]

    def _first_engine(self):
        return self.engines[0]

    def _rebuilt(self, model: LMSModel) -> MultiGroupLMSEngine:
        """A new engine of ``model`` with the same groups, data and rules."""
        engines = [e._rebuilt(model.for_group(g)) for g, e in enumerate(self.engines)]
        n_total = [gd.extra["n_total"] for gd in self.groups]
        return MultiGroupLMSEngine(model, engines, self.group_labels, n_total=n_total)

    def result_fields(self) -> dict:
        """The groups of the result: number, labels, cases used per group."""
        return dict(
            ngroups=len(self.engines),
            group_labels=self.group_labels,
            n_per_group=self.n_per_group,
        )

    # the run's notes of the single-group LMS engines
    interaction_info = _LMSOutput.interaction_info
    summary_lines = _LMSOutput.summary_lines

    # ------------------------------------------------------------------ counts
    @property
    def ntotal(self) -> int:
        """Cases used, all groups (lavaan's ``ntotal``)."""
        return self.n

    @property
    def n_evals(self) -> int:
        """Log-likelihood evaluations (summed over the groups' engines)."""
        return int(sum(e.n_evals for e in self.engines))

    # -------------------------------------------------------------- likelihood
    def loglik(self, theta: np.ndarray, gradient: bool = False):
        """Sum of the groups' LMS log-likelihoods (and gradients) at ``theta``;
        ``-inf`` (and ``None``) where some group's model is not admissible."""
        ll = 0.0
        grad = np.zeros(self.model.n_free) if gradient else None
        for eng in self.engines:
            out = eng.loglik(theta, gradient=gradient)
            if gradient:
                lg, gg = out
                if gg is None:
                    return -np.inf, None
                ll += lg
                grad += gg
            else:
                if not np.isfinite(out):
                    return -np.inf
                ll += out
        return (ll, grad) if gradient else ll

    # -------------------------------------------------------------- estimation
    def start_values(self):
        """Multiple-group ML (FIML with missing data) fit of the model without
        product terms: start values, its log-likelihood and its information
        (:func:`~ckm_research.moderation.lms._linear_start`)."""
        return _linear_start(self.model, [e.X for e in self.engines])

    def _adaptive(self):
        return [e for e in self.engines if getattr(e, "quadrature", "fixed") == "adaptive"]

    def estimate(self, max_iter: int = 500, gtol: float = 1e-7) -> None:
        """Maximise the summed log-likelihood by BFGS (re-centring the adaptive
        nodes of each group, as :meth:`LMSEngine.estimate
        <ckm_research.moderation.lms_engine.LMSEngine.estimate>`)."""
        M = self.model
        theta, h0_logl, h0 = self.start_values()
        self.h0_logl = h0_logl
        self.h0_theta = h0["theta0"]
        n = self.n
        adaptive = self._adaptive()
        for eng in adaptive:
            eng.linear_posterior(theta)
        terms = sorted({int(v) - 1 for v in M.term_free_by_group.ravel() if v > 0})
        fg, Hinv, f, g = _bfgs_start(
            self.loglik, n, theta, h0["info"], M.n_base, terms, where=" in some group"
        )
        theta, f, Hinv, self.iterations = _maximise(fg, theta, Hinv, max_iter, gtol, f, g)
        self.rounds = 0
        if adaptive:
            theta, f, its, self.rounds = _recentre(fg, theta, f, Hinv, adaptive, n, max_iter, gtol)
            self.iterations += its
        self.theta = theta
        self.logl = float(-f * n)

    def hessian(
        self, theta: np.ndarray | None = None, method: str | None = None, n_jobs: int = 1
    ) -> np.ndarray:
        """Hessian of the summed log-likelihood by differences of the summed
        analytic gradient: central up to 60 parameters, forward above (step
        :math:`10^{-5}` resp. :math:`10^{-6}` times :math:`\\max(1,
        |\\theta_j|)`); in each group on a fixed rule the nodes without posterior
        probability above 1e-9 for any case are left out.  ``n_jobs`` forked
        processes share the columns."""
        theta = self.theta if theta is None else np.asarray(theta, float)
        q = len(theta)
        if method is None:
            method = "central" if q <= 60 else "forward"
        saved = [(e.z, e.logw) for e in self.engines]
        for e in self.engines:
            if getattr(e, "quadrature", "fixed") == "fixed":
                keep = e.posterior_nodes(theta)
                e.z, e.logw = e.z[keep], e.logw[keep]

        try:
            return gradient_hessian(self.loglik, theta, method, n_jobs)
        finally:
            for e, (z, lw) in zip(self.engines, saved, strict=True):
                e.z, e.logw = z, lw

    # inverse observed information, as the single-group engines (``n_jobs`` processes
    # for the Hessian)
    vcov = _LMSOutput.vcov

    # ------------------------------------------------------------------ output
    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Values of the base table rows (all groups), then the product-term
        rows of group 1, group 2, ..."""
        M = self.model
        base = M.ram.row_values(theta[: M.n_base])
        return np.concatenate([base] + [e.model.omegas(theta) for e in self.engines])

    def row_free(self) -> np.ndarray:
        """Parameter index (1-based, 0 = fixed) of the rows of :meth:`row_values`."""
        M = self.model
        return np.concatenate([M.ram.free] + [e.model.term_free for e in self.engines])

    def fit_measures(self) -> dict[str, float]:
        """Log-likelihood, information criteria and the likelihood-ratio test
        against the multiple-group model without product terms (``h0.*``,
        ``lrt.*``; modsem's D), all groups together."""
        M = self.model
        return _fit_measures(self, len({int(v) for v in M.term_free_by_group.ravel() if v > 0}))

    def estimates_table(self, vcov: np.ndarray, level: float = 0.95, definitions=()):
        """lavaan's ``parameterEstimates()`` of a multiple-group fit: the rows
        of the parameter table in its order with lavaan's ``group`` column
        (1..G), each group's product-term rows after that group's regressions
        of their outcome, then ``:=`` rows (delta-method SEs); ``std.all`` with
        each group's model-implied (mixture) variances; a ``free`` column gives
        the parameter index (:func:`~ckm_research.moderation.lms._estimates_table`)."""
        return _estimates_table(self, vcov, level, list(definitions or ()), self.engines)
