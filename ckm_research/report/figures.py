"""Figures of the report: one print-friendly style, PNG and SVG files.

:func:`use_report_style` sets a seaborn/matplotlib style meant for print
(Okabe-Ito "colorblind" palette, 9-10 pt text at the printed size, no top and
right spines, 200 dpi PNG); every figure is saved by :func:`save_figure` as
PNG (for HTML and Word) and SVG (for journals that take vector art). Figures
are built on :class:`matplotlib.figure.Figure` objects, never left open in
pyplot (STYLE: ``plt.close()`` figures).

The plots here draw what ``ckm_research`` computed; they compute nothing
themselves beyond rearranging numbers for the axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "use_report_style",
    "cjk_font",
    "localize",
    "moderation_labels",
    "indirect_labels",
    "mark_observed_range",
    "CJK_FONTS",
    "save_figure",
    "close",
    "plot_likert",
    "plot_loadings",
    "plot_htmt",
    "plot_power",
    "plot_power_heatmap",
    "FULL_WIDTH",
    "HALF_WIDTH",
]

#: Figure widths in inches (a journal page's text block and half of it).
FULL_WIDTH = 6.5
HALF_WIDTH = 3.25

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.6,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "figure.dpi": 100,
    "svg.fonttype": "path",
    "svg.hashsalt": "ckm-research",
    "font.family": "DejaVu Sans",
}


#: Fonts with Chinese characters, best first: WenQuanYi Micro Hei is Debian's small CJK font
#: (fonts-wqy-microhei, which ``make setup`` and ``.ci/run`` install), then Noto/Source Han
#: (fonts-noto-cjk), Droid Sans Fallback (fonts-droid-fallback) and the fonts of Windows and
#: macOS.
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
             "Source Han Sans SC", "Source Han Sans CN", "Droid Sans Fallback",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Arial Unicode MS")
#: Font file names that may hold one of :data:`CJK_FONTS` (found on the system when
#: matplotlib's font cache was made before the font was installed).
_CJK_FILES = ("wqy", "notosanscjk", "notosans-cjk", "notosanssc", "sourcehansans",
              "droidsansfallback", "msyh", "simhei", "pingfang", "arialuni")

#: The language of the figures (set by :func:`use_report_style`).
_STATE = {"language": "en"}


def cjk_font() -> str | None:
    """The family name of an installed font with Chinese characters (:data:`CJK_FONTS`,
    first found), or ``None``.

    Looks in matplotlib's font list (:data:`matplotlib.font_manager.fontManager`),
    after adding to it the CJK font files of the system
    (:func:`matplotlib.font_manager.findSystemFonts`) installed after that list was
    cached.
    """
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    cached = {Path(f.fname).name for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if Path(path).name in cached:
            continue
        stem = Path(path).name.lower().replace(" ", "").replace("_", "")
        if any(key in stem for key in _CJK_FILES):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file
                continue
    names = known()
    return next((family for family in CJK_FONTS if family in names), None)


def use_report_style(language: str | None = None) -> str:
    """The report's seaborn/matplotlib style (call once per notebook).

    Parameters
    ----------
    language : {"en", "zh"}, optional
        The language of the figures' labels (default: as set before, at first
        English). For ``"zh"`` the font family is the list DejaVu Sans, then a font
        with Chinese characters (:func:`cjk_font`), so that matplotlib takes each
        glyph DejaVu Sans lacks from the CJK font (font fallback, matplotlib 3.6+).

    Returns
    -------
    str
        ``""``, or for ``"zh"`` without a CJK font a warning for the report (the
        figures then keep their English labels: :func:`localize` changes nothing).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import seaborn as sns

    if language is not None:
        from ckm_research.report.i18n import check_language

        _STATE["language"] = check_language(language)
        _STATE.pop("cjk", None)
    rc = dict(_RC)
    warning = ""
    if _STATE["language"] == "zh":
        if "cjk" not in _STATE:
            _STATE["cjk"] = cjk_font()
        if _STATE["cjk"]:
            # a list of families: matplotlib takes each glyph from the first that has it
            # (a generic "sans-serif" would resolve to one font, without fallback)
            rc["font.family"] = ["DejaVu Sans", _STATE["cjk"]]
        else:
            from ckm_research.report.i18n import text

            warning = text("fig.no_cjk_font", "zh", fonts=", ".join(CJK_FONTS[:4]))
            import warnings

            if language is not None:  # once per notebook, not for every figure
                warnings.warn(text("fig.no_cjk_font", "en", fonts=", ".join(CJK_FONTS[:4])),
                              stacklevel=2)
    sns.set_theme(context="paper", style="ticks", palette="colorblind", rc=rc)
    return warning


