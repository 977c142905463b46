"""The files through which the pipeline's stages pass their results.

Every stage notebook opens a :class:`StageOutput` on the output folder and
records what it found: numbers, tables (:class:`~ckm_research.report.tables.Table`),
figures and notes. :meth:`StageOutput.save` writes ``results/<stage>.json``;
the runner merges those files into ``results.json``, which the report stage
reads. The layout of the output folder::

    <output>/
      results.json            every number the report shows
      manifest.json           provenance (versions, parameters, checksums, commit)
      report.html             the report (code hidden)
      report.docx             the same report for Word (report/docx.py)
      tables.xlsx             the report's tables, full precision (report/xlsx.py)
      notebooks/NN_stage.ipynb  the executed notebooks
      results/<stage>.json    one stage's results (merged into results.json)
      tables/<name>.csv|.tex  the tables, full precision and APA LaTeX
      figures/<name>.png|.svg the figures
      data/                   derived data (processed responses, screening report)
      models/                 the model syntax each stage fitted

Nothing here holds statistics: a stage computes with ``ckm_research`` and
hands the results to :class:`StageOutput`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ckm_research.errors import CkmError
from ckm_research.numerics import to_json_ready
from ckm_research.report.tables import Table

__all__ = ["StageOutput", "to_jsonable", "read_stage", "read_results", "RESULTS_SCHEMA",
           "STATUS_OK", "STATUS_UNAVAILABLE", "STATUS_SKIPPED", "check_inputs",
           "RUN_FINGERPRINT"]

RESULTS_SCHEMA = "ckm-research/results/1"
STATUS_OK = "ok"
STATUS_UNAVAILABLE = "not available"
STATUS_SKIPPED = "skipped"
#: Environment variable through which ``ckm run`` tells a stage the fingerprint of
#: its parameters (unset when a notebook runs on its own in JupyterLab).
RUN_FINGERPRINT = "CKM_PARAMETERS_SHA256"


#: Plain JSON types (:func:`ckm_research.numerics.to_json_ready`, the one cleaner)
to_jsonable = to_json_ready


def _dump(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class StageOutput:
    """What one stage records, and where it writes it.

    Parameters
    ----------
    output_dir : path
        The pipeline's output folder (absolute).
    stage : str
        The stage's name (``"measurement"``, ...).
    display : bool
        Show tables and figures in the notebook as they are recorded (on by
        default; off in scripts and tests).
    check : bool
        Check first that the results this stage reads exist and belong
        together (:func:`check_inputs`); off only for results made outside a
        pipeline run (a script recording one stage's results by hand).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> out = StageOutput(folder, "structural", display=False, check=False)
    >>> out.numbers(n=379, chisq=1310.9)
    >>> out.save().name
    'structural.json'
    """

    def __init__(self, output_dir: str | Path, stage: str, *, display: bool = True,
                 check: bool = True, lang: str = "en"):
        self.root = Path(output_dir).resolve()
        self.stage = stage
        self.lang = lang  # the report language of the tables' LaTeX files (Table.write)
        self.display = display
        self.data: dict[str, Any] = {
            "stage": stage, "status": STATUS_OK, "numbers": {}, "tables": {}, "figures": {},
            "texts": {}, "notes": [], "unavailable": {}, "problems": {},
        }
        self.inputs_sha256 = (
            check_inputs(self.root, stage) if check and _is_stage(stage) else None
        )
        for sub in ("results", "tables", "figures", "data", "models"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ paths
    def path(self, *parts: str) -> Path:
        """A path inside the output folder (parent folders are made)."""
        p = self.root.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # ------------------------------------------------------------------ record
    def numbers(self, **values: Any) -> None:
        """Record named numbers (or short strings) of this stage."""
        self.data["numbers"].update(to_jsonable(values))

    def text(self, key: str, value: str) -> None:
        """Record a text the report prints verbatim (model syntax, a sentence)."""
        self.data["texts"][key] = str(value)

    def note(self, message: str) -> None:
        """A note for the report (a warning from a fit, a decision taken)."""
        message = str(message)
        if message not in self.data["notes"]:
            self.data["notes"].append(message)

    def unavailable(self, part: str, reason: str) -> None:
        """Record that ``part`` of this stage could not be computed, and why.

        The report prints the reason where the part would be; no number is
        made up in its place.
        """
        self.data["unavailable"][part] = str(reason)
        if self.display:
            _show_markdown(f"**{part}: not available.** {reason}")

    def problem(self, part: str, message: str) -> None:
        """Record that a result of this stage is computed but not admissible
        (a Heywood case), and why; the report prints ``message`` beside it and the
        runner's progress line names ``part``."""
        self.data.setdefault("problems", {})[part] = str(message)
        if self.display:
            _show_markdown(f"**{part}.** {message}")

    def status(self, status: str, reason: str = "") -> None:
        """Mark the whole stage (``"ok"``, ``"not available"``, ``"skipped"``)."""
        self.data["status"] = status
        if reason:
            self.data["status_reason"] = reason
            if self.display:
                _show_markdown(f"**This stage is {status}.** {reason}")

    def table(self, table: Table) -> Table:
        """Record a table and write its CSV and LaTeX files."""
        if table.name in self.data["tables"]:
            raise CkmError(f"the stage {self.stage} recorded two tables named {table.name!r}")
        table.write(self.root / "tables", lang=self.lang)
        self.data["tables"][table.name] = table.to_record()
        if self.display:
            _show_html(table.to_html())
        return table

    def figure(self, fig, name: str, title: str, *, note: str = "", alt: str = "") -> dict:
        """Save a matplotlib figure as PNG and SVG and record its APA title and note."""
        from ckm_research.report.figures import close, save_figure

        for ax in fig.axes:  # the APA title goes above the figure, not inside it
            ax.set_title("")
        files = save_figure(fig, self.root / "figures", name)
        close(fig)
        return self.figure_files(name, files, title, note=note, alt=alt)

    def figure_files(self, name: str, files: dict[str, Path], title: str, *, note: str = "",
                     alt: str = "") -> dict[str, str]:
        """Record a figure already written as PNG and SVG (a graphviz diagram)."""
        if name in self.data["figures"]:
            raise CkmError(f"the stage {self.stage} recorded two figures named {name!r}")
        record = {"png": f"figures/{Path(files['png']).name}",
                  "svg": f"figures/{Path(files['svg']).name}",
                  "title": title, "note": note, "alt": alt or title}
        self.data["figures"][name] = record
        if self.display:
            _show_png(files["png"])
        return record

    # ------------------------------------------------------------------ io
    def save(self) -> Path:
        """Write ``results/<stage>.json``."""
        target = self.root / "results" / f"{self.stage}.json"
        target.write_text(_dump(self.data), encoding="utf-8")
        return target

    def load(self, stage: str) -> dict[str, Any]:
        """The results of an earlier stage (an error says which stage to run first, or
        that they were made with other parameters than this stage's inputs)."""
        data = read_stage(self.root, stage)
        expected = os.environ.get(RUN_FINGERPRINT) or self.inputs_sha256
        got = data.get("parameters_sha256")
        if expected and got != expected:
            raise CkmError(f"results/{stage}.json in {self.root} {_origin(got)}, not with the "
                           f"parameters of this stage's inputs ({expected[:12]}); rerun the "
                           f"'{stage}' stage first")
        return data


def read_stage(output_dir: str | Path, stage: str) -> dict[str, Any]:
    """``results/<stage>.json`` of an output folder."""
    path = Path(output_dir) / "results" / f"{stage}.json"
    if not path.exists():
        raise CkmError(
            f"the results of the '{stage}' stage are not in {Path(output_dir)}: run that stage "
            f"first (ckm run --only {stage} --output {Path(output_dir)}, or the whole pipeline)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _is_stage(name: str) -> bool:
    from ckm_research.report.stages import STAGE_NAMES

    return name in STAGE_NAMES


def _origin(sha: str | None) -> str:
    if sha is None:
        return "was written by its notebook run on its own (not by ckm run), with parameters " \
               "that were not recorded"
    return f"was made by ckm run with other parameters (parameters_sha256 {sha[:12]})"


def check_inputs(output_dir: str | Path, stage: str, *, fingerprint: str | None = None,
                 skip=(), merged: bool = True) -> str | None:
    """Check the results a stage reads before it reads them.

    Every stage this one needs (:attr:`~ckm_research.report.stages.Stage.needs`)
    must have written ``results/<stage>.json``, and all of them with the same
    parameters: the ``parameters_sha256`` that ``ckm run`` stamps on each
    (:meth:`~ckm_research.report.params.PipelineParams.fingerprint`) must be
    the run's (``fingerprint``, by default the one ``ckm run`` passes to the
    notebooks), or, for a notebook run on its own, one and the same. The report
    stage (``merged``) also needs ``results.json`` to hold exactly these
    results, none of them stale.

    Parameters
    ----------
    output_dir : path
        The output folder.
    stage : str
        The stage about to run.
    fingerprint : str, optional
        The parameters fingerprint the inputs must have.
    skip : sequence of str
        Stages not to check (they run first in the same ``ckm run --only``).
    merged : bool
        For the report stage, check ``results.json`` too.

    Returns
    -------
    str or None
        The inputs' common fingerprint.

    Raises
    ------
    CkmError
        Saying which stage to run first, or which results are stale.
    """
    from ckm_research.report.stages import STAGES
    from ckm_research.report.stages import stage as _stage

    root = Path(output_dir).resolve()
    this = _stage(stage)
    fingerprint = fingerprint or os.environ.get(RUN_FINGERPRINT) or None
    rerun = f"ckm run --output {root}"
    if stage == "report" and merged and not (root / "results.json").exists():
        raise CkmError(
            f"The report is made from {root / 'results.json'}, which does not exist: run the "
            f"pipeline first ({rerun}; or, when every stage's results are in {root / 'results'}, "
            f"ckm run --only report --output {root}).")
    found: dict[str, str | None] = {}
    for need in this.needs:
        if need in skip:
            continue
        path = root / "results" / f"{need}.json"
        if not path.exists():
            raise CkmError(
                f"The '{stage}' stage ({this.notebook}) reads the results of the '{need}' stage, "
                f"which are not in {root}: run notebooks/{_stage(need).notebook} first (or "
                f"ckm run --only {need} --output {root}; or the whole pipeline: {rerun}).")
        found[need] = json.loads(path.read_text(encoding="utf-8")).get("parameters_sha256")
    reference = fingerprint
    if reference is None and found:
        # the notebook runs on its own: its inputs must agree with each other; the
        # results of ckm run (recorded fingerprint) are the reference
        known = [v for v in found.values() if v]
        reference = known[-1] if known else None
    stale = [n for n, v in found.items() if v != reference]
    if stale:
        order = [s.name for s in STAGES]
        first = min(order.index(n) for n in stale)
        redo = [n for n in order[first:] if n != "report"]
        if reference is None:
            against = "the other results"
        else:
            against = ("this run's parameters" if fingerprint else "the other results'") + \
                f" (parameters_sha256 {reference[:12]})"
        raise CkmError(
            f"The '{stage}' stage ({this.notebook}) would read results that do not belong "
            f"together: " + "; ".join(f"results/{n}.json {_origin(found[n])}" for n in stale)
            + f", unlike {against}. Rerun the stages from '{order[first]}' on with one set of "
            f"parameters: ckm run --only {','.join(redo + [stage] if stage not in redo else redo)}"
            f" --output {root} (or the whole pipeline: {rerun}).")
    if stage == "report" and merged:
        results = json.loads((root / "results.json").read_text(encoding="utf-8"))
        study = results.get("study", {}).get("parameters_sha256")
        old = []
        for s in STAGES:
            path = root / "results" / f"{s.name}.json"
            current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
            if results.get("stages", {}).get(s.name) != current:
                old.append(s.name)
        if old:
            raise CkmError(
                f"{root / 'results.json'} is older than the results of "
                + ", ".join(old) + f" (rerun since the last ckm run): merge them with "
                f"ckm run --only report --output {root}.")
        stale = results.get("study", {}).get("stale_stages") or [
            n for n, v in results.get("stages", {}).items()
            if v and v.get("parameters_sha256") != study]
        if stale:
            raise CkmError(
                "The results of " + ", ".join(stale) + " in " + str(root) + " were made with "
                "other parameters than the report's (or by a notebook run on its own): rerun "
                f"them with ckm run --only {','.join(stale)},report --output {root}, or the "
                f"whole pipeline ({rerun}).")
        reference = study
    return reference


def read_results(output_dir: str | Path) -> dict[str, Any]:
    """``results.json`` of an output folder."""
    path = Path(output_dir) / "results.json"
    if not path.exists():
        raise CkmError(f"{path} does not exist: run the pipeline first (ckm run)")
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- display
def _show_html(text: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    display(HTML(text))


def _show_markdown(text: str) -> None:
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover
        return
    display(Markdown(text))


def _show_png(path: str | Path) -> None:
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover
        return
    display(Image(filename=str(path)))
