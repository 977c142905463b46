"""Benchmark: the latent-interaction estimators' BFGS (``ckm_research.numerics.bfgs``)
against ``scipy.optimize.minimize(method="BFGS", jac=True, options={"hess_inv0": ...})``.

Usage (from the repository root)::

    python benchmarks/bench_bfgs.py              # 7 interleaved runs per case
    python benchmarks/bench_bfgs.py --reps 3 --scales 50,5,0.2

Both optimisers get the same objective (minus the log-likelihood per case, the
estimators' analytic gradient), start, initial inverse Hessian (symmetrised for
scipy, which requires it exactly symmetric) and ``gtol`` (the largest absolute
gradient element, scipy's default ``norm=inf``): the one in
``ckm_research.moderation.lms._maximise`` is swapped.  Per case: CPU time of the
optimisation only (``time.process_time``; min and median over interleaved runs),
gradient evaluations counted inside the optimiser plus the start's (scipy
evaluates the start again: it takes no ``f0``), iterations, and the largest
differences of the estimates, SEs and log-likelihood.  With ``--scales`` the
initial inverse Hessian is multiplied by each factor, so that the first trial
steps overshoot (leave the admissible region: the objective returns
``(inf, None)``, passed to scipy as ``(inf, NaN gradient)``) or undershoot.

Cases, as ``benchmarks/bench_lms.py``: ``oneint`` LMS (complete, dense engine),
``oneint`` LMS-FIML (10% MCAR, latent-space engine), ``oneint_qml``,
``products_qml``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LOG: list[dict] = []


def _counted(fg):
    st = {"n": 0, "inf": 0}

    def f(x):
        st["n"] += 1
        v, g = fg(x)
        if not (v < float("inf")):
            st["inf"] += 1
        return v, g

    return f, st


def home(fg, x0, H0, *, max_iter, gtol, f0=None, g0=None):
    """``numerics.bfgs`` as the estimators call it (start evaluation passed in)."""
    from ckm_research.numerics import bfgs

    f, st = _counted(fg)
    c = time.process_time()
    r = bfgs(f, x0, H0, max_iter=max_iter, gtol=gtol, f0=f0, g0=g0)
    LOG.append(
        dict(cpu=time.process_time() - c, nfev=st["n"] + 1, inf=st["inf"], nit=r.nit, st=r.status)
    )
    return r


def scipy_bfgs(fg, x0, H0, *, max_iter, gtol, f0=None, g0=None):
    """scipy's BFGS with ``hess_inv0``; ``(inf, None)`` becomes ``(inf, NaN)``."""
    import numpy as np
    from scipy.optimize import minimize

    from ckm_research.numerics.optimize import MinimizeResult

    f, st = _counted(fg)

    def fj(x):
        v, g = f(x)
        return (np.inf, np.full_like(x, np.nan)) if g is None else (v, g)

    c = time.process_time()
    opts = {"gtol": gtol, "maxiter": max_iter, "hess_inv0": 0.5 * (H0 + H0.T)}
    r = minimize(fj, x0, jac=True, method="BFGS", options=opts)
    LOG.append(
        dict(
            cpu=time.process_time() - c,
            nfev=st["n"] + (f0 is not None),
            inf=st["inf"],
            nit=int(r.nit),
            st=r.message,
        )
    )
    ok = r.success or np.max(np.abs(r.jac)) < 1e-4
    return MinimizeResult(r.x, r.fun, r.jac, int(r.nit), "converged" if ok else "no_descent")


def cases():
    import numpy as np
    import pandas as pd
    from bench_lms import ONEINT_MODEL, products_case

    from ckm_research.moderation.lms import fit_lms
    from ckm_research.moderation.qml import fit_qml

    d = pd.read_csv(ROOT / "tests" / "reference" / "data" / "oneInt.csv")
    holes = d.mask(np.random.default_rng(1).random(d.shape) < 0.10)
    pm, pdat = products_case()
    return {
        "oneint LMS complete": lambda: fit_lms(ONEINT_MODEL, d),
        "oneint LMS FIML 10%": lambda: fit_lms(ONEINT_MODEL, holes, missing="ml"),
        "oneint QML": lambda: fit_qml(ONEINT_MODEL, d),
        "products QML": lambda: fit_qml(pm, pdat),
    }


def main(argv=None) -> int:
    import numpy as np

    import ckm_research.moderation.lms as lms

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--scales", default="", help="factors of the initial inverse Hessian")
    args = ap.parse_args(argv)
    impls = {"home": home, "scipy": scipy_bfgs}
    print(f"load average before: {os.getloadavg()}")
    for name, run in cases().items():
        cpu = {k: [] for k in impls}
        last = {}
        for _ in range(args.reps):
            for k, impl in impls.items():
                lms.bfgs = impl
                res = run()
                cpu[k].append(LOG[-1]["cpu"])
                last[k] = (LOG[-1], res)
        (lh, rh), (ls, rs) = last["home"], last["scipy"]
        de = np.max(np.abs(rh.estimates["est"].to_numpy() - rs.estimates["est"].to_numpy()))
        ds = np.max(np.abs(rh.estimates["se"].to_numpy() - rs.estimates["se"].to_numpy()))
        dl = abs(rh.fit_measures["logl"] - rs.fit_measures["logl"])
        print(f"{name}:")
        for k, lg in (("home", lh), ("scipy", ls)):
            print(
                f"    {k:5s} CPU min {min(cpu[k]) * 1e3:7.1f} ms, median "
                f"{np.median(cpu[k]) * 1e3:7.1f} ms; evaluations {lg['nfev']}, "
                f"iterations {lg['nit']}, infinite trials {lg['inf']}"
            )
        print(
            f"    scipy/home CPU: min {min(cpu['scipy']) / min(cpu['home']):.2f}, median "
            f"{np.median(cpu['scipy']) / np.median(cpu['home']):.2f}; max |est diff| {de:.1e}, "
            f"max |SE diff| {ds:.1e}, |logl diff| {dl:.1e}"
        )
        for s in [float(v) for v in args.scales.split(",") if v]:
            for k, impl in impls.items():

                def scaled(fg, x0, H0, impl=impl, s=s, **kw):
                    return impl(fg, x0, s * H0, **kw)

                lms.bfgs = scaled
                try:
                    res = run()
                    lg = LOG[-1]
                    print(
                        f"    initial inverse Hessian x {s:g}, {k:5s}: evaluations {lg['nfev']}, "
                        f"iterations {lg['nit']}, infinite trials {lg['inf']}, "
                        f"logl {res.fit_measures['logl']:.6f}"
                    )
                except Exception as exc:  # noqa: BLE001 - report and go on
                    print(f"    initial inverse Hessian x {s:g}, {k:5s}: failed: {exc}")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
