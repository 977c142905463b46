"""Model-implied moments in the RAM formulation, with analytic derivatives.

Every (co)variance structure a lavaan model describes is written in the
reticular action model (McArdle & McDonald, 1984): with ``v`` the vector of
all observed and latent variables,

.. math::

    v = A v + u, \\quad \\operatorname{Cov}(u) = S, \\quad E(u) = m,

so that, with :math:`E = (I - A)^{-1}` and :math:`F` selecting the observed
variables,

.. math::

    \\Sigma(\\theta) = F E S E^\\top F^\\top, \\qquad \\mu(\\theta) = F E m.

Loadings (``=~``) and regressions (``~``) are elements of ``A``, (residual)
(co)variances (``~~``) of ``S``, intercepts (``~1``) of ``m``.  The first
derivatives (the Jacobian :math:`\\Delta = \\partial(\\operatorname{vech}\\Sigma,
\\mu)/\\partial\\theta^\\top`) follow from :math:`dE = E\\,dA\\,E`
(von Oertzen & Brick, 2014, *Behavior Research Methods* 46, eq. 3-6): for
an element :math:`a_{ij}` of A, :math:`d\\Sigma = x y^\\top + y x^\\top` with
:math:`x = FE e_i` and :math:`y = F E S E^\\top e_j`; for :math:`s_{ij}`,
:math:`x = FE e_i`, :math:`y = FE e_j` (halved on the diagonal).  The same
rank-two form gives the normal-theory expected information in
:math:`O(q^2 p)` without forming Kronecker products (see :func:`ml_information`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ckm_research.errors import ModelSpecificationError
from ckm_research.sem.partable import ParTable

__all__ = ["GroupModel", "RAMModel", "vech_indices"]


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of lavaan's ``vech`` (lower triangle, column by column)."""
    rows, cols = _vech_indices(int(p))
    return rows.copy(), cols.copy()


@functools.lru_cache(maxsize=64)
def _vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.asarray(rows), np.asarray(cols)


@dataclass
class GroupModel:
    """Index arrays mapping parameter-table rows of one group to A, S, m."""

    ov: tuple[str, ...]
    variables: tuple[str, ...]
    a_rows: np.ndarray  # partable row positions
    a_i: np.ndarray
    a_j: np.ndarray
    s_rows: np.ndarray
    s_i: np.ndarray
    s_j: np.ndarray
    m_rows: np.ndarray
    m_i: np.ndarray
    ov_idx: np.ndarray


