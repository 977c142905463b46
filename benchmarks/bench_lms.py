"""Benchmark: LMS with FIML, three latent moderators on the CKM study model, and oneInt;
QML on oneInt.

Usage (from the repository root)::

    python benchmarks/bench_lms.py               # the LMS cases (ckm, oneint)
    python benchmarks/bench_lms.py --cases ckm   # one case
    python benchmarks/bench_lms.py --cases oneint_qml   # QML on oneInt
    python benchmarks/bench_lms.py --cases ckm4  # four moderators (slower: 81 nodes per case)
    python benchmarks/bench_lms.py --fixed       # also the fixed product rule (slow)

Cases (wall clock of one ``ckm_research.moderation.fit_lms`` call, estimates,
observed-information SEs and the LRT against the model without products):

* ``ckm``: the CKM study model (``ckm_research/models/ckm_study.lav``, 13
  factors, 53 items) with the three turbulence moderators of CKM on INS and SAT
  (``INS ~ CKM:CTU + CKM:TTU + CKM:CPT``, the same for SAT, with SAT's main
  effects of TTU and CPT added), N = 1,500 respondents simulated from the
  study's population (``ckm_research.data.simulate``, seed 11), 5% of the
  answers MCAR-missing, ``missing="ml"``: adaptive quadrature, 3 nodes per
  moderator and case (27).  Issue 11's target: under 2 minutes on 2 cores.
  The Hessian's columns are shared by ``--n-jobs`` forked processes
  (default 2); CPU time of the children is printed beside the wall clock,
  and the wall clock the case would take on an idle machine with ``n_jobs``
  cores (CPU of this process + CPU of the workers / n_jobs).
* ``ckm4``: the same with a fourth moderator of CKM, the strategy factor
  (``INS ~ ... + CKM:STG``, the same for SAT): 3^4 = 81 nodes per case.
* ``oneint``: modsem's oneInt (N = 2,000, complete), the default rule (64 fixed
  nodes, 36 after pruning), and the same with 10% of the cells MCAR-missing
  and ``missing="ml"``.
* ``oneint_qml``: oneInt by QML (``ckm_research.moderation.fit_qml``; Klein &
  Muthén, 2007), estimates and observed-information SEs: the same model as
  ``oneint``, no quadrature.
* ``products_qml``: QML with many product terms, where it pays: three
  correlated exogenous factors and all six of their products and squares on
  one outcome (``Y ~ X + Z + W + X:Z + X:W + Z:W + X:X + Z:Z + W:W``), N = 1,000
  simulated (seed 5, three indicators each).  LMS would integrate over three
  moderators here.

The machine is shared; the load average at the end is printed beside the times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ONEINT_MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z\n"
CKM_PRODUCTS = (
    "\nINS ~ CKM:CTU + CKM:TTU + CKM:CPT\nSAT ~ TTU + CPT + CKM:CTU + CKM:TTU + CKM:CPT\n"
)
CKM4_PRODUCTS = (
    "\nINS ~ STG + CKM:CTU + CKM:TTU + CKM:CPT + CKM:STG\n"
    "SAT ~ TTU + CPT + STG + CKM:CTU + CKM:TTU + CKM:CPT + CKM:STG\n"
)


def ckm_case(n: int = 1500, missing: float = 0.05, seed: int = 11, products: str = CKM_PRODUCTS):
    """The CKM study model with three (or four) moderators and simulated data."""
    from ckm_research.data.simulate import simulate

    model = (ROOT / "ckm_research" / "models" / "ckm_study.lav").read_text() + products
    data = simulate(n, seed, missing=missing)
    return model, data


PRODUCTS_MODEL = (
    "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nW =~ w1 + w2 + w3\nY =~ y1 + y2 + y3\n"
    "Y ~ X + Z + W + X:Z + X:W + Z:W + X:X + Z:Z + W:W\n"
)


def products_case(n: int = 1000, seed: int = 5):
    """Three correlated exogenous factors, six product terms, three indicators each."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.25], [0.2, 0.25, 1.0]])
    X, Z, W = rng.multivariate_normal(np.zeros(3), phi, size=n).T
    y = (
        0.4 * X + 0.3 * Z + 0.2 * W + 0.25 * X * Z + 0.15 * X * W - 0.1 * Z * W
        + 0.1 * X * X - 0.1 * Z * Z + 0.05 * W * W + rng.normal(0, 0.7, n)
    )  # fmt: skip
    cols = {}
    for name, f in (("x", X), ("z", Z), ("w", W), ("y", y)):
        for j, lam in enumerate((1.0, 0.8, 0.9), start=1):
            cols[f"{name}{j}"] = lam * f + rng.normal(0, 0.55, n)
    return PRODUCTS_MODEL, pd.DataFrame(cols)