def _figure_language() -> str:
    """The language the figures are labelled in: English when Chinese was asked for but
    no CJK font is installed (the report says so; never boxes for characters)."""
    if _STATE["language"] == "zh" and not _STATE.get("cjk"):
        return "en"
    return _STATE["language"]


#: Fixed English labels of the figures here -> their catalogue keys.
_FIXED = {
    "Share of answers (%), disagreement to the left of zero": "fig.likert.xlabel",
    "Standardized loading (95% CI)": "fig.loadings.xlabel",
    "Sample size": "fig.power.xlabel",
    "Power": "fig.power.cbar",
    "no observed scores": "fig.range.none",
    "interval excludes 0": "fig.cind.significant",
    "mean": "fig.cind.mean",
}


def localize(fig, replace: dict[str, str] | None = None):
    """Translate the labels of a finished figure into the report's language.

    Every text of ``fig`` (axis labels, legend entries and title, colour-bar
    label, annotations) that is one of the fixed English labels of this module,
    or a key of ``replace`` (English -> translated, see :func:`moderation_labels`),
    is replaced; the figure's numbers and layout are untouched. Does nothing in
    English, or in Chinese when no CJK font is installed.
    """
    from matplotlib.text import Text

    from ckm_research.report.i18n import text

    lang = _figure_language()
    if lang == "en":
        return fig
    table = {en: text(key, lang) for en, key in _FIXED.items()}
    table.update(replace or {})
    for artist in fig.findobj(Text):
        label = artist.get_text()
        if label in table:
            artist.set_text(table[label])
        elif label.startswith("JN bounds: ") and "JN bounds: " in table:
            artist.set_text(table["JN bounds: "] + label[len("JN bounds: "):])
    return fig


def moderation_labels(x: str, y: str, z: str, level: float, *, mean: float | None = None,
                      sd: float | None = None) -> dict[str, str]:
    """English -> translated labels of the simple-slopes and Johnson-Neyman figures of
    :mod:`ckm_research.moderation.simple_slopes` (for :func:`localize`), in the figures'
    language."""
    from ckm_research.report.i18n import text

    lang = _figure_language()
    pct = f"{int(round(100 * level))}%"
    out = {
        f"{x} (latent metric)": text("fig.slopes.xlabel", lang, x=x),
        f"Predicted {y} (centred)": text("fig.slopes.ylabel", lang, y=y),
        f"{pct} CI bands": text("fig.slopes.legend", lang, level=pct),
        f"{z} = -1 SD": f"{z} = " + text("slopes.at.low", lang),
        f"{z} = Mean": f"{z} = " + text("slopes.at.mean", lang),
        f"{z} = +1 SD": f"{z} = " + text("slopes.at.high", lang),
        "slope significant": text("fig.jn.significant", lang),
        f"simple slope of {x}": text("fig.jn.slope", lang, x=x),
        f"{pct} CI": text("fig.jn.ci", lang, level=pct),
        f"Slope of {x} on {y}": text("fig.jn.ylabel", lang, x=x, y=y),
        "JN bounds: ": text("fig.jn.bounds", lang, bounds=""),
    }
    if mean is not None and sd is not None:
        from ckm_research.moderation.simple_slopes import moderator_mean_sd_text

        m, s = moderator_mean_sd_text(mean, sd)
        out[f"{z} (latent metric; mean {m}, SD {s})"] = text("fig.jn.xlabel", lang, z=z,
                                                             mean=m, sd=s)
    return out


