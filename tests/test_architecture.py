"""Architecture checks for issue 10 ("one engine, one vocabulary of options, one numerics
layer"): no package reaches into another package's private names, and the top-level
packages of ``ckm_research`` import each other without cycles at module level.

Every ``.py`` file under ``ckm_research/`` is parsed with :mod:`ast` (nothing is imported).
A *unit* is a top-level package or module of ``ckm_research`` (``sem``, ``measurement``,
``moderation``, ``inference``, ``report``, ``data``, ``instrument``, ``cli``, ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ckm_research"
PKG = "ckm_research"

#: Module-level import cycles between units that still exist (issue 10). Each entry is a
#: sorted pair of units; a NEW cycle fails the test, and so does an entry that is gone
#: (remove it from this list then).
KNOWN_CYCLES: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _unit(module: str) -> str | None:
    """The top-level unit of a ``ckm_research`` module name (None for the root package)."""
    parts = module.split(".")
    if parts[0] != PKG:
        return None
    return parts[1] if len(parts) > 1 else None


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        yield path, _module_name(path), path.name == "__init__.py"


def _scan():
    """(module, is_package, tree, top-level imports, all imports) for every module.

    An import is ``(target module, imported name or None, lineno, top_level)``.
    """
    known = {name for _, name, _ in _modules()}
    out = []
    for path, module, is_package in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports = []
        top_nodes = set()
        for node in tree.body:
            # module level, including under `if`/`try` (e.g. TYPE_CHECKING blocks are
            # skipped below), but not inside functions or classes
            stack = [node]
            while stack:
                n = stack.pop()
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                    continue
                top_nodes.add(id(n))
                stack.extend(ast.iter_child_nodes(n))
        aliases: dict[str, str] = {}  # local name -> ckm_research module it refers to
        for node in ast.walk(tree):
            top = id(node) in top_nodes
            if isinstance(node, ast.Import):
                for a in node.names:
                    imports.append((a.name, None, node.lineno, top))
                    if a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, is_package, node)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in known:  # `from pkg import submodule`
                        imports.append((sub, None, node.lineno, top))
                        aliases[a.asname or a.name] = sub
                    else:
                        imports.append((target, a.name, node.lineno, top))
        out.append((module, path, tree, imports, aliases))
    return out


SCAN = _scan()


def test_no_private_names_across_packages():
    """(a) No ``from x import _y`` and no ``module._y`` across units."""
    bad = []
    for module, path, tree, imports, aliases in SCAN:
        here = _unit(module)
        for target, name, lineno, _top in imports:
            there = _unit(target)
            if there is None or there == here:
                continue
            if name is not None and _private(name):
                bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: from {target} import {name}")
            elif any(_private(p) for p in target.split(".")[2:]):
                bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: import {target}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                target = aliases[node.value.id]
                there = _unit(target)
                if there is not None and there != here:
                    bad.append(
                        f"{path.relative_to(ROOT.parent)}:{node.lineno}: {target}.{node.attr}"
                    )
    bad = sorted(set(bad))
    assert not bad, "private names used across packages:\n" + "\n".join(bad)


def test_no_private_engine_outside_sem():
    """``SEMResults._engine`` is read only inside ``ckm_research.sem`` (use ``.engine``)."""
    bad = []
    for module, path, tree, _imports, _aliases in SCAN:
        if _unit(module) == "sem":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "_engine":
                bad.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not bad, "SEMResults._engine read outside ckm_research.sem:\n" + "\n".join(bad)


def _private_members(tree: ast.AST) -> set[str]:
    """Private attribute names a module defines on its classes: methods and class-level
    fields (``def _x``, ``_x: int = 0``) and attributes set on ``self``/``cls``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return {n for n in names if _private(n)}


