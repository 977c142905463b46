"""Run the study's notebooks with papermill: ``ckm run``.

:func:`run_pipeline` executes the stage notebooks (:mod:`ckm_research.report.stages`)
in order, each in its own kernel process (STYLE: one process per papermill
run), in the project's Jupyter kernel ``ckm-research`` (registered inside
``.venv`` by ``make setup``); when that kernel is not installed it runs them in
the current interpreter and says so. Each notebook receives the parameters
its ``parameters`` cell declares, as absolute paths, and writes its results
into the output folder, where the next stage reads them
(:mod:`ckm_research.report.store`). Progress is shown per stage and per cell.

When a cell fails, the pipeline stops with the notebook, the cell and the
error message, and keeps the executed notebook (with the traceback) in
``<output>/notebooks/`` for inspection.

At the end the output folder holds ``results.json`` (every number the report
shows, and nothing that changes between runs of the same parameters and
seed), ``manifest.json`` (versions, parameters, checksums, commit, timings)
and ``report.html`` (the report notebook exported by nbconvert without its
code), with the same report as ``report.docx`` (Word) and its tables in
``tables.xlsx`` (Excel, full precision).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ckm_research import __version__
from ckm_research.errors import CkmError
from ckm_research.numerics import sha256_file
from ckm_research.report.params import (
    DERIVED_INSTRUMENT,
    PROJECT_ROOT,
    PipelineParams,
    check_params,
)
from ckm_research.report.stages import STAGE_NAMES, STAGES, Stage, stage
from ckm_research.report.store import (
    RESULTS_SCHEMA,
    RUN_FINGERPRINT,
    STATUS_SKIPPED,
    check_inputs,
    to_jsonable,
)

__all__ = ["run_pipeline", "PipelineResult", "StageRun", "PipelineError", "Progress",
           "resolve_kernel", "KERNEL_NAME", "notebook_parameters", "export_html",
           "merge_results", "PACKAGES"]

#: The project's Jupyter kernel (``make setup`` registers it inside .venv).
KERNEL_NAME = "ckm-research"

#: Packages whose versions the manifest records.
PACKAGES = ("ckm-research", "numpy", "scipy", "pandas", "matplotlib",
            "seaborn", "graphviz", "papermill", "nbconvert", "nbformat", "nbclient",
            "ipykernel", "jupyter-client", "jupytext", "pydantic", "pyyaml", "threadpoolctl",
            "pyreadstat", "openpyxl")

_TEMPLATES = Path(__file__).resolve().parent / "templates"


class PipelineError(CkmError):
    """A stage failed; the message names the notebook, the cell and the error."""

    def __init__(self, message: str, *, stage: str = "", notebook: str | None = None,
                 cell: int | None = None, error: str = ""):
        super().__init__(message)
        self.stage = stage
        self.notebook = notebook
        self.cell = cell
        self.error = error


@dataclass
class StageRun:
    """How one stage went."""

    name: str
    status: str
    seconds: float = 0.0
    notebook: str | None = None
    error: str = ""


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` made."""

    output_dir: Path
    stages: list[StageRun] = field(default_factory=list)
    results: Path | None = None
    manifest: Path | None = None
    report: Path | None = None
    kernel: dict = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------- progress
