"""The project's packaging files agree with one another.

``pyproject.toml`` (pip) and ``environment.yml`` (conda) must list the same
dependencies with the same version bounds; a few packages have another name on
conda-forge (see ``CONDA_NAMES``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the tomli backport, when installed
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]

#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"matplotlib": "matplotlib-base", "graphviz": "python-graphviz"}
#: Entries of environment.yml that are not Python dependencies of the package.
CONDA_ONLY = {"python", "pip"}

_REQ_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def _normalise(name: str) -> str:
    """PEP 503 normalised package name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse(requirement: str) -> tuple[str, str]:
    """Split ``'numpy >=1.24'`` into ``('numpy', '>=1.24')``."""
    match = _REQ_RE.match(requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    name, _extras, spec = match.groups()
    return _normalise(name), re.sub(r"\s+", "", spec)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def environment() -> dict:
    with open(ROOT / "environment.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _pip_requirements(pyproject: dict) -> dict[str, str]:
    reqs = list(pyproject["project"]["dependencies"])
    for extra in pyproject["project"]["optional-dependencies"].values():
        reqs += extra
    parsed = dict(_parse(r) for r in reqs)
    assert len(parsed) == len(reqs), "a dependency is listed twice in pyproject.toml"
    return parsed


def _conda_requirements(environment: dict) -> dict[str, str]:
    """Dependencies of environment.yml, conda and pip sections, under PyPI names."""
    to_pypi = {conda: pypi for pypi, conda in CONDA_NAMES.items()}
    found: dict[str, str] = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry.get("pip", []):
                if pip_entry.startswith("-e") or pip_entry.strip() == ".":
                    continue
                name, spec = _parse(pip_entry)
                assert name not in found, f"{name} is listed twice in environment.yml"
                found[name] = spec
            continue
        name, spec = _parse(entry)
        if name in CONDA_ONLY:
            continue
        name = to_pypi.get(name, name)
        assert name not in found, f"{name} is listed twice in environment.yml"
        found[name] = spec
    return found


def test_dependency_lists_agree(pyproject, environment):
    pip_reqs = _pip_requirements(pyproject)
    conda_reqs = _conda_requirements(environment)
    only_pip = sorted(set(pip_reqs) - set(conda_reqs))
    only_conda = sorted(set(conda_reqs) - set(pip_reqs))
    assert not only_pip, f"in pyproject.toml but not in environment.yml: {only_pip}"
    assert not only_conda, f"in environment.yml but not in pyproject.toml: {only_conda}"
    differing = {n: (pip_reqs[n], conda_reqs[n]) for n in pip_reqs if pip_reqs[n] != conda_reqs[n]}
    assert not differing, f"version bounds differ (pyproject, environment): {differing}"


def test_python_versions_agree(pyproject, environment):
    conda_python = [e for e in environment["dependencies"]
                    if isinstance(e, str) and _parse(e)[0] == "python"]
    assert conda_python, "environment.yml does not pin python"
    assert _parse(conda_python[0])[1] == pyproject["project"]["requires-python"]


def test_environment_installs_the_package_itself(environment):
    pip_sections = [e["pip"] for e in environment["dependencies"] if isinstance(e, dict)]
    assert any("-e ." in section for section in pip_sections)


def test_console_script_and_package_data(pyproject):
    assert pyproject["project"]["scripts"]["ckm"] == "ckm_research.cli:main"
    assert "models/*.lav" in pyproject["tool"]["setuptools"]["package-data"]["ckm_research"]
    assert (ROOT / "ckm_research" / "models" / "ckm_study.lav").is_file()


def test_kernel_name_is_the_one_the_makefile_registers():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--name ckm-research" in makefile or "KERNEL_NAME := ckm-research" in makefile


# ------------------------------------------------------ imports are declared dependencies
def _imports(path: Path) -> list[tuple[str, bool]]:
    """``(top-level module, at module level?)`` of every absolute import in a file."""
    import ast

    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], not in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], not in_function))
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _declared(requirements: list[str]) -> set[str]:
    """Distributions the requirements install directly, with those of the extras they
    name (``dask[distributed]`` declares ``distributed``)."""
    from importlib import metadata

    names: set[str] = set()
    for req in requirements:
        match = _REQ_RE.match(req)
        assert match, req
        name, extras = _normalise(match.group(1)), match.group(2)
        names.add(name)
        for extra in (extras or "[]")[1:-1].split(","):
            if not extra.strip():
                continue
            marker = re.compile(rf"extra\s*==\s*['\"]{re.escape(extra.strip())}['\"]")
            for dep in metadata.requires(name) or []:
                if marker.search(dep):
                    names.add(_parse(dep.split(";")[0])[0])
    return names


def test_every_third_party_import_is_a_declared_dependency(pyproject):
    """A module ckm_research imports at module level must be a dependency; one imported
    inside a function (used only by some feature) a dependency or in an extra."""
    from importlib import metadata

    dists = metadata.packages_distributions()
    core = _declared(pyproject["project"]["dependencies"])
    extras = {
        name: _declared(reqs)
        for name, reqs in pyproject["project"]["optional-dependencies"].items()
    }
    extras.pop("dev")  # test tools: not for the package's own code
    anywhere = core.union(*extras.values())
    stdlib = set(sys.stdlib_module_names)
    problems, checked = [], set()
    for path in sorted((ROOT / "ckm_research").rglob("*.py")):
        for module, module_level in _imports(path):
            if module in stdlib or module == "ckm_research" or module == "__future__":
                continue
            assert module in dists, f"{module} (imported by {path.name}) is not installed"
            names = {_normalise(d) for d in dists[module]}
            checked.add(module)
            where = path.relative_to(ROOT)
            if module_level and not names & core:
                problems.append(f"{where}: {module} at module level, not in dependencies")
            elif not names & anywhere:
                problems.append(f"{where}: {module} is in no dependency list or extra")
    assert not problems, "\n".join(problems)
    assert {"numpy", "scipy", "pandas"} <= checked  # the walk found the imports
