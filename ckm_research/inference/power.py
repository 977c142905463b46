"""Monte Carlo power analysis of a SEM, with the analytic RMSEA-based power.

For each sample size N, ``reps`` samples are drawn from a population model
(lavaan syntax whose fixed values are the population values; see
:class:`~ckm_research.inference.population.PopulationModel`) and the analysis
model is fitted to each (Muthén & Muthén, 2002, *Structural Equation Modeling*
9(4), 599-620).  For every free parameter and every ``:=`` effect of the
analysis model it reports, over the converged replications,

* ``power``: the share of Wald tests :math:`|\\hat\\theta/\\widehat{se}| >
  z_{1-\\alpha/2}` that reject :math:`\\theta = 0` (for a parameter that is 0
  in the population this is the type I error rate, which should be
  :math:`\\alpha`);
* ``mean_est`` and ``bias``: the mean estimate and its difference from the
  population ("true") value;
* ``coverage``: the share of :math:`1-\\alpha` Wald intervals holding the true
  value;
* ``mean_se`` and ``sd_est``: the mean standard error and the standard
  deviation of the estimates (they should agree);
* ``power_analytic``: the large-sample power of the same Wald test,
  :math:`\\Phi(\\lambda - z_{1-\\alpha/2}) + \\Phi(-\\lambda - z_{1-\\alpha/2})` with
  :math:`\\lambda = |\\theta|\\sqrt{N} / \\sigma_1`, :math:`\\sigma_1` the standard
  error per case from the analysis model's expected (normal-theory ML)
  information at the population moments and, for ``:=`` effects, the delta
  method (Satorra & Saris, 1985, *Psychometrika* 50(1), 83-90, for the Wald
  form).  A quick check of the simulation, exact as :math:`N \\to \\infty` when
  the normal-theory SE is right; for product terms (non-normal product
  indicators) and indirect effects (skewed products) the simulation is the
  answer.  Not computed (NaN) with ``interaction='lms'``.

The true values of the analysis model's parameters are those it takes in the
population: the model fitted to the exact population moments (for a correctly
specified model these are the population values in the analysis model's scale,
e.g. marker-variable identification; for a misspecified one, the pseudo-true
values its estimates converge to).  Latent product terms ``Y ~ X:Z`` are
generated as products of the latent variables and analysed by double-mean-
centred product indicators (``interaction="dblcent"``, fast) or by LMS
(``interaction="lms"``).

Beside the Monte Carlo results, the power of the RMSEA tests of MacCallum,
Browne & Sugawara (1996, *Psychological Methods* 1(2), 130-149, eq. 6-9) at the
model's degrees of freedom: close fit (:math:`H_0: \\varepsilon \\le .05` against
:math:`\\varepsilon_a = .08`), not-close fit (:math:`H_0: \\varepsilon \\ge .05`
against :math:`\\varepsilon_a = .01`), and the exact-fit chi-square test at the
population RMSEA of the analysis model, with the Monte Carlo rejection rate of
the model's chi-square test.

Speed: every replication draws its data from its own random stream
(``SeedSequence(seed).spawn(len(n) * reps)``), computes the sample moments and
refits ML from them, warm-started at the true values
(:mod:`ckm_research.inference.refit`); MLR adds the sandwich and the scaled
test from the raw data; FIML and LMS refit with :func:`ckm_research.fit`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.inference.parallel import (
    ReplicationTask,
    resolve_n_jobs,
    run_replications,
    spawn_seeds,
)
from ckm_research.inference.population import PopulationModel, freed_syntax
from ckm_research.numerics import to_json_ready
from ckm_research.sem.estimators import FIML_ESTIMATORS

__all__ = ["power_analysis", "PowerResult", "rmsea_power", "POWER_ESTIMATORS"]

POWER_ESTIMATORS = FIML_ESTIMATORS
OK, NOT_CONVERGED, FAILED = 0, 1, 2

# errors one replication may legitimately hit; anything else is a bug
_REP_ERRORS = (CkmError, np.linalg.LinAlgError, ArithmeticError, ValueError)


def _param_error(name: str, allowed: str, got: Any) -> CkmError:
    return CkmError(
        f"The '{name}' parameter of power_analysis must be {allowed}. Got {got!r} instead."
    )


# ---------------------------------------------------------------------------
# analytic power (MacCallum, Browne & Sugawara, 1996)


def rmsea_power(
    n, df: float, rmsea0: float = 0.05, rmsea_a: float = 0.08, alpha: float = 0.05,
    ngroups: int = 1,
):  # fmt: skip
    """Power of the RMSEA test of MacCallum, Browne & Sugawara (1996).

    The test statistic :math:`T \\sim \\chi^2_{df}(\\lambda)` with
    :math:`\\lambda = (N - 1)\\, df\\, \\varepsilon^2 / G`.  With
    :math:`\\varepsilon_0 < \\varepsilon_a` (close fit, or exact fit with
    :math:`\\varepsilon_0 = 0`) :math:`H_0` is rejected above the
    :math:`1-\\alpha` quantile of :math:`\\chi^2_{df}(\\lambda_0)`; with
    :math:`\\varepsilon_0 > \\varepsilon_a` (not-close fit) below its
    :math:`\\alpha` quantile.

    Parameters
    ----------
    n : int or array of int
        Sample size(s).
    df : float
        Degrees of freedom of the model.
    rmsea0, rmsea_a : float
        RMSEA under the null and the alternative hypothesis.
    alpha : float
        Significance level.
    ngroups : int
        Number of groups (the non-centrality is divided by it, as semTools does).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(float(rmsea_power(200, 40)), 4)   # close fit, .05 vs .08
    0.6885

    In R: ``semTools::findRMSEApower(rmsea0 = .05, rmseaA = .08, df = 40, n = 200)``.
    """
    n_arr = np.asarray(n, dtype=float)
    if df <= 0:
        return np.full(n_arr.shape, np.nan) if n_arr.ndim else float("nan")
    ncp0 = (n_arr - 1) * df * rmsea0**2 / ngroups
    ncpa = (n_arr - 1) * df * rmsea_a**2 / ngroups

    def dist(ncp):
        return stats.ncx2(df, ncp) if np.all(ncp > 0) else stats.chi2(df)

    if rmsea0 < rmsea_a:
        crit = dist(ncp0).isf(alpha) if rmsea0 > 0 else stats.chi2.isf(alpha, df)
        out = dist(ncpa).sf(crit) if rmsea_a > 0 else stats.chi2.sf(crit, df)
    else:
        crit = dist(ncp0).ppf(alpha)
        out = dist(ncpa).cdf(crit) if rmsea_a > 0 else stats.chi2.cdf(crit, df)
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


# ---------------------------------------------------------------------------
# the plan: what is fitted, and the true values


@dataclass
class _Plan:
    population: PopulationModel
    analysis_text: str
    fit_text: str  # syntax of the model actually fitted (dblcent: with product factors)
    interaction: str | None
    estimator: str
    pt: Any
    opts: Any
    ov: tuple[str, ...]
    products: dict  # product indicator -> (item, item)
    source: np.ndarray  # analysis ov -> population ov column (-1 for products)
    rows: np.ndarray  # parameter-table rows reported
    keys: list[tuple[str, str, str]]
    labels: list[str]
    true: np.ndarray
    theta_true: np.ndarray
    df: float
    fmin_population: float
    generic: bool
    alpha: float
    options: Any = None  # FitOptions of the replications fitted by ckm_research.fit
    se_unit: Any = None  # asymptotic SE * sqrt(N) of each reported row (NaN: not available)


def _plan(population, analysis, estimator, interaction, alpha, iter_max, pilot_seed) -> _Plan:
    from ckm_research.inference.refit import Definitions, MomentFitter, fill_exogenous
    from ckm_research.sem.api import build_engine
    from ckm_research.sem.ml import SampleMoments, fit_ml
    from ckm_research.sem.options import FitOptions
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    pop = population if isinstance(population, PopulationModel) else PopulationModel(population)
    analysis_text = freed_syntax(pop.parsed) if analysis is None else analysis
    parsed = parse_model(analysis_text)
    has_products = bool(variable_roles(parsed).interactions)
    if interaction is not None and not has_products:
        raise CkmError(
            f"interaction='{interaction}' needs a product term (X:Z) in the analysis model"
        )
    if has_products and interaction is None:
        interaction = "dblcent"
    if interaction not in (None, "dblcent", "lms"):
        raise _param_error("interaction", "one of 'dblcent', 'lms' or None", interaction)
    if interaction == "lms" and estimator != "ML":
        raise CkmError("LMS is a maximum-likelihood method: use estimator='ML' with it")
    # a pilot sample gives the data layout the engine expects (values do not matter);
    # it draws from its own child of random_state (see power_analysis)
    pilot = pop.simulate(max(200, 5 * len(pop.ov)), np.random.default_rng(pilot_seed))
    products: dict = {}
    rename: dict = {}
    fit_text = analysis_text
    frame = pilot
    if has_products:
        from ckm_research.moderation.product_indicators import product_indicator_model

        spec = product_indicator_model(analysis_text, pilot)
        fit_text, frame = spec.syntax, spec.data
        for t in spec.terms:
            products.update(t.members)
        rename = spec.term_for_factor()
    options = FitOptions.from_kwargs(
        estimator=estimator, level=float(1 - alpha), control={"iter.max": iter_max},
        interaction=interaction,
    )  # fmt: skip
    engine = build_engine(parse_model(fit_text), frame, options)
    pt = engine.pt
    fitter = MomentFitter(pt, max_iter=iter_max)
    ov = fitter.model.ov
    cov, mean = pop.moments(ov, products)
    mom = SampleMoments(10**6, cov, mean)
    fill_exogenous(fitter.model, pt.table, [mom])
    try:
        theta_true, fmin, _ = fit_ml(fitter.model, [mom], max_iter=iter_max)
    except CkmError as exc:
        raise ModelSpecificationError(
            f"the analysis model cannot be fitted to the population moments: {exc}"
        ) from None
    # the population fit converges to ~1e-12; a zero path is 0
    theta_true = np.where(np.abs(theta_true) < 1e-9, 0.0, theta_true)
    t = pt.table
    rows = np.flatnonzero(t["free"].to_numpy() > 0)
    vals = fitter.model.row_values(theta_true)
    defs = Definitions(pt)
    true = np.concatenate([vals[rows], defs.values(vals)])
    keys = [
        (str(t["lhs"].iat[r]), str(t["op"].iat[r]),
         rename.get(t["rhs"].iat[r], t["rhs"].iat[r]) if t["op"].iat[r] == "~" else t["rhs"].iat[r])
        for r in rows
    ]  # fmt: skip
    keys += [(d.name, ":=", d.expression) for d in pt.definitions]
    labels = [("" if str(t["label"].iat[r]).startswith(".") else str(t["label"].iat[r]))
              for r in rows] + [d.name for d in pt.definitions]  # fmt: skip
    se_unit = _unit_se(fitter, mom, theta_true, rows, defs)
    pos = {v: i for i, v in enumerate(pop.ov)}
    source = np.array([pos.get(v, -1) for v in ov])
    df = float(engine.ndat() - engine.npar())
    # FIML (estimator 'FIML', resolved by FitOptions to missing='ml') and LMS refit by fit()
    generic = options.missing != "listwise" or interaction == "lms"
    plan = _Plan(
        population=pop, analysis_text=analysis_text, fit_text=fit_text, interaction=interaction,
        estimator=estimator, pt=pt, opts=engine.opts, ov=ov, products=products, source=source,
        rows=rows, keys=keys, labels=labels, true=true, theta_true=theta_true, df=df,
        fmin_population=float(fmin), generic=generic, alpha=alpha, options=options,
        se_unit=se_unit if interaction != "lms" else np.full(len(keys), np.nan),
    )  # fmt: skip
    if generic:
        _generic_layout(plan, pilot)
    return plan


def _generic_layout(plan: _Plan, pilot: pd.DataFrame) -> None:
    """Rows reported when replications are fitted by ckm_research.fit: those of a
    pilot fit (LMS parameterises the model differently); true values by key."""
    from ckm_research.fitting import fit_with_options

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit_with_options(plan.analysis_text, pilot, plan.options)
    except CkmError as exc:
        raise CkmError(
            f"the analysis model cannot be fitted to a simulated sample: {exc}"
        ) from None
    est = res.estimates
    keep = (est["op"] == ":=") | (est["se"].fillna(0) > 0)
    truth = dict(zip(plan.keys, plan.true, strict=True))
    unit = dict(zip(plan.keys, plan.se_unit, strict=True))
    keys = [tuple(map(str, k)) for k in est.loc[keep, ["lhs", "op", "rhs"]].itertuples(index=False)]
    plan.keys = keys
    plan.labels = [str(x) if isinstance(x, str) else "" for x in est.loc[keep, "label"]]
    plan.true = np.array([truth.get(k, np.nan) for k in keys])
    plan.se_unit = np.array([unit.get(k, np.nan) for k in keys])


def _unit_se(fitter, mom, theta, rows, defs) -> np.ndarray:
    """Asymptotic SE times sqrt(N) of the reported rows and ``:=`` effects: from the
    expected information per case of the analysis model at the population moments
    (the normal-theory ML information; its ``:=`` rows by the delta method)."""
    free = fitter.model.free[rows] - 1
    try:
        vc = np.linalg.inv(fitter.information(theta, [mom]))
    except (np.linalg.LinAlgError, CkmError, ValueError):
        return np.full(len(rows) + len(defs), np.nan)
    se = np.sqrt(np.clip(np.diag(vc)[free], 0, None))
    if len(defs):
        J = defs.jacobian(fitter.model, theta)
        se = np.concatenate([se, np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, vc, J), 0, None))])
    return se


# ---------------------------------------------------------------------------
# one replication


class _PowerTask(ReplicationTask):
    def __init__(self, plan: _Plan, ns: list[int], reps: int, alpha: float, iter_max: int):
        super().__init__()
        self.plan = plan
        self.ns = ns
        self.reps = reps
        self.alpha = alpha
        self.iter_max = iter_max

    def setup(self):
        from ckm_research.inference.refit import MomentFitter, ProductColumns

        if self.plan.generic:
            return None
        fitter = MomentFitter(self.plan.pt, max_iter=self.iter_max)
        prods = ProductColumns.from_names(self.plan.ov, self.plan.products)
        return fitter, prods

    def run(self, state, index, rng):
        plan = self.plan
        n = self.ns[index // self.reps]
        raw = plan.population.simulate_array(n, rng)
        try:
            if plan.generic:
                return self._generic(raw)
            return self._moments(state, raw, n)
        except _REP_ERRORS as exc:
            from ckm_research.errors import ConvergenceError

            code = NOT_CONVERGED if isinstance(exc, ConvergenceError) else FAILED
            msg = str(exc).split(";")[0].split(". ")[0].strip() or type(exc).__name__
            return code, None, None, np.nan, False, msg

    def _moments(self, state, raw, n):
        from ckm_research.sem.ml import SampleMoments

        plan = self.plan
        fitter, prods = state
        x = np.zeros((n, len(plan.ov)))
        have = plan.source >= 0
        x[:, have] = raw[:, plan.source[have]]
        if prods:
            x = prods.apply(x)
        mom = SampleMoments.from_data(x)
        theta, fmin, _ = fitter.fit([mom], plan.theta_true)
        if plan.estimator == "MLR":
            vcov, chisq_p = self._mlr(x, theta, fmin, n)
        else:
            info = fitter.information_at(theta) * n
            vcov = np.linalg.inv(info)
            chisq_p = float(stats.chi2.sf(n * fmin, plan.df)) if plan.df > 0 else np.nan
        se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
        vals = fitter.row_values(theta)
        free = plan.pt.table["free"].to_numpy()[plan.rows] - 1
        est = vals[plan.rows]
        se = se_free[free]
        if len(fitter.definitions):
            dv = fitter.definitions.values(vals)
            J = fitter.definitions.jacobian(fitter.model, theta)
            dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, vcov, J), 0, None))
            est = np.concatenate([est, dv])
            se = np.concatenate([se, dse])
        return OK, est, se, chisq_p, fitter.has_negative_variance(vals), ""

    def _mlr(self, x, theta, fmin, n):
        from ckm_research.sem.engine import GroupData
        from ckm_research.sem.ml import MLEngine

        plan = self.plan
        eng = MLEngine(plan.pt, [GroupData(None, x)], plan.opts, [])
        eng.theta, eng.fmin = theta, fmin
        vcov = eng.vcov()
        if plan.df > 0:
            tr, _, _ = eng.robust_trace()
            chisq_p = float(stats.chi2.sf(n * fmin / (tr / plan.df), plan.df))
        else:
            chisq_p = np.nan
        return vcov, chisq_p

    def _generic(self, raw):
        from ckm_research.fitting import fit_with_options

        plan = self.plan
        frame = pd.DataFrame(raw, columns=list(plan.population.ov))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit_with_options(plan.analysis_text, frame, plan.options)
        if getattr(res, "converged", True) is False:
            return NOT_CONVERGED, None, None, np.nan, False, "did not converge"
        est = res.estimates
        idx = {
            tuple(map(str, k)): i
            for i, k in enumerate(est[["lhs", "op", "rhs"]].itertuples(index=False))
        }
        pick = [idx.get(k, -1) for k in plan.keys]
        if min(pick) < 0:
            raise CkmError("the fitted model has other parameters than the pilot fit")
        e = est["est"].to_numpy(dtype=float)[pick]
        s = est["se"].to_numpy(dtype=float)[pick]
        fm = res.fit_measures
        p = fm.get("pvalue.scaled", fm.get("pvalue", np.nan)) if plan.estimator == "MLR" else (
            fm.get("pvalue", np.nan)
        )
        var = (est["op"] == "~~") & (est["lhs"] == est["rhs"])
        return OK, e, s, float(p) if p is not None else np.nan, bool(
            (est.loc[var, "est"] < 0).any()
        ), ""


# ---------------------------------------------------------------------------
# results


@dataclass
class PowerResult:
    """Monte Carlo power of every parameter at every sample size.

    Attributes
    ----------
    table : pandas.DataFrame
        ``n lhs op rhs label true power mean_est bias coverage mean_se sd_est
        converged power_analytic``, one row per sample size and parameter
        (the last: large-sample Wald power, see the module docstring).
    convergence : pandas.DataFrame
        Per sample size: ``requested converged not_converged failed improper``.
    model_test : pandas.DataFrame
        Per sample size: the Monte Carlo rejection rate of the model's
        chi-square test and the analytic RMSEA-based power (MacCallum et al.,
        1996).
    failures : dict
        Per sample size, the messages of failed replications and their counts.
    settings : dict
        Everything needed to repeat the run (models, seed, options, version).
    """

    table: pd.DataFrame
    convergence: pd.DataFrame
    model_test: pd.DataFrame
    failures: dict
    settings: dict
    analytic_curve: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: ``power``, ``convergence``, ``analytic``, ``settings``."""

        def records(df):
            return [{k: to_json_ready(v) for k, v in r.items()} for r in df.to_dict("records")]

        conv = records(self.convergence)
        for row in conv:
            row["failure_reasons"] = self.failures.get(int(row["n"]), {})
        return {
            "power": records(self.table),
            "convergence": {
                "reps": int(self.settings["reps"]),
                "by_n": conv,
                "note": "power, mean_est, bias and coverage use the converged replications",
            },
            "analytic": {
                "method": "RMSEA tests of MacCallum, Browne & Sugawara (1996)",
                "df": to_json_ready(self.settings["df"]),
                "rmsea_population": to_json_ready(self.settings["rmsea_population"]),
                "by_n": records(self.model_test),
            },
            "settings": self.settings,
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        return text

    def summary(self, digits: int = 3) -> str:
        """Text tables: power per parameter and sample size, the model test, then per
        sample size the mean estimate, bias, coverage and SE ratio of every parameter."""
        s = self.settings
        ns = list(self.convergence["n"])
        lines = [
            f"Monte Carlo power: {s['reps']} replications per sample size, alpha = {s['alpha']}, "
            f"estimator {s['estimator']}"
            + (f", interaction {s['interaction']}" if s.get("interaction") else "")
            + f" (seed {s['seed']})",
            "",
        ]
        head = f"  {'parameter':<28}{'true':>9}" + "".join(f"{'N=' + str(n):>10}" for n in ns)
        lines.append(head)
        first = self.table[self.table["n"] == ns[0]]
        by_n = {n: g["power"].to_numpy() for n, g in self.table.groupby("n")}
        for j, row in enumerate(first.itertuples(index=False)):
            name = row.lhs if row.op == ":=" else f"{row.lhs} {row.op} {row.rhs}"
            cells = "".join(f"{by_n[n][j]:>10.{digits}f}" for n in ns)
            lines.append(f"  {name[:28]:<28}{row.true:>9.{digits}f}{cells}")
        lines.append("")
        lines.append("  Converged replications    " + "".join(
            f"{int(c):>10}" for c in self.convergence["converged"]))  # fmt: skip
        mt = self.model_test
        lines.append("")
        lines.append(f"Model test (df = {s['df']:g}, population RMSEA = "
                     f"{s['rmsea_population']:.4f}):")  # fmt: skip
        for col, label in (
            ("mc_reject_exact_fit", "chi-square rejects (Monte Carlo)"),
            ("power_exact_fit", "exact-fit power (analytic)"),
            ("power_close_fit", "close-fit test power (.05 vs .08)"),
            ("power_not_close_fit", "not-close-fit power (.05 vs .01)"),
        ):
            lines.append(f"  {label:<35}" + "".join(f"{v:>10.{digits}f}" for v in mt[col]))
        lines.append("  (analytic RMSEA power: MacCallum, Browne & Sugawara, 1996)")
        lines.extend(self._estimate_lines(digits))
        return "\n".join(lines)

    def _estimate_lines(self, digits: int = 3) -> list[str]:
        """Per sample size, the quality of the estimates over the converged
        replications: mean estimate, bias (and relative bias), coverage of the
        ``1 - alpha`` Wald interval and the SE ratio (mean SE over the SD of the
        estimates), flagged against Muthén & Muthén's (2002, p. 605) criteria:
        parameter and SE bias within 10% and coverage between .91 and .98."""
        s = self.settings
        lines = [
            "",
            f"Estimates over the converged replications (coverage of the "
            f"{1 - s['alpha']:.0%} Wald interval; SE ratio = mean SE / SD of the estimates):",
        ]
        for n, g in self.table.groupby("n", sort=True):
            lines.append("")
            lines.append(f"  N = {int(n)}")
            lines.append(
                f"  {'parameter':<28}{'true':>9}{'mean est':>10}{'bias':>9}{'rel.bias':>9}"
                f"{'coverage':>9}{'SE ratio':>9}  flag"
            )
            for row in g.itertuples(index=False):
                name = row.lhs if row.op == ":=" else f"{row.lhs} {row.op} {row.rhs}"
                true, bias = float(row.true), float(row.bias)
                rel = bias / true if np.isfinite(true) and true != 0 else np.nan
                ratio = (
                    float(row.mean_se) / float(row.sd_est)
                    if np.isfinite(row.sd_est) and row.sd_est > 0
                    else np.nan
                )
                flags = []
                if np.isfinite(rel) and abs(rel) > 0.10:
                    flags.append("bias")
                if np.isfinite(ratio) and abs(ratio - 1) > 0.10:
                    flags.append("SE")
                if np.isfinite(row.coverage) and not 0.91 <= row.coverage <= 0.98:
                    flags.append("coverage")

                def f(v, w=9):
                    return f"{v:>{w}.{digits}f}" if np.isfinite(v) else f"{'':>{w}}"

                lines.append(
                    f"  {name[:28]:<28}{f(true)}{f(float(row.mean_est), 10)}{f(bias)}{f(rel)}"
                    f"{f(float(row.coverage))}{f(ratio)}  {','.join(flags)}".rstrip()
                )
        lines.append(
            "  (flags: relative bias or SE bias beyond 10%, coverage outside .91-.98; "
            "Muthén & Muthén, 2002)"
        )
        return lines

    def plot(self, path: str | Path | None = None, parameters: list[str] | None = None):
        """Power curves with Monte Carlo 95% intervals, and the analytic
        RMSEA-based power beside them.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            Save the figure there (format from the suffix: .png, .pdf, .svg).
        parameters : list of str, optional
            Parameters to draw, as ``"Y ~ X"`` or a ``:=`` name; default: the
            regressions and defined effects (all parameters if none).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        tab = self.table.copy()
        tab["name"] = np.where(
            tab["op"] == ":=", tab["lhs"], tab["lhs"] + " " + tab["op"] + " " + tab["rhs"]
        )
        if parameters is None:
            sel = tab[tab["op"].isin(["~", ":="])]
            if sel.empty:
                sel = tab
        else:
            sel = tab[tab["name"].isin(parameters)]
            if sel.empty:
                raise CkmError(
                    "none of the parameters to plot is in the results; names look like "
                    f"{tab['name'].iloc[0]!r}"
                )
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
        alpha = self.settings["alpha"]
        for name, g in sel.groupby("name", sort=False):
            k = g["converged"].to_numpy(dtype=float)
            p = g["power"].to_numpy(dtype=float)
            half = 1.96 * np.sqrt(np.clip(p * (1 - p), 0, None) / np.maximum(k, 1))
            ax1.errorbar(g["n"], p, yerr=half, marker="o", capsize=3,
                         label=f"{name} (true {g['true'].iloc[0]:.3g})")  # fmt: skip
        ax1.axhline(0.8, color="grey", ls="--", lw=1)
        ax1.axhline(alpha, color="grey", ls=":", lw=1)
        ax1.set_ylim(-0.02, 1.02)
        ax1.set_xlabel("sample size N")
        ax1.set_ylabel(f"power (share of p < {alpha})")
        ax1.set_title(f"Monte Carlo power ({self.settings['reps']} replications per N)")
        ax1.legend(fontsize=7, loc="lower right")
        curve = self.analytic_curve
        if not curve.empty:
            ax2.plot(curve["n"], curve["power_close_fit"], label="close fit (.05 vs .08)")
            ax2.plot(curve["n"], curve["power_not_close_fit"], label="not-close fit (.05 vs .01)")
            if self.settings["rmsea_population"] > 0:
                ax2.plot(curve["n"], curve["power_exact_fit"],
                         label=f"exact fit at RMSEA {self.settings['rmsea_population']:.3f}")
        mt = self.model_test
        ax2.plot(mt["n"], mt["mc_reject_exact_fit"], "ko",
                 label="chi-square rejections (Monte Carlo)")  # fmt: skip
        ax2.axhline(0.8, color="grey", ls="--", lw=1)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_xlabel("sample size N")
        ax2.set_ylabel("power")
        ax2.set_title(f"RMSEA-based power, df = {self.settings['df']:g} (MacCallum et al., 1996)")
        ax2.legend(fontsize=7, loc="lower right")
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=150)
            plt.close(fig)
        return fig


# ---------------------------------------------------------------------------
# the public function


def power_analysis(
    population,
    n,
    reps: int = 1000,
    *,
    analysis: str | None = None,
    estimator: str = "ML",
    alpha: float = 0.05,
    interaction: str | None = None,
    random_state=None,
    n_jobs: int | None = None,
    scheduler=None,
    progress: bool | None = None,
    iter_max: int = 500,
) -> PowerResult:
    """Monte Carlo power of a structural equation model.

    Parameters
    ----------
    population : str or PopulationModel
        lavaan syntax whose fixed values are the population values (every
        variance given explicitly), e.g. ``"F =~ 0.7*x1 + ..."``; product terms
        ``Y ~ 0.2*X:Z`` are allowed.
    n : int or sequence of int
        Sample sizes.
    reps : int
        Replications per sample size.
    analysis : str, optional
        The model fitted to each sample (default: the population model with its
        values freed, see :func:`~ckm_research.inference.population.freed_syntax`).
    estimator : {'ML', 'MLR', 'FIML'}
        Estimator of the analysis.
    alpha : float
        Level of the tests (and ``1 - alpha`` intervals for the coverage).
    interaction : {'dblcent', 'lms'}, optional
        How the analysis model's product terms are estimated (default
        ``'dblcent'`` when it has any).
    random_state : int, numpy.random.SeedSequence or None
        Seed; replication ``r`` of sample size ``k`` uses stream
        ``SeedSequence(seed).spawn(len(n) * reps)[k * reps + r]``; the pilot
        sample that sets up the data layout draws from the next child,
        ``spawn(len(n) * reps + 1)[-1]`` (it used a fixed seed before).
    n_jobs : int, optional
        Local worker processes (``None``/``-1``: all cores).
    scheduler : str or distributed.Client, optional
        A dask.distributed scheduler to run the replications on.
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).
    iter_max : int
        Iterations allowed per fit.

    Returns
    -------
    PowerResult

    Raises
    ------
    ckm_research.errors.CkmError
        For invalid options or models.

    Examples
    --------
    >>> pop = ("X =~ 0.8*x1 + 0.7*x2 + 0.6*x3\\nY =~ 0.8*y1 + 0.7*y2 + 0.6*y3\\n"
    ...        "Y ~ 0.3*X\\nX ~~ 1*X\\nY ~~ 0.91*Y\\n"
    ...        "x1 ~~ 0.36*x1\\nx2 ~~ 0.51*x2\\nx3 ~~ 0.64*x3\\n"
    ...        "y1 ~~ 0.36*y1\\ny2 ~~ 0.51*y2\\ny3 ~~ 0.64*y3")
    >>> res = power_analysis(pop, n=[100], reps=20, random_state=1, n_jobs=1, progress=False)
    >>> res.table.query("op == '~'")[["n", "lhs", "rhs", "true", "power", "converged"]]
         n lhs rhs  true  power  converged
    4  100   Y   X   0.3   0.55         20

    (20 replications only to keep the example quick: use 1000 or more.)
    ``res.plot("power.png")`` draws the power curves.

    In R: a loop over ``lavaan::simulateData(pop, sample.nobs = n)`` and
    ``lavaan::sem(model, data)`` (or ``simsem::sim``).
    """
    ns = [n] if isinstance(n, (int, np.integer)) else list(n)
    if not ns or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2 for v in ns
    ):
        raise _param_error("n", "an int or a list of ints in the range [2, inf)", n)
    ns = [int(v) for v in ns]
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise _param_error("reps", "an int in the range [1, inf)", reps)
    if not isinstance(estimator, str) or estimator.upper() not in POWER_ESTIMATORS:
        raise _param_error(
            "estimator", "one of " + ", ".join(f"'{e}'" for e in POWER_ESTIMATORS), estimator
        )
    estimator = estimator.upper()
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise _param_error("alpha", "a float in the range (0, 1)", alpha)
    if interaction is not None and interaction not in ("dblcent", "lms"):
        raise _param_error("interaction", "one of 'dblcent', 'lms' or None", interaction)
    if scheduler is None:
        resolve_n_jobs(n_jobs, "power_analysis")

    # replication i draws from child i of SeedSequence(random_state); the pilot sample
    # (the data layout) from the next child, so it never shares draws with a replication
    root, seeds = spawn_seeds(random_state, len(ns) * int(reps) + 1)
    pilot_seed = seeds.pop()
    plan = _plan(population, analysis, estimator, interaction, alpha, iter_max, pilot_seed)
    task = _PowerTask(plan, ns, int(reps), alpha, iter_max)
    zcrit = stats.norm.isf(alpha / 2)
    k = len(plan.keys)
    G = len(ns)
    acc = {
        "conv": np.zeros(G, dtype=int), "nonconv": np.zeros(G, dtype=int),
        "failed": np.zeros(G, dtype=int), "improper": np.zeros(G, dtype=int),
        "sum": np.zeros((G, k)), "sum2": np.zeros((G, k)), "reject": np.zeros((G, k)),
        "cover": np.zeros((G, k)), "se": np.zeros((G, k)), "valid": np.zeros((G, k)),
        "chisq_reject": np.zeros(G), "chisq_valid": np.zeros(G),
    }  # fmt: skip
    failures: list[Counter] = [Counter() for _ in ns]
    for i, (code, est, se, chisq_p, improper, msg) in run_replications(
        task, len(ns) * int(reps), seeds=seeds, n_jobs=n_jobs, scheduler=scheduler,
        progress=progress, desc="power", unit="rep",
    ):  # fmt: skip
        g = i // int(reps)
        if code != OK:
            acc["nonconv" if code == NOT_CONVERGED else "failed"][g] += 1
            failures[g][msg] += 1
            continue
        acc["conv"][g] += 1
        acc["improper"][g] += bool(improper)
        ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
        e = np.where(ok, est, 0.0)
        s = np.where(ok, se, 0.0)
        acc["valid"][g] += ok
        acc["sum"][g] += e
        acc["sum2"][g] += e * e
        acc["se"][g] += s
        acc["reject"][g] += ok & (np.abs(e) > zcrit * s)
        acc["cover"][g] += ok & (np.abs(e - plan.true) <= zcrit * s)
        if np.isfinite(chisq_p):
            acc["chisq_valid"][g] += 1
            acc["chisq_reject"][g] += chisq_p < alpha
    if acc["conv"].sum() == 0:
        reason = next((c.most_common(1)[0][0] for c in failures if c), "unknown")
        raise CkmError(
            f"no replication converged (most common problem: {reason}); check the analysis "
            "model and the population values"
        )
    return _result(plan, ns, int(reps), alpha, acc, failures, root)


def _result(plan, ns, reps, alpha, acc, failures, root) -> PowerResult:
    from ckm_research import __version__

    rows = []
    zcrit = stats.norm.isf(alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g, n in enumerate(ns):
            v = acc["valid"][g]
            mean = acc["sum"][g] / v
            var = np.clip(acc["sum2"][g] / v - mean**2, 0, None) * v / np.maximum(v - 1, 1)
            ncp = np.abs(plan.true) / (plan.se_unit / math.sqrt(n))
            analytic = stats.norm.sf(zcrit - ncp) + stats.norm.cdf(-zcrit - ncp)
            for j, (lhs, op, rhs) in enumerate(plan.keys):
                rows.append({
                    "n": n, "lhs": lhs, "op": op, "rhs": rhs, "label": plan.labels[j],
                    "true": plan.true[j],
                    "power": acc["reject"][g, j] / v[j],
                    "mean_est": mean[j],
                    "bias": mean[j] - plan.true[j],
                    "coverage": acc["cover"][g, j] / v[j] if np.isfinite(plan.true[j]) else np.nan,
                    "mean_se": acc["se"][g, j] / v[j],
                    "sd_est": math.sqrt(var[j]) if v[j] > 1 else np.nan,
                    "converged": int(v[j]),
                    "power_analytic": float(analytic[j]) if np.isfinite(analytic[j]) else np.nan,
                })  # fmt: skip
    table = pd.DataFrame(rows)
    conv = pd.DataFrame({
        "n": ns, "requested": reps, "converged": acc["conv"], "not_converged": acc["nonconv"],
        "failed": acc["failed"], "improper": acc["improper"],
    })  # fmt: skip
    df = plan.df
    eps = math.sqrt(max(plan.fmin_population / df, 0.0)) if df > 0 else float("nan")
    narr = np.asarray(ns, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mc = acc["chisq_reject"] / acc["chisq_valid"]
    model_test = pd.DataFrame({
        "n": ns,
        "mc_reject_exact_fit": mc,
        "power_exact_fit": _exact_power(narr, df, eps, alpha),
        "power_close_fit": rmsea_power(narr, df, 0.05, 0.08, alpha),
        "power_not_close_fit": rmsea_power(narr, df, 0.05, 0.01, alpha),
    })  # fmt: skip
    grid = np.unique(np.linspace(max(10, min(ns) // 2), max(ns) * 1.5, 60).astype(int))
    curve = pd.DataFrame({
        "n": grid,
        "power_exact_fit": _exact_power(grid.astype(float), df, eps, alpha),
        "power_close_fit": rmsea_power(grid, df, 0.05, 0.08, alpha),
        "power_not_close_fit": rmsea_power(grid, df, 0.05, 0.01, alpha),
    })  # fmt: skip
    settings = {
        "population": plan.population.text,
        "analysis": plan.analysis_text,
        "fitted_syntax": plan.fit_text,
        "estimator": plan.estimator,
        "interaction": plan.interaction,
        "n": ns,
        "reps": reps,
        "alpha": alpha,
        "seed": int(root.entropy),
        "df": df,
        "rmsea_population": eps,
        "population_defaults_zero": list(plan.population.defaults),
        "test": "Wald z test, two-sided; coverage of the 1 - alpha Wald interval",
        "ckm_research": __version__,
    }
    return PowerResult(
        table=table, convergence=conv, model_test=model_test,
        failures={n: dict(c.most_common()) for n, c in zip(ns, failures, strict=True)},
        settings=settings, analytic_curve=curve,
    )  # fmt: skip


def _exact_power(n, df, eps, alpha):
    if not df > 0:
        return np.full(np.shape(n), np.nan)
    if eps <= 0:
        return np.full(np.shape(n), alpha)
    return rmsea_power(n, df, 0.0, eps, alpha)
