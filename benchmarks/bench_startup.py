"""Benchmark: start-up time of the ``ckm`` command, beside lavaan's in ``Rscript``.

Usage (from anywhere)::

    python benchmarks/bench_startup.py            # 5 repeats, ours and lavaan
    python benchmarks/bench_startup.py --no-r     # ours only
    python benchmarks/bench_startup.py --repeat 9 --json out.json
    python benchmarks/bench_startup.py --quick    # start-up and the HS CFA only

What is timed: the wall clock of whole commands, each started as a user starts
it (a fresh process every time, nothing cached in memory but the operating
system's file cache), repeated ``--repeat`` times; the table gives medians of
the wall time and, in brackets, of the CPU time (user + system of the command and
every process it started, from ``getrusage(RUSAGE_CHILDREN)``), which other jobs
on a busy machine inflate much less than the wall time.

* ``ckm --help``: the interpreter, the package and every subcommand's parser
  (the issue's target: under 0.3 s);
* ``ckm fit`` start-up: ``ckm fit hs.lav missing.csv``, which stops with
  "does not exist" where the data would be read: everything before the data is
  read (target: under 0.5 s; pandas, which reads the data, is imported here);
* ``ckm fit``: the three-factor CFA of Holzinger & Swineford (1939) on
  ``tests/reference/data/HolzingerSwineford1939.csv``, printed as a user sees it;
* ``ckm fit`` of the CKM study SEM (13 factors, 53 items,
  ``ckm_research/models/ckm_study.lav``) on ``tests/reference/data/ckm_sim_n500.csv``;
* ``ckm fit --bootstrap 200 --jobs J`` of the same model (percentile intervals,
  as lavaan's ``se = "bootstrap"``; ``--jobs`` local workers, default 2);
* beside each, the same work in a fresh ``Rscript``: ``library(lavaan)``, read
  the CSV, ``sem(...)``, ``summary()`` (``se = "bootstrap", bootstrap = 200``
  with ``parallel = "multicore", ncpus = J`` for the bootstrap), when ``Rscript``
  is installed; and ``Rscript -e 'library(lavaan)'`` alone, the R equivalent of
  start-up. The ratio is lavaan / ours (above 1: ckm is faster).

The ``ckm`` commands run with this interpreter (``python -m ckm_research.cli``
would add nothing: the console script calls the same ``main``) from the
repository root, so they use this checkout's package.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HS_CSV = ROOT / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
CKM_CSV = ROOT / "tests" / "reference" / "data" / "ckm_sim_n500.csv"
CKM_MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"


def _time(cmd: list[str], repeat: int, ok_codes=(0,)) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system, the process and every
    process it started: bootstrap workers, R's forks) of ``cmd``, seconds, run
    ``repeat`` times in fresh processes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if out.returncode not in ok_codes:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return statistics.median(times), statistics.median(cpus)


def _ckm(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from ckm_research.cli import main; sys.exit(main(sys.argv[1:]))",
        *args,
    ]


def _r_fit(model_file: Path, csv: Path, sem_args: str = "") -> list[str]:
    """``Rscript -e``: load lavaan, read the data and the model, fit, print the summary."""
    return [
        "-e",
        f"suppressMessages(library(lavaan)); d <- read.csv('{csv}'); "
        f"m <- paste(readLines('{model_file}'), collapse = '\\n'); "
        f"f <- suppressWarnings(sem(m, data = d{sem_args})); print(summary(f))",
    ]


def run(repeat: int, with_r: bool, quick: bool = False, jobs: int = 2) -> list[dict]:
    """Time every command; one row per command."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "hs.lav"
        model.write_text(HS_MODEL)
        missing = Path(tmp) / "missing.csv"
        rscript = shutil.which("Rscript") if with_r else None
        r_model = HS_MODEL.replace("\n", "; ")
        r_fit = (
            f"suppressMessages(library(lavaan)); d <- read.csv('{HS_CSV}'); "
            f"f <- sem('{r_model}', data = d); print(summary(f))"
        )
        cases = [
            ("ckm --help", _ckm("--help"), (0,), None, None),
            (
                "ckm fit, start-up (stops where the data is read)",
                _ckm("fit", str(model), str(missing)),
                (2,),
                "library(lavaan) alone",
                ["-e", "suppressMessages(library(lavaan))"],
            ),
            (
                "ckm fit HS CFA (whole command)",
                _ckm("fit", str(model), str(HS_CSV)),
                (0,),
                "library(lavaan); sem(HS CFA); summary",
                ["-e", r_fit],
            ),
        ]
        if not quick:
            boot = ", se = 'bootstrap', bootstrap = 200L, iseed = 1L"
            if jobs > 1:
                boot += f", parallel = 'multicore', ncpus = {jobs}L"
            cases += [
                (
                    "ckm fit CKM SEM, 53 items, N = 500 (whole command)",
                    _ckm("fit", str(CKM_MODEL), str(CKM_CSV)),
                    (0,),
                    "library(lavaan); sem(CKM SEM); summary",
                    _r_fit(CKM_MODEL, CKM_CSV),
                ),
                (
                    f"ckm fit CKM SEM --bootstrap 200 --jobs {jobs}",
                    _ckm(
                        "fit",
                        str(CKM_MODEL),
                        str(CKM_CSV),
                        "--bootstrap",
                        "200",
                        "--seed",
                        "1",
                        "--jobs",
                        str(jobs),
                    ),  # fmt: skip
                    (0,),
                    f"sem(CKM SEM, se = 'bootstrap', bootstrap = 200, ncpus = {jobs})",
                    _r_fit(CKM_MODEL, CKM_CSV, boot),
                ),
            ]
        for name, cmd, ok, r_name, r_args in cases:
            wall, cpu = _time(cmd, repeat, ok)
            row = {"command": name, "ours_s": wall, "ours_cpu_s": cpu}
            if rscript and r_args:
                row["lavaan_command"] = r_name
                row["lavaan_s"], row["lavaan_cpu_s"] = _time([rscript, *r_args], repeat)
                row["ratio"] = row["lavaan_s"] / row["ours_s"]
            rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    parser.add_argument("--no-r", action="store_true", help="skip the Rscript timings")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--quick", action="store_true", help="start-up and the HS CFA only")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the bootstrap (2)")
    args = parser.parse_args(argv)
    rows = run(args.repeat, with_r=not args.no_r, quick=args.quick, jobs=args.jobs)
    print(
        f"median of {args.repeat} runs, fresh process each (load average at the end "
        f"{os.getloadavg()[0]:.1f}); wall time, and in brackets CPU time (user + system, "
        "workers included), which a busy machine inflates less\n"
    )
    print(f"| {'command':52s} | ckm-research     | lavaan (Rscript) | ratio |")
    print(f"|{'-' * 54}|{'-' * 18}|{'-' * 18}|{'-' * 7}|")
    for r in rows:
        ours = f"{r['ours_s']:.2f} s ({r['ours_cpu_s']:.2f})"
        lav = f"{r['lavaan_s']:.2f} s ({r['lavaan_cpu_s']:.2f})" if "lavaan_s" in r else "-"
        ratio = f"{r['ratio']:.1f}x" if "ratio" in r else ""
        print(f"| {r['command']:52s} | {ours:>16s} | {lav:>16s} | {ratio:>5s} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