class Progress:
    """Progress per stage and per cell.

    On a terminal: two live bars (stages; cells of the running notebook).
    Otherwise (CI, logs, a pipe): one line when a stage starts and ends, and one
    indented line per cell.
    """

    def __init__(self, stream=None, interactive: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.interactive = (self.stream.isatty() if interactive is None else interactive)
        self.quiet = quiet
        self._rich = None
        self._stage_task = self._cell_task = None
        self._n_stages = 0
        self._stage_label = ""

    # the runner calls these
    def start(self, n_stages: int, kernel: str) -> None:
        self._n_stages = n_stages
        if self.quiet:
            return
        if self.interactive:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(file=self.stream), transient=False)
            self._rich.start()
            self._stage_task = self._rich.add_task("stages", total=n_stages)
            self._cell_task = self._rich.add_task("", total=1, visible=False)
        self.message(f"Running {n_stages} stage{'s' if n_stages != 1 else ''} in kernel "
                     f"{kernel}")

    def stage_start(self, index: int, stage_: Stage, n_cells: int) -> None:
        self._stage_label = f"[{index}/{self._n_stages}] {stage_.name}"
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.update(self._stage_task, description=f"stages: {stage_.title}")
            self._rich.reset(self._cell_task, total=n_cells, visible=True,
                             description=f"  {stage_.name}: starting kernel")
        else:
            self._print(f"{self._stage_label}: {stage_.title} ({stage_.notebook}, {n_cells} "
                        "cells)")

    def cell_start(self, number: int, n_cells: int, description: str) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.update(self._cell_task, completed=number - 1,
                              description=f"  {self._stage_label.split('] ')[-1]}: "
                                          f"{description[:48]}")
        else:
            self._print(f"    cell {number}/{n_cells}: {description}")

    def stage_end(self, stage_: Stage, status: str, seconds: float) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.advance(self._stage_task)
            self._rich.update(self._cell_task, visible=False)
            self._rich.console.print(f"{self._stage_label}: {stage_.title}: {status} "
                                     f"({seconds:.1f} s)")
        else:
            self._print(f"{self._stage_label}: {status} ({seconds:.1f} s)")

    def stage_skipped(self, index: int, stage_: Stage, reason: str) -> None:
        if self.quiet:
            return
        text = f"[{index}/{self._n_stages}] {stage_.name}: skipped ({reason})"
        if self._rich is not None:
            self._rich.advance(self._stage_task)
            self._rich.console.print(text)
        else:
            self._print(text)

    def message(self, text: str) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.console.print(text)
        else:
            self._print(text)

    def stop(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


# ---------------------------------------------------------------------- kernel
@dataclass
class _Kernel:
    name: str
    fallback: bool
    message: str
    argv: list[str]
    spec_dir: str | None = None


def resolve_kernel(name: str = KERNEL_NAME) -> _Kernel:
    """The project kernel if installed, else a kernel running this interpreter."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        return _Kernel(name, False, f"the project kernel '{name}'", list(spec.argv))
    except NoSuchKernel:
        pass
    folder = Path(tempfile.mkdtemp(prefix="ckm-kernel-"))
    fallback = f"{name}-here"
    spec_dir = folder / "kernels" / fallback
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": f"Python ({sys.executable})", "language": "python",
        "metadata": {"debugger": False}}), encoding="utf-8")
    return _Kernel(
        fallback, True,
        f"the current interpreter ({sys.executable}): the project kernel '{name}' is not "
        "installed (make setup registers it inside .venv)", argv, str(folder))


@contextlib.contextmanager
def _kernel_environment(kernel: _Kernel, fingerprint: str | None = None) -> Iterator[None]:
    """Environment of the kernel processes: one BLAS thread (reproducible sums,
    no oversubscription), a non-interactive matplotlib, the package importable,
    and the run's parameters fingerprint (the stages check the results they read
    against it: :func:`~ckm_research.report.store.check_inputs`)."""
    saved = dict(os.environ)
    if fingerprint:
        os.environ[RUN_FINGERPRINT] = fingerprint
    os.environ.update({
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    })
    if kernel.fallback:
        paths = [kernel.spec_dir] + [p for p in os.environ.get("JUPYTER_PATH", "").split(
            os.pathsep) if p]
        os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)
        root = str(PROJECT_ROOT)
        py = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in py:
            os.environ["PYTHONPATH"] = os.pathsep.join([root] + py)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------------- papermill
_ENGINE_NAME = "ckm-progress"


def _register_engine() -> None:
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    if _ENGINE_NAME in papermill_engines._engines:
        return

    class _Manager(NotebookExecutionManager):
        callback: Callable | None = None

        def cell_start(self, cell, cell_index=None, **kwargs):
            super().cell_start(cell, cell_index, **kwargs)
            if self.callback is not None:
                self.callback(self.nb, cell_index)

    class _Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=False,
                             log_output=False, autosave_cell_every=30, **kwargs):
            callback = kwargs.pop("cell_callback", None)
            nb_man = _Manager(nb, output_path=output_path, progress_bar=False,
                              log_output=log_output, autosave_cell_every=autosave_cell_every)
            nb_man.callback = callback
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(_ENGINE_NAME, _Engine)


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """The parameters a notebook's ``parameters`` cell declares (name -> default)."""
    import papermill

    found = papermill.inspect_notebook(str(path))
    return {name: info.get("default") for name, info in found.items()}


def _describe_cells(nb) -> list[str]:
    """A label per code cell: the markdown heading above it, or its first comment."""
    labels, heading = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
                    break
            continue
        if cell.cell_type != "code":
            continue
        first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
        if "parameters" in cell.metadata.get("tags", []):
            labels.append("parameters")
        elif "injected-parameters" in cell.metadata.get("tags", []):
            labels.append("injected parameters")
        elif first.startswith("#"):
            labels.append(first.lstrip("#").strip())
        else:
            labels.append(heading or first[:60])
    return labels


