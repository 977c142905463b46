"""The stages of the study, in order, and the notebook of each.

Each stage is one notebook in ``notebooks/`` whose ``parameters`` cell names
the parameters it takes (a subset of
:class:`~ckm_research.report.params.PipelineParams`); the runner passes it
those, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: the repository root, as report.params.PROJECT_ROOT (not imported: pydantic is slow to
#: import, and ckm --help lists the stage names)
PROJECT_ROOT = Path(__file__).resolve().parents[2]

__all__ = ["Stage", "STAGES", "STAGE_NAMES", "NOTEBOOK_DIR", "stage", "TUTORIAL"]

#: Where the stage notebooks live (the checkout's ``notebooks/``).
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline.

    Attributes
    ----------
    name : str
        Used by ``--only`` and as ``results/<name>.json``.
    notebook : str
        File name in ``notebooks/``.
    title : str
        What it does, for the progress display.
    needs : tuple of str
        Stages whose results it reads.
    optional : bool
        May be switched off by a parameter (``power: false``).
    """

    name: str
    notebook: str
    title: str
    needs: tuple[str, ...] = ()
    optional: bool = False

    @property
    def path(self) -> Path:
        return NOTEBOOK_DIR / self.notebook


STAGES: tuple[Stage, ...] = (
    Stage("instrument", "01_instrument.ipynb", "Instrument"),
    Stage("data", "02_data.ipynb", "Data import and screening", ("instrument",)),
    Stage("measurement", "03_measurement.ipynb", "Measurement model", ("data",)),
    Stage("structural", "04_structural.ipynb", "Structural model", ("data",)),
    Stage("moderation", "05_moderation.ipynb", "Moderation and multi-group",
          ("data", "structural")),
    Stage("power", "06_power.ipynb", "Power analysis", ("data", "structural", "moderation"),
          optional=True),
    Stage("report", "07_report.ipynb", "Report",
          ("instrument", "data", "measurement", "structural", "moderation")),
)

STAGE_NAMES = tuple(s.name for s in STAGES)

#: The tutorial notebook (not a stage): lavaan's PoliticalDemocracy SEM.
TUTORIAL = NOTEBOOK_DIR / "tutorial_political_democracy.ipynb"


def stage(name: str) -> Stage:
    """The stage called ``name`` (a clear error for an unknown name)."""
    for s in STAGES:
        if s.name == name:
            return s
    from ckm_research.errors import CkmError

    raise CkmError(f"there is no stage '{name}'; the stages are: {', '.join(STAGE_NAMES)}")