def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    use_report_style()  # in the language set before
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def save_figure(fig, folder: str | Path, name: str) -> dict[str, Path]:
    """Write ``<name>.png`` and ``<name>.svg`` (reproducible bytes: no dates)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, format="png", dpi=200, metadata={"Software": None})
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return {"png": png, "svg": svg}


def close(fig) -> None:
    """Release a figure (pyplot's, if it was made there)."""
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # noqa: BLE001 - a Figure not managed by pyplot needs nothing
        pass


def plot_likert(shares: pd.DataFrame, *, labels: dict | None = None, title: str = ""):
    """Diverging stacked bars of answer shares, one bar per construct.

    Parameters
    ----------
    shares : pandas.DataFrame
        Rows = constructs, columns = answer codes (ascending), values = share
        of answers (rows sum to 1).
    labels : dict, optional
        Answer code -> label for the legend.
    """
    codes = list(shares.columns)
    k = len(codes)
    import seaborn as sns

    colors = sns.color_palette("RdBu", k)
    fig = _new_figure(FULL_WIDTH, 0.28 * len(shares) + 1.3)
    ax = fig.subplots()
    mid = (k - 1) / 2
    # the neutral category (odd k) is split around zero
    left = -shares[[c for i, c in enumerate(codes) if i < mid]].sum(axis=1)
    if k % 2:
        left = left - shares[codes[int(mid)]] / 2
    y = np.arange(len(shares))[::-1]
    for i, code in enumerate(codes):
        width = shares[code].to_numpy()
        ax.barh(y, width * 100, left=left.to_numpy() * 100, color=colors[i], height=0.7,
                label=(labels or {}).get(code, str(code)), edgecolor="white", linewidth=0.3)
        left = left + shares[code]
    ax.set_yticks(y, list(shares.index))
    ax.axvline(0, color="0.2", lw=0.8)
    ax.set_xlabel("Share of answers (%), disagreement to the left of zero")
    ax.set_xlim(-100, 100)
    ax.set_xticks([-100, -50, 0, 50, 100], ["100", "50", "0", "50", "100"])
    if title:
        ax.set_title(title)
    ax.legend(ncol=min(k, 4), loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.1 / len(shares)),
              frameon=False)
    return fig


def plot_loadings(loadings: pd.DataFrame, *, threshold: float = 0.708, title: str = ""):
    """Standardized loadings with their confidence intervals, by factor.

    ``loadings`` has columns ``factor item std ci.lower ci.upper`` (the CI
    columns optional).
    """
    frame = loadings.reset_index(drop=True)
    fig = _new_figure(FULL_WIDTH, 0.13 * len(frame) + 1.0)
    ax = fig.subplots()
    y = np.arange(len(frame))[::-1]
    import seaborn as sns

    factors = list(dict.fromkeys(frame["factor"]))
    palette = dict(zip(factors, sns.color_palette("colorblind", len(factors)) * 2, strict=False))
    colors = [palette[f] for f in frame["factor"]]
    if {"ci.lower", "ci.upper"} <= set(frame.columns):
        lo = frame["std"] - frame["ci.lower"]
        hi = frame["ci.upper"] - frame["std"]
        ax.errorbar(frame["std"], y, xerr=[lo.to_numpy(), hi.to_numpy()], fmt="none",
                    ecolor="0.55", elinewidth=0.8, capsize=0)
    ax.scatter(frame["std"], y, c=colors, s=14, zorder=3)
    ax.axvline(threshold, color="0.3", ls="--", lw=0.8)
    ax.text(threshold, y.max() + 1.2, f"{threshold:.3f}".lstrip("0"), ha="center",
            fontsize=7, color="0.3")
    ax.set_yticks(y, [f"{f}: {i}" for f, i in zip(frame["factor"], frame["item"], strict=True)],
                  fontsize=6.5)
    ax.set_xlim(max(0.0, min(0.3, float(frame["std"].min()) - 0.1)), 1.0)
    ax.set_ylim(-1, len(frame) + 1.5)
    ax.set_xlabel("Standardized loading (95% CI)")
    if title:
        ax.set_title(title)
    return fig


def plot_htmt(matrix: pd.DataFrame, *, threshold: float = 0.85, title: str = ""):
    """Lower-triangle heat map of HTMT ratios, cells above ``threshold`` outlined."""
    import seaborn as sns

    m = matrix.astype(float)
    mask = np.triu(np.ones_like(m, dtype=bool))
    n = len(m)
    fig = _new_figure(min(FULL_WIDTH, 0.42 * n + 1.6), min(FULL_WIDTH, 0.36 * n + 1.2))
    ax = fig.subplots()
    sns.heatmap(m, mask=mask, vmin=0, vmax=1, cmap="Blues", annot=True, fmt=".2f",
                annot_kws={"fontsize": 6.5}, linewidths=0.4, linecolor="white", square=True,
                cbar_kws={"label": "HTMT", "shrink": 0.7}, ax=ax)
    for i in range(n):
        for j in range(i):
            if m.iat[i, j] >= threshold:
                ax.add_patch(_rect(j, i))
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="both", length=0)
    if title:
        ax.set_title(title)
    return fig