def _module_names(tree: ast.AST) -> set[str]:
    """Local names bound by imports (modules and imported objects)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out.add((a.asname or a.name).split(".")[0])
    return out


def _private_sem_reads(tree: ast.AST, sem_private: set[str]) -> list[tuple[int, str]]:
    """``<expr>._x`` where ``_x`` is a private member of a ``ckm_research.sem`` class
    (SEMResults, the engines, RAMModel ...), outside ``self``/``cls``/``super()``, a
    module-level name reached through an import, and names the module defines itself."""
    own = _private_members(tree)
    modules = _module_names(tree)
    hits = []
    for node in ast.walk(tree):
        if (  # getattr(res, "_engine", None) is the same read
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in sem_private - own
        ):
            hits.append((node.lineno, ast.unparse(node)))
            continue
        if not (isinstance(node, ast.Attribute) and node.attr in sem_private - own):
            continue
        value = node.value
        if isinstance(value, ast.Name) and (value.id in ("self", "cls") or value.id in modules):
            continue
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "super"
        ):
            continue
        hits.append((node.lineno, ast.unparse(node)))
    return hits


def _sem_private() -> set[str]:
    names: set[str] = set()
    for module, _path, tree, _imports, _aliases in SCAN:
        if _unit(module) == "sem":
            names |= _private_members(tree)
    return names


def test_no_private_sem_attributes_outside_sem():
    """Nothing outside ``ckm_research/sem/`` (package and tests) reads a private
    attribute of a sem object (results, engines, models): use ``.engine``, ``.model``,
    ``.options``, ``.model_text`` or another public name (issue 10)."""
    sem_private = _sem_private()
    assert "_engine" in sem_private and "_matrices" in sem_private  # the scan sees sem
    files = [path for module, path, *_ in SCAN if _unit(module) != "sem"]
    files += sorted((ROOT.parent / "tests").rglob("*.py"))
    bad = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for lineno, text in _private_sem_reads(tree, sem_private):
            bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: {text}")
    assert not bad, "private attributes of sem objects read outside sem:\n" + "\n".join(bad)


def test_private_sem_reads_can_fail():
    """The rule flags a planted ``res._engine`` / ``model._matrices`` and nothing else."""
    planted = ast.parse(
        "import numpy as np\n"
        "class C:\n"
        "    def f(self, res, eng):\n"
        "        a = res._engine.pt\n"
        "        b = eng.model._matrices(v, 0)\n"
        "        c = self._engine\n"
        "        d = super()._engine\n"
        "        e = np._engine\n"
        "        g = getattr(res, '_engine', None)\n"
        "        return res.engine, eng.model.matrices_from_rows(v, 0)\n"
    )
    hits = sorted(_private_sem_reads(planted, _sem_private()))
    assert hits == [
        (4, "res._engine"),
        (5, "eng.model._matrices"),
        (9, "getattr(res, '_engine', None)"),
    ]
    own = ast.parse("class D:\n    def _engine(self):\n        pass\nx = other._engine\n")
    assert _private_sem_reads(own, _sem_private()) == []  # a name of the module's own


def _unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, _path, _tree, imports, _aliases in SCAN:
        here = _unit(module)
        if here is None:
            continue
        for target, _name, _lineno, top in imports:
            there = _unit(target)
            if top and there is not None and there != here:
                graph.setdefault(here, set()).add(there)
    return graph


def _cycles(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Pairs of units that reach each other through module-level imports."""

    def reach(start):
        seen, stack = set(), [start]
        while stack:
            for nxt in graph.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    reachable = {u: reach(u) for u in graph}
    return {
        tuple(sorted((a, b)))
        for a in graph
        for b in reachable[a]
        if a != b and a in reachable.get(b, ())
    }


def test_no_import_cycles_between_packages():
    """(b) No module-level import cycle between units, other than the known ones."""
    found = _cycles(_unit_graph())
    new = found - KNOWN_CYCLES
    assert not new, f"new import cycles between packages: {sorted(new)}"
    gone = KNOWN_CYCLES - found
    assert not gone, f"cycles listed in KNOWN_CYCLES no longer exist, remove them: {sorted(gone)}"


