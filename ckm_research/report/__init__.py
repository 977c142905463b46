"""The study as a reproducible pipeline of notebooks, and the report it ends in.

``ckm run`` (:func:`~ckm_research.report.runner.run_pipeline`) executes the
stage notebooks of ``notebooks/`` with papermill, one kernel process per
notebook, passing results between stages through files in the output folder:

* :mod:`~ckm_research.report.params`: every parameter, checked before any
  notebook runs;
* :mod:`~ckm_research.report.stages`: the stages and their notebooks;
* :mod:`~ckm_research.report.inputs`: the pipeline's inputs (model file,
  instrument, the analysed rows the data stage wrote);
* :mod:`~ckm_research.report.analysis`: the report's tables, built from the
  results of the public workflow functions the notebooks call (the same ones
  the ``ckm`` command line calls: :mod:`ckm_research.structural`,
  :mod:`ckm_research.measurement`, :mod:`ckm_research.inference`, ...); the
  model variants fitted are written by :mod:`ckm_research.sem.modelsyntax`;
* :mod:`~ckm_research.report.store`: the results files of each stage;
* :mod:`~ckm_research.report.tables`, :mod:`~ckm_research.report.figures`,
  :mod:`~ckm_research.report.pathdiagram`: APA tables, print-ready figures and
  the graphviz path diagram;
* :mod:`~ckm_research.report.render`: the report's sections;
* :mod:`~ckm_research.report.runner` and :mod:`~ckm_research.report.grid`:
  running one parameter set, or several in parallel.

Importing this package is cheap; papermill and nbconvert are imported when a
pipeline runs.
"""

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ``ckm --help`` does not load pandas and pydantic
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    {
        **names_from(
            "ckm_research.report.params", ["ParameterError", "PipelineParams", "load_params"]
        ),
        **names_from("ckm_research.report.stages", ["STAGE_NAMES", "STAGES"]),
        "StageOutput": "ckm_research.report.store",
        "Table": "ckm_research.report.tables",
    },
)

__all__ = ["PipelineParams", "ParameterError", "load_params", "STAGES", "STAGE_NAMES",
           "StageOutput", "Table", "run_pipeline", "run_grid"]


def run_pipeline(*args, **kwargs):
    """See :func:`ckm_research.report.runner.run_pipeline`."""
    from ckm_research.report.runner import run_pipeline as _run

    return _run(*args, **kwargs)


def run_grid(*args, **kwargs):
    """See :func:`ckm_research.report.grid.run_grid`."""
    from ckm_research.report.grid import run_grid as _run

    return _run(*args, **kwargs)
