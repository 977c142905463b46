"""Benchmark: FIML bootstrap of the 53-item CKM study per resample, before and
after the pattern-moment refits (issue 11), beside lavaan's
``se = "bootstrap"`` with ``missing = "ml"``.

Usage (from anywhere)::

    python benchmarks/bench_fiml_bootstrap.py                  # B = 100 after, 4 before
    python benchmarks/bench_fiml_bootstrap.py --boot 200 --jobs 2 --json out.json
    python benchmarks/bench_fiml_bootstrap.py --r              # also run lavaan (slow)

Data: ``data/example/ckm_example.csv`` (the example survey, 400 respondents
with missing answers, all kept by FIML), model ``ckm_research/models/ckm_study.lav``
(13 factors, 53 items), ``estimator="FIML"``.

What is timed (wall clock, data in memory, full-sample fit done and not timed):

* **after**: ``bootstrap(..., n_boot=B, ci="perc", bca=False, n_jobs=J)`` with
  the FIML refits from weighted pattern moments
  (:mod:`ckm_research.inference.fiml_refit`), worker start-up included;
* **before**: the same call with the old full refits (``fit()`` per resample,
  the ``_RefitTask`` path), on fewer resamples;
* CPU time (this process and the ended worker processes, ``getrusage``): the
  shared machine's other jobs inflate the wall time, the CPU time much less;
* **lavaan** (``--r``): ``benchmarks/fiml_bootstrap.R``, i.e.
  ``sem(model, d, missing = "ml", se = "bootstrap", bootstrap = B)`` serially,
  minus the plain ``sem()`` fit, divided by B.

The machine's load average is printed with the times: the shared 2-core
development machine runs several other jobs, which slows every number here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "example" / "ckm_example.csv"
MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"


def _cpu() -> float:
    """CPU seconds of this process and its ended children (the workers)."""
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def _time_boot(model, data, res, n_boot, jobs, old: bool) -> tuple[float, float, int, str]:
    from ckm_research.inference.bootstrap import bootstrap

    bootmod = importlib.import_module("ckm_research.inference.bootstrap")
    saved = bootmod._fiml_case_rows
    if old:  # the full refits of every resample (the path before the pattern refits)
        bootmod._fiml_case_rows = lambda *a, **k: None
    try:
        c0 = _cpu()
        t0 = time.perf_counter()
        boot = bootstrap(model, data, n_boot=n_boot, random_state=1, n_jobs=jobs, result=res,
                         estimator="FIML", ci="perc", bca=False, progress=False)  # fmt: skip
        return time.perf_counter() - t0, _cpu() - c0, boot.n_converged, boot.method
    finally:
        bootmod._fiml_case_rows = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boot", type=int, default=100, help="resamples after (default 100)")
    ap.add_argument("--boot-before", type=int, default=4, help="resamples before (default 4)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--r", action="store_true", help="also time lavaan (20 resamples, slow)")
    ap.add_argument("--json", type=Path, default=None, help="write the timings here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    import ckm_research

    warnings.simplefilter("ignore")
    data = pd.read_csv(DATA)
    model = MODEL.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    res = ckm_research.fit(model, data, estimator="FIML")
    t_fit = time.perf_counter() - t0
    out = {"data": str(DATA.relative_to(ROOT)), "N": res.engine.ntotal, "jobs": args.jobs,
           "cpus": os.cpu_count(), "fit_sec": t_fit, "load_start": os.getloadavg()[0]}  # fmt: skip
    print(f"FIML bootstrap of the CKM SEM (53 items, N = {out['N']}), {args.jobs} job(s), "
          f"load {out['load_start']:.1f}; full fit {t_fit:.1f} s")  # fmt: skip
    for label, B, old in (("after", args.boot, False), ("before", args.boot_before, True)):
        sec, cpu, ok, method = _time_boot(model, data, res, B, args.jobs, old)
        out[label] = {"B": B, "sec": sec, "per_resample_sec": sec / B, "cpu_sec": cpu,
                      "cpu_per_resample_sec": cpu / B, "converged": ok, "method": method,
                      "load": os.getloadavg()[0]}  # fmt: skip
        print(f"  {label:6s}: {B} resamples in {sec:.1f} s = {sec / B:.3f} s per resample, "
              f"{cpu / B:.3f} s CPU per resample ({ok} converged; {method}; "
              f"load {out[label]['load']:.1f})")  # fmt: skip
    ratio = out["before"]["per_resample_sec"] / out["after"]["per_resample_sec"]
    print(f"  speed-up (wall): {ratio:.0f}x")
    if args.r:
        proc = subprocess.run(["Rscript", "benchmarks/fiml_bootstrap.R", "20"], cwd=ROOT,
                              capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode == 0:
            out["lavaan"] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"  lavaan: {out['lavaan']['per_resample_sec']:.2f} s per resample (serial)")
        else:
            print("lavaan failed:\n" + proc.stderr[-2000:], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