def _rect(x, y):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 1, 1, fill=False, edgecolor="#d55e00", lw=1.6)


def plot_power(curve: pd.DataFrame, *, target: float = 0.80, title: str = ""):
    """Power against sample size, one line per effect (``effect n power`` columns)."""
    import seaborn as sns

    fig = _new_figure(FULL_WIDTH * 0.75, 3.2)
    ax = fig.subplots()
    sns.lineplot(data=curve, x="n", y="power", hue="effect", marker="o", ax=ax)
    ax.axhline(target, color="0.3", ls="--", lw=0.8)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Sample size (N)")
    ax.set_ylabel("Power")
    ax.legend(frameon=False, title=None, fontsize=7)
    if title:
        ax.set_title(title)
    return fig


def plot_power_heatmap(power: pd.DataFrame, *, target: float = 0.80, title: str = ""):
    """Power of each parameter (rows) at each sample size (columns), annotated;
    cells reaching ``target`` in bold."""
    import seaborn as sns

    fig = _new_figure(FULL_WIDTH * 0.8, 0.2 * len(power) + 1.2)
    ax = fig.subplots()
    sns.heatmap(power.astype(float), vmin=0, vmax=1, cmap="Greens", annot=True, fmt=".2f",
                annot_kws={"fontsize": 6.5}, linewidths=0.4, linecolor="white",
                cbar_kws={"label": "Power", "shrink": 0.6}, ax=ax)
    for text, value in zip(ax.texts, power.to_numpy(dtype=float).ravel(), strict=False):
        if value >= target:
            text.set_fontweight("bold")
    ax.set_xlabel("Sample size")
    ax.set_ylabel("")
    ax.tick_params(axis="both", length=0, labelsize=7)
    if title:
        ax.set_title(title)
    return fig


def indirect_labels(x: str, m: str, y: str, level: float) -> dict[str, str]:
    """English -> translated labels of :func:`ckm_research.moderation.mediation.
    plot_conditional_indirect` (for :func:`localize`), in the figures' language."""
    from ckm_research.report.i18n import text

    lang = _figure_language()
    pct = f"{int(round(100 * level))}%"
    out = {f"indirect effect of {x} via {m}": text("fig.cind.line", lang, x=x, m=m),
           f"Indirect effect {x} → {m} → {y}": text("fig.cind.ylabel", lang, x=x, m=m, y=y)}
    for band in ("delta method", "percentile", "BCa"):
        key = {"delta method": "delta", "percentile": "perc", "BCa": "bca"}[band]
        out[f"{pct} CI ({band})"] = text("fig.cind.ci", lang, level=pct,
                                         band=text(f"fig.cind.band.{key}", lang))
    return out


def mark_observed_range(fig, scores) -> None:
    """Mark where data exist on the x axis of a moderation figure: grey beyond the
    lowest and highest observed ``scores`` (the respondents' scores of the variable
    on that axis) and a rug of the scores at the bottom. The axis range is kept."""
    ax = fig.axes[0]
    v = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return
    lo, hi = float(v.min()), float(v.max())
    xlo, xhi = ax.get_xlim()
    label = "no observed scores"
    if xlo < lo:
        ax.axvspan(xlo, lo, color="0.55", alpha=0.25, lw=0, label=label, zorder=0)
        label = None
    if hi < xhi:
        ax.axvspan(hi, xhi, color="0.55", alpha=0.25, lw=0, label=label, zorder=0)
    ax.plot(v, np.full_like(v, 0.012), "|", color="0.25", ms=5, alpha=0.35,
            transform=ax.get_xaxis_transform(), zorder=1)
    ax.set_xlim(xlo, xhi)
    handles, labels = ax.get_legend_handles_labels()
    old = ax.get_legend()
    title = old.get_title().get_text() if old is not None else None
    ax.legend(handles, labels, frameon=False, fontsize="small", title=title or None)