class RAMModel:
    """The model-implied moments of a parameter table, group by group.

    Parameters
    ----------
    partable : ParTable
    ov_order : sequence of str, optional
        Order of the observed variables (default: the model's order).
    """

    def __init__(self, partable: ParTable, ov_order=None):
        self.partable = partable
        t = partable.table
        self.table = t
        roles = partable.roles
        ov = tuple(ov_order) if ov_order is not None else roles.ov
        if set(ov) != set(roles.ov):
            raise ModelSpecificationError(
                "ov_order must list exactly the model's observed variables"
            )
        if roles.interactions:
            raise ModelSpecificationError(
                "the model has latent product terms ("
                + ", ".join(roles.interactions)
                + "); fit it with an interaction method (product indicators or LMS)"
            )
        self.ov = ov
        self.lv = roles.lv
        self.variables = ov + tuple(roles.lv)
        self.n_ov = len(ov)
        self.n_var = len(self.variables)
        self.ngroups = partable.ngroups
        self.meanstructure = partable.meanstructure
        self.ordered = roles.ov_ord
        pos = {v: i for i, v in enumerate(self.variables)}
        self.free = t["free"].to_numpy()
        self.n_free = int(self.free.max()) if len(t) else 0
        self.values = t["ustart"].to_numpy(dtype=float).copy()
        self.groups: list[GroupModel] = []
        ops = t["op"].to_numpy()
        lhs = t["lhs"].to_numpy()
        rhs = t["rhs"].to_numpy()
        grp = t["group"].to_numpy()
        for g in range(1, self.ngroups + 1):
            in_g = grp == g
            # composite weights (<~) are regressions of the composite on its variables
            a = np.flatnonzero(in_g & ((ops == "=~") | (ops == "~") | (ops == "<~")))
            # =~ : indicator (rhs) <- factor (lhs); ~ : lhs <- rhs
            a_i = np.array([pos[rhs[r]] if ops[r] == "=~" else pos[lhs[r]] for r in a], dtype=int)
            a_j = np.array([pos[lhs[r]] if ops[r] == "=~" else pos[rhs[r]] for r in a], dtype=int)
            s = np.flatnonzero(in_g & (ops == "~~"))
            s_i = np.array([pos[lhs[r]] for r in s], dtype=int)
            s_j = np.array([pos[rhs[r]] for r in s], dtype=int)
            m = np.flatnonzero(in_g & (ops == "~1"))
            m_i = np.array([pos[lhs[r]] for r in m], dtype=int)
            self.groups.append(
                GroupModel(
                    ov, self.variables, a, a_i, a_j, s, s_i, s_j, m, m_i, np.arange(self.n_ov)
                )
            )
        # row -> free parameter (for rows that are free)
        self.free_rows = np.flatnonzero(self.free > 0)

    # ------------------------------------------------------------------ values
    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Values of every parameter-table row for the free parameters ``theta``."""
        vals = self.values.copy()
        fr = self.free_rows
        vals[fr] = theta[self.free[fr] - 1]
        return vals

    def matrices(self, theta: np.ndarray, g: int = 0):
        """The RAM matrices ``A``, ``S`` and the mean vector ``m`` of group ``g``."""
        vals = self.row_values(theta)
        return self._matrices(vals, g)

    def matrices_from_rows(self, vals: np.ndarray, g: int = 0):
        """The RAM matrices ``A``, ``S`` and ``m`` of group ``g`` from the values of every
        parameter-table row (:meth:`row_values`)."""
        return self._matrices(vals, g)

    def _matrices(self, vals: np.ndarray, g: int):
        gm = self.groups[g]
        n = self.n_var
        A = np.zeros((n, n))
        A[gm.a_i, gm.a_j] = _nan_to_num(vals[gm.a_rows])
        S = np.zeros((n, n))
        sv = _nan_to_num(vals[gm.s_rows])
        S[gm.s_i, gm.s_j] = sv
        S[gm.s_j, gm.s_i] = sv
        m = np.zeros(n)
        m[gm.m_i] = _nan_to_num(vals[gm.m_rows])
        return A, S, m

    def total_effects_inverse(self, A: np.ndarray) -> np.ndarray:
        """:math:`E = (I - A)^{-1}`; raises if the structural part is not recursive-solvable."""
        try:
            return np.linalg.inv(np.eye(self.n_var) - A)
        except (
            np.linalg.LinAlgError
        ) as exc:  # pragma: no cover - needs a degenerate non-recursive model
            raise ModelSpecificationError(
                "I - B is singular: the structural model has no solution"
            ) from exc

    def implied(self, theta: np.ndarray, g: int = 0, full: bool = False):
        """Model-implied covariance matrix and mean vector of group ``g``.

        With ``full=True`` returns the moments of all variables (observed first,
        then latent), as used for standardization.
        """
        A, S, m = self.matrices(theta, g)
        E = self.total_effects_inverse(A)
        C = E @ S @ E.T
        mu = E @ m
        if full:
            return C, mu
        k = self.n_ov
        return C[:k, :k], mu[:k]

    # ------------------------------------------------------------ derivatives
    def pieces(self, theta: np.ndarray, g: int = 0):
        """Quantities shared by the implied moments and their derivatives."""
        vals = self.row_values(theta)
        A, S, m = self._matrices(vals, g)
        E = self.total_effects_inverse(A)
        FE = E[: self.n_ov, :]
        FES = FE @ S
        FEC = FES @ E.T  # F E S E'
        sigma = FEC[:, : self.n_ov]
        Em = E @ m
        mu = FE @ m
        return dict(A=A, S=S, m=m, E=E, FE=FE, FEC=FEC, sigma=sigma, mu=mu, Em=Em)

    def rank2_factors(self, pc: dict, g: int = 0):
        """Factors ``x_r, y_r`` with :math:`d\\Sigma/d\\text{row}_r = x_r y_r^\\top + y_r x_r^\\top`
        for every free row of group ``g``, and the mean derivatives.

        Returns
        -------
        rows : ndarray
            Parameter-table positions of the free rows of this group.
        X, Y : ndarray (p, r)
        DMU : ndarray (p, r)
            :math:`d\\mu/d\\text{row}_r`.
        """
        rows, xcols, ycols, yscale, dcols, dmean = self._rank2_index(g)
        if not len(rows):
            z = np.zeros((self.n_ov, 0))
            return np.zeros(0, dtype=int), z, z, z
        FE, FEC, Em = pc["FE"], pc["FEC"], pc["Em"]
        # one gather from [FE | FEC | 0] instead of a slice and a stack per kind of row
        # (rank2_factors runs twice per iteration); the products are those of the
        # element-wise definition: x for A (FE e_i), S (FE e_i), m (0); y for A (FEC e_j),
        # S (FE e_j, halved on the diagonal), m (0); dmu for A (FE e_i (E m)_j), S (0),
        # m (FE e_i)
        B = np.concatenate([FE, FEC, np.zeros((self.n_ov, 1))], axis=1)
        Y = B[:, ycols]
        if yscale is not None:
            Y *= yscale
        DMU = B[:, dcols]
        if dmean is not None:
            DMU[:, dmean] *= Em[self._rank2_em[g]]
        return rows.copy(), B[:, xcols], Y, DMU

    def _rank2_index(self, g: int):
        """Column positions in ``[FE | FEC | 0]`` of the rank-two factors of group ``g``'s
        free rows (computed once: which rows are free does not change)."""
        cache = self.__dict__.setdefault("_rank2_index_cache", {})
        if g not in cache:
            a, s, m = self._free_index(g)
            n, zero = self.n_var, 2 * self.n_var
            xcols, ycols, yscale, dcols = [], [], [], []
            dmean, em = None, None
            if a is not None:
                ai, aj = a
                xcols.append(ai)
                ycols.append(n + aj)
                yscale.append(np.ones(len(ai)))
                dcols.append(ai)
                dmean, em = np.arange(len(ai)), aj
            if s is not None:
                si, sj, half = s
                xcols.append(si)
                ycols.append(sj)
                yscale.append(half)
                dcols.append(np.full(len(si), zero))
            if m is not None:
                xcols.append(np.full(len(m), zero))
                ycols.append(np.full(len(m), zero))
                yscale.append(np.ones(len(m)))
                dcols.append(m)
            rows = self._free_rows_of_group[g]
            ys = np.concatenate(yscale) if yscale else np.zeros(0)
            cache[g] = (rows, _cat_int(xcols), _cat_int(ycols),
                        None if np.all(ys == 1.0) else ys, _cat_int(dcols), dmean)  # fmt: skip
            self.__dict__.setdefault("_rank2_em", {})[g] = em
        return cache[g]

    def _free_index(self, g: int):
        """The free A, S and m positions of group ``g`` (computed once: which rows are
        free does not change, and :meth:`rank2_factors` runs at every iteration)."""
        cache = self.__dict__.setdefault("_free_index_cache", {})
        if g not in cache:
            gm, free = self.groups[g], self.free
            sel_a, sel_s, sel_m = (free[r] > 0 for r in (gm.a_rows, gm.s_rows, gm.m_rows))
            si, sj = gm.s_i[sel_s], gm.s_j[sel_s]
            cache[g] = (
                (gm.a_i[sel_a], gm.a_j[sel_a]) if sel_a.any() else None,
                (si, sj, np.where(si == sj, 0.5, 1.0)) if sel_s.any() else None,
                gm.m_i[sel_m] if sel_m.any() else None,
            )
            rows = [r[sel] for r, sel in ((gm.a_rows, sel_a), (gm.s_rows, sel_s),
                                          (gm.m_rows, sel_m)) if sel.any()]  # fmt: skip
            self.__dict__.setdefault("_free_rows_of_group", {})[g] = (
                np.concatenate(rows) if rows else np.zeros(0, dtype=int)
            )
        return cache[g]

    def row_to_free(self, rows: np.ndarray) -> np.ndarray:
        """Matrix ``L`` (len(rows) x q) summing row derivatives into free parameters."""
        L = np.zeros((len(rows), self.n_free))
        L[np.arange(len(rows)), self.free[rows] - 1] = 1.0
        return L

    def jacobian(
        self,
        theta: np.ndarray,
        g: int = 0,
        meanstructure: bool | None = None,
        diagonal: bool = True,
    ) -> np.ndarray:
        """:math:`\\Delta = \\partial (\\operatorname{vech}\\Sigma, \\mu) / \\partial\\theta^\\top`.

        Rows follow lavaan's ordering: the means first when there is a mean
        structure (lavaan's ``WLS.obs`` order), then ``vech(Sigma)``
        (lower triangle, column by column). With ``diagonal=False`` only the
        strictly lower triangle (correlation structure).
        """
        ms = self.meanstructure if meanstructure is None else meanstructure
        pc = self.pieces(theta, g)
        rows, X, Y, DMU = self.rank2_factors(pc, g)
        p = self.n_ov
        ri, ci = vech_indices(p)
        if not diagonal:
            keep = ri != ci
            ri, ci = ri[keep], ci[keep]
        D = X[ri, :] * Y[ci, :] + Y[ri, :] * X[ci, :]
        if ms:
            D = np.vstack([DMU, D])
        return D @ self.row_to_free(rows)


def _cat_int(parts: list) -> np.ndarray:
    return np.concatenate(parts).astype(int) if parts else np.zeros(0, dtype=int)


def _nan_to_num(values: np.ndarray) -> np.ndarray:
    """``numpy.nan_to_num``, skipped when every value is finite (the usual case: it
    costs more than the rest of building the matrices)."""
    return values if np.isfinite(values).all() else np.nan_to_num(values)