def _stage_values(params: PipelineParams, declared: dict[str, Any], notebook: Path,
                  instrument: str | None = None) -> dict:
    values = params.as_dict()
    unknown = [n for n in declared if n not in values]
    if unknown:
        raise CkmError(f"the notebook {notebook.name} declares parameters the pipeline does not "
                       f"know: {', '.join(unknown)} (see ckm_research/report/params.py)")
    out = {name: values[name] for name in declared}
    if "model" in out:
        out["model"] = str(params.model_path())
    if "instrument" in out and instrument is not None:
        out["instrument"] = instrument
    return out


def _run_notebook(stage_: Stage, index: int, params: PipelineParams, kernel: _Kernel,
                  progress: Progress, target: Path, instrument: str | None = None) -> None:
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _register_engine()
    nb = nbformat.read(stage_.path, as_version=4)
    values = _stage_values(params, notebook_parameters(stage_.path), stage_.path, instrument)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    n_cells = len(code_cells) + 1  # + the injected parameters
    progress.stage_start(index, stage_, n_cells)
    labels: dict[int, str] = {}
    order: dict[int, int] = {}

    def on_cell(running_nb, cell_index):
        if running_nb.cells[cell_index].cell_type != "code":
            return
        if not order:
            code_idx = [i for i, c in enumerate(running_nb.cells) if c.cell_type == "code"]
            labels.update(dict(zip(code_idx, _describe_cells(running_nb), strict=False)))
            order.update({i: k + 1 for k, i in enumerate(code_idx)})
        progress.cell_start(order.get(cell_index, 0), n_cells, labels.get(cell_index, "cell"))

    with _kernel_environment(kernel, params.fingerprint()):
        try:
            for attempt in (1, 2):
                try:
                    papermill.execute_notebook(
                        str(stage_.path), str(target), parameters=values,
                        engine_name=_ENGINE_NAME, kernel_name=kernel.name, progress_bar=False,
                        cwd=str(params.output_dir), execution_timeout=params.cell_timeout,
                        start_timeout=180, cell_callback=on_cell,
                        extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
                    break
                except PapermillExecutionError:
                    raise
                except Exception as exc:
                    # a kernel that never started (two kernels started at once, as by
                    # --grid --jobs 2, can race for a TCP port: "Address already in use")
                    # is started once more; no cell has run, so nothing runs twice
                    if attempt == 1 and not order and _kernel_start_failure(exc):
                        progress.message(f"note: {stage_.name}: the kernel did not start "
                                         f"({exc}); starting it again")
                        continue
                    raise
        except PapermillExecutionError as exc:
            raise _cell_error(stage_, target, exc) from None
        except Exception as exc:  # kernel died, timeout, ...
            kind = type(exc).__name__
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else kind
            raise PipelineError(
                f"stage '{stage_.name}' stopped ({stage_.notebook}): {kind}: {message}. The "
                f"notebook as far as it ran is kept in {target}.",
                stage=stage_.name, notebook=str(target), error=f"{kind}: {message}") from None


def _kernel_start_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the kernel never answered at start (jupyter_client's
    "Kernel didn't respond in N seconds", "Kernel died before replying to kernel_info")."""
    text = str(exc)
    return "didn't respond" in text or "before replying to kernel_info" in text


def _cell_error(stage_: Stage, target: Path, exc) -> PipelineError:
    """The failing cell, numbered as in the stage notebook (injected cell not counted)."""
    import nbformat

    number, label = None, ""
    try:
        nb = nbformat.read(target, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        labels = _describe_cells(nb)
        k = 0
        for cell, lab in zip(code, labels, strict=False):
            if "injected-parameters" in cell.metadata.get("tags", []):
                continue
            k += 1
            if cell.get("execution_count") == exc.exec_count or \
                    cell.metadata.get("papermill", {}).get("exception"):
                number, label = k, lab
                break
    except Exception:  # noqa: BLE001 - the message below still names the notebook
        pass
    where = f"cell {number} ('{label}')" if number else f"cell In [{exc.exec_count}]"
    message = (f"stage '{stage_.name}' failed in notebook {stage_.notebook}, {where}: "
               f"{exc.ename}: {exc.evalue}\nThe executed notebook, with the traceback, is kept "
               f"for inspection: {target}")
    return PipelineError(message, stage=stage_.name, notebook=str(target), cell=number,
                         error=f"{exc.ename}: {exc.evalue}")


# ---------------------------------------------------------------------- outputs
def _versions() -> dict[str, str | None]:
    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = __version__ if pkg == "ckm-research" else None
    return out


def _git() -> dict[str, Any]:
    if not (PROJECT_ROOT / ".git").exists() or shutil.which("git") is None:
        return {"commit": None, "note": "not a git checkout"}

    def git(*args):
        proc = subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True,
                              text=True, timeout=30, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref",
                                                                "HEAD"),
            "dirty": bool(status) if status is not None else None}


def merge_results(output_dir: Path, params: PipelineParams, inputs: dict) -> dict:
    """``results.json``: the stages' results, with what identifies the study."""
    stages = {}
    for s in STAGES:
        path = output_dir / "results" / f"{s.name}.json"
        if path.exists():
            stages[s.name] = json.loads(path.read_text(encoding="utf-8"))
    fingerprints = {name: st.get("parameters_sha256") for name, st in stages.items()}
    results = {
        "schema": RESULTS_SCHEMA,
        "study": {
            "title": params.title,
            "seed": params.seed,
            "parameters": params.as_dict(portable=True),
            "parameters_sha256": params.fingerprint(),
            "data_file": params.data_file.name,
            "data_sha256": inputs["data_file"]["sha256"],
            "model_sha256": inputs["model"]["sha256"],
            "instrument": {k: inputs["instrument"][k] for k in ("id", "version", "sha256")},
            "ckm_research_version": __version__,
        },
        "stages": stages,
    }
    stale = sorted(n for n, f in fingerprints.items() if f and f != params.fingerprint())
    if stale:
        results["study"]["stale_stages"] = stale
    return results


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False,
                               allow_nan=False) + "\n", encoding="utf-8")


