"""The tutorial notebook reproduces lavaan's published PoliticalDemocracy SEM.

It is executed with papermill in the same kernel the pipeline uses; the
notebook itself raises when an estimate, a standard error or the chi-square
test differs from the published lavaan output by more than the rounding of
its three decimals, so a passing run is the check. A run with an impossible
tolerance must fail, proving the check can fail.
"""

from __future__ import annotations

import pytest

from ckm_research.report.stages import TUTORIAL


def _execute(tmp_path, tolerance: float):
    import papermill

    from ckm_research.report.runner import _kernel_environment, resolve_kernel

    kernel = resolve_kernel()
    out = tmp_path / "tutorial.ipynb"
    with _kernel_environment(kernel):
        papermill.execute_notebook(str(TUTORIAL), str(out), parameters={"tolerance": tolerance},
                                   kernel_name=kernel.name, progress_bar=False, cwd=str(tmp_path),
                                   execution_timeout=600)
    return out


def test_tutorial_matches_the_published_numbers(tmp_path):
    out = _execute(tmp_path, 0.0005)
    text = out.read_text(encoding="utf-8")
    assert "match the published values" in text
    assert "chi-square = 40.179, df = 38, p = 0.374" in text


def test_tutorial_fails_when_the_numbers_do_not_match(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match="does not reproduce"):
        _execute(tmp_path, -1.0)
