"""Checks on output paths, made before any work starts.

A command that runs for minutes and then cannot write its result wastes the
user's time; these checks run first and raise :class:`~ckm_research.errors.CkmError`
naming the option, the path and what to do (an existing file in the way, a
folder without write permission, a figure format that cannot be written).
Nothing is created by a check.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ckm_research.errors import CkmError

__all__ = ["check_output_file", "check_output_dir", "output_dir_problem", "figure_formats"]


def _first_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _create_problem(path: Path) -> str | None:
    """Why ``path`` (absent) cannot be created, or None."""
    base = _first_existing(path)
    if not base.is_dir():
        return f"cannot be created, because {base} is a file, not a folder"
    if not os.access(base, os.W_OK | os.X_OK):
        return f"cannot be created: no permission to write in the folder {base}"
    return None


def output_dir_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot serve as an output folder (a phrase), or None if it can."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            return "is a file, not a folder"
        if not os.access(path, os.W_OK | os.X_OK):
            return "is a folder without write permission"
        return None
    return _create_problem(path)


def check_output_file(
    path: str | os.PathLike, option: str, *, suffixes: Iterable[str] | None = None
) -> Path:
    """Check that ``path`` can be written as a file; create nothing.

    Parameters
    ----------
    path : path-like
        The output file.
    option : str
        How the user gave it (``"--json"``), for the message.
    suffixes : iterable of str, optional
        The accepted extensions, lower case without the dot (``["png", "pdf"]``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CkmError
        The path is an existing folder, lies under a file, is in a folder
        without write permission, or has an extension not in ``suffixes``.
    """
    path = Path(path)
    if suffixes is not None:
        allowed = sorted({s.lower().lstrip(".") for s in suffixes})
        ext = path.suffix.lower().lstrip(".")
        if ext not in allowed:
            got = f"'.{ext}'" if ext else "no extension"
            raise CkmError(
                f"{option} {path}: the file type is taken from the extension, and {got} is "
                f"not one that can be written; use one of: {', '.join('.' + a for a in allowed)}."
            )
    if path.is_dir():
        raise CkmError(f"{option} {path} is a folder; give a file name inside it.")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise CkmError(f"{option} {path}: no permission to overwrite this file.")
        return path
    why = _create_problem(path.parent)
    if why:
        raise CkmError(f"{option} {path} {why}; choose another path.")
    return path


def check_output_dir(path: str | os.PathLike, option: str) -> Path:
    """Check that ``path`` is, or can be created as, a writable folder; create nothing.

    Raises
    ------
    CkmError
        ``path`` is a file, lies under a file, or cannot be written to.
    """
    why = output_dir_problem(path)
    if why:
        raise CkmError(f"{option} {path} {why}; choose another path.")
    return Path(path)


def figure_formats() -> list[str]:
    """The file extensions matplotlib can save a figure as (``png``, ``pdf``, ``svg`` ...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())
