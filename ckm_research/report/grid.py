"""Several parameter sets at once: ``ckm run --grid GRID.yaml``.

A grid file names the runs, either one by one or as the product of lists::

    base:                  # parameters shared by every run (optional)
      n_boot: 500
    runs:                  # named runs: parameters that differ
      mlr_fiml: {estimator: MLR, missing: ml}
      ml_listwise: {estimator: ML, missing: listwise}

    # or, instead of runs, every combination of the listed values:
    grid:
      estimator: [ML, MLR]
      drop: [[], [longstring, attention, speed]]

Every parameter set is checked before anything runs (an error names the run
and the parameter). The runs then go in parallel, each in its own process
(``ckm run --params <run>/params.yaml --output <run>``) writing into
``<output>/<run name>/``; their logs are in ``<output>/<run name>/pipeline.log``.
At the end ``<output>/comparison.csv`` (and ``.tex``, ``.html``) puts the key
estimates of the runs side by side: N, fit of the structural model,
standardized paths, R-squared and latent interaction terms.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ckm_research.errors import CkmError
from ckm_research.report.params import (
    PROJECT_ROOT,
    ParameterError,
    PipelineParams,
    _relative_to,
    load_params,
)
from ckm_research.report.tables import Table, format_value

__all__ = ["load_grid", "run_grid", "comparison_table", "GridRun", "GridResult"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class GridRun:
    name: str
    params: PipelineParams
    status: str = "pending"
    seconds: float = 0.0
    returncode: int | None = None
    error: str = ""


@dataclass
class GridResult:
    output_dir: Path
    runs: list[GridRun] = field(default_factory=list)
    comparison: Path | None = None

    @property
    def failed(self) -> list[GridRun]:
        return [r for r in self.runs if r.status != "ok"]


def _value_name(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(_value_name(v) for v in value) or "none"
    if isinstance(value, dict):
        return "+".join(f"{k}-{_value_name(v)}" for k, v in value.items()) or "none"
    return str(value)


def load_grid(path: str | Path, *, params_file: str | Path | None = None,
              overrides: list[tuple[str, str]] | None = None,
              output_dir: str | Path | None = None) -> list[GridRun]:
    """Read and check a grid file; every run's parameters are checked here.

    ``params_file`` and ``overrides`` (``--params``, ``-p``) apply to every run,
    under the grid's own values. Each run writes to ``<output_dir>/<name>``.
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError("--grid", f"The grid file {path} does not exist.")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParameterError("--grid", f"The grid file {path} is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise ParameterError("--grid", f"The grid file {path} must be a mapping with 'runs' or "
                                       "'grid' (and optionally 'base').")
    unknown = set(spec) - {"base", "runs", "grid"}
    if unknown:
        raise ParameterError("--grid", f"The grid file {path} has unknown keys: "
                                       f"{', '.join(sorted(unknown))} (use base, runs, grid).")
    if ("runs" in spec) == ("grid" in spec):
        raise ParameterError("--grid", f"The grid file {path} needs exactly one of 'runs' (named "
                                       "parameter sets) or 'grid' (lists of values to combine).")
    base = spec.get("base") or {}
    if not isinstance(base, dict):
        raise ParameterError("--grid", "'base' in the grid file must be a mapping of parameters.")
    runs: dict[str, dict] = {}
    if "runs" in spec:
        if not isinstance(spec["runs"], dict) or not spec["runs"]:
            raise ParameterError("--grid", "'runs' in the grid file must map run names to "
                                           "parameter mappings.")
        for name, values in spec["runs"].items():
            if not isinstance(values, dict):
                raise ParameterError("--grid", f"run '{name}' in the grid file must be a mapping "
                                               "of parameters.")
            runs[str(name)] = values
    else:
        grid = spec["grid"]
        if not isinstance(grid, dict) or not grid or not all(
                isinstance(v, list) and v for v in grid.values()):
            raise ParameterError("--grid", "'grid' in the grid file must map parameter names to "
                                           "non-empty lists of values.")
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            name = "_".join(f"{k}-{_value_name(v)}" for k, v in zip(keys, combo, strict=True))
            runs[name] = dict(zip(keys, combo, strict=True))
    base_out = Path(output_dir or "reports/ckm-grid").expanduser().resolve()
    out: list[GridRun] = []
    seen = set()
    for name, values in runs.items():
        folder = _SAFE.sub("-", name).strip("-.") or "run"
        if folder in seen:
            raise ParameterError("--grid", f"two runs would write to the same folder '{folder}'")
        seen.add(folder)
        # paths written in the grid file are relative to its folder
        merged = _relative_to({**base, **values}, Path(path).resolve().parent)
        extra = [(k, v) for k, v in (overrides or [])]
        try:
            if "output_dir" in merged:
                raise ParameterError("output_dir", "The 'output_dir' parameter is set by the "
                                                   "grid (each run writes to its own folder); "
                                                   "remove it from the grid file.")
            params = _params_for(params_file, merged, extra, base_out / folder)
        except ParameterError as exc:
            raise ParameterError(exc.name, f"run '{name}' of {path.name}: {exc}") from None
        out.append(GridRun(folder, params))
    return out