def export_html(notebook: str | Path, target: str | Path, *, title: str = "") -> Path:
    """The executed report notebook as HTML without code (nbconvert ``--no-input``;
    the notebook's own markdown, which explains the notebook, is left out too)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="ckm_report", extra_template_basedirs=[str(_TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": "report"}})
    target = Path(target)
    target.write_text(body, encoding="utf-8")
    return target


# ---------------------------------------------------------------------- the pipeline
def _inputs(params: PipelineParams, learned: dict) -> dict:
    ins = learned["instrument"]
    model_path = learned["model_path"]
    return {
        "data_file": {"path": str(params.data_file), "bytes": params.data_file.stat().st_size,
                      "sha256": sha256_file(params.data_file)},
        "model": {"path": str(model_path), "sha256": sha256_file(model_path)},
        "instrument": {"id": ins.id, "version": ins.version, "path": ins.path,
                       "sha256": ins.sha256},
    }


def _select(only: Sequence[str] | None, params: PipelineParams) -> list[Stage]:
    if only:
        names = [n.strip() for item in only for n in str(item).split(",") if n.strip()]
        for n in names:
            stage(n)  # unknown name -> error listing the stages
        return [s for s in STAGES if s.name in names]
    return list(STAGES)


def run_pipeline(params: PipelineParams, *, only: Sequence[str] | None = None,
                 progress: Progress | None = None, kernel_name: str = KERNEL_NAME,
                 html: bool = True) -> PipelineResult:
    """Run the study's notebooks; see the module docstring.

    Parameters
    ----------
    params : PipelineParams
        Checked parameters (:func:`~ckm_research.report.params.load_params`).
    only : sequence of str, optional
        Run only these stages (their inputs must be in the output folder from
        an earlier run); ``results.json`` and ``manifest.json`` are rewritten
        from the stage results present, ``report.html`` only when ``report``
        runs.
    progress : Progress, optional
        Where progress goes (default: stderr).
    kernel_name : str
        The Jupyter kernel to use if installed.

    Raises
    ------
    PipelineError
        A stage failed (notebook, cell and error named; executed notebook kept).
    """
    t0 = time.perf_counter()
    progress = progress or Progress()
    learned = check_params(params)
    selected = _select(only, params)
    out = params.output_dir
    # the CKM study's defaults that do not apply to this model are left out (notes say so)
    params = params.model_copy(update=learned["adjusted"])
    for s in selected:
        if not s.path.exists():
            raise CkmError(f"the notebook of stage '{s.name}' is missing: {s.path}")
    if only:
        for s in selected:
            for need in s.needs:
                if need not in [x.name for x in selected] and not (
                        out / "results" / f"{need}.json").exists():
                    raise CkmError(f"--only {s.name} needs the results of the '{need}' stage, "
                                   f"which are not in {out}; run the whole pipeline first")
        names = [x.name for x in selected]
        for s in selected:
            check_inputs(out, s.name, fingerprint=params.fingerprint(), skip=names,
                         merged=False)
    for sub in ("notebooks", "results", "tables", "figures", "data", "models"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    kernel = resolve_kernel(kernel_name)
    instrument = None
    if learned["derived"]:
        from ckm_research.instrument import load_instrument
        from ckm_research.instrument.derive import instrument_yaml

        path = instrument_yaml(learned["instrument"], out / DERIVED_INSTRUMENT)
        learned["instrument"] = load_instrument(path)
        instrument = str(path)
    elif params.instrument is None:
        instrument = "ckm"
    inputs = _inputs(params, learned)
    result = PipelineResult(output_dir=out, kernel={
        "name": kernel.name, "fallback": kernel.fallback, "argv": kernel.argv,
        "description": kernel.message})
    _begin_run(out)
    _write_manifest(out, params, inputs, result, t0, partial=True, state="running")
    if kernel.fallback:
        progress.message(f"note: running the notebooks in {kernel.message}.")
    progress.start(len(selected), kernel.name)
    try:
        for index, s in enumerate(selected, 1):
            target = out / "notebooks" / s.notebook
            if s.optional and s.name == "power" and not params.power:
                (out / "results" / "power.json").write_text(json.dumps(
                    {"stage": "power", "status": STATUS_SKIPPED,
                     "status_reason": "the power stage was switched off (power: false)",
                     "numbers": {}, "tables": {}, "figures": {}, "texts": {}, "notes": [],
                     "unavailable": {}, "parameters_sha256": params.fingerprint()},
                    indent=2) + "\n", encoding="utf-8")
                result.stages.append(StageRun(s.name, STATUS_SKIPPED))
                progress.stage_skipped(index, s, "power: false")
                continue
            if s.name == "report":
                _write_json(out / "results.json", merge_results(out, params, inputs))
                _write_manifest(out, params, inputs, result, t0, partial=True)
            stage_file = out / "results" / f"{s.name}.json"
            if s.name != "report" and stage_file.exists():
                stage_file.unlink()
            started = time.perf_counter()
            try:
                _run_notebook(s, index, params, kernel, progress, target, instrument)
            except PipelineError as exc:
                result.stages.append(StageRun(s.name, "failed", time.perf_counter() - started,
                                              str(target), exc.error))
                progress.stage_end(s, "FAILED", time.perf_counter() - started)
                _write_manifest(out, params, inputs, result, t0, partial=True, state="failed")
                raise
            seconds = time.perf_counter() - started
            status = "ok"
            if s.name != "report":
                if not stage_file.exists():
                    raise PipelineError(f"stage '{s.name}' ran but wrote no results "
                                        f"({stage_file}); see {target}", stage=s.name,
                                        notebook=str(target))
                data = json.loads(stage_file.read_text(encoding="utf-8"))
                data["parameters_sha256"] = params.fingerprint()
                for note in learned["notes"].get(s.name, []):
                    if note not in data.setdefault("notes", []):
                        data["notes"].append(note)
                _write_json(stage_file, data)
                status = data.get("status", "ok")
                if data.get("unavailable"):
                    status += " (not available: " + ", ".join(data["unavailable"]) + ")"
                if data.get("problems"):
                    status += " (PROBLEM: " + "; ".join(data["problems"]) + ")"
            result.stages.append(StageRun(s.name, status, seconds, str(target)))
            progress.stage_end(s, status, seconds)
            if s.name == "report" and html:
                result.report = export_html(target, out / "report.html", title=params.title)
                from ckm_research.report.docx import report_fragments, write_docx
                from ckm_research.report.xlsx import write_xlsx

                shown = report_fragments(out, target)  # the same HTML, as Word and Excel
                write_docx(out, fragments=shown)
                write_xlsx(out, fragments=shown)
    except (KeyboardInterrupt, SystemExit, CkmError) as exc:
        state = "failed" if isinstance(exc, CkmError) else "interrupted"
        _write_manifest(out, params, inputs, result, t0, partial=True, state=state)
        raise
    finally:
        progress.stop()
    results = merge_results(out, params, inputs)
    _write_json(out / "results.json", results)
    result.results = out / "results.json"
    if "stale_stages" in results["study"]:
        progress.message("warning: the results of " + ", ".join(results["study"][
            "stale_stages"]) + " were made with other parameters; rerun them (or the whole "
            "pipeline) before reading the report")
    result.seconds = time.perf_counter() - t0
    _end_run(out, report_ran=any(s.name == "report" for s in selected))
    result.manifest = _write_manifest(out, params, inputs, result, t0)
    return result


#: where the last complete run's results.json and report.html wait while a run
#: rewrites the folder (see :func:`_begin_run`)
PREVIOUS_RUN = ".previous-run"

_RUNNING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ckm run: not finished</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>This report is not finished</h1>
<p>ckm run started rewriting this folder at {started}. If this page is still here,
the run was interrupted or failed: <code>manifest.json</code> says which stage it
reached. Rerun the same command to finish it.</p>
<p>The last complete report, if there was one, is kept in
<code>{previous}/report.html</code> until a run finishes.</p>
</body></html>
"""