def test_checks_can_fail():
    """The cycle finder and the private-name rule see what they should."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert _cycles({"a": {"b"}, "b": set()}) == set()
    node = ast.parse("from .. import x", mode="exec").body[0]
    assert _resolve("ckm_research.sem.api", False, node) == "ckm_research"
    assert _private("_engine") and not _private("__version__")


@pytest.mark.parametrize(
    "unit", ["sem", "measurement", "moderation", "inference", "report", "data", "instrument", "cli"]
)
def test_units_are_scanned(unit):
    assert any(_unit(m) == unit for m, *_ in SCAN)


#: The packages that hold the study's methods; the command line sits on top of them.
DOMAIN_UNITS = ("sem", "measurement", "moderation", "inference", "report", "data", "instrument")


def _cli_imports(scan) -> list[str]:
    """``argparse`` or ``ckm_research.cli`` imported (anywhere) by a domain package."""
    bad = []
    for module, path, _tree, imports, _aliases in scan:
        if _unit(module) not in DOMAIN_UNITS:
            continue
        for target, _name, lineno, _top in imports:
            if target == "argparse" or target.startswith("argparse.") or _unit(target) == "cli":
                bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: import {target}")
    return sorted(bad)


def test_no_cli_code_in_domain_packages():
    """(issue 10) The command line is the package ``ckm_research.cli`` on top: no domain
    package imports :mod:`argparse` or ``ckm_research.cli`` (at module level or inside a
    function), so every workflow is a public function the CLI and the notebooks share."""
    bad = _cli_imports(SCAN)
    assert not bad, "CLI code inside domain packages:\n" + "\n".join(bad)


def test_cli_import_check_can_fail():
    """The rule above sees ``import argparse`` and a function-level ``ckm_research.cli`` import."""
    fake = []
    for code in ("import argparse", "def f():\n    from ckm_research.cli.common import UI"):
        tree = ast.parse(code)
        node = next(n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        target = node.names[0].name if isinstance(node, ast.Import) else node.module
        fake.append(("ckm_research.data.io", ROOT / "data" / "io.py", tree,
                     [(target, None, 1, False)], {}))
    assert len(_cli_imports(fake)) == 2


#: ``ckm_research.sem`` modules that may import the ``fit()`` facade ``sem.api``: the
#: package ``__init__`` and :func:`~ckm_research.sem.growth.growth`, itself a facade
#: (lavaan's ``growth()``) calling ``fit_with_options``. Engines, estimators and the
#: tools used after fitting import the engine base (``sem.engine``) and the estimators'
#: modules (``sem.ml``, ``sem.fiml`` ...) instead.
SEM_API_IMPORTERS = {"ckm_research.sem", "ckm_research.sem.api", "ckm_research.sem.growth"}


def _sem_api_imports(scan) -> list[str]:
    """Modules of ``ckm_research.sem`` that import ``ckm_research.sem.api`` (anywhere)."""
    bad = []
    for module, path, _tree, imports, _aliases in scan:
        if _unit(module) != "sem" or module in SEM_API_IMPORTERS:
            continue
        for target, _name, lineno, _top in imports:
            if target == "ckm_research.sem.api":
                bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: import {target}")
    return sorted(bad)


def test_sem_modules_do_not_import_the_facade():
    """(issue 10) ``sem/api.py`` holds only the ``fit()`` facade: the engine base is in
    ``sem/engine.py``, each estimator in its own module, and none of them imports the
    facade back (at module level or inside a function)."""
    bad = _sem_api_imports(SCAN)
    assert not bad, "sem modules importing the fit() facade sem.api:\n" + "\n".join(bad)


def _planted(module: str, code: str):
    """One scan entry for ``code`` as if it were ``module`` (for the can-fail tests)."""
    path = ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(code)
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [(a.name, None, node.lineno, False) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, False, node)
            imports += [(target, a.name, node.lineno, False) for a in node.names]
    return (module, path, tree, imports, {})


def test_sem_api_import_check_can_fail():
    """The rule flags an engine importing the facade (inside a function, or relatively)
    and lets the facade's own users and other modules of sem pass."""
    fake = [
        _planted("ckm_research.sem.fiml", "def f():\n    from ckm_research.sem.api import fit"),
        _planted("ckm_research.sem.wlsmv", "from .api import build_engine"),
        _planted("ckm_research.sem.ls", "import ckm_research.sem.api"),
        _planted("ckm_research.sem.growth", "from ckm_research.sem.api import fit_with_options"),
        _planted("ckm_research.sem.mlm", "from ckm_research.sem.engine import BaseEngine"),
        _planted("ckm_research.inference.power", "from ckm_research.sem.api import build_engine"),
    ]
    assert [b.split(":")[0] for b in _sem_api_imports(fake)] == [
        "ckm_research/sem/fiml.py",
        "ckm_research/sem/ls.py",
        "ckm_research/sem/wlsmv.py",
    ]


