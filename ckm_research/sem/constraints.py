"""General model constraints: linear and nonlinear equalities, inequalities.

lavaan syntax lets a model constrain its labelled parameters (and its ``:=``
parameters): ``a + b == 2``, ``a == 1.2*b``, ``c == 1.25``, ``a*b == c``,
``ab := a*b; ab == 0.3``, ``v > 0.5``, ``a < b``.  ``a == b`` between two
labels is handled by the parameter table (one shared free parameter,
:func:`ckm_research.sem.partable.is_simple_equality`); every other
constraint is applied here, for ML and MLR with complete data and with FIML
(``missing = "ml"``), as lavaan 0.6.14 does (WLSMV refuses them):

Estimation
    Linear equalities :math:`H\\theta + c = 0` are removed by
    reparameterisation, :math:`\\theta = k_0 + Zx` with :math:`Z` an
    orthonormal basis of the null space of :math:`H` and :math:`k_0` a
    particular solution (lavaan's ``eq.constraints.K`` / ``eq.constraints.k0``,
    ``lav_constraints.R``; Nocedal & Wright, 2006, section 15.3).  The ML
    discrepancy is minimised over :math:`x` by ``scipy.optimize.minimize``:
    ``trust-exact`` with the analytic gradient :math:`Z^\\top g` and the
    expected information :math:`2Z^\\top I Z` as Hessian, i.e. Fisher scoring
    inside a trust region.  A trust region, rather than the engine's step
    halving, rejects trial points whose implied covariance matrix is not
    positive definite (the discrepancy is infinite there) without special code.
    Nonlinear equalities and inequalities (which lavaan fits with its
    augmented-Lagrangian ``nlminb.constr``) are handled by scipy's
    ``trust-constr`` (Byrd-Omojokun SQP for equalities, an interior point
    method for inequalities; Conn, Gould & Toint, 2000) in the same reduced
    space, with the same analytic gradient and information, started from the
    solution under the linear equalities.  scipy's tested constrained
    optimisers are preferred to a hand-written augmented Lagrangian: the
    estimates are the constrained optimum whichever method reaches it.

Inference
    The covariance matrix of the estimates is that of the constrained model:
    lavaan inverts the bordered information
    :math:`\\begin{pmatrix} I + H^\\top H & H^\\top \\\\ H & 0\\end{pmatrix}`
    and keeps its top-left block (``lav_model_information_augment_invert``),
    with :math:`H` the Jacobian of the equality constraints and of the
    inequality constraints active at the solution (within lavaan's slack
    :math:`10^{-5}`).  For :math:`H` of full row rank that block equals
    :math:`Z_a(Z_a^\\top I Z_a)^{-1}Z_a^\\top`, with :math:`Z_a` a basis of
    the null space of :math:`H` (Silvey, 1959; Aitchison & Silvey, 1958),
    which is computed here; for MLR :math:`I^{-1}` is replaced by it in the
    sandwich and in the Yuan-Bentler trace, under FIML also in the
    FIML-corrected robust measures.  FIML minimises :math:`-\\ell/N` the same
    way, with the observed information for the SEs.  A parameter fixed by a
    constraint (``c == 1.25``, or an active bound) gets standard error 0.
    Degrees of freedom grow by the rank of the equality constraints' Jacobian
    and ``npar`` (AIC, BIC) shrinks by it (lavaan's ``lav_model_test`` and
    ``lav_utils_get_npar``); inequality constraints, active or not, change
    neither, as in lavaan.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize

from ckm_research.errors import ConvergenceError, IdentificationError, ModelSpecificationError
from ckm_research.numerics import numerical_jacobian
from ckm_research.sem.fiml import FIMLEngine
from ckm_research.sem.ml import MLEngine, _safe_start, ml_discrepancy, ml_information, start_values
from ckm_research.sem.partable import ParTable, is_simple_equality
from ckm_research.sem.syntax import evaluate_definitions

__all__ = [
    "ACTIVE_SLACK",
    "ConstrainedFIMLEngine",
    "ConstrainedMLEngine",
    "ModelConstraints",
    "constrained_inverse",
    "general_constraints",
]

_FUNCTIONS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": abs, "pi": np.pi}

#: an inequality constraint is active when its value is at most this (lavaan's ``slack``)
ACTIVE_SLACK = 1e-5


def general_constraints(pt: ParTable) -> tuple:
    """The constraints of a parameter table other than ``a == b`` between labels."""
    labels = set(pt.table["label"][pt.table["label"] != ""])
    return tuple(c for c in pt.constraints if not is_simple_equality(c, labels))


def _text(c) -> str:
    return f"{c.lhs} {c.op} {c.rhs}"


class ModelConstraints:
    """The general constraints of a model as functions of the free parameters.

    Equalities ``lhs == rhs`` are written :math:`h(\\theta) = lhs - rhs = 0`,
    inequalities ``lhs > rhs`` as :math:`lhs - rhs \\ge 0` and ``lhs < rhs``
    as :math:`rhs - lhs \\ge 0` (lavaan's ``ceq.function`` / ``cin.function``;
    ``<=`` and ``>=`` mean the same as ``<`` and ``>``).  Expressions may use
    parameter labels, ``:=`` parameters, numbers and ``exp log sqrt abs``.

    Parameters
    ----------
    pt : ParTable
    model : RAMModel
    """

    def __init__(self, pt: ParTable, model):
        self.pt = pt
        self.model = model
        items = general_constraints(pt)
        self.eq = tuple(c for c in items if c.op == "==")
        self.ineq = tuple(c for c in items if c.op != "==")
        self.items = self.eq + self.ineq
        self.is_eq = np.arange(len(self.items)) < len(self.eq)
        labels = pt.table["label"].to_numpy()
        self._labels = labels
        first: dict[str, int] = {}
        for i, lab in enumerate(labels):
            if lab and lab not in first:
                first[lab] = i
        self._first = first
        self._codes = [self._compile(c) for c in self.items]
        self.linear: np.ndarray | None = None
        self._jac_linear: np.ndarray | None = None

    def __bool__(self) -> bool:
        return bool(self.items)

    def _compile(self, c):
        expr = f"({c.rhs}) - ({c.lhs})" if c.op == "<" else f"({c.lhs}) - ({c.rhs})"
        try:
            code = compile(expr.replace("^", "**"), "<constraint>", "eval")
        except SyntaxError as exc:
            raise ModelSpecificationError(
                f"cannot read the constraint '{_text(c)}' (line {c.line}): {exc.msg}"
            ) from None
        known = set(self._first) | {d.name for d in self.pt.definitions} | set(_FUNCTIONS)
        for name in code.co_names:
            if name not in known:
                raise ModelSpecificationError(
                    f"the constraint '{_text(c)}' (line {c.line}) uses '{name}', which is "
                    "neither a parameter label nor a defined (:=) parameter; label the "
                    "parameter in the model (e.g. a*x)"
                )
        return code

    def _env(self, theta: np.ndarray) -> dict[str, float]:
        vals = self.model.row_values(theta)
        env = {lab: float(vals[i]) for lab, i in self._first.items()}
        defs = self.pt.definitions
        if defs:
            values = evaluate_definitions(defs, self._labels, vals)
            env.update(zip([d.name for d in defs], values, strict=True))
        env.update(_FUNCTIONS)
        return env

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Values of all constraints, the equalities first (0 when met), then
        the inequalities (:math:`\\ge 0` when met)."""
        env = self._env(theta)
        out = np.empty(len(self.items))
        for k, (c, code) in enumerate(zip(self.items, self._codes, strict=True)):
            try:
                out[k] = float(eval(code, {"__builtins__": {}}, env))  # noqa: S307
            except (ZeroDivisionError, ValueError, OverflowError, TypeError) as exc:
                raise ModelSpecificationError(
                    f"cannot evaluate the constraint '{_text(c)}' (line {c.line}): {exc}"
                ) from None
        return out

    def ceq(self, theta: np.ndarray) -> np.ndarray:
        """Values :math:`h(\\theta)` of the equality constraints (0 when met)."""
        return self.values(theta)[self.is_eq]

    def cin(self, theta: np.ndarray) -> np.ndarray:
        """Values of the inequality constraints (:math:`\\ge 0` when met)."""
        return self.values(theta)[~self.is_eq]

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Jacobian of :meth:`values` by central differences; the rows of
        linear constraints are computed once."""
        q = len(theta)
        if self.linear is None or not self.linear.all():
            jac = numerical_jacobian(self.values, theta).reshape(len(self.items), q)
        if self.linear is None:
            return jac
        if self._jac_linear is None:
            self._jac_linear = numerical_jacobian(self.values, theta).reshape(len(self.items), q)
        if self.linear.all():
            return self._jac_linear.copy()
        jac[self.linear] = self._jac_linear[self.linear]
        return jac

    def ceq_jacobian(self, theta: np.ndarray) -> np.ndarray:
        return self.jacobian(theta)[self.is_eq]

    def cin_jacobian(self, theta: np.ndarray) -> np.ndarray:
        return self.jacobian(theta)[~self.is_eq]

    def find_linear(self, theta: np.ndarray) -> np.ndarray:
        """Which constraints are linear: their Jacobian is the same at ``theta``
        and at a perturbed point (as lavaan's ``lav_constraints_linear_idx``)."""
        rng = np.random.default_rng(20231)
        other = theta + rng.normal(scale=0.1, size=len(theta)) * np.maximum(1.0, np.abs(theta))
        j0, j1 = self.jacobian(theta), self.jacobian(other)
        self.linear = np.all(np.abs(j0 - j1) <= 1e-6 * np.maximum(1.0, np.abs(j0)), axis=1)
        return self.linear

    def active_jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Jacobian of the equality and the active inequality constraints at
        ``theta``, and the mask of the active inequalities."""
        active = self.cin(theta) <= ACTIVE_SLACK
        keep = self.is_eq.copy()
        keep[~self.is_eq] = active
        return self.jacobian(theta)[keep], active


def _null_space(H: np.ndarray, q: int) -> np.ndarray:
    """Orthonormal basis of the null space of ``H`` (identity without rows);
    entries below 1e-12 are set to 0 so that a parameter a constraint fixes
    has an exact zero row (standard error exactly 0, as lavaan's)."""
    if H.shape[0] == 0:
        return np.eye(q)
    Z = linalg.null_space(H, rcond=1e-10)
    Z[np.abs(Z) < 1e-12] = 0.0
    return Z


def constrained_inverse(info: np.ndarray, H: np.ndarray) -> np.ndarray:
    """:math:`Z(Z^\\top I Z)^{-1}Z^\\top`, the top-left block of the inverse of
    lavaan's bordered information (``lav_model_information_augment_invert``)."""
    Z = _null_space(H, info.shape[0])
    reduced = Z.T @ info @ Z
    if reduced.size and np.linalg.cond(reduced) > 1e12:
        raise IdentificationError(
            "the information matrix of the constrained model is singular at the solution: "
            "the model is not identified under its constraints. Fix a loading or a variance "
            "to set each factor's scale, or check the constraints."
        )
    return Z @ np.linalg.solve(reduced, Z.T) if reduced.size else np.zeros_like(info)


class _ConstrainedFit:
    """The constrained estimation and inference shared by the ML and FIML
    engines; an engine supplies :meth:`_objective` (a discrepancy per case and
    its gradient) and :meth:`_hessian` (its expected information)."""

    def _setup_constraints(self):
        self.constraints = ModelConstraints(self.pt, self.model)
        moments = [gd.moments for gd in self.groups]
        self._start = start_values(self.model, moments)
        # the generic rank (a*b == c has a zero Jacobian row where a = b = 0); the
        # rank at the solution replaces it after the fit
        rng = np.random.default_rng(7)
        other = self._start + rng.normal(scale=0.1, size=len(self._start))
        self._neq = max(self._eq_rank(self._start), self._eq_rank(other))
        self._H_active = None

    def _objective(self, theta: np.ndarray):
        raise NotImplementedError

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _eq_rank(self, theta: np.ndarray) -> int:
        if not self.constraints.eq:
            return 0
        return int(np.linalg.matrix_rank(self.constraints.ceq_jacobian(theta), tol=1e-8))

    def npar(self) -> int:
        """Free parameters less the rank of the equality constraints (lavaan's
        ``npar`` in ``fitMeasures``, used for df, AIC and BIC)."""
        return self.model.n_free - self._neq

    # estimation --------------------------------------------------------------
    def _values(self, theta: np.ndarray) -> np.ndarray:
        return self.constraints.values(theta)

    def _jacobian(self, theta: np.ndarray) -> np.ndarray:
        return self.constraints.jacobian(theta)

    def _linear_space(self, theta0: np.ndarray, rows: np.ndarray):
        """``k0, Z`` such that ``k0 + Z x`` meets the linear constraints ``rows``
        (held as equalities) exactly, for every ``x``."""
        q = len(theta0)
        if not rows.any():
            return np.zeros(q), np.eye(q)
        H = self._jacobian(theta0)[rows]
        c = self._values(theta0)[rows] - H @ theta0
        k0 = np.linalg.lstsq(H, -c, rcond=None)[0]
        if np.max(np.abs(H @ k0 + c)) > 1e-8 * max(1.0, np.max(np.abs(c))):
            texts = [_text(e) for e, r in zip(self._all, rows, strict=True) if r]
            raise ModelSpecificationError(
                "the linear equality constraints contradict each other: no parameter values "
                "meet all of " + "; ".join(texts)
            )
        return k0, _null_space(H, q)

    def _solve(self, start: np.ndarray, equal: np.ndarray, inequal: np.ndarray):
        """Minimise the engine's objective with the constraints ``equal`` held as
        equalities and ``inequal`` as inequalities (masks over :meth:`_values`),
        from ``start``.  Returns ``theta`` and the number of iterations."""
        model = self.model
        moments = [gd.moments for gd in self.groups]
        k0, Z = self._linear_space(start, equal & self._linear)
        nonlin = equal & ~self._linear

        def theta_of(x):
            return k0 + Z @ x

        def fun(x):
            f, g = self._objective(theta_of(x))
            if not np.isfinite(f):
                return np.inf, np.zeros(len(x))
            return f, Z.T @ g

        def hess(x, *_):
            return Z.T @ self._hessian(theta_of(x)) @ Z

        x0 = None
        for guess in (start, _safe_start(model, moments)):
            x = Z.T @ (guess - k0)
            if np.isfinite(fun(x)[0]):
                x0 = x
                break
        if x0 is None:
            raise ConvergenceError(
                "the starting values, moved onto the linear equality constraints, give a "
                "non-positive-definite implied covariance matrix; give starting values with "
                "start() in the model syntax"
            )
        if not nonlin.any() and not inequal.any():
            res = optimize.minimize(
                fun,
                x0,
                jac=True,
                hess=hess,
                method="trust-exact",
                options={"gtol": 1e-10, "maxiter": self.opts.iter_max},
            )
            if not np.isfinite(res.fun) or (not res.success and np.max(np.abs(res.jac)) > 1e-6):
                raise ConvergenceError(
                    "maximum likelihood estimation under the linear equality constraints did "
                    f"not converge ({res.message}). Check the constraints and the model for "
                    "Heywood cases, or give starting values with start()."
                )
            return theta_of(res.x), int(res.nit)
        scipy_cons = []
        for mask, upper in ((nonlin, 0.0), (inequal, np.inf)):
            if not mask.any():
                continue

            def values(x, mask=mask):
                return self._values(theta_of(x))[mask]

            def jac(x, mask=mask):
                return self._jacobian(theta_of(x))[mask] @ Z

            scipy_cons.append(optimize.NonlinearConstraint(values, 0.0, upper, jac=jac))
        with warnings.catch_warnings():
            # quasi-Newton updates of linear constraints' Hessians (zero) warn; harmless
            warnings.filterwarnings("ignore", message="delta_grad == 0.0", category=UserWarning)
            res = optimize.minimize(
                fun,
                x0,
                jac=True,
                hess=lambda x: hess(x),
                method="trust-constr",
                constraints=scipy_cons,
                # with inequalities this stage only finds the active set (a solve
                # on it follows), so the interior point's default tolerances do
                options={
                    "gtol": 1e-8 if inequal.any() else 1e-10,
                    "xtol": 1e-10 if inequal.any() else 1e-12,
                    "maxiter": max(1000, 10 * self.opts.iter_max),
                },
            )
        violation = float(getattr(res, "constr_violation", 0.0))
        if not np.isfinite(res.fun) or violation > 1e-6 or res.status not in (1, 2):
            raise ConvergenceError(
                "maximum likelihood estimation under the nonlinear or inequality constraints "
                f"did not converge ({res.message}; constraint violation {violation:.2g}). "
                "Check that the constraints can be met together, or give starting values "
                "with start()."
            )
        return theta_of(res.x), int(res.nit)

    def estimate(self) -> None:
        """In stages, each started from the one before: the linear equalities
        (reparameterised away); all equalities; if that solution breaks an
        inequality, the inequalities too (``trust-constr``), then a final solve
        with the active ones held as equalities, exactly on the boundary."""
        cons = self.constraints
        self._all = cons.eq + cons.ineq
        n_eq, n_in = len(cons.eq), len(cons.ineq)
        is_eq = np.arange(n_eq + n_in) < n_eq
        none = np.zeros(n_eq + n_in, dtype=bool)
        self._linear = cons.find_linear(self._start)
        iterations = 0
        try:
            theta, iterations = self._solve(self._start, is_eq & self._linear, none)
        except ConvergenceError:
            if not (n_in or (is_eq & ~self._linear).any()):
                raise
            theta = self._start
        if (is_eq & ~self._linear).any():
            theta, it = self._solve(theta, is_eq, none)
            iterations += it
        if n_in and np.any(cons.cin(theta) < 0):
            theta, it = self._solve(theta, is_eq, ~is_eq)
            iterations += it
            active = ~is_eq & (self._values(theta) <= ACTIVE_SLACK)
            if active.any():
                theta, it = self._solve(theta, is_eq | active, none)
                iterations += it
                if np.any(cons.cin(theta) < -ACTIVE_SLACK):
                    theta, it = self._solve(theta, is_eq, ~is_eq)
                    iterations += it
        self.theta = theta
        self._finish(theta)
        self.iterations = iterations
        self._neq = self._eq_rank(self.theta)
        self._H_active, active = cons.active_jacobian(self.theta)
        self.extra_json["constraints"] = self._constraint_report(active)

    def _constraint_report(self, active: np.ndarray) -> list[dict]:
        cons = self.constraints
        out = [
            {"constraint": _text(c), "value": float(v), "active": True}
            for c, v in zip(cons.eq, cons.ceq(self.theta), strict=True)
        ]
        if cons.ineq:
            out += [
                {"constraint": _text(c), "value": float(v), "active": bool(a)}
                for c, v, a in zip(cons.ineq, cons.cin(self.theta), active, strict=True)
            ]
        return out

    # inference ---------------------------------------------------------------
    def constrained_inverse(self, info: np.ndarray) -> np.ndarray:
        """Inverse of an information matrix under the constraints active at the
        solution (used for ML, and by :mod:`ckm_research.sem.robust` for MLR)."""
        return constrained_inverse(info, self._H_active)


class ConstrainedMLEngine(_ConstrainedFit, MLEngine):
    """Complete-data ML and MLR with general constraints (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._moments = [gd.moments for gd in self.groups]
        ntot = sum(m.n for m in self._moments)
        self._weights = [m.n / ntot for m in self._moments]
        self._setup_constraints()

    def _objective(self, theta: np.ndarray):
        """The ML discrepancy :math:`\\sum_g (N_g/N) F_g` and its gradient."""
        return ml_discrepancy(self.model, theta, self._moments)

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        return 2.0 * ml_information(self.model, theta, self._weights)

    def _finish(self, theta: np.ndarray) -> None:
        self.fmin = float(ml_discrepancy(self.model, theta, self._moments, gradient=False)[0])

    def vcov(self) -> np.ndarray:
        if self.opts.estimator == "MLR":
            return self.sandwich_vcov()
        return self.constrained_inverse(self.information_expected())


class ConstrainedFIMLEngine(_ConstrainedFit, FIMLEngine):
    """FIML (``missing = "ml"``) with ML or MLR under general constraints: the
    same estimation on :math:`-\\ell(\\theta)/N` with the expected information
    as Hessian, the constrained inverse of the observed information for the
    SEs, the sandwich and the Yuan-Bentler trace, as lavaan."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._weights = [
            float(pat.n_cases) * cov / self.ntotal
            for pat, cov in zip(self.patterns, self.coverage, strict=True)
        ]
        self._setup_constraints()

    def _objective(self, theta: np.ndarray):
        ll = self.loglik(theta)
        if not np.isfinite(ll):
            return np.inf, None
        return -ll / self.ntotal, -self.gradient(theta) / self.ntotal

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        return ml_information(self.model, theta, self._weights)

    def _finish(self, theta: np.ndarray) -> None:
        self.logl = self.loglik(theta)

    def _info_inverse(self) -> np.ndarray:
        if getattr(self, "_ainv", None) is None:
            self._ainv = self.constrained_inverse(self.observed_information())
        return self._ainv