def _begin_run(out: Path) -> None:
    """Mark ``out`` as being rewritten, so that no reader takes a mix of two runs
    for a finished one.

    The last complete run's ``results.json`` and ``report.html`` move to
    ``.previous-run/`` (an interrupted run's leftovers are discarded, and an
    older complete copy there is kept); ``report.html`` becomes a page saying
    the run has not finished, and ``manifest.json`` says ``"complete": false``
    (written by the caller) until :func:`_end_run`.
    """
    previous = out / PREVIOUS_RUN
    try:
        was_complete = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get(
            "complete") is True
    except (OSError, ValueError):
        was_complete = False
    for name in ("results.json", "report.html", "report.docx", "tables.xlsx"):
        path = out / name
        if not path.exists():
            continue
        if was_complete:
            previous.mkdir(exist_ok=True)
            os.replace(path, previous / name)
        else:
            path.unlink()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (out / "report.html").write_text(
        _RUNNING_PAGE.format(started=started, previous=PREVIOUS_RUN), encoding="utf-8")


def _end_run(out: Path, *, report_ran: bool) -> None:
    """The run finished: drop the not-finished page and the previous run's
    copies; a run without the report stage (``--only``) gets the previous
    report back, as before the run."""
    previous = out / PREVIOUS_RUN
    page = out / "report.html"
    if page.exists() and page.read_text(encoding="utf-8", errors="replace").startswith(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ckm run: "
            "not finished"):
        page.unlink()
    for name in ("report.html", "report.docx", "tables.xlsx"):
        if not report_ran and (previous / name).exists():
            os.replace(previous / name, out / name)
    shutil.rmtree(previous, ignore_errors=True)


