"""Benchmark: Monte Carlo power of a three-factor SEM against a lavaan loop.

Usage (from anywhere)::

    python benchmarks/bench_power.py                      # 2 N x 1000 reps, ours and lavaan
    python benchmarks/bench_power.py --no-r               # ours only
    python benchmarks/bench_power.py --lavaan-reps 200    # lavaan on fewer reps (time scaled)

The issue's target: 2 sample sizes x 1000 replications of a three-factor model
at least 5 times faster than a lavaan ``simulateData`` + ``sem`` loop (about
135 ms per replication, 270 s in all, on the reference machine).

What is timed (wall clock, packages loaded, one untimed warm-up fit each):

* ours: ``power_analysis(population, [100, 200], reps=1000, analysis=...)`` with
  ``--jobs`` worker processes, their start included;
* lavaan: for every replication ``simulateData(population, sample.nobs = n)``,
  ``sem(analysis, data)``, ``parameterEstimates(fit)`` and the chi-square p-value
  (what our power table reports), serially and with ``parallel::mclapply`` on
  ``--jobs`` cores; the ratio uses the faster.  With ``--lavaan-reps`` below
  1000 lavaan's time is scaled up to 1000 replications (and marked so).

The model is the one of the lavaan fixture ``tests/reference/json/power_cfa3.json``.
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

POPULATION = """f1 =~ 0.7*x1 + 0.7*x2 + 0.6*x3
f2 =~ 0.7*x4 + 0.7*x5 + 0.6*x6
f3 =~ 0.7*x7 + 0.7*x8 + 0.6*x9
f2 ~ 0.4*f1
f3 ~ 0.3*f2 + 0*f1
f1 ~~ 1*f1
f2 ~~ 0.84*f2
f3 ~~ 0.91*f3
x1 ~~ 0.51*x1
x2 ~~ 0.51*x2
x3 ~~ 0.64*x3
x4 ~~ 0.51*x4
x5 ~~ 0.51*x5
x6 ~~ 0.64*x6
x7 ~~ 0.51*x7
x8 ~~ 0.51*x8
x9 ~~ 0.64*x9"""
ANALYSIS = """f1 =~ x1 + x2 + x3
f2 =~ x4 + x5 + x6
f3 =~ x7 + x8 + x9
f2 ~ a*f1
f3 ~ b*f2 + c*f1
ind := a*b"""

R_CODE = r"""
suppressPackageStartupMessages({library(lavaan); library(parallel)})
args <- commandArgs(trailingOnly = TRUE)
pop <- paste(readLines(args[1]), collapse = "\n"); ana <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3]); cores <- as.integer(args[4]); ns <- c(100L, 200L)
invisible(sem(ana, data = simulateData(pop, sample.nobs = 200L)))  # warm-up
one <- function(n) {
  d <- simulateData(pop, sample.nobs = n)
  fit <- suppressWarnings(sem(ana, data = d))
  pe <- parameterEstimates(fit)
  c(pe$pvalue < 0.05, fitMeasures(fit, "pvalue"))
}
el <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
set.seed(1)
t_serial <- el(for (n in ns) for (r in seq_len(reps)) one(n))
RNGkind("L'Ecuyer-CMRG"); set.seed(1)
t_par <- if (cores > 1L) el(for (n in ns) mclapply(seq_len(reps), function(r) one(n),
                                                    mc.cores = cores)) else NA
cat(jsonlite::toJSON(list(serial = t_serial, parallel = t_par, reps = reps,
  lavaan = as.character(packageVersion("lavaan"))), auto_unbox = TRUE, digits = NA))
"""


def time_ours(reps, jobs):
    from ckm_research.inference.power import power_analysis

    power_analysis(POPULATION, [100], reps=2, analysis=ANALYSIS, random_state=0, n_jobs=1,
                   progress=False)  # untimed warm-up  # fmt: skip
    t0 = time.perf_counter()
    res = power_analysis(POPULATION, [100, 200], reps=reps, analysis=ANALYSIS, random_state=1,
                         n_jobs=jobs, progress=False)  # fmt: skip
    return time.perf_counter() - t0, res


def time_lavaan(reps, jobs):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bench.R").write_text(R_CODE, encoding="utf-8")
        (tmp / "pop.lav").write_text(POPULATION, encoding="utf-8")
        (tmp / "ana.lav").write_text(ANALYSIS, encoding="utf-8")
        proc = subprocess.run(
            ["Rscript", str(tmp / "bench.R"), str(tmp / "pop.lav"), str(tmp / "ana.lav"),
             str(reps), str(jobs)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        print("lavaan failed:\n" + proc.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000, help="our replications per N (1000)")
    ap.add_argument("--lavaan-reps", type=int, default=1000,
                    help="lavaan's replications per N (default 1000; fewer are scaled up)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="worker processes, ours and lavaan's mclapply (default: all cores)")
    ap.add_argument("--no-r", action="store_true", help="do not run lavaan")
    ap.add_argument("--json", type=Path, default=None, help="write the timings here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    print(f"Monte Carlo power, 3-factor SEM, N = 100 and 200, {args.reps} reps each, "
          f"{args.jobs} job(s), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    secs, res = time_ours(args.reps, args.jobs)
    total = 2 * args.reps
    conv = int(res.convergence["converged"].sum())
    print(f"  ours:   {secs:.2f} s ({1000 * secs / total:.2f} ms per replication), "
          f"{conv}/{total} converged")  # fmt: skip
    doc = {"machine": platform.platform(), "cpus": os.cpu_count(), "jobs": args.jobs,
           "reps": args.reps, "ours_seconds": secs}  # fmt: skip
    lav = None if args.no_r else time_lavaan(args.lavaan_reps, args.jobs)
    if lav is not None:
        scale = args.reps / lav["reps"]
        best = min(v for v in (lav["serial"], lav["parallel"]) if v is not None) * scale
        note = "" if scale == 1 else f" (scaled from {lav['reps']} reps per N)"
        print(f"  lavaan {lav['lavaan']}: {lav['serial'] * scale:.1f} s serial"
              + (f", {lav['parallel'] * scale:.1f} s on {args.jobs} cores" if lav["parallel"]
                 else "") + note + f"; {1000 * best / total:.1f} ms per replication")  # fmt: skip
        print(f"  ratio lavaan/ours: {best / secs:.1f}x (target 5x)")
        doc["lavaan"] = lav
        doc["ratio"] = best / secs
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
