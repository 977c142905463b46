"""Satorra's (2000) scaled-and-shifted chi-square difference test of two (D)WLS fits.

lavaan's ``lavTestLRT`` for fits whose test is ``scaled.shifted`` (WLSMV,
ULSMV) uses ``method = "satorra.2000"`` (``lav_test_diff_Satorra2000`` with
``A.method = "delta"``, lavaan 0.6.14): with :math:`\\Pi` the Jacobian of the
less restricted model (1), :math:`A` the orthogonal complement of
:math:`H = \\Pi_1^{+}\\Pi_0` (the restrictions, in the parameters of model 1),
:math:`P = \\sum_g f_g \\Pi_g^\\top W_g \\Pi_g` its information and
:math:`M = P^{-1}A^\\top (A P^{-1} A^\\top)^{+} A P^{-1}`,

.. math::

    \\operatorname{tr}(U\\Gamma) = \\sum_g f_g \\operatorname{tr}(W_g\\Gamma_g W_g
    \\Pi_g M \\Pi_g^\\top), \\quad
    \\operatorname{tr}[(U\\Gamma)^2] \\text{ with } U = V\\Pi M\\Pi^\\top V,\\;
    V = \\oplus_g W_g,\\; \\Gamma = \\oplus_g f_g\\Gamma_g,

and the difference :math:`T_d = a (T_0 - T_1) + b` on :math:`m = d_0 - d_1` df,
:math:`a = \\sqrt{m/\\operatorname{tr}[(U\\Gamma)^2]}`,
:math:`b = m - a\\operatorname{tr}(U\\Gamma)` (Satorra, 2000; Asparouhov &
Muthén, 2006).  This is what measurement invariance of ordinal items compares
(Wu & Estabrook, 2016).

References
----------
Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample
analysis of moment structures. In R. D. H. Heijmans, D. S. G. Pollock, & A.
Satorra (Eds.), *Innovations in multivariate statistical analysis* (pp.
233-247). Kluwer.

Asparouhov, T., & Muthén, B. (2006). Robust chi square difference testing with
mean and variance adjusted test statistics. Mplus Web Notes, 10.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag, null_space

from ckm_research.errors import CkmError
from ckm_research.sem import distributions as stats  # scipy.stats' results, cheap to import

__all__ = ["satorra2000_difference"]


def _wls_engine(res):
    from ckm_research.sem.wlsmv import WLSMVEngine

    eng = getattr(res, "_engine", None)
    if not isinstance(eng, WLSMVEngine) or eng.spec.test != "scaled.shifted":
        raise CkmError(
            "the Satorra (2000) difference test needs two WLSMV (or ULSMV) fits of ordered "
            "items; compare ML/MLR fits with the standard or Satorra-Bentler (2001) test"
        )
    return eng


def satorra2000_difference(free, restricted) -> dict:
    """Scaled-and-shifted difference test of a restricted WLSMV fit against a less
    restricted one (lavaan's ``lavTestLRT(free, restricted)``, ``method =
    "satorra.2000"``).

    Parameters
    ----------
    free, restricted : SEMResults
        WLSMV (or ULSMV) fits of nested models to the same data; ``free`` has
        the fewer degrees of freedom.

    Returns
    -------
    dict
        ``chisq.diff df.diff pvalue method scaling.factor`` (the scaling factor
        is NaN for the scaled-and-shifted test, as lavaan's) and ``a``, ``b``.
    """
    e1, e0 = _wls_engine(free), _wls_engine(restricted)
    if e1.spec.name != e0.spec.name or e1.ngroups != e0.ngroups:
        raise CkmError("the two fits must use the same estimator and the same groups")
    t1, d1 = free.fit_measures["chisq"], free.fit_measures["df"]
    t0, d0 = restricted.fit_measures["chisq"], restricted.fit_measures["df"]
    m = d0 - d1
    out = {"method": "satorra.2000", "df.diff": float(m), "scaling.factor": np.nan}
    if m == 0:
        out.update({"chisq.diff": float(t0 - t1), "pvalue": np.nan, "a": np.nan, "b": np.nan})
        return out
    pis = e1.delta_groups(e1.theta)
    pi = np.vstack(pis)
    h = np.linalg.pinv(pi) @ e0.delta(e0.theta)
    a_mat = null_space(h.T).T  # lavaan's t(lav_matrix_orthogonal_complement(H))
    fg = e1._fg()
    wmats = [np.diag(w) if w.ndim == 1 else w for w in e1.weights]
    info = sum(f * p.T @ w @ p for f, p, w in zip(fg, pis, wmats, strict=True))
    info_inv = np.linalg.inv(info)
    apa = a_mat @ info_inv @ a_mat.T
    tiny = np.sqrt(np.finfo(float).eps)
    keep = ~((np.abs(apa.sum(axis=0)) < tiny) & (np.abs(apa.sum(axis=1)) < tiny))
    a_mat = a_mat[keep]
    mid = info_inv @ a_mat.T @ np.linalg.pinv(a_mat @ info_inv @ a_mat.T) @ a_mat @ info_inv
    tr1 = sum(
        f * np.trace(w @ mom.gamma @ w @ p @ mid @ p.T)
        for f, p, w, mom in zip(fg, pis, wmats, e1.moms, strict=True)
    )
    gam = block_diag(*[f * mom.gamma for f, mom in zip(fg, e1.moms, strict=True)])
    v = block_diag(*wmats)
    ug = v @ pi @ mid @ pi.T @ v @ gam
    tr2 = float(np.sum(ug * ug.T))
    a = np.sqrt(m / tr2)
    b = m - a * tr1
    stat = (t0 - t1) * a + b
    out.update(
        {
            "chisq.diff": float(stat),
            "pvalue": float(stats.chi2.sf(stat, m)),
            "a": float(a),
            "b": float(b),
        }
    )
    return out
