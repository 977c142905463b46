"""Lazy public names of a package that share their name with a submodule
(``ckm_research.moderation.simple_slopes``): importing the submodule first must not
hide the function (it did: ``'module' object is not callable``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ckm_research import _lazy


def _collisions():
    """(package, name) of every lazy name defined in the module of the same name."""
    import importlib
    import pkgutil

    import ckm_research

    out = []
    for info in pkgutil.iter_modules(ckm_research.__path__, "ckm_research."):
        if not info.ispkg:
            continue
        pkg = importlib.import_module(info.name)
        lazy = getattr(pkg, "__lazy_names__", None)
        if lazy:
            out += [(info.name, n) for n, m in lazy.items() if m == f"{info.name}.{n}"]
    return out


def test_the_moderation_package_has_such_a_name():
    assert ("ckm_research.moderation", "simple_slopes") in _collisions()


@pytest.mark.parametrize(("package", "name"), _collisions())
def test_function_survives_importing_its_submodule_first(package, name):
    code = (
        f"import {package}.{name}\n"
        f"from {package} import {name}\n"
        f"assert callable({name}) and not hasattr({name}, '__path__'), {name}\n"
        f"import {package} as p\n"
        f"assert getattr(p, {name!r}) is {name}\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_other_attributes_are_set_as_usual():
    import types

    pkg = types.ModuleType("demo")
    pkg.__class__ = _lazy._LazyPackage
    mod = types.ModuleType("demo.other")
    pkg.other = mod  # a submodule without a lazy name of its own stays the module
    assert pkg.other is mod