#: What sits above ``ckm_research.sem``: the latent-interaction methods (which fit their
#: models with the SEM engine) and the top-level ``ckm_research.fit`` that routes to them.
ABOVE_SEM = ("moderation", "fitting")


def _sem_imports_above(scan) -> list[str]:
    """Imports by ``ckm_research.sem`` modules (at module level or inside a function) of
    ``ckm_research.moderation`` or ``ckm_research.fitting``."""
    bad = []
    for module, path, _tree, imports, _aliases in scan:
        if _unit(module) != "sem":
            continue
        for target, name, lineno, _top in imports:
            there = _unit(target if _unit(target) else f"{target}.{name}")
            if there in ABOVE_SEM:
                bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: import {target}")
    return sorted(bad)


def test_sem_does_not_import_moderation():
    """(issue 10) Latent interactions are routed above ``sem``: ``ckm_research.fit``
    (:mod:`ckm_research.fitting`) sends ``X:Z`` models to ``ckm_research.moderation``; no
    module of ``ckm_research.sem`` imports ``moderation`` (or the router), not even
    lazily inside a function, so the engine has no cycle through the interaction methods."""
    bad = _sem_imports_above(SCAN)
    assert not bad, "ckm_research.sem imports what sits above it:\n" + "\n".join(bad)


def test_sem_moderation_check_can_fail():
    """The rule flags a planted function-level ``moderation`` import (absolute, relative,
    ``from ckm_research import moderation``, the router) in a sem module only."""
    fake = [
        _planted(
            "ckm_research.sem.api",
            "def f():\n    from ckm_research.moderation.dispatch import fit_with_interactions",
        ),
        _planted("ckm_research.sem.fiml", "def g():\n    from ..moderation import lms"),
        _planted("ckm_research.sem.ls", "from ckm_research import moderation"),
        _planted("ckm_research.sem.mlm", "def h():\n    import ckm_research.fitting"),
        _planted("ckm_research.sem.wlsmv", "from ckm_research.sem.ml import MLEngine"),
        _planted("ckm_research.inference.power", "from ckm_research.moderation import lms"),
    ]
    assert [b.split(":")[0] for b in _sem_imports_above(fake)] == [
        "ckm_research/sem/api.py",
        "ckm_research/sem/fiml.py",
        "ckm_research/sem/ls.py",
        "ckm_research/sem/mlm.py",
    ]


def _engine_parameters(tree: ast.AST) -> list[str]:
    """Public module-level functions with a parameter named ``engine``/``eng``."""
    return sorted(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not _private(node.name)
        and any(a.arg in ("engine", "eng") for a in node.args.args + node.args.kwonlyargs)
    )


def test_robust_is_functions_of_model_estimates_moments():
    """(issue 10) ``sem/robust.py``'s public functions take explicit inputs (the model,
    the estimates, the data and moments: ``MLInputs``; the information pieces), not a
    duck-typed engine; the engines call them (``MLEngine.sandwich_vcov``, ``robust_trace``)."""
    tree = next(tree for module, _p, tree, *_ in SCAN if module == "ckm_research.sem.robust")
    assert _engine_parameters(tree) == []
    planted = ast.parse("def mlr_vcov(engine):\n    pass\ndef _x(engine):\n    pass\n")
    assert _engine_parameters(planted) == ["mlr_vcov"]  # the rule can fail
