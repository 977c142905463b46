"""A quick run of the whole pipeline, shared by the pipeline and report tests.

:func:`quick_run` runs ``ckm run --params notebooks/params/quick.yaml`` once per
test session (into a temporary folder) and returns the output folder; the
tests read what it wrote. It needs the example data and the notebooks of the
checkout.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "notebooks" / "params" / "quick.yaml"
EXAMPLE = ROOT / "data" / "example" / "ckm_example.csv"


def need_pipeline() -> None:
    """Fail (never skip) when the checkout cannot run the pipeline: papermill, nbconvert,
    nbformat, ipykernel and jupytext are dependencies of the package, and the example data
    is part of the checkout."""
    import ipykernel  # noqa: F401
    import jupytext  # noqa: F401
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    assert EXAMPLE.exists(), f"the example data {EXAMPLE} is missing (made by ckm simulate)"


@functools.cache
def _run(tag: str, language: str = "en") -> tuple[Path, str, float]:
    from ckm_research.report import load_params, run_pipeline
    from ckm_research.report.runner import Progress

    out = Path(tempfile.mkdtemp(prefix=f"ckm-{tag}-")) / "run"
    overrides = {"language": language} if language != "en" else None
    params = load_params(QUICK, overrides, output_dir=out)
    log = io.StringIO()
    result = run_pipeline(params, progress=Progress(stream=log, interactive=False))
    return out, log.getvalue(), result.seconds


def quick_run() -> Path:
    """Output folder of the quick pipeline run (run once per session)."""
    need_pipeline()
    return _run("quick")[0]


def quick_run_zh() -> Path:
    """Output folder of the quick pipeline run with ``language: zh`` (once per session)."""
    need_pipeline()
    return _run("quick-zh", "zh")[0]


def quick_log() -> str:
    need_pipeline()
    return _run("quick")[1]


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def copy_run(out: Path) -> Path:
    """A copy of an output folder, to change without disturbing other tests."""
    target = Path(tempfile.mkdtemp(prefix="ckm-copy-")) / "run"
    shutil.copytree(out, target)
    return target