def _write_manifest(out: Path, params: PipelineParams, inputs: dict, result: PipelineResult,
                    t0: float, partial: bool = False, state: str | None = None) -> Path:
    """Write ``manifest.json``; ``state`` is "running", "failed", "interrupted" or
    (``partial=False``) "complete"."""
    from ckm_research.report.pathdiagram import dot_available

    ok, dot = dot_available()
    outputs = {}
    for sub in ("tables", "figures", "data"):
        folder = out / sub
        if folder.exists():
            outputs[sub] = {p.name: sha256_file(p) for p in sorted(folder.iterdir())
                            if p.is_file()}
    for name in ("results.json", "report.html", "report.docx", "tables.xlsx"):
        if (out / name).exists():
            outputs[name] = sha256_file(out / name)
    manifest = {
        "schema": "ckm-research/manifest/1",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": not partial,
        "state": state or ("complete" if not partial else "running"),
        "command": ["ckm", *sys.argv[1:]] if Path(sys.argv[0]).name == "ckm" else sys.argv,
        "ckm_research_version": __version__,
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "implementation": platform.python_implementation()},
        "platform": platform.platform(),
        "packages": _versions(),
        "tools": {"graphviz_dot": dot if ok else None},
        "kernel": result.kernel,
        "git": _git(),
        "seed": params.seed,
        "parameters": params.as_dict(),
        "parameters_sha256": params.fingerprint(),
        "inputs": inputs,
        "stages": [{"name": s.name, "status": s.status, "seconds": round(s.seconds, 2),
                    "notebook": s.notebook, "error": s.error} for s in result.stages],
        "outputs": outputs,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    path = out / "manifest.json"
    _write_json(path, manifest)
    return path


def stage_names() -> tuple[str, ...]:
    return STAGE_NAMES