def _report(name, res, seconds, t0=None):
    est = res.estimates
    rows = est[est["rhs"].str.contains(":", regex=False) & (est["op"] == "~")]
    info = res.notes["interaction"]
    rule = (
        f"rule={info['quadrature']} ({info['quadrature_points']} points)  "
        if "quadrature" in info
        else ""
    )
    print(
        f"{name}: {seconds:.1f} s  N={res.n}  logl={res.fit_measures['logl']:.3f}  "
        f"LRT D={res.fit_measures['lrt.stat']:.2f} on {res.fit_measures['lrt.df']:.0f} df  "
        f"{rule}evaluations={info['function_evaluations']}"
        + (
            f" (+{info['gradient_evaluations']} gradients)"
            if "gradient_evaluations" in info
            else ""
        )
    )
    t = os.times()
    print(
        f"    cumulative CPU: {t.user + t.system:.1f} s in this process, "
        f"{t.children_user + t.children_system:.1f} s in forked Hessian workers"
    )
    if t0 is not None:
        own = t.user + t.system - t0.user - t0.system
        kids = t.children_user + t.children_system - t0.children_user - t0.children_system
        jobs = max(1, int(info.get("n_jobs", 1)))
        print(
            f"    this case: {own:.1f} s CPU in this process + {kids:.1f} s in {jobs} workers; "
            f"on an idle machine with {jobs} cores about {own + kids / jobs:.0f} s"
        )
    for r in rows.itertuples(index=False):
        print(f"    {r.lhs} ~ {r.rhs}: {r.est:.4f} (SE {r.se:.4f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="ckm,oneint")
    ap.add_argument("--fixed", action="store_true", help="also time the fixed product rule")
    ap.add_argument(
        "--n-jobs", type=int, default=2, help="processes for the Hessian (fit_lms n_jobs)"
    )
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd

    from ckm_research.moderation.lms import fit_lms

    cases = args.cases.split(",")
    print(f"cores={os.cpu_count()}")
    if "oneint" in cases:
        d = pd.read_csv(ROOT / "tests" / "reference" / "data" / "oneInt.csv")
        t = time.perf_counter()
        res = fit_lms(ONEINT_MODEL, d)
        _report("oneint complete, fixed 64", res, time.perf_counter() - t)
        holes = d.mask(np.random.default_rng(1).random(d.shape) < 0.10)
        t = time.perf_counter()
        res = fit_lms(ONEINT_MODEL, holes, missing="ml")
        _report("oneint 10% missing, FIML, fixed 64", res, time.perf_counter() - t)
    if "oneint_qml" in cases:
        from ckm_research.moderation.qml import fit_qml

        d = pd.read_csv(ROOT / "tests" / "reference" / "data" / "oneInt.csv")
        fit_qml(ONEINT_MODEL, d.iloc[:200])  # warm-up (imports)
        t, c = time.perf_counter(), time.process_time()
        res = fit_qml(ONEINT_MODEL, d)
        wall = time.perf_counter() - t
        _report("oneint QML", res, wall)
        print(f"    CPU of the fit: {time.process_time() - c:.2f} s")
    if "products_qml" in cases:
        from ckm_research.moderation.qml import fit_qml

        model, data = products_case()
        t, c = time.perf_counter(), time.process_time()
        res = fit_qml(model, data)
        wall = time.perf_counter() - t
        _report("products QML (6 product terms, N=1000)", res, wall)
        print(f"    CPU of the fit: {time.process_time() - c:.2f} s")
    if "ckm" in cases:
        model, data = ckm_case()
        t, t0 = time.perf_counter(), os.times()
        res = fit_lms(model, data, missing="ml", n_jobs=args.n_jobs)
        _report(
            f"ckm 3 moderators N=1500 FIML adaptive n_jobs={args.n_jobs}",
            res,
            time.perf_counter() - t,
            t0,
        )
        if args.fixed:
            t = time.perf_counter()
            res = fit_lms(model, data, missing="ml", quadrature="fixed", n_jobs=args.n_jobs)
            _report("ckm 3 moderators N=1500 FIML fixed 12^3", res, time.perf_counter() - t)
    if "ckm4" in cases:
        model, data = ckm_case(products=CKM4_PRODUCTS)
        t, t0 = time.perf_counter(), os.times()
        res = fit_lms(model, data, missing="ml", n_jobs=args.n_jobs)
        _report(
            f"ckm 4 moderators N=1500 FIML adaptive n_jobs={args.n_jobs}",
            res,
            time.perf_counter() - t,
            t0,
        )
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
