"""Path diagram of a structural model with standardized estimates (graphviz).

Latent variables are ellipses (observed variables boxes), arrows carry the
standardized coefficient with significance stars, and non-significant paths
are dashed and grey. Endogenous variables show their R-squared. The layout is
left to right; when the roles of the variables are known (from the
instrument: ``condition``, ``mediator``, ``outcome``, ``moderator``), the
conditions form the first column and the moderators share the mediator's
column, as in the paper's model. The measurement part is left out for
legibility (the measurement table reports it).

Rendering needs Graphviz's ``dot`` program (Debian: ``apt-get install
graphviz``; conda: ``graphviz``); :func:`dot_available` says whether it is
there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.report.tables import format_value

__all__ = ["path_diagram", "render_diagram", "dot_available", "stars"]


def stars(p: float | None) -> str:
    """``***`` p < .001, ``**`` p < .01, ``*`` p < .05."""
    if p is None or pd.isna(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def dot_available() -> tuple[bool, str]:
    """Whether Graphviz's ``dot`` runs here, with its version or the reason not."""
    exe = shutil.which("dot")
    if exe is None:
        return False, ("Graphviz's 'dot' program is not installed (Debian/Ubuntu: apt-get install "
                       "graphviz; conda: conda install -c conda-forge graphviz)")
    try:
        proc = subprocess.run([exe, "-V"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"Graphviz's 'dot' could not run: {exc}"
    return True, (proc.stderr or proc.stdout).strip()


def path_diagram(paths: pd.DataFrame, *, r2: dict[str, float] | None = None,
                 latent: set[str] | None = None, roles: dict[str, str] | None = None,
                 alpha: float = 0.05):
    """A graphviz ``Digraph`` of the structural paths.

    Parameters
    ----------
    paths : pandas.DataFrame
        Columns ``outcome predictor std pvalue`` (one row per regression path).
    r2 : dict, optional
        R-squared of endogenous variables.
    latent : set of str, optional
        Latent variables (drawn as ellipses); others are boxes.
    roles : dict, optional
        Variable -> role, for the column layout.
    alpha : float
        Paths with ``pvalue >= alpha`` are dashed.
    """
    import graphviz

    r2 = r2 or {}
    latent = latent or set()
    roles = roles or {}
    g = graphviz.Digraph("paths", format="png")
    g.attr(rankdir="LR", nodesep="0.25", ranksep="1.1", splines="spline", fontname="DejaVu Sans",
           bgcolor="white", pad="0.2")
    g.attr("node", fontname="DejaVu Sans", fontsize="12", penwidth="1.2")
    g.attr("edge", fontname="DejaVu Sans", fontsize="10", arrowsize="0.7")
    nodes = list(dict.fromkeys(list(paths["predictor"]) + list(paths["outcome"])))
    for name in nodes:
        label = name
        if name in r2 and r2[name] is not None:
            label = f"{name}\nR² = {format_value(r2[name], 'r2')}"
        shape = "ellipse" if name in latent else "box"
        g.node(name, label=label, shape=shape)
    by_role: dict[str, list[str]] = {}
    for name in nodes:
        by_role.setdefault(roles.get(name, ""), []).append(name)
    if by_role.get("condition"):
        with g.subgraph() as s:
            s.attr(rank="min")
            for n in by_role["condition"]:
                s.node(n)
    if by_role.get("moderator") and by_role.get("mediator"):
        with g.subgraph() as s:
            s.attr(rank="same")
            for n in by_role["mediator"] + by_role["moderator"]:
                s.node(n)
    for rec in paths.itertuples(index=False):
        p = rec.pvalue
        significant = p is not None and not pd.isna(p) and p < alpha
        label = f"{format_value(rec.std, 'r2')}{stars(p)}"
        g.edge(rec.predictor, rec.outcome, label=label,
               style="solid" if significant else "dashed",
               color="black" if significant else "gray55",
               fontcolor="black" if significant else "gray40",
               penwidth="1.4" if significant else "1.0")
    return g


def render_diagram(graph, folder: str | Path, name: str) -> dict[str, Path]:
    """Render a ``Digraph`` to ``<name>.png`` (200 dpi) and ``<name>.svg``."""
    ok, why = dot_available()
    if not ok:
        raise CkmError(why)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in ("png", "svg"):
        target = folder / f"{name}.{fmt}"
        args = ["dot", f"-T{fmt}"] + (["-Gdpi=200"] if fmt == "png" else [])
        proc = subprocess.run(args, input=graph.source.encode("utf-8"), capture_output=True,
                              timeout=120, check=False)
        if proc.returncode != 0:
            raise CkmError(f"Graphviz failed to draw {name}.{fmt}: "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
        target.write_bytes(proc.stdout)
        out[fmt] = target
    (folder / f"{name}.gv").write_text(graph.source, encoding="utf-8")
    return out