def _params_for(params_file, values: dict, overrides, output: Path) -> PipelineParams:
    merged: dict[str, Any] = {}
    if params_file is not None:
        loaded = yaml.safe_load(Path(params_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ParameterError("--params", f"{params_file} must be a mapping of parameters.")
        merged.update(_relative_to(loaded, Path(params_file).resolve().parent))
    merged.update(values)
    from ckm_research.report.params import parse_override

    for name, text in overrides:
        merged[name] = parse_override(text) if isinstance(text, str) else text
    return load_params(None, merged, output_dir=output)


def _relay(stream, log, name: str, echo) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        log.write(line + "\n")
        log.flush()
        if line.startswith("[") or line.startswith("error") or line.startswith("warning"):
            echo(f"{name}: {line}")


def _run_one(run: GridRun, echo) -> GridRun:
    folder = run.params.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    params_path = folder / "params.yaml"
    params_path.write_text(yaml.safe_dump(run.params.as_dict(), sort_keys=False,
                                          allow_unicode=True), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT)] + [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    cmd = [sys.executable, "-m", "ckm_research.cli", "run", "--params", str(params_path),
           "--output", str(folder)]
    start = time.perf_counter()
    echo(f"{run.name}: started")
    with open(folder / "pipeline.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                cwd=str(Path.cwd()))
        threads = [threading.Thread(target=_relay, args=(s, log, run.name, echo), daemon=True)
                   for s in (proc.stdout, proc.stderr)]
        for t in threads:
            t.start()
        proc.wait()
        for t in threads:
            t.join()
    run.seconds = time.perf_counter() - start
    run.returncode = proc.returncode
    run.status = "ok" if proc.returncode == 0 else "failed"
    if proc.returncode:
        text = (folder / "pipeline.log").read_text(encoding="utf-8").strip().splitlines()
        errors = [ln for ln in text if ln.startswith("error")]
        run.error = (errors[-1] if errors else (text[-1] if text else "")).strip()
    echo(f"{run.name}: {run.status} ({run.seconds:.1f} s)"
         + (f" - {run.error}" if run.error else ""))
    return run


def run_grid(runs: list[GridRun], output_dir: str | Path, *, jobs: int | None = None,
             echo=None) -> GridResult:
    """Run the parameter sets in parallel and write the comparison table."""
    output_dir = Path(output_dir).expanduser().resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def say(text: str) -> None:
        with lock:
            (echo or (lambda t: print(t, file=sys.stderr, flush=True)))(text)

    workers = max(1, min(len(runs), jobs or (os.cpu_count() or 1)))
    say(f"Running {len(runs)} parameter sets, {workers} at a time, into {output_dir}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda r: _run_one(r, say), runs))
    result = GridResult(output_dir, done)
    ok = [r for r in done if r.status == "ok"]
    if ok:
        result.comparison = write_comparison(ok, output_dir)
    (output_dir / "grid.json").write_text(json.dumps({
        "runs": [{"name": r.name, "status": r.status, "seconds": round(r.seconds, 1),
                  "output_dir": str(r.params.output_dir), "error": r.error,
                  "parameters": r.params.as_dict(portable=True)} for r in done],
        "comparison": str(result.comparison) if result.comparison else None,
    }, indent=2) + "\n", encoding="utf-8")
    return result


# ---------------------------------------------------------------------- comparison
def _key_estimates(results: dict) -> list[tuple[str, str, Any]]:
    """(quantity, format, value) rows of one run's results.json."""
    rows: list[tuple[str, str, Any]] = []
    st = results.get("stages", {})
    data = st.get("data", {}).get("numbers", {})
    rows.append(("N analysed", "int", data.get("n_analysed")))
    struct = st.get("structural", {})
    fit = struct.get("numbers", {}).get("fit") or {}
    rows += [("Estimator", "text", struct.get("numbers", {}).get("estimator")),
             ("N in the structural model", "int", fit.get("n")),
             ("χ²", "num2", fit.get("chisq")), ("df", "int", fit.get("df")),
             ("p (χ²)", "p", fit.get("pvalue")), ("CFI", "r3", fit.get("cfi")),
             ("TLI", "r3", fit.get("tli")), ("RMSEA", "r3", fit.get("rmsea")),
             ("SRMR", "r3", fit.get("srmr"))]
    paths = struct.get("tables", {}).get("paths", {}).get("rows", [])
    for r in paths:
        rows.append((f"β {r['outcome']} ← {r['predictor']}", "r3", r.get("std")))
    for k, v in (struct.get("numbers", {}).get("r2") or {}).items():
        rows.append((f"R² {k}", "r3", v))
    inter = st.get("moderation", {}).get("tables", {}).get("interactions", {}).get("rows", [])
    for r in inter:
        if "×" in str(r.get("term", "")):
            rows.append((f"B {r['outcome']} ← {r['term']}", "num3", r.get("est")))
            rows.append((f"p {r['outcome']} ← {r['term']}", "p", r.get("pvalue")))
    return rows


def comparison_table(results_by_run: dict[str, dict]) -> tuple[pd.DataFrame, Table]:
    """Key estimates side by side: (raw frame for CSV, APA table for HTML/LaTeX)."""
    order: list[str] = []
    kinds: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    for run, res in results_by_run.items():
        for quantity, kind, value in _key_estimates(res):
            if quantity not in kinds:
                order.append(quantity)
                kinds[quantity] = kind
            values.setdefault(run, {})[quantity] = value
    raw = pd.DataFrame({"quantity": order, **{run: [values[run].get(q) for q in order]
                                             for run in results_by_run}})
    shown = pd.DataFrame({"quantity": order, **{
        run: [format_value(values[run].get(q), kinds[q]) for q in order]
        for run in results_by_run}})
    table = Table("comparison", "Key Estimates Across the Parameter Sets", shown,
                  labels={"quantity": "Quantity"}, numeric=list(results_by_run),
                  note="Fit of the structural model (robust indices under MLR), standardized "
                       "paths (β), R² and latent interaction terms of each run; see each run's "
                       "report.html for the full results.")
    return raw, table


def write_comparison(runs: list[GridRun], output_dir: Path) -> Path:
    results = {}
    for r in runs:
        path = r.params.output_dir / "results.json"
        if path.exists():
            results[r.name] = json.loads(path.read_text(encoding="utf-8"))
    if not results:
        raise CkmError("no run of the grid produced results.json")
    raw, table = comparison_table(results)
    csv_path = output_dir / "comparison.csv"
    raw.to_csv(csv_path, index=False, lineterminator="\n")
    (output_dir / "comparison.tex").write_text(table.to_latex(), encoding="utf-8")
    css = (Path(__file__).resolve().parent / "templates" / "ckm_report" / "report.css"
           ).read_text(encoding="utf-8")
    links = "".join(f'<li><a href="{name}/report.html">{name}</a></li>' for name in results)
    (output_dir / "comparison.html").write_text(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Comparison of "
        f"the runs</title><style>{css}</style></head><body class=\"jp-Notebook\"><main>"
        f"<div class=\"ckm\"><h1>Comparison of the Runs</h1>{table.to_html(1)}"
        f"<p>Reports:</p><ul>{links}</ul></div></main></body></html>\n", encoding="utf-8")
    return csv_path
