"""A stage whose kernel never starts is started once more (two kernels started at
once by ``ckm run --grid --jobs 2`` can race for a TCP port)."""

from __future__ import annotations

from ckm_research.report.runner import _kernel_start_failure


def test_kernel_start_failures_are_recognised():
    assert _kernel_start_failure(RuntimeError("Kernel didn't respond in 180 seconds"))
    assert _kernel_start_failure(RuntimeError("Kernel died before replying to kernel_info"))


def test_other_errors_are_not_retried():
    assert not _kernel_start_failure(RuntimeError("Cell execution timed out"))
    assert not _kernel_start_failure(ValueError("bad parameter"))
