"""A population model in lavaan syntax: exact moments and simulated samples.

Fixed values in the syntax are the population values (``F =~ 0.7*x1``,
``Y ~ 0.3*X + 0.2*X:Z``, ``x1 ~~ 0.51*x1``).  Every variance must be given;
covariances and intercepts that are not written are 0 (a latent product term's
moderators must have mean 0).

Without product terms the observed variables are multivariate normal with the
RAM moments :math:`\\Sigma = F E S E^\\top F^\\top`, :math:`\\mu = F E m`
(:mod:`ckm_research.sem.model`).  A latent product term ``Y ~ w*X:Z`` adds the
centred product :math:`P = XZ - E[XZ]` of the two latent variables as a cause
of ``Y`` (Kenny & Judd, 1984; Klein & Moosbrugger, 2000), never a product of
indicators.  Writing :math:`v = E(u + A_P P)` with :math:`u \\sim N(m, S)` and
:math:`A_P` the paths from products, and :math:`C = E S E^\\top` the covariance
of the linear part, the exact moments follow from Isserlis' theorem for the
jointly normal linear parts (third moments vanish, so a product is uncorrelated
with every linear term):

.. math::

    \\operatorname{Cov}(X_kZ_k, X_lZ_l) = C_{X_kX_l}C_{Z_kZ_l} + C_{X_kZ_l}C_{Z_kX_l},
    \\qquad \\operatorname{Cov}(v) = C + B\\,\\operatorname{Cov}(P)\\,B^\\top,
    \\; B = E A_P .

The same identity gives the moments of double-mean-centred product indicators
:math:`(x_j - \\bar x_j)(z_k - \\bar z_k)` of an analysis model (Lin et al., 2010),
so the population ("pseudo-true") values of any analysis model are obtained by
fitting it to exact moments.  Products of variables that themselves depend on a
product would need higher moments and are refused.

In R: ``lavaan::simulateData(model, sample.nobs = n)`` (without product terms).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckm_research.errors import ModelSpecificationError
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import ParTable, build_partable, variable_roles
from ckm_research.sem.syntax import ParsedModel, parse_model

__all__ = ["PopulationModel", "freed_syntax", "population_from_fit"]


def _fmt_row(lhs, op, rhs) -> str:
    return f"{lhs} ~ 1" if op == "~1" else f"{lhs} {op} {rhs}"


def freed_syntax(model: str | ParsedModel) -> str:
    """The analysis model of a population model: the same statements with every
    fixed value freed (labels kept), so lavaan's defaults identify it (first
    loadings fixed at 1).

    Examples
    --------
    >>> print(freed_syntax("F =~ 0.7*x1 + 0.7*x2 + 0.6*x3\\nF ~~ 1*F\\ny ~ b*0.3*F"))
    F =~ x1 + x2 + x3
    F ~~ F
    y ~ b*F

    The residual variance of a single-indicator factor's item is not estimable, so
    it keeps its population value:

    >>> print(freed_syntax("F =~ 1*x1\\nx1 ~~ 0*x1\\nF ~~ 2*F"))
    F =~ x1
    x1 ~~ 0.0*x1
    F ~~ F
    """
    parsed = parse_model(model) if isinstance(model, str) else model
    lines: list[str] = []
    current: tuple | None = None
    terms: list[str] = []
    # the residual variance of a single-indicator factor's indicator is not estimable:
    # it stays as the population fixes it (lavaan's default fixes it at 0)
    indicators: dict[str, list[str]] = {}
    for s in parsed.statements:
        if s.op == "=~":
            indicators.setdefault(s.lhs, []).append(s.rhs)
    single = {items[0] for items in indicators.values() if len(items) == 1}

    def flush():
        if current is not None:
            lhs, op = current
            rhs = " + ".join(terms)
            lines.append(f"{lhs} ~ {rhs}" if op == "~1" else f"{lhs} {op} {rhs}")

    for s in parsed.statements:
        if len({m.label for m in s.modifiers}) > 1 or len(s.modifiers) > 1:
            raise ModelSpecificationError(
                f"the population model gives per-group values (c(...)) for '{s.lhs} {s.op} "
                f"{s.rhs}'; multiple-group populations are not supported"
            )
        label = s.modifiers[0].label if s.modifiers else None
        rhs = "1" if s.op == "~1" else s.rhs
        term = f"{label}*{rhs}" if label else rhs
        fixed = s.modifiers[0].fixed if s.modifiers else None
        if s.op == "~~" and s.lhs == s.rhs and s.lhs in single and fixed is not None:
            term = f"{fixed!r}*{rhs}"
        key = (s.lhs, s.op)
        if key != current:
            flush()
            current, terms = key, []
        terms.append(term)
    flush()
    for c in parsed.constraints:
        lines.append(f"{c.lhs} {c.op} {c.rhs}")
    for d in parsed.definitions:
        lines.append(f"{d.name} := {d.expression}")
    return "\n".join(lines)


@dataclass(frozen=True)
class _Product:
    term: str
    left: int  # positions in the model's variables
    right: int


class PopulationModel:
    """A population model written in lavaan syntax.

    Parameters
    ----------
    model : str
        lavaan syntax whose fixed values are the population values.

    Attributes
    ----------
    ov : tuple of str
        The observed variables, in the order of :meth:`simulate`'s columns.
    table : pandas.DataFrame
        The parameter table with the population value of every row (``value``).
    defaults : list of str
        Rows not written in the syntax that were set to 0 (covariances,
        intercepts).

    Raises
    ------
    ModelSpecificationError
        A parameter (a loading, path or variance) has no value, the model has
        thresholds or groups, or a product term involves a variable that
        depends on a product.

    Examples
    --------
    >>> pop = PopulationModel("F =~ 0.8*x1 + 0.7*x2 + 0.6*x3\\nF ~~ 1*F\\n"
    ...                       "x1 ~~ 0.36*x1\\nx2 ~~ 0.51*x2\\nx3 ~~ 0.64*x3")
    >>> float(pop.covariance().round(2).loc["x1", "x2"])
    0.56
    """

    def __init__(self, model: str):
        parsed = parse_model(model)
        self.text = model
        self.parsed = parsed
        if any(s.op == "|" for s in parsed.statements):
            raise ModelSpecificationError(
                "the population model has thresholds ('|'); simulating ordinal items is not "
                "supported yet: give continuous population values and analyse with ML or MLR"
            )
        freed_syntax(parsed)  # refuses per-group values
        roles = variable_roles(parsed)
        meanstructure = any(s.op == "~1" for s in parsed.statements)
        pt = build_partable(parsed, meanstructure=meanstructure, fixed_x=False)
        t = pt.table.copy()
        values = t["ustart"].to_numpy(dtype=float).copy()
        free = t["free"].to_numpy() > 0
        missing, self.defaults = [], []
        ops, lhs, rhs, user = (t[c].to_numpy() for c in ("op", "lhs", "rhs", "user"))
        for r in np.flatnonzero(free | np.isnan(values)):
            if (ops[r] == "~~" and lhs[r] != rhs[r]) or ops[r] == "~1":
                if user[r]:
                    missing.append(_fmt_row(lhs[r], ops[r], rhs[r]))
                else:
                    values[r] = 0.0
                    self.defaults.append(_fmt_row(lhs[r], ops[r], rhs[r]))
            else:
                missing.append(_fmt_row(lhs[r], ops[r], rhs[r]))
        if missing:
            raise ModelSpecificationError(
                "the population model must give the value of every parameter (fixed values are "
                "the population values, e.g. 0.7*x1, y ~~ 0.5*y); no value for: "
                + ", ".join(missing[:12])
                + (" ..." if len(missing) > 12 else "")
            )
        t["value"] = values
        self.table = t
        is_prod = (t["op"] == "~") & t["rhs"].str.contains(":", regex=False)
        lin = t[~is_prod].copy()
        lin["free"] = 0
        lin["ustart"] = lin["value"]
        lin_pt = ParTable(
            table=lin.drop(columns="value").reset_index(drop=True),
            roles=dataclasses.replace(roles, interactions=()),
            ngroups=1,
            definitions=pt.definitions,
            constraints=pt.constraints,
            meanstructure=meanstructure,
            std_lv=False,
        )
        self.model = RAMModel(lin_pt)
        self.ov = self.model.ov
        self.lv = self.model.lv
        self.variables = self.model.variables
        pos = {v: i for i, v in enumerate(self.variables)}
        A, S, m = self.model.matrices(np.zeros(0), 0)
        E = self.model.total_effects_inverse(A)
        self._E, self._S = E, S
        self._mean = E @ m
        self._C = E @ S @ E.T  # covariance of the linear part
        # product terms
        terms: dict[str, _Product] = {}
        for r in np.flatnonzero(is_prod.to_numpy()):
            term = rhs[r]
            if term not in terms:
                a, b = term.split(":")
                for v in (a, b):
                    if v not in pos:
                        raise ModelSpecificationError(
                            f"the product term {term} names '{v}', which the model does not define"
                        )
                terms[term] = _Product(term, pos[a], pos[b])
        self.products = tuple(terms.values())
        A_P = np.zeros((len(self.variables), len(self.products)))
        index = {p.term: k for k, p in enumerate(self.products)}
        for r in np.flatnonzero(is_prod.to_numpy()):
            A_P[pos[lhs[r]], index[rhs[r]]] += values[r]
        self._B = E @ A_P
        self._depends = np.abs(self._B).sum(axis=1) > 0  # variables a product affects
        for p in self.products:
            for v in (p.left, p.right):
                if self._depends[v]:
                    raise ModelSpecificationError(
                        f"in the product term {p.term}, '{self.variables[v]}' itself depends on "
                        "a product term; products of such variables are not supported"
                    )
                if abs(self._mean[v]) > 1e-12:
                    raise ModelSpecificationError(
                        f"in the product term {p.term}, '{self.variables[v]}' has a non-zero "
                        "mean; give the members of product terms mean 0"
                    )
        ev = np.linalg.eigvalsh(S)
        if ev.min() < -1e-10 * max(1.0, ev.max()):
            raise ModelSpecificationError(
                "the population (residual) covariance matrix is not positive semi-definite "
                f"(smallest eigenvalue {ev.min():.3g}); check the variances and covariances"
            )
        self._sqrt_S = _psd_sqrt(S)
        cov = self._full_cov()
        self._obs_cov = cov[: len(self.ov), : len(self.ov)]
        self._obs_sqrt = _psd_sqrt(self._obs_cov)

    # ---------------------------------------------------------------- moments
    def _prod_cov(self, k: int, j: int) -> float:
        C, pk, pl = self._C, self.products[k], self.products[j]
        return C[pk.left, pl.left] * C[pk.right, pl.right] + C[pk.left, pl.right] * C[
            pk.right, pl.left
        ]

    def _full_cov(self) -> np.ndarray:
        K = len(self.products)
        if not K:
            return self._C
        CP = np.array([[self._prod_cov(k, j) for j in range(K)] for k in range(K)])
        return self._C + self._B @ CP @ self._B.T

    def covariance(self, latent: bool = False) -> pd.DataFrame:
        """Population covariance matrix of the observed (and latent) variables."""
        cov = self._full_cov()
        names = self.variables if latent else self.ov
        k = len(names)
        return pd.DataFrame(cov[:k, :k], index=names, columns=names)

    def mean(self) -> pd.Series:
        """Population means of the observed variables."""
        return pd.Series(self._mean[: len(self.ov)], index=self.ov)

    def moments(self, names, products: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact covariance matrix and means of observed variables and of
        double-mean-centred product indicators.

        Parameters
        ----------
        names : sequence of str
            Observed variables of the population model, or product indicators
            listed in ``products``.
        products : dict, optional
            Product indicator name -> the two observed variables it multiplies.

        Returns
        -------
        (ndarray, ndarray)
            Covariance matrix (population, i.e. divisor N) and mean vector.
        """
        products = products or {}
        pos = {v: i for i, v in enumerate(self.ov)}
        C, B = self._C, self._B
        K = len(self.products)
        CP = (
            np.array([[self._prod_cov(k, j) for j in range(K)] for k in range(K)])
            if K
            else np.zeros((0, 0))
        )
        full = C + B @ CP @ B.T if K else C
        spec = []
        for v in names:
            if v in products:
                a, b = products[v]
                for w in (a, b):
                    if w not in pos:
                        raise ModelSpecificationError(
                            f"the product indicator {v} multiplies '{w}', which the population "
                            "model does not have"
                        )
                    if self._depends[pos[w]]:
                        raise ModelSpecificationError(
                            f"the product indicator {v} multiplies '{w}', which depends on a "
                            "product term; its moments are not available"
                        )
                spec.append(("p", pos[a], pos[b]))
            elif v in pos:
                spec.append(("v", pos[v], -1))
            else:
                raise ModelSpecificationError(
                    f"the analysis model uses '{v}', which the population model does not have"
                )
        n = len(spec)
        cov = np.zeros((n, n))
        mean = np.zeros(n)
        for i, (ki, a, b) in enumerate(spec):
            if ki == "v":
                mean[i] = self._mean[a]
            for j in range(i + 1):
                kj, c, d = spec[j]
                if ki == "v" and kj == "v":
                    val = full[a, c]
                elif ki == "p" and kj == "p":
                    val = C[a, c] * C[b, d] + C[a, d] * C[b, c]
                else:
                    (pa, pb), vi = ((a, b), c) if ki == "p" else ((c, d), a)
                    val = 0.0
                    for k, p in enumerate(self.products):
                        if B[vi, k] != 0.0:
                            val += B[vi, k] * (
                                C[pa, p.left] * C[pb, p.right] + C[pa, p.right] * C[pb, p.left]
                            )
                cov[i, j] = cov[j, i] = val
        return cov, mean

    # -------------------------------------------------------------- samples
    def simulate_array(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` cases of the observed variables (columns in :attr:`ov` order)."""
        p = len(self.ov)
        if not self.products:
            z = rng.standard_normal((n, p))
            return z @ self._obs_sqrt.T + self._mean[:p]
        nv = len(self.variables)
        u = rng.standard_normal((n, nv)) @ self._sqrt_S.T
        lin = u @ self._E.T + self._mean
        prods = np.empty((n, len(self.products)))
        for k, pr in enumerate(self.products):
            mean_k = self._C[pr.left, pr.right] + self._mean[pr.left] * self._mean[pr.right]
            prods[:, k] = lin[:, pr.left] * lin[:, pr.right] - mean_k
        v = lin + prods @ self._B.T
        return v[:, :p]

    def simulate(self, n: int, random_state=None) -> pd.DataFrame:
        """A simulated sample as a DataFrame (``random_state``: seed or Generator)."""
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(random_state)
        )
        return pd.DataFrame(self.simulate_array(int(n), rng), columns=list(self.ov))


def _psd_sqrt(S: np.ndarray) -> np.ndarray:
    """A square root ``L`` with ``L L' = S`` (Cholesky, or eigen for singular S)."""
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(S)
        return V * np.sqrt(np.clip(w, 0, None))


def population_from_fit(results, *, digits: int = 10) -> str:
    """A population model whose values are a fit's estimates, product terms included.

    Every loading, regression, (co)variance and intercept of ``results`` becomes a
    fixed value with its label kept (``M ~ a*0.5935*X``), the latent product terms
    ``Y ~ b3*0.3361*M:W`` of a ``"dblcent"`` or ``"lms"`` fit stay product terms
    (the product factor of the product-indicator fit, its indicators and their
    residual (co)variances are left out: the population forms the product of the
    latent variables itself), and the ``:=`` definitions of the fitted model are
    appended, so :func:`~ckm_research.inference.power.power_analysis` of it reports
    the power of the interactions and of, e.g., the index of moderated mediation
    (``imm := a*b3``) with the study's estimates as the population values.

    A fit with a mean structure (FIML, ``meanstructure=True``) gives the observed
    variables' intercepts (``x1 ~ 4.01*1``), so samples drawn from the population
    have the fitted means; the latent means the fit fixed at 0 (lavaan's default)
    are not written (0 is the population's default too), so that the freed model
    (:func:`freed_syntax`, the default analysis model of
    :func:`~ckm_research.inference.power.power_analysis`) keeps them fixed and is
    identified, as the fitted model was.

    Parameters
    ----------
    results : SEMResults
        A single-group fit (any estimator; with or without product terms).
    digits : int
        Significant digits of the values.

    Returns
    -------
    str
        lavaan syntax for :class:`PopulationModel`; its freed version
        (:func:`freed_syntax`) is the fitted model with the same labels.

    Raises
    ------
    ModelSpecificationError
        For multiple-group fits, ordinal fits (thresholds) and fits without a model.

    Examples
    --------
    >>> from ckm_research import fit
    >>> from ckm_research.data.examples import load_dataset
    >>> from ckm_research.inference.power import power_analysis
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit(model, load_dataset("oneInt"), interaction="dblcent")
    >>> pop = population_from_fit(res, digits=3)
    >>> print(pop)
    X =~ 1*x1 + 0.829*x2 + 0.901*x3
    Z =~ 1*z1 + 0.81*z2 + 0.849*z3
    Y =~ 1*y1 + 0.799*y2 + 0.902*y3
    Y ~ 0.611*X + 0.637*Z + 0.697*X:Z
    x1 ~~ 0.17*x1
    ...
    X ~~ 0.256*Z
    >>> pw = power_analysis(pop, [40], 20, analysis=res.model_text, random_state=1,
    ...                     n_jobs=1, progress=False)
    >>> pw.table.query("op == '~'")[["n", "lhs", "rhs", "true", "power", "converged"]]
        n lhs  rhs   true  power  converged
    6  40   Y    X  0.611   0.80         20
    7  40   Y    Z  0.637   0.85         20
    8  40   Y  X:Z  0.697   0.85         20

    (20 replications of n = 40 only to keep the example quick: use 1000 or more
    at the sample sizes of interest.)

    In R: ``lavaan::simulateData(parTable(fit))`` for models without product terms.
    """
    est = results.estimates
    if "group" in est.columns and est["group"].nunique() > 1:
        raise ModelSpecificationError(
            "a population from a multiple-group fit is not supported; fit each group"
        )
    if (est["op"] == "|").any():
        raise ModelSpecificationError(
            "a population from an ordinal fit (thresholds) is not supported"
        )
    inter = (results.notes or {}).get("interaction") or {}
    skip: set[str] = set()
    for spec in (inter.get("terms") or {}).values():
        skip.add(spec["factor"])
        skip.update(spec["products"])
    # the means of latent variables that the fit fixed at 0 (lavaan's default) are left
    # out: 0 is the population's default, and written as values they would be freed by
    # freed_syntax(), whose analysis model (free intercepts and free latent means) is
    # not identified; the intercepts of the observed variables are kept, so samples
    # drawn from the population have the fitted means
    latent = set(est.loc[est["op"] == "=~", "lhs"])
    lines: list[str] = []
    current = None
    for r in est[est["op"].isin(["=~", "~", "~~", "~1"])].itertuples(index=False):
        if r.lhs in skip or r.rhs in skip:
            continue
        if r.op == "~1" and r.lhs in latent and float(r.est) == 0.0 and float(r.se) == 0.0:
            continue
        op = "~" if r.op == "~1" else r.op
        label = str(r.label) if isinstance(r.label, str) and r.label else ""
        value = f"{float(r.est):.{digits}g}"
        rhs = "1" if r.op == "~1" else r.rhs
        term = f"{label}*{value}*{rhs}" if label else f"{value}*{rhs}"
        if (r.lhs, op) == current and r.op != "~1":
            lines[-1] += f" + {term}"
        else:
            lines.append(f"{r.lhs} {op} {term}")
            current = (r.lhs, op) if r.op != "~1" else None
    if results.model_text:
        for d in parse_model(results.model_text).definitions:
            lines.append(f"{d.name} := {d.expression}")
    return "\n".join(lines) + "\n"
