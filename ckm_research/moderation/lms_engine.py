"""LMS by full-information ML: the mixture likelihood of every missing-data pattern.

Klein & Moosbrugger (2000) write the density of the indicators of a model with
latent product terms as a mixture over the moderators' values :math:`z`
(:mod:`ckm_research.moderation.lms`).  With missing data the density of case
:math:`i` is the same mixture of the normal densities of its *observed*
indicators :math:`x_{i,o}` (the casewise likelihood of Arbuckle, 1996, under
MAR; modsem's LMS with ``missing = "ml"``):

.. math::

    \\ell = \\sum_i \\log \\sum_j w_{ij}\\,
        \\phi\\big(x_{i,o};\\; \\nu_o + \\Lambda_o \\mu_\\eta(z_{ij}),\\;
        \\Lambda_o \\Sigma_\\eta(z_{ij}) \\Lambda_o^\\top + \\Theta_{oo}\\big).

**Latent-space evaluation.**  Only the distribution of the latent variables,
:math:`\\eta \\mid z \\sim N(\\mu_\\eta(z), \\Sigma_\\eta(z))`, depends on the
node; the measurement part :math:`x = \\nu + \\Lambda\\eta + \\varepsilon`,
:math:`\\varepsilon \\sim N(0, \\Theta)`, does not.  By the Woodbury identity
every normal density above is evaluated in the :math:`q` latent dimensions
instead of the :math:`p_o` observed ones: with :math:`G_o =
\\Lambda_o^\\top\\Theta_{oo}^{-1}\\Lambda_o`, :math:`b_i =
\\Lambda_o^\\top\\Theta_{oo}^{-1}\\tilde x_i` (:math:`\\tilde x_i = x_{i,o} -
\\nu_o`), :math:`M = \\Sigma_\\eta^{-1} + G_o` and :math:`h = b_i +
\\Sigma_\\eta^{-1}\\mu_\\eta`,

.. math::

    -2\\log\\phi = p_o\\log 2\\pi + \\log|\\Theta_{oo}| + \\log|\\Sigma_\\eta|
        + \\log|M| + \\tilde x_i^\\top\\Theta_{oo}^{-1}\\tilde x_i
        + \\mu_\\eta^\\top\\Sigma_\\eta^{-1}\\mu_\\eta - h^\\top M^{-1} h,

and :math:`M^{-1}`, :math:`\\hat\\eta = M^{-1}h` are the posterior covariance and
mean of :math:`\\eta` given :math:`x_{i,o}` and the node (53 items of 13 factors:
13 x 13 instead of 53 x 53 matrices).  This needs :math:`\\Theta` positive
definite and indicators that load only on factors; other models use the
complete-data engine of :mod:`ckm_research.moderation.lms`.

**Gradient.**  By Fisher's identity the score is the posterior expectation of
the complete-data score of :math:`(x, \\eta)` given the node, weighted by the
nodes' posterior probabilities :math:`r_{ij}` (the E-step of Klein &
Moosbrugger's EM): for the measurement part it needs
:math:`\\sum_{ij} r_{ij}\\hat\\eta_{ij}` and :math:`\\sum_{ij}
r_{ij}(M_{ij}^{-1} + \\hat\\eta_{ij}\\hat\\eta_{ij}^\\top)` per pattern, for the
structural part the same sums per node, carried back through
:math:`\\Sigma_\\eta = E S E^\\top`, :math:`\\mu_\\eta = E m` with the
node-dependent paths as in :mod:`ckm_research.moderation.lms`.  Standard errors
come from the observed information (the Hessian by differences of this
gradient; for the measurement parameters' columns only its measurement
entries, see :meth:`LMSEngine.hessian`).

**Quadrature.**  ``"fixed"``: the product Gauss-Hermite rule of
:func:`~ckm_research.moderation.lms.gauss_hermite_grid` shared by every case
(with complete data the log-likelihood equals the complete-data engine's).
``"adaptive"``: each case gets its own few nodes, placed at the mean and
scaled by the Cholesky factor of its posterior of :math:`z` (adaptive
Gauss-Hermite quadrature; Naylor & Smith, 1982; Rabe-Hesketh, Skrondal &
Pickles, 2005, *J. Econometrics* 128, 301-323; modsem's ``adaptive.quad``):

.. math::

    \\int g(z)\\phi_k(z)\\,dz \\approx \\sum_j w_j\\, |L_i|\\,
        \\frac{\\phi_k(m_i + L_i u_j)}{\\phi_k(u_j)}\\, g(m_i + L_i u_j).

The posteriors start from the exact ones of the model without product terms
(a linear model: :math:`z \\mid x` is normal) and are updated from the
quadrature's own posterior moments after each optimisation until the maximum
no longer moves (at most ``max_rounds`` times).  Three nodes per moderator
(27 for three moderators) then suffice where a fixed rule needs 12 or more
per moderator (a thousand nodes).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ckm_research.errors import IdentificationError
from ckm_research.moderation.lms import (
    _bfgs_start,
    _linear_start,
    _LMSOutput,
    _maximise,
    _moderator_moments_gradient,
    _ram_gradient,
    _recentre,
    gauss_hermite_grid,
)
from ckm_research.numerics.forked import forked_sum

__all__ = ["LMSEngine", "latent_space_reason"]

_LOG2PI = np.log(2.0 * np.pi)
# nodes per block of the node-wise matrix arithmetic (blocks of a few MB stay in cache)
_BLOCK = 2048


def latent_space_reason(model) -> str | None:
    """Why ``model`` (an :class:`~ckm_research.moderation.lms.LMSModel`) cannot
    be evaluated in the latent space, or ``None`` when it can.

    The latent-space form needs indicators that load only on latent variables,
    latent variables that depend only on latent variables, no covariance
    between an indicator and a latent variable, positive residual variances of
    the indicators (free, or fixed above 0), and product terms between latent
    variables with a latent outcome.
    """
    ram = model.ram
    p = len(ram.ov)
    gm = ram.groups[model.group]
    if np.any(gm.a_j < p):
        return "a variable depends on an observed variable"
    if np.any((np.minimum(gm.s_i, gm.s_j) < p) & (np.maximum(gm.s_i, gm.s_j) >= p)):
        return "an observed variable covaries with a latent variable"
    var_rows = [
        (r, i) for r, i, j in zip(gm.s_rows, gm.s_i, gm.s_j, strict=True) if i == j and i < p
    ]
    have = {i for _, i in var_rows}
    if len(have) < p:
        return "an indicator has no residual variance"
    for r, i in var_rows:
        if ram.free[r] == 0 and not (ram.values[r] > 0):
            return (
                f"the residual variance of the indicator '{ram.ov[i]}' is fixed at 0 (a "
                "single-indicator factor)"
            )
    if np.any(model.term_y < p) or np.any(model.term_o < p) or np.any(model.xi_pos < p):
        return "a product term involves an observed variable"
    return None


def _standard_rule(k: int, nodes: int):
    """Product Gauss-Hermite nodes ``u`` (J, k) and log-weights for N(0, I_k)."""
    x, w = np.polynomial.hermite.hermgauss(nodes)
    u1, lw1 = np.sqrt(2.0) * x, np.log(w / np.sqrt(np.pi))
    grids = np.meshgrid(*([np.arange(nodes)] * k), indexing="ij")
    ix = np.stack([g.ravel() for g in grids], axis=1)
    return u1[ix], lw1[ix].sum(axis=1)


class LMSEngine(_LMSOutput):
    """LMS log-likelihood, analytic gradient and estimation with missing data.

    Parameters
    ----------
    model : LMSModel
        The model (:class:`ckm_research.moderation.lms.LMSModel`); it must
        pass :func:`latent_space_reason`.
    data : ndarray (N, p)
        Columns in ``model.ov`` order; ``NaN`` marks a missing value (cases
        with no observed value must be removed beforehand).
    nodes : int
        Gauss-Hermite nodes per moderator (fixed rule) or per moderator and
        case (adaptive rule).
    prune : float
        Fixed rule only: product-rule nodes whose weight is below ``prune``
        times the largest are dropped.
    quadrature : {'fixed', 'adaptive'}
    max_rounds : int
        Adaptive rule: the most re-centrings of the nodes.
    """

    def __init__(
        self,
        model,
        data: np.ndarray,
        nodes: int = 24,
        prune: float = 1e-12,
        quadrature: str = "fixed",
        max_rounds: int = 6,
    ):
        reason = latent_space_reason(model)
        if reason is not None:  # pragma: no cover - fit_lms routes such models elsewhere
            raise ValueError(f"LMSEngine needs the latent-space form: {reason}")
        self.model = model
        self.X = np.asarray(data, dtype=float)
        self.n = self.X.shape[0]
        self.p = len(model.ov)
        self.q = len(model.variables) - self.p
        self.nodes = int(nodes)
        self.prune = prune
        self.quadrature = quadrature
        self.max_rounds = int(max_rounds)
        obs = ~np.isnan(self.X)
        self.obs = obs
        self.po = obs.sum(axis=1)
        self.complete = bool(obs.all())
        masks, inv = np.unique(obs, axis=0, return_inverse=True)
        inv = np.asarray(inv).ravel()
        self.case_pat = inv
        self.pat_first = np.array([np.flatnonzero(inv == g)[0] for g in range(len(masks))])
        self.patterns = []
        for g, mask in enumerate(masks):
            idx = np.flatnonzero(inv == g)
            o = np.flatnonzero(mask)
            xo = self.X[np.ix_(idx, o)]
            self.patterns.append({"idx": idx, "o": o, "x": xo, "xx": xo.T @ xo})
        k = model.k
        if quadrature == "fixed":
            self.z, self.w = gauss_hermite_grid(k, self.nodes, prune)
            self.logw = np.log(self.w)
        else:
            self.u, self.logw_u = _standard_rule(k, self.nodes)
            # moments of the mixture are integrated by a fixed rule that is exact
            # for polynomials of degree <= 13 in z
            self.z, self.w = gauss_hermite_grid(k, 7, 1e-12)
            self.logw = np.log(self.w)
            self.case_m = np.zeros((self.n, k))
            self.case_L = np.broadcast_to(np.eye(k), (self.n, k, k)).copy()
            self._set_case_nodes()
        self.theta: np.ndarray | None = None
        self.n_evals = 0
        self.iterations = 0
        self.rounds = 0
        self.xi_l = model.xi_pos - self.p
        mods = set(self.xi_l[: model.k].tolist())
        self.rest = np.array([i for i in range(self.q) if i not in mods], dtype=int)
        self.ty = model.term_y - self.p
        self.to = model.term_o - self.p
        # the rows of B that depend on the node (outcomes of product terms)
        self.term_rows, self.term_row = np.unique(self.ty, return_inverse=True)
        gm = model.ram.groups[0]
        # residual covariances between indicators in the model (their gradient entries
        # need the off-diagonal of dl/dTheta)
        self._theta_cov = bool(np.any((gm.s_i < self.p) & (gm.s_j < self.p) & (gm.s_i != gm.s_j)))

    def _rebuilt(self, model) -> LMSEngine:
        """A new engine of ``model`` on the same data and rule."""
        return LMSEngine(
            model,
            self.X,
            nodes=self.nodes,
            prune=self.prune,
            quadrature=self.quadrature,
            max_rounds=self.max_rounds,
        )

    # ------------------------------------------------------------ quadrature
    def _set_case_nodes(self) -> None:
        """Nodes ``m_i + L_i u_j`` and log-weights of the adaptive rule."""
        k = self.model.k
        zc = self.case_m[:, None, :] + np.einsum("nab,jb->nja", self.case_L, self.u)
        logdet = np.log(np.abs(np.diagonal(self.case_L, axis1=1, axis2=2))).sum(axis=1)
        lphi_z = -0.5 * (k * _LOG2PI + np.sum(zc**2, axis=2))
        lphi_u = -0.5 * (k * _LOG2PI + np.sum(self.u**2, axis=1))
        self.case_z = zc
        self.case_logw = self.logw_u[None, :] + logdet[:, None] + lphi_z - lphi_u[None, :]

    def _node_set(self):
        """Unique nodes (U, k) and, per pattern, the node rows and log-weights."""
        if self.quadrature == "fixed":
            return self.z
        return self.case_z.reshape(-1, self.model.k)

    # ------------------------------------------------------------- model pieces
    def _pieces(self, theta):
        M = self.model
        p = self.p
        vals = M.ram.row_values(theta[: M.n_base])
        A, S, m = M.ram.matrices_from_rows(vals, M.group)
        xl, k = self.xi_l, M.k
        Psi = S[p:, p:]
        Phi = Psi[np.ix_(xl, xl)]
        C = np.linalg.cholesky(Phi[:k, :k])
        Cinv = np.linalg.inv(C)
        L1 = Phi[:, :k] @ Cinv.T
        Sc = Psi.copy()
        Sc[np.ix_(xl, xl)] = Phi - L1 @ L1.T
        return dict(
            Lam=A[:p, p:], Theta=S[:p, :p], nu=m[:p], B0=A[p:, p:], Sc=Sc, alpha=m[p:],
            kappa=m[p:][xl], C=C, Cinv=Cinv, L1=L1, om=M.omegas(theta),
        )  # fmt: skip

    def _latent_at(self, pc, Z):
        """Latent means, covariances and precisions at the nodes ``Z`` (U, k).

        Only the rows of :math:`B` of the product terms' outcomes (``r`` of
        them) depend on the node: :math:`I - B(z) = (I - B_0) - P_y D(z)` with
        :math:`P_y` the ``q x r`` selector of those rows, so by the Woodbury
        identity :math:`E(z) = E_0 + Q\\,W(z)`, :math:`Q = E_0 P_y`,
        :math:`W(z) = (I_r - D(z) Q)^{-1} D(z) E_0`: an ``r x r`` solve per node
        instead of a ``q x q`` inverse, and
        :math:`\\Sigma_\\eta(z) = E\\,S_c E^\\top` by rank-``r`` corrections
        of :math:`E_0 S_c E_0^\\top`."""
        M = self.model
        q, xl, k = self.q, self.xi_l, M.k
        U = Z.shape[0]
        xi_mean = pc["kappa"][None, :] + Z @ pc["L1"].T
        m0 = np.repeat(pc["alpha"][None, :], U, axis=0)
        m0[:, xl] = xi_mean
        modval = xi_mean[:, :k]
        Sc = pc["Sc"]
        E0 = np.linalg.inv(np.eye(q) - pc["B0"])
        ys = self.term_rows
        D = np.zeros((U, len(ys), q))
        for t in range(len(M.terms)):
            D[:, self.term_row[t], self.to[t]] += pc["om"][t] * modval[:, M.term_m[t]]
        Q = E0[:, ys]
        nr = len(ys)
        S0 = E0 @ Sc @ E0.T
        r = self.rest
        E = np.empty((U, q, q))
        Sig = np.empty((U, q, q))
        mu = np.empty((U, q))
        P = np.empty((U, len(r), len(r)))
        ldS = np.empty(U)
        # blocks of nodes small enough for the cache
        for s0 in range(0, U, _BLOCK):
            b = slice(s0, min(U, s0 + _BLOCK))
            nb = b.stop - b.start
            Db = D[b]
            Wn = np.linalg.solve(np.eye(nr)[None] - Db @ Q, Db @ E0)  # (nb, r, q)
            # E_u = E0 + Q Wn_u, Sigma_u = S0 + Q X_u + X_u' Q' with
            # X_u = Wn_u Sc (E0 + Q Wn_u / 2)' (Q X_u of all nodes as one product)
            Eb = (np.swapaxes(Wn, 1, 2).reshape(-1, nr) @ Q.T).reshape(nb, q, q)
            np.add(np.swapaxes(Eb, 1, 2), E0[None], out=E[b])
            Y = Wn @ Sc
            X = Y @ E0.T + 0.5 * (Y @ np.swapaxes(Wn, 1, 2)) @ Q.T
            QX = (np.swapaxes(X, 1, 2).reshape(-1, nr) @ Q.T).reshape(nb, q, q)
            Sb = Sig[b]
            np.add(QX, np.swapaxes(QX, 1, 2), out=Sb)
            Sb += S0[None]
            mu[b] = (E[b] @ m0[b, :, None])[:, :, 0]
            # given the node the moderators are constants: the density lives on the others
            Srr = Sb[:, r[:, None], r[None, :]]
            Lc = np.linalg.cholesky(Srr)
            P[b] = np.linalg.inv(Srr)
            ldS[b] = 2.0 * np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum(axis=1)
        return dict(E=E, Sig=Sig, mu=mu, P=P, ldS=ldS, modval=modval)

    def _latent_cached(self, pc, Z):
        """:meth:`_latent_at`, reused while only measurement parameters change
        (most columns of the Hessian by differences)."""
        key = np.concatenate(
            [pc["B0"].ravel(), pc["Sc"].ravel(), pc["alpha"], pc["L1"].ravel(), pc["om"]]
        )
        for hit in (getattr(self, "_pinned", None), getattr(self, "_lat_cache", None)):
            if hit is not None and np.array_equal(hit[0], key) and np.array_equal(hit[1], Z):
                return hit[2]
        lat = self._latent_at(pc, Z)
        self._lat_cache = (key, Z.copy(), lat)
        return lat

    # ---------------------------------------------------------------- likelihood
    def _measurement(self, pc):
        """Per-case pieces of the measurement part: the inverse residual
        covariance of the observed indicators padded with zeros (N, p, p),
        ``Theta^-1 Lambda`` (N, p, q), ``Theta^-1 x~`` (N, p), ``G``, ``b``,
        ``c`` and ``log|Theta_oo|``; ``None`` if a ``Theta_oo`` is not positive
        definite.  With a diagonal :math:`\\Theta` only its inverse's diagonal
        ``w`` (N, p) is kept and :math:`G_i = \\sum_p w_{ip}\\lambda_p\\lambda_p^\\top`
        is one matrix product over the indicators."""
        Lam, Theta, nu = pc["Lam"], pc["Theta"], pc["nu"]
        p, q = self.p, self.q
        xt = np.where(self.obs, self.X - nu[None, :], 0.0)
        if not np.any(Theta - np.diag(np.diag(Theta))):
            th = np.diag(Theta)
            if np.any(th <= 0):
                return None
            w = self.obs / th[None, :]
            a = w * xt
            LL = (Lam[:, :, None] * Lam[:, None, :]).reshape(p, q * q)
            return dict(
                w=w, a=a, xt=xt, ldT=self.obs @ np.log(th), G=(w @ LL).reshape(self.n, q, q),
                b=a @ Lam, c=np.sum(a * xt, axis=1), Lam=Lam, LL=LL,
            )  # fmt: skip
        else:
            Ti = np.zeros((self.n, p, p))
            ldT = np.zeros(self.n)
            for pat in self.patterns:
                o = pat["o"]
                try:
                    Tc = np.linalg.cholesky(Theta[np.ix_(o, o)])
                except np.linalg.LinAlgError:
                    return None
                Tci = np.linalg.inv(Tc)
                Ti[np.ix_(pat["idx"], o, o)] = (Tci.T @ Tci)[None]
                ldT[pat["idx"]] = 2.0 * np.log(np.diag(Tc)).sum()
            TiL = Ti @ Lam
        a = np.einsum("nab,nb->na", Ti, xt)
        return dict(
            Ti=Ti, TiL=TiL, a=a, xt=xt, ldT=ldT, G=np.einsum("pa,npb->nab", Lam, TiL),
            b=a @ Lam, c=np.sum(a * xt, axis=1),
        )  # fmt: skip

    def loglik(
        self,
        theta: np.ndarray,
        gradient: bool = False,
        posterior: bool = False,
        measurement_only: bool = False,
    ):
        """Log-likelihood (and its gradient) at ``theta``.

        Returns ``-inf`` (and ``None``) where a covariance matrix is not
        positive definite.  With ``posterior=True`` returns the posterior
        probabilities of the nodes instead of the gradient: (N, J).  With
        ``measurement_only=True`` (and ``gradient=True``) only the gradient's
        entries of the measurement parameters (:attr:`measurement_mask`) are
        computed, the others are 0: the node-wise structural sums and their
        chain rule (about half the cost of a gradient) are skipped.
        """
        self.n_evals += 1
        fail = (-np.inf, None) if (gradient or posterior) else -np.inf
        try:
            pc = self._pieces(theta)
            Z = self._node_set()
            lat = self._latent_cached(pc, Z)
        except np.linalg.LinAlgError:
            return fail
        ms = self._measurement(pc)
        if ms is None:
            return fail
        q = self.q
        fixed = self.quadrature == "fixed"
        J = Z.shape[0] if fixed else self.u.shape[0]
        rr = self.rest
        nr = len(rr)
        want = gradient or posterior
        if gradient:
            U = Z.shape[0]
            su1 = np.zeros((U, q))
            su2 = np.zeros((U, q, q))
            H1 = np.zeros((self.n, q))
            H2 = np.zeros((self.n, q, q))
        if posterior:
            R = np.zeros((self.n, J))
        ll = 0.0
        step = max(1, 2 * _BLOCK // J)
        G_all, b_all, c_all = ms["G"], ms["b"], ms["c"]
        const = self.po * _LOG2PI + ms["ldT"]
        if fixed:  # shared nodes: one factorisation per missing-data pattern and node
            Gp = G_all[self.pat_first]
            try:
                Lmp = np.linalg.cholesky(lat["P"][None] + Gp[:, None][:, :, rr][:, :, :, rr])
            except np.linalg.LinAlgError:
                return fail
            Lmip = np.linalg.inv(Lmp)
            ldMp = 2.0 * np.log(np.diagonal(Lmp, axis1=-2, axis2=-1)).sum(axis=-1)
            if gradient:
                Vrp = np.swapaxes(Lmip, -1, -2) @ Lmip
            if gradient and not measurement_only:
                Grp = Gp[:, :, rr]
                Kp = Gp[:, None] - Grp[:, None] @ Vrp @ np.swapaxes(Grp, 1, 2)[:, None]
                rP = np.zeros((len(Gp), J))
        # the posterior covariances of the nodes depend on the parameters only through
        # the latent pieces and G: a column of the Hessian of an intercept changes
        # neither, and reuses those of the pinned point (see hessian)
        pin = getattr(self, "_pinned", None)
        reuse = None
        if (
            not fixed
            and measurement_only
            and pin is not None
            and pin[2] is lat
            and len(pin) > 3
            and np.array_equal(pin[3], G_all)
        ):
            reuse = pin[4]
        facts = []
        for ci, s0 in enumerate(range(0, self.n, step)):
            cs = slice(s0, min(self.n, s0 + step))
            nc = cs.stop - cs.start
            G, b, c = G_all[cs], b_all[cs], c_all[cs]
            if fixed:
                rows = slice(None)
                Pn, mu_n, ldS = lat["P"][None], lat["mu"][None], lat["ldS"][None]
                lw0 = self.logw[None, :]
            else:
                rows = slice(cs.start * J, cs.stop * J)
                Pn = lat["P"][rows].reshape(nc, J, nr, nr)
                mu_n = lat["mu"][rows].reshape(nc, J, q)
                ldS = lat["ldS"][rows].reshape(nc, J)
                lw0 = self.case_logw[cs]
            if fixed:
                pidx = self.case_pat[cs]
                Lmi, ldM = Lmip[pidx], ldMp[pidx]
            elif reuse is not None:
                Vn, ldM = reuse[ci]
            else:
                Mn = Pn + G[:, None][:, :, rr][:, :, :, rr]
                try:
                    Lm = np.linalg.cholesky(Mn)
                    Vn = np.linalg.inv(Mn)  # posterior covariance of the non-moderators
                except np.linalg.LinAlgError:
                    return fail
                ldM = 2.0 * np.log(np.diagonal(Lm, axis1=-2, axis2=-1)).sum(axis=-1)
                facts.append((Vn, ldM))
            if fixed:
                Gmu = np.einsum("jb,nab->nja", mu_n[0], G)
            else:
                Gmu = np.einsum("njb,nab->nja", mu_n, G)
            t = b[:, None, :] - Gmu  # Lambda' Theta^-1 (x - nu - Lambda mu)
            tr = t[..., rr]
            if fixed:
                y = (Lmi @ tr[..., None])[..., 0]
                ytVt = np.sum(y * y, axis=-1)
            else:
                delta = (Vn @ tr[..., None])[..., 0]
                ytVt = np.sum(tr * delta, axis=-1)
            quad = (
                c[:, None]
                - 2.0 * np.sum(b[:, None, :] * mu_n, axis=-1)
                + np.sum(Gmu * mu_n, axis=-1)
                - ytVt
            )
            lw = lw0 - 0.5 * (const[cs, None] + ldS + ldM + quad)
            lf = logsumexp(lw, axis=1)
            ll += float(lf.sum())
            if not want:
                continue
            r = np.exp(lw - lf[:, None])  # (nc, J)
            if posterior:
                R[cs] = r
                continue
            # posterior covariance of the non-moderators
            if fixed:
                Vr = Vrp[pidx]
                delta = (Vr @ tr[..., None])[..., 0]
            else:
                Vr = Vn
            eta = np.broadcast_to(mu_n, t.shape).copy()
            eta[..., rr] += delta  # posterior mean of eta
            Gr = G[:, :, rr]  # (nc, q, nr)
            uu = t - np.einsum("nab,njb->nja", Gr, delta)  # Lambda' Sigma_x^-1 (x - mu_x)
            reta = r[..., None] * eta
            ru = r[..., None] * uu
            H1[cs] = reta.sum(axis=1)
            rV = np.einsum("nj,njab->nab", r, Vr)
            H2c = np.einsum("nja,njb->nab", reta, eta)
            H2c[:, rr[:, None], rr[None, :]] += rV
            H2[cs] = H2c
            if measurement_only:
                continue
            if fixed:
                su1 += ru.sum(axis=0)
                su2 += np.einsum("nja,njb->jab", ru, uu)
                np.add.at(rP, pidx, r)
            else:
                # r (u u' - Lambda' Sigma_x^-1 Lambda), Lambda' Sigma_x^-1 Lambda = G - Gr Vr Gr'
                S2 = (Gr[:, None] @ Vr) @ np.swapaxes(Gr, 1, 2)[:, None]
                S2 -= G[:, None]
                S2 *= r[..., None, None]
                S2 += ru[..., :, None] * uu[..., None, :]
                su1[rows] = ru.reshape(-1, q)
                su2[rows] = S2.reshape(-1, q, q)
        if not np.isfinite(ll):
            return fail
        if getattr(self, "_pin_next", False) and not fixed and pin is None:
            self._pin_next = False
            self._pinned = self._lat_cache + (G_all.copy(), facts)
        if posterior:
            return ll, R
        if not gradient:
            return ll
        if measurement_only:
            return ll, self._measurement_gradient(*self._measurement_scores(ms, H1, H2))
        if fixed:
            su2 -= np.einsum("pj,pjab->jab", rP, Kp)
        dLam, dTh, dnu = self._measurement_scores(ms, H1, H2)
        grad = self._chain(pc, lat, Z, su1, su2, dLam, dTh, dnu, W_scale=0.5)
        return ll, grad

    def _measurement_scores(self, ms, H1, H2):
        """Derivatives with respect to :math:`\\Lambda, \\Theta, \\nu`: the
        expected complete-data scores (zero rows for missing items) from the
        posterior moments ``H1`` (N, q) and ``H2`` (N, q, q) of :math:`\\eta`."""
        a = ms["a"]
        if "w" in ms:  # diagonal Theta: sums over the cases as matrix products
            w, Lam = ms["w"], ms["Lam"]
            n, q = H1.shape
            p = Lam.shape[0]
            v = w * (H1 @ Lam.T)
            dnu = (a - v).sum(axis=0)
            H2f = H2.reshape(n, q * q)
            T = (w.T @ H2f).reshape(p, q, q)
            dLam = a.T @ H1 - np.einsum("pab,pa->pb", T, Lam)
            if not self._theta_cov:
                dg = np.sum(a * a - 2.0 * a * v, axis=0) + np.sum(((w * w).T @ H2f) * ms["LL"], 1)
                return dLam, np.diag(0.5 * (dg - w.sum(axis=0))), dnu
            TiL = w[:, :, None] * Lam[None, :, :]
            TH = TiL @ H2
            dTh = 0.5 * (
                a.T @ a - a.T @ v - v.T @ a + np.einsum("npa,nqa->pq", TH, TiL) - np.diag(w.sum(0))
            )
            return dLam, dTh, dnu
        TiL = ms["TiL"]
        v = np.einsum("npa,na->np", TiL, H1)
        dnu = (a - v).sum(axis=0)
        dLam = a.T @ H1 - np.einsum("npa,nab->pb", TiL, H2)
        TH = TiL @ H2
        dTh = 0.5 * (
            a.T @ a - a.T @ v - v.T @ a + np.einsum("npa,nqa->pq", TH, TiL) - ms["Ti"].sum(axis=0)
        )
        return dLam, dTh, dnu

    def _measurement_rows(self):
        """Row selections (A, S, m) of the parameter table's measurement rows:
        loadings, residual (co)variances and intercepts of the indicators."""
        gm = self.model.ram.groups[self.model.group]
        p = self.p
        return (
            (gm.a_i < p) & (gm.a_j >= p),
            (gm.s_i < p) & (gm.s_j < p),
            gm.m_i < p,
        )

    @property
    def measurement_mask(self) -> np.ndarray:
        """Free parameters that appear only in measurement rows (bool, n_free).

        The log-likelihood depends on them only through :math:`\\Lambda,
        \\Theta, \\nu` (a parameter shared by an equality label with a
        structural row is not one of them)."""
        M = self.model
        ram, gm = M.ram, M.ram.groups[M.group]
        sa, ss, sm = self._measurement_rows()
        meas = np.zeros(M.n_free, dtype=bool)
        struct = np.zeros(M.n_free, dtype=bool)
        for rows, sel in ((gm.a_rows, sa), (gm.s_rows, ss), (gm.m_rows, sm)):
            f = ram.free[rows]
            meas[f[sel & (f > 0)] - 1] = True
            struct[f[~sel & (f > 0)] - 1] = True
        struct[M.n_base :] = True  # product coefficients
        return meas & ~struct

    def _measurement_gradient(self, dLam, dTh, dnu):
        """The gradient's measurement entries (others 0), as :meth:`_chain`."""
        M = self.model
        ram, gm = M.ram, M.ram.groups[M.group]
        p = self.p
        free = ram.free
        sa, ss, sm = self._measurement_rows()
        grad = np.zeros(M.n_free)
        sel = (free[gm.a_rows] > 0) & sa
        np.add.at(grad, free[gm.a_rows[sel]] - 1, dLam[gm.a_i[sel], gm.a_j[sel] - p])
        sel = (free[gm.s_rows] > 0) & ss
        si, sj = gm.s_i[sel], gm.s_j[sel]
        np.add.at(grad, free[gm.s_rows[sel]] - 1, dTh[si, sj] * np.where(si == sj, 1.0, 2.0))
        sel = (free[gm.m_rows] > 0) & sm
        np.add.at(grad, free[gm.m_rows[sel]] - 1, dnu[gm.m_i[sel]])
        grad[~self.measurement_mask] = 0.0
        return grad

    def _chain(self, pc, lat, Z, g, W, dLam, dTh, dnu, W_scale=1.0):
        """Carry the scores back to the free parameters: ``g`` (U, q) and
        ``W_scale * W`` (U, q, q) are the derivatives of the log-likelihood with
        respect to the latent means and covariances at each node, ``dLam, dTh,
        dnu`` those with respect to the measurement matrices."""
        M = self.model
        ram = M.ram
        p, q, k = self.p, self.q, M.k
        mu, E, Sig = lat["mu"], lat["E"], lat["Sig"]
        U = E.shape[0]
        nt = len(M.terms)
        # dl/dB at node u is 2 E'W Sig + Gm mu', dl/dSc is E'W E: their sums over
        # the nodes as single products, sum_u E_u' X_u = E_flat' X_flat, in blocks
        # of nodes; of dl/dB at each node only the paths of the product terms
        Gm = np.empty((U, q))  # dl/dm0 at each node
        GAn = np.zeros((q, q))
        GSl = np.zeros((q, q))
        gp = np.empty((nt, U))
        for s0 in range(0, U, _BLOCK):
            b = slice(s0, min(U, s0 + _BLOCK))
            Eb = E[b]
            Wb = W[b]
            Gm[b] = (g[b][:, None, :] @ Eb)[:, 0, :]
            WS = Wb @ Sig[b]
            Ef = Eb.reshape(-1, q)
            GAn += Ef.T @ WS.reshape(-1, q)
            GSl += Ef.T @ (Wb @ Eb).reshape(-1, q)
            for t in range(nt):
                gp[t, b] = np.sum(Eb[:, :, self.ty[t]] * WS[:, :, self.to[t]], axis=1)
        GSl *= W_scale
        nv = p + q
        GA_sum = np.zeros((nv, nv))
        GS_sum = np.zeros((nv, nv))
        Gm_sum = np.zeros(nv)
        GA_sum[:p, p:] = dLam
        GA_sum[p:, p:] = 2.0 * W_scale * GAn + Gm.T @ mu
        GS_sum[:p, :p] = dTh
        GS_sum[p:, p:] = GSl
        Gm_sum[:p] = dnu
        Gm_sum[p:] = Gm.sum(axis=0)
        grad = _ram_gradient(M, M.group, GA_sum, GS_sum, Gm_sum)
        gm = ram.groups[M.group]
        free = ram.free
        xl = self.xi_l
        om, modval = pc["om"], lat["modval"]
        Lbar = -2.0 * GSl[np.ix_(xl, xl)] @ pc["L1"] + Gm[:, xl].T @ Z
        kappa_bar = np.zeros(len(xl))
        for t in range(len(M.terms)):
            gpath = 2.0 * W_scale * gp[t] + Gm[:, self.ty[t]] * mu[:, self.to[t]]
            if M.term_free[t] > 0:
                grad[M.term_free[t] - 1] += gpath @ modval[:, M.term_m[t]]
            mbar = om[t] * gpath
            Lbar[M.term_m[t], :] += mbar @ Z
            kappa_bar[M.term_m[t]] += mbar.sum()
        _moderator_moments_gradient(M, gm, free, pc, Lbar, kappa_bar, k, grad)
        return grad

    # ------------------------------------------------------------- adaptive rule
    def linear_posterior(self, theta: np.ndarray) -> None:
        """Centre the adaptive nodes at the exact posterior of :math:`z` in the
        model without product terms (a linear normal model) at ``theta``."""
        M = self.model
        q, k = self.q, M.k
        th = theta.copy()
        th[M.n_base :] = 0.0
        pc = self._pieces(th)
        lat = self._latent_at(pc, np.zeros((1, k)))
        # unconditional latent moments: add back the moderators' share L1 L1'
        E = lat["E"][0]
        Lfull = np.zeros((q, k))
        Lfull[self.xi_l] = pc["L1"]
        EL = E @ Lfull
        Sig = lat["Sig"][0] + EL @ EL.T
        P = np.linalg.inv(Sig)
        mu = lat["mu"][0]
        cm = np.zeros((self.n, k))
        cL = np.zeros((self.n, k, k))
        Cinv = pc["Cinv"]
        mods = self.xi_l[:k]
        for pat in self.patterns:
            idx, o, xo = pat["idx"], pat["o"], pat["x"]
            Lo = pc["Lam"][o]
            Ti = np.linalg.inv(pc["Theta"][np.ix_(o, o)])
            V = np.linalg.inv(P + Lo.T @ Ti @ Lo)
            eta = ((xo - pc["nu"][o]) @ Ti @ Lo + P @ mu) @ V
            cm[idx] = (eta[:, mods] - pc["kappa"][:k]) @ Cinv.T
            Vz = Cinv @ V[np.ix_(mods, mods)] @ Cinv.T
            cL[idx] = np.linalg.cholesky(Vz)
        self.case_m, self.case_L = cm, cL
        self._set_case_nodes()

    def update_nodes(self, theta: np.ndarray) -> float:
        """Move each case's nodes to the mean and Cholesky factor of its
        posterior of :math:`z` under the current rule; returns the largest
        move of a centre in posterior standard deviations."""
        ll, R = self.loglik(theta, posterior=True)
        if R is None:
            return 0.0
        z = self.case_z
        m = np.einsum("nj,nja->na", R, z)
        d = z - m[:, None, :]
        cov = np.einsum("nj,nja,njb->nab", R, d, d)
        k = self.model.k
        cov += 1e-10 * np.eye(k)
        try:
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            return 0.0
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        move = float(np.max(np.abs(m - self.case_m) / sd))
        self.case_m, self.case_L = m, L
        self._set_case_nodes()
        return move

    # ---------------------------------------------------------------- estimation
    def start_values(self):
        """ML (FIML with missing data) fit of the model without product terms
        (:func:`~ckm_research.moderation.lms._linear_start`)."""
        return _linear_start(self.model, [self.X])

    def estimate(self, max_iter: int = 500, gtol: float = 1e-7) -> None:
        """Maximise the log-likelihood by BFGS (:func:`ckm_research.numerics.bfgs`;
        re-centring adaptive nodes)."""
        M = self.model
        theta, h0_logl, h0 = self.start_values()
        self.h0_logl = h0_logl
        self.h0_theta = h0["theta0"]
        n = self.n
        if self.quadrature == "adaptive":
            self.linear_posterior(theta)
        # curvature of the product coefficients for the initial inverse Hessian: that of
        # a regression of the outcome on the product of two latent variables,
        # Var(xi eta) / psi_y with Var(xi eta) = Var(xi) Var(eta) + Cov(xi, eta)^2 in the
        # model without products (about 1.6 times the LMS curvature on the CKM model,
        # where the measurement error attenuates it; no gradient evaluations)
        A_l, S_l, _ = M.ram.matrices_from_rows(M.ram.row_values(theta[: M.n_base]), 0)
        p = self.p
        Psi = S_l[p:, p:]
        try:
            E0 = np.linalg.inv(np.eye(self.q) - A_l[p:, p:])
        except np.linalg.LinAlgError:
            E0 = np.eye(self.q)
        Sl = E0 @ Psi @ E0.T
        curvature = {}
        for i in range(len(M.terms)):
            if M.term_free[i] == 0:
                continue
            a, o, y = self.xi_l[M.term_m[i]], self.to[i], self.ty[i]
            vprod = Sl[a, a] * Sl[o, o] + Sl[a, o] ** 2
            curvature[int(M.term_free[i]) - 1] = vprod / Psi[y, y] if Psi[y, y] > 1e-8 else 0.0
        fg, Hinv, f, g = _bfgs_start(
            self.loglik, n, theta, h0["info"], M.n_base, curvature, curvature
        )
        theta, f, Hinv, self.iterations = _maximise(fg, theta, Hinv, max_iter, gtol, f, g)
        if self.quadrature == "adaptive":
            theta, f, its, self.rounds = _recentre(fg, theta, f, Hinv, [self], n, max_iter, gtol)
            self.iterations += its
        self.theta = theta
        self.logl = float(-f * n)

    def posterior_nodes(self, theta: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Fixed rule: nodes where some case has posterior probability above ``tol``."""
        _, R = self.loglik(theta, posterior=True)
        return R.max(axis=0) > tol

    def hessian(
        self,
        theta: np.ndarray | None = None,
        method: str | None = None,
        n_jobs: int = 1,
    ) -> np.ndarray:
        """Hessian of the log-likelihood by differences of the analytic gradient.

        Central differences up to 60 parameters, forward above (step
        :math:`10^{-5}` resp. :math:`10^{-6}` times :math:`\\max(1, |\\theta_j|)`),
        at the final nodes; with the fixed rule, nodes without posterior
        probability above 1e-9 for any case are left out.

        **Measurement columns are cheap.**  A column :math:`j` of a measurement
        parameter (:attr:`measurement_mask`: a loading, residual (co)variance or
        intercept of the indicators) only needs the measurement entries of the
        perturbed gradient (``loglik(..., measurement_only=True)``): its
        structural entries :math:`H_{sj}` are :math:`H_{js}`, read from the
        structural columns, which are differenced in full.  On the CKM model
        with three moderators (218 parameters, 172 of them measurement) this
        skips the node-wise structural sums for 172 of the 218 differences.
        The latent pieces of the nodes are computed once for all measurement
        columns (they do not depend on those parameters), and the columns of
        intercepts (which change neither those pieces nor :math:`G_o`) reuse
        the posterior covariances of the nodes at ``theta``: no factorisation.

        Parameters
        ----------
        theta : ndarray, optional
            Default: the estimates.
        method : {'central', 'forward'}, optional
        n_jobs : int
            Processes (forked) sharing the columns; 1 runs in this process.
        """
        from ckm_research.numerics import numerical_jacobian

        theta = self.theta if theta is None else np.asarray(theta, float)
        q = len(theta)
        if method is None:
            method = "central" if q <= 60 else "forward"
        saved = (self.z, self.logw)
        if self.quadrature == "fixed":
            keep = self.posterior_nodes(theta)
            self.z, self.logw = self.z[keep], self.logw[keep]
        meas = self.measurement_mask
        mcols = np.flatnonzero(meas)
        scols = np.flatnonzero(~meas)

        def grad(th, measurement_only=False):
            _, g = self.loglik(th, gradient=True, measurement_only=measurement_only)
            if g is None:
                raise IdentificationError(
                    "LMS: the Hessian cannot be computed at the solution (a variance is at "
                    "its boundary); standard errors are not available"
                )
            return g

        self._pin_next, self._pinned = True, None
        try:
            g0 = grad(theta) if (method == "forward" or self.quadrature != "fixed") else None

            def columns(cols_s, cols_m):
                Hs = np.zeros((q, q))
                if method == "central":
                    if len(cols_s):
                        Hs += numerical_jacobian(grad, theta, 1e-5, columns=cols_s)
                    if len(cols_m):
                        Hs += numerical_jacobian(
                            lambda t: grad(t, True), theta, 1e-5, columns=cols_m
                        )
                    return Hs
                for cols, mo in ((cols_s, False), (cols_m, True)):
                    for c in cols:
                        h = 1e-6 * max(1.0, abs(theta[c]))
                        tp = theta.copy()
                        tp[c] += h
                        Hs[:, c] = (grad(tp, mo) - g0) / h
                return Hs

            n_jobs = max(1, min(int(n_jobs), q))
            if n_jobs == 1:
                H = columns(scols, mcols)
            else:
                H = forked_sum(
                    columns, [(scols[w::n_jobs], mcols[w::n_jobs]) for w in range(n_jobs)]
                )
        finally:
            self.z, self.logw = saved
            self._pin_next, self._pinned = False, None
        H[np.ix_(scols, mcols)] = H[np.ix_(mcols, scols)].T
        return 0.5 * (H + H.T)
