"""Lazy public names of a package (PEP 562), so ``import ckm_research`` stays cheap.

A package lists where each public name lives; the module is imported the first
time the name is looked up (``ckm_research.fit``, ``from ckm_research import
fit``), and the value is then cached in the package's namespace.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable


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
