"""Benchmark: nonparametric bootstrap of the 53-item CKM SEM against lavaan.

Usage (from anywhere)::

    python benchmarks/bench_bootstrap.py                 # B = 200, ours and lavaan
    python benchmarks/bench_bootstrap.py --no-r          # ours only
    python benchmarks/bench_bootstrap.py --boot 1000 --jobs 2 --json out.json

The issue's target: 200 resamples of the CKM study SEM (13 factors, 53
items, ``ckm_research/models/ckm_study.lav``) at N = 500 at least 5 times
faster than lavaan's ``sem(..., se = "bootstrap", bootstrap = 200)``.

What is timed (wall clock, data already in memory, packages loaded):

* ours: ``ckm_research.fit`` plus
  ``ckm_research.inference.bootstrap(..., n_boot=B, ci="perc", bca=False)``,
  which gives what lavaan's ``se = "bootstrap"`` gives (bootstrap SEs and the
  percentile intervals of every parameter), with ``--jobs`` local worker
  processes, starting them included ("cold"); then the same call again with the
  workers already running ("warm", as in a notebook); then with BCa intervals
  (N extra jackknife refits);
* lavaan: ``sem(model, data, se = "bootstrap", bootstrap = B)``, serially and
  with ``parallel = "multicore", ncpus = --jobs``; the ratio uses the faster.

Per-resample times subtract each side's plain fit.  The data are the
committed reference data ``tests/reference/data/ckm_sim_n500.csv`` (7-point
items; simulated from the documented CKM population when the file is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "data" / "ckm_sim_n500.csv"
POPULATION = ROOT / "tests" / "reference" / "data" / "ckm_population.lav"
MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"

R_CODE = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n")
B <- as.integer(args[3]); cores <- as.integer(args[4])
invisible(sem("visual =~ x1 + x2 + x3", data = HolzingerSwineford1939))  # warm-up
el <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
t_fit <- el(fit0 <- sem(model, data = d))
t_serial <- el(fb <- suppressWarnings(sem(model, data = d, se = "bootstrap", bootstrap = B,
                                          iseed = 1L)))
t_par <- if (cores > 1L) el(fp <- suppressWarnings(sem(model, data = d, se = "bootstrap",
        bootstrap = B, parallel = "multicore", ncpus = cores, iseed = 1L))) else NA
boot <- lavInspect(fb, "boot")
pe <- parameterEstimates(fb)
cat(jsonlite::toJSON(list(fit = t_fit, boot_serial = t_serial, boot_parallel = t_par,
  ok = nrow(boot) - length(attr(boot, "error.idx")),
  lavaan = as.character(packageVersion("lavaan")),
  key = paste(pe$lhs, pe$op, pe$rhs), se = pe$se), auto_unbox = TRUE, digits = NA))
"""


def _load_data():
    import pandas as pd

    if DATA.exists():
        return pd.read_csv(DATA), str(DATA.relative_to(ROOT))
    from ckm_research.inference.population import PopulationModel

    pop = PopulationModel(POPULATION.read_text(encoding="utf-8"))
    return pop.simulate(500, random_state=1), "simulated from ckm_population.lav"


def time_ours(model, data, n_boot, jobs):
    import ckm_research
    from ckm_research.inference import bootstrap

    ckm_research.fit("F =~ " + " + ".join(data.columns[:3]), data)  # untimed warm-up
    t0 = time.perf_counter()
    res = ckm_research.fit(model, data)
    t_fit = time.perf_counter() - t0
    out = {"fit": t_fit}
    for label, kw in (("cold", {}), ("warm", {}), ("bca", {"bca": True, "ci": "bca"})):
        kw = {"bca": False, "ci": "perc", **kw}
        t0 = time.perf_counter()
        boot = bootstrap(model, data, n_boot=n_boot, random_state=1, n_jobs=jobs, result=res,
                         progress=False, **kw)  # fmt: skip
        out[label] = time.perf_counter() - t0
        out[f"{label}_converged"] = boot.counts()["converged"]
    est = boot.estimates
    out["se"] = dict(zip(est["lhs"] + " " + est["op"] + " " + est["rhs"], est["se"], strict=True))
    return out


def time_lavaan(data_path, n_boot, jobs):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(R_CODE, encoding="utf-8")
        proc = subprocess.run(
            ["Rscript", str(script), str(data_path), str(MODEL), str(n_boot), str(jobs)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        print("lavaan failed:\n" + proc.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boot", type=int, default=200, help="resamples (default 200)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="worker processes, ours and lavaan's multicore (default: all cores)")
    ap.add_argument("--no-r", action="store_true", help="do not run lavaan")
    ap.add_argument("--json", type=Path, default=None, help="write the timings here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import numpy as np

    data, source = _load_data()
    model = MODEL.read_text(encoding="utf-8")
    print(f"bootstrap of the CKM SEM (53 items, N = {len(data)}, {source}), B = {args.boot}, "
          f"{args.jobs} job(s), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    ours = time_ours(model, data, args.boot, args.jobs)
    print(f"  ours:   fit {ours['fit']:.2f} s; bootstrap {ours['cold']:.2f} s (workers started "
          f"cold), {ours['warm']:.2f} s (warm); with BCa (+{len(data)} jackknife fits) "
          f"{ours['bca']:.2f} s; {ours['cold_converged']}/{args.boot} converged")  # fmt: skip
    per_ours = ours["cold"] / args.boot
    doc = {"machine": platform.platform(), "cpus": os.cpu_count(), "jobs": args.jobs,
           "boot": args.boot, "data": source, "ours": ours}  # fmt: skip
    lav = None if args.no_r else time_lavaan(DATA if DATA.exists() else None, args.boot, args.jobs)
    if lav is not None:
        best = min(v for v in (lav["boot_serial"], lav["boot_parallel"]) if v is not None)
        per_lav = (best - lav["fit"]) / args.boot
        print(f"  lavaan {lav['lavaan']}: fit {lav['fit']:.2f} s; se='bootstrap' "
              f"{lav['boot_serial']:.2f} s serial"
              + (f", {lav['boot_parallel']:.2f} s on {args.jobs} cores" if lav["boot_parallel"]
                 else "") + f"; {lav['ok']}/{args.boot} converged")  # fmt: skip
        total_ours = ours["fit"] + ours["cold"]
        print(f"  per resample: lavaan {1000 * per_lav:.1f} ms, ours {1000 * per_ours:.1f} ms")
        print(f"  ratio lavaan/ours (fit + bootstrap, cold workers): {best / total_ours:.1f}x; "
              f"bootstrap only: {(best - lav['fit']) / ours['cold']:.1f}x (cold), "
              f"{(best - lav['fit']) / ours['warm']:.1f}x (warm); target 5x")  # fmt: skip
        ratios = [ours["se"][k] / v for k, v in zip(lav["key"], lav["se"], strict=True)
                  if v > 0 and k in ours["se"]]  # fmt: skip
        print(f"  bootstrap SEs, ours / lavaan (different resamples): median ratio "
              f"{np.median(ratios):.3f} over {len(ratios)} parameters")  # fmt: skip
        doc["lavaan"] = lav
        doc["ratio_total"] = best / total_ours
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
