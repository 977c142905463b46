"""Lazy public names of a package (PEP 562), so ``import ckm_research`` stays cheap.

A package lists where each public name lives; the module is imported the first
time the name is looked up (``ckm_research.fit``, ``from ckm_research import
fit``), and the value is then cached in the package's namespace.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable


class _LazyPackage(types.ModuleType):
    """A package whose lazy public name may share its name with a submodule
    (``ckm_research.moderation.simple_slopes``, the function, in the module of the
    same name).

    Importing the submodule makes Python set it as the package's attribute, which
    would hide the function (``from ckm_research.moderation import simple_slopes``
    then gives the module).  Here the function takes that place instead, as an
    eager ``from .simple_slopes import simple_slopes`` in ``__init__`` would.
    """

    def __setattr__(self, name: str, value: object) -> None:
        lazy = self.__dict__.get("__lazy_names__", {})
        if (
            isinstance(value, types.ModuleType)
            and lazy.get(name) == value.__name__
            and value.__name__ == f"{self.__name__}.{name}"
            and hasattr(value, name)
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy_names(
    package: str, namespace: dict, names: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of a package with lazy names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    namespace : dict
        The package's ``globals()``; a name is cached there once imported.
    names : dict
        Public name -> module (absolute) that defines it under the same name.

    Returns
    -------
    (__getattr__, __dir__)
        Module-level functions as PEP 562 describes them.
    """

    module_obj = sys.modules.get(package)
    if module_obj is not None and any(m == f"{package}.{n}" for n, m in names.items()):
        namespace["__lazy_names__"] = dict(names)
        module_obj.__class__ = _LazyPackage

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__


def names_from(module: str, names: Iterable[str]) -> dict[str, str]:
    """``{name: module}`` for several names defined in one module."""
    return dict.fromkeys(names, module)
