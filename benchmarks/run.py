"""Time ckm_research.fit against lavaan on the CKM reference data sets.

Usage (from anywhere; paths are taken relative to the repository)::

    python benchmarks/run.py            # ours and lavaan, all cases (~35 min: lavaan's FIML)
    python benchmarks/run.py --no-r     # ours only, all cases, full repetitions
    python benchmarks/run.py --quick    # ours only, one repetition each (~1 min)
    python benchmarks/run.py --cases ckm_ml,ckm_wlsmv

It prints a table (seconds; ratio = lavaan / ours, above 1 means we are
faster) and writes ``benchmarks/results/latest.json``.  What is measured is
described in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data"
FIXTURES = ROOT / "tests" / "reference" / "json"
MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"
RESULTS = ROOT / "benchmarks" / "results"

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

#: name -> (description, data file, estimator, ordered, repetitions full/quick,
#: speed target from the engine issue: lavaan time / ours at least this)
#: keep in step with benchmarks/lavaan_bench.R
CASES = {
    "hs_ml": ("Holzinger-Swineford CFA, ML, N=301", "HolzingerSwineford1939.csv", "ML", None,
              (10, 3), None),
    "ckm_ml": ("CKM SEM, ML, N=500", "ckm_sim_n500.csv", "ML", None, (5, 1), 1.0),
    "ckm_mlr": ("CKM SEM, MLR, N=500", "ckm_sim_n500.csv", "MLR", None, (3, 1), 5.0),
    "ckm_fiml": ("CKM SEM, FIML, N=500, 7% MCAR", "ckm_sim_n500_missing.csv", "FIML", None,
                 (3, 1), 5.0),
    "ckm_wlsmv": ("CKM SEM, WLSMV, N=900, 53 ordinal", "ckm_sim_ordinal_n900.csv", "WLSMV",
                  "all", (3, 1), 5.0),
}  # fmt: skip
#: lavaan's repetitions (the slow cases once: lavaan's FIML takes ~20 min)
LAVAAN_REPS = {"hs_ml": 10, "ckm_ml": 5, "ckm_mlr": 1, "ckm_fiml": 1, "ckm_wlsmv": 1}


def _import_ckm():
    try:
        import ckm_research
    except ImportError:
        sys.path.insert(0, str(ROOT))
        import ckm_research
    return ckm_research


def model_text(case: str) -> str:
    return HS_MODEL if case == "hs_ml" else MODEL.read_text(encoding="utf-8")


def time_ours(case: str, reps: int) -> dict:
    import pandas as pd

    ckm = _import_ckm()
    desc, csv, estimator, ordered, _, _ = CASES[case]
    data = pd.read_csv(DATA / csv)
    model = model_text(case)
    times = []
    res = None
    for r in range(reps):
        print(f"  ours {case}, repetition {r + 1} of {reps} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        res = ckm.fit(model, data, estimator=estimator, ordered=ordered)
        times.append(time.perf_counter() - t0)
    fm = res.fit_measures
    return {
        "seconds": times,
        "median": statistics.median(times),
        "n": res.n,
        "converged": bool(res.converged),
        "chisq": fm.get("chisq"),
        "df": fm.get("df"),
    }


def time_lavaan(cases: list[str], quick: bool) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    reps = ",".join(f"{c}={1 if quick else LAVAAN_REPS[c]}" for c in cases)
    cmd = [rscript, str(ROOT / "benchmarks" / "lavaan_bench.R"), "--cases", ",".join(cases),
           "--reps", reps]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        print(f"lavaan_bench.R failed (exit {proc.returncode}); lavaan columns left empty",
              file=sys.stderr)  # fmt: skip
        return None
    return json.loads(proc.stdout)


def recorded_lavaan(case: str) -> float | None:
    """lavaan's time stored in the engine fixture (another run, maybe another machine)."""
    path = FIXTURES / f"engine_{case.replace('hs_ml', 'hs_cfa_ml')}.json"
    if not path.exists():
        return None
    t = json.loads(path.read_text()).get("timing", {})
    parts = [t.get(k) for k in ("fit", "fitMeasures", "parameterEstimates")]
    return None if any(p is None for p in parts) else float(sum(parts))


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True)  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def fmt(v, spec=".2f") -> str:
    return "-" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="ours only, one repetition per case (a minute or two; implies --no-r)",
    )
    ap.add_argument("--no-r", action="store_true", help="do not run lavaan even if R is present")
    ap.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}"
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "latest.json",
        help="where to write the results (default benchmarks/results/latest.json)",
    )
    args = ap.parse_args(argv)  # fmt: skip
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    run_r = not (args.quick or args.no_r)

    ckm = _import_ckm()
    import numpy as np
    import pandas as pd

    # warm-up, untimed: imports and first-call costs
    ckm.fit(HS_MODEL, pd.read_csv(DATA / "HolzingerSwineford1939.csv"))

    ours = {}
    for c in cases:
        ours[c] = time_ours(c, CASES[c][4][1 if args.quick else 0])
    lav = None
    if run_r:
        if shutil.which("Rscript") is None:
            print("Rscript not found: lavaan not run (install R and lavaan to compare)",
                  file=sys.stderr)  # fmt: skip
        else:
            print("running lavaan (benchmarks/lavaan_bench.R) ...", file=sys.stderr, flush=True)
            lav = time_lavaan(cases, quick=False)

    rows = []
    for c in cases:
        desc, _, est, _, _, target = CASES[c]
        o = ours[c]
        row = {"case": c, "description": desc, "estimator": est, "ours": o, "target_ratio": target}
        if lav and c in lav.get("cases", {}):
            lc = lav["cases"][c]
            row["lavaan"] = {
                "total": lc["total"], "fit": lc["fit"], "fit_measures": lc["fit_measures"],
                "estimates": lc["estimates"], "median_total": statistics.median(lc["total"]),
                "median_fit": statistics.median(lc["fit"]), "chisq": lc.get("chisq"),
                "nobs": lc.get("nobs"),
            }  # fmt: skip
            row["lavaan_source"] = "this run"
            row["ratio"] = row["lavaan"]["median_total"] / o["median"]
            if o["chisq"] is not None and lc.get("chisq") is not None:
                row["chisq_abs_diff"] = abs(o["chisq"] - lc["chisq"])
        else:
            rec = recorded_lavaan(c)
            if rec is not None:
                row["lavaan"] = {"median_total": rec}
                row["lavaan_source"] = "recorded in tests/reference/json (another run)"
                row["ratio"] = rec / o["median"]
        rows.append(row)

    # ---- table ---------------------------------------------------------------
    src = "this run" if lav else "recorded*"
    head = (f"{'case':<10} {'estimator':<6} {'N':>4} {'ours s':>8} "
            f"{'lavaan s':>9} {'ratio':>7} {'target':>7}  {'chisq diff':>10}")  # fmt: skip
    print(f"\nckm_research.fit vs lavaan ({src}); median wall seconds; ratio = lavaan / ours")
    print(head)
    print("-" * len(head))
    for r in rows:
        lav_t = r.get("lavaan", {}).get("median_total")
        ratio = r.get("ratio")
        tgt = r["target_ratio"]
        mark = "" if ratio is None or tgt is None else (" ok" if ratio >= tgt else " MISS")
        print(f"{r['case']:<10} {r['estimator']:<6} {r['ours']['n']:>4} "
              f"{r['ours']['median']:>8.2f} {fmt(lav_t):>9} {fmt(ratio, '.1f'):>7} "
              f"{fmt(tgt and f'>={tgt:g}', 's'):>7}  "
              f"{fmt(r.get('chisq_abs_diff'), '.1e'):>10}{mark}")  # fmt: skip
    if not lav:
        print("* lavaan not run now: its times are those stored in the engine fixtures "
              "(another run; compare only roughly)")  # fmt: skip

    out = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "lavaan_run": bool(lav),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "versions": {
            "python": platform.python_version(),
            "ckm_research": getattr(ckm, "__version__", None),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "lavaan": lav.get("lavaan_version") if lav else None,
            "R": lav.get("R_version") if lav else None,
        },
        "git_commit": git_commit(),
        "cases": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
