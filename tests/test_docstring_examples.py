"""The docstring examples of the package run: `pytest` collects them (``--doctest-modules``
and ``testpaths`` in pyproject.toml, so ``make test`` runs them) on the data bundled in
``ckm_research.data.examples``; none may be switched off with ``# doctest: +SKIP``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the tomli backport
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_no_docstring_example_is_skipped():
    skipped = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "ckm_research").rglob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"doctest:\s*\+SKIP", line)
    ]
    assert not skipped, f"docstring examples switched off: {skipped}"


def test_pytest_runs_the_docstring_examples():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        ini = tomllib.load(fh)["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in ini["addopts"].split()
    assert "ckm_research" in ini["testpaths"]


def test_the_example_data_sets_load():
    from ckm_research.data.examples import DATASETS, load_dataset

    shapes = {"HolzingerSwineford1939": (301, 15), "PoliticalDemocracy": (75, 11),
              "Demo.growth": (400, 10), "oneInt": (500, 9)}  # fmt: skip
    assert set(DATASETS) == set(shapes)
    for name, shape in shapes.items():
        assert load_dataset(name).shape == shape, name


def test_an_unknown_data_set_is_named_in_the_error():
    import pytest

    from ckm_research.data.examples import load_dataset
    from ckm_research.errors import CkmError

    with pytest.raises(CkmError, match="'name' parameter of load_dataset.*Got 'hs' instead"):
        load_dataset("hs")
