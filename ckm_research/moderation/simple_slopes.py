"""Probing a latent interaction: simple slopes and the Johnson-Neyman interval.

For a structural equation :math:`Y = \\gamma_1 X + \\gamma_2 Z + \\gamma_3 XZ
+ \\zeta` the *simple slope* of the focal predictor :math:`X` at a value
:math:`z` of the moderator is :math:`\\omega(z) = \\gamma_1 + \\gamma_3 z`,
with delta-method variance

.. math::

    \\operatorname{Var}\\hat\\omega(z) = v_{11} + 2 z\\, v_{13} + z^2 v_{33},

:math:`v` the sampling covariance matrix of :math:`(\\hat\\gamma_1,
\\hat\\gamma_3)` (Aiken & West, 1991, ch. 2; Preacher, Curran & Bauer,
2006, *J. Educ. Behav. Stat.* 31(4), 437-448).  The moderator values
are treated as fixed numbers: by default the model-implied mean and that
mean :math:`\\pm 1` model-implied SD of the latent moderator.

The *Johnson-Neyman* (JN) interval (Johnson & Neyman, 1936; Bauer & Curran,
2005, *Multivariate Behav. Res.* 40(3), 373-400) is the set of
moderator values where :math:`|\\hat\\omega(z)| / \\operatorname{se} =
c_{1-\\alpha/2}`, the roots of

.. math::

    (\\hat\\gamma_3^2 - c^2 v_{33}) z^2 + 2(\\hat\\gamma_1\\hat\\gamma_3 - c^2
    v_{13}) z + (\\hat\\gamma_1^2 - c^2 v_{11}) = 0,

with :math:`c` the standard normal quantile (large-sample ML inference).
The plots follow McCabe, Kim & King (2018, *Adv. Methods Pract. Psychol.
Sci.* 1(2), 147-165): lines with confidence bands, and the JN plot of the
slope against the moderator with the region of significance shaded.

In R: ``modsem::simple_slopes()`` and ``modsem::plot_jn()``;
``semTools::probe2WayMC()`` for product-indicator fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckm_research.errors import CkmError
from ckm_research.numerics import normal_quantile, wald_table

__all__ = [
    "simple_slopes",
    "johnson_neyman",
    "JohnsonNeyman",
    "interaction_terms",
    "plot_simple_slopes",
    "plot_johnson_neyman",
]


# ----------------------------------------------------------------- accessors
def _free_index(results) -> np.ndarray:
    """Free-parameter index (1-based, 0 = fixed) of every estimates row."""
    eng = results.engine
    if eng is None:
        raise CkmError("these results carry no fitted model; refit them in this session")
    if hasattr(eng, "row_free_index"):
        return np.asarray(eng.row_free_index, dtype=int)
    free = eng.pt.table["free"].to_numpy(dtype=int)
    out = np.zeros(len(results.estimates), dtype=int)
    out[: len(free)] = free
    return out


def interaction_terms(results) -> list[tuple[str, str]]:
    """``(lhs, term)`` of every latent product term of a fit (``("Y", "X:Z")``)."""
    est = results.estimates
    rows = est[(est["op"] == "~") & est["rhs"].str.contains(":", regex=False)]
    return list(zip(rows["lhs"], rows["rhs"], strict=True))


def _find(results, y: str, x: str, moderator: str):
    est = results.estimates
    if x == moderator:
        raise CkmError("the focal predictor and the moderator must differ")
    reg = est[(est["op"] == "~") & (est["lhs"] == y)]
    if "group" in est.columns and est["group"].nunique() > 1:
        raise CkmError("simple slopes of multiple-group fits are not supported; fit each group")
    terms = {f"{x}:{moderator}", f"{moderator}:{x}"}
    pos_int = reg.index[reg["rhs"].isin(terms)]
    if len(pos_int) != 1:
        have = ", ".join(f"{a} ~ {b}" for a, b in interaction_terms(results)) or "none"
        raise CkmError(
            f"the fit has no product term of {x} and {moderator} in the equation of {y} "
            f"(product terms: {have})"
        )
    pos_x = reg.index[reg["rhs"] == x]
    pos_z = reg.index[reg["rhs"] == moderator]
    return (
        int(pos_x[0]) if len(pos_x) else None,
        int(pos_z[0]) if len(pos_z) else None,
        int(pos_int[0]),
    )


def _coef_and_vcov(results, rows: list[int | None]):
    """Estimates and sampling covariance of the given estimates rows (None = 0)."""
    est = results.estimates["est"].to_numpy(dtype=float)
    free = _free_index(results)
    vc = np.asarray(results.vcov, dtype=float)
    b = np.array([0.0 if r is None else est[r] for r in rows])
    idx = [0 if r is None else free[r] for r in rows]
    V = np.zeros((len(rows), len(rows)))
    for a, ia in enumerate(idx):
        for c, ic in enumerate(idx):
            if ia > 0 and ic > 0:
                V[a, c] = vc[ia - 1, ic - 1]
    return b, V


def _latent_moments(results, name: str) -> tuple[float, float]:
    """Model-implied mean and SD of a variable (latent or observed)."""
    eng = results.engine
    if hasattr(eng, "implied_latent"):  # LMS: integrated over the moderators
        mean, cov = eng.implied_latent(results.theta)
        variables = list(eng.model.variables)
    else:
        cov, mean = eng.model.implied(results.theta, 0, full=True)
        variables = list(eng.model.variables)
    if name not in variables:
        raise CkmError(f"'{name}' is not a variable of the model")
    i = variables.index(name)
    return float(mean[i]), float(np.sqrt(max(cov[i, i], 0.0)))


def _moderator_values(results, moderator, at):
    mean, sd = _latent_moments(results, moderator)
    if at is None:
        return np.array([mean - sd, mean, mean + sd]), ["-1 SD", "Mean", "+1 SD"], mean, sd
    vals = np.atleast_1d(np.asarray(at, dtype=float))
    return vals, [f"{v:g}" for v in vals], mean, sd


# ------------------------------------------------------------------- slopes
def simple_slopes(results, y: str, x: str, moderator: str, *, at=None, level: float = 0.95):
    """Simple slopes of ``x`` on ``y`` at values of ``moderator``.

    Parameters
    ----------
    results : SEMResults
        A fit with a product term of ``x`` and ``moderator`` in the equation
        of ``y`` (``interaction="dblcent"``, ``"lms"`` or ``"qml"``).
    y, x, moderator : str
        Outcome, focal predictor, moderator.
    at : sequence of float, optional
        Moderator values (in its latent metric); default: model-implied mean
        and mean +/- 1 SD.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``moderator_value label slope se z pvalue ci.lower ci.upper``.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> one_int = load_dataset("oneInt")
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> from ckm_research.moderation.product_indicators import fit_dblcent
    >>> res = fit_dblcent(model, one_int)
    >>> simple_slopes(res, "Y", "X", "Z")[["label", "slope", "se", "pvalue"]].round(3)
       label  slope     se  pvalue
    0  -1 SD -0.069  0.072   0.336
    1   Mean  0.611  0.054   0.000
    2  +1 SD  1.291  0.080   0.000

    In R: ``modsem::simple_slopes(x = "X", z = "Z", y = "Y", model = fit)``.
    """
    if not (isinstance(level, float) and 0 < level < 1):
        raise CkmError(
            f"The 'level' parameter of simple_slopes must be a float in the range (0, 1). "
            f"Got {level!r} instead."
        )
    px, _, pint = _find(results, y, x, moderator)
    b, V = _coef_and_vcov(results, [px, pint])
    zs, labels, _, _ = _moderator_values(results, moderator, at)
    slope = b[0] + b[1] * zs
    se = np.sqrt(np.clip(V[0, 0] + 2 * zs * V[0, 1] + zs**2 * V[1, 1], 0, None))
    return pd.DataFrame(
        {
            "moderator_value": zs,
            "label": labels,
            "slope": slope,
            "se": se,
            **wald_table(slope, se, level, se_min=None),
        }
    )


@dataclass
class JohnsonNeyman:
    """The Johnson-Neyman interval of a simple slope.

    Attributes
    ----------
    bounds : tuple of float
        The moderator values where the slope is just significant (0, 1 or 2
        of them, sorted).
    significant_inside : bool
        True if the slope is significant *between* the two bounds, False if
        outside them (or, with no bounds, see ``always_significant``).
    always_significant, never_significant : bool
        With no real bounds: significant at every, or at no, moderator value.
    mean, sd : float
        Model-implied mean and SD of the moderator.
    level : float
    gamma_x, gamma_xz : float
        The two coefficients; ``vcov`` their 2 x 2 covariance matrix.
    """

    bounds: tuple[float, ...]
    significant_inside: bool
    always_significant: bool
    never_significant: bool
    mean: float
    sd: float
    level: float
    gamma_x: float
    gamma_xz: float
    vcov: np.ndarray

    def is_significant(self, z) -> np.ndarray:
        """Whether the slope is significant at moderator value(s) ``z``."""
        z = np.asarray(z, dtype=float)
        c = normal_quantile(self.level)
        slope = self.gamma_x + self.gamma_xz * z
        var = self.vcov[0, 0] + 2 * z * self.vcov[0, 1] + z**2 * self.vcov[1, 1]
        return slope**2 > c**2 * var

    def describe(self) -> str:
        """One sentence for a report."""
        pct = f"{100 * self.level:g}%"
        if self.always_significant:
            return f"The simple slope is significant ({pct} level) at every moderator value."
        if self.never_significant:
            return f"The simple slope is not significant ({pct} level) at any moderator value."
        b = ", ".join(f"{v:.3f} ({(v - self.mean) / self.sd:+.2f} SD)" for v in self.bounds)
        where = "between" if self.significant_inside else "outside"
        if len(self.bounds) == 1:
            where = "on one side of"
        return f"The simple slope is significant ({pct} level) {where} moderator value(s) {b}."


def johnson_neyman(results, y: str, x: str, moderator: str, *, level: float = 0.95):
    """Johnson-Neyman interval of the simple slope of ``x`` across ``moderator``.

    Parameters
    ----------
    results : SEMResults
    y, x, moderator : str
    level : float

    Returns
    -------
    JohnsonNeyman

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> one_int = load_dataset("oneInt")
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> from ckm_research.moderation.product_indicators import fit_dblcent
    >>> res = fit_dblcent(model, one_int)
    >>> jn = johnson_neyman(res, "Y", "X", "Z")
    >>> [round(b, 3) for b in jn.bounds]
    [-1.092, -0.699]
    >>> print(jn.describe())
    The simple slope is significant (95% level) outside moderator value(s)
    -1.092 (-1.12 SD), -0.699 (-0.72 SD).

    In R: ``modsem::plot_jn(x = "X", z = "Z", y = "Y", model = fit)``.
    """
    if not (isinstance(level, float) and 0 < level < 1):
        raise CkmError(
            f"The 'level' parameter of johnson_neyman must be a float in the range (0, 1). "
            f"Got {level!r} instead."
        )
    px, _, pint = _find(results, y, x, moderator)
    (g1, g3), V = _coef_and_vcov(results, [px, pint])
    mean, sd = _latent_moments(results, moderator)
    c2 = normal_quantile(level) ** 2
    a = g3**2 - c2 * V[1, 1]
    b = 2 * (g1 * g3 - c2 * V[0, 1])
    c0 = g1**2 - c2 * V[0, 0]
    always = never = False
    inside = False
    if abs(a) < 1e-14 * max(1.0, g3**2):
        bounds = (-c0 / b,) if b != 0 else ()
        if not bounds:
            always, never = c0 > 0, c0 <= 0
    else:
        disc = b * b - 4 * a * c0
        if disc < 0:
            bounds = ()
            always, never = a > 0, a < 0
        else:
            r = np.sqrt(disc)
            bounds = tuple(sorted(((-b - r) / (2 * a), (-b + r) / (2 * a))))
            inside = a < 0
    return JohnsonNeyman(
        bounds=tuple(float(v) for v in bounds),
        significant_inside=bool(inside),
        always_significant=bool(always),
        never_significant=bool(never),
        mean=mean,
        sd=sd,
        level=level,
        gamma_x=float(g1),
        gamma_xz=float(g3),
        vcov=V,
    )


# -------------------------------------------------------------------- plots
def _figure(figsize):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def plot_simple_slopes(
    results,
    y: str,
    x: str,
    moderator: str,
    *,
    at=None,
    level: float = 0.95,
    x_range: float = 2.0,
    ax=None,
    figsize=(5.5, 4.0),
):
    """Predicted ``y`` against ``x`` at moderator values, with confidence bands.

    The lines are :math:`E(Y \\mid X = x, Z = z) - E(Y) = \\gamma_1 x +
    \\gamma_2 z + \\gamma_3 x z` (latent variables centred at their means),
    over ``x_range`` model-implied SDs of ``x``; the bands are delta-method
    intervals of the line (McCabe et al., 2018).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: save it with ``fig.savefig("slopes.png")``
        (or ``.svg``).
    """
    px, pz, pint = _find(results, y, x, moderator)
    b, V = _coef_and_vcov(results, [px, pz, pint])
    zs, labels, zmean, _ = _moderator_values(results, moderator, at)
    xmean, xsd = _latent_moments(results, x)
    q = normal_quantile(level)
    xs = np.linspace(xmean - x_range * xsd, xmean + x_range * xsd, 101)
    if ax is None:
        fig, ax = _figure(figsize)
    else:
        fig = ax.figure
    colors = ["#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e"]
    for i, (zv, lab) in enumerate(zip(zs, labels, strict=True)):
        xc, zc = xs - xmean, zv - zmean
        G = np.column_stack([xc, np.full_like(xc, zc), xc * zc])
        pred = G @ b
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", G, V, G), 0, None))
        col = colors[i % len(colors)]
        ax.plot(xs, pred, color=col, lw=2, label=f"{moderator} = {lab}")
        ax.fill_between(xs, pred - q * se, pred + q * se, color=col, alpha=0.18, lw=0)
    ax.set_xlabel(f"{x} (latent metric)")
    ax.set_ylabel(f"Predicted {y} (centred)")
    ax.set_title(f"Simple slopes of {x} on {y} by {moderator}")
    ax.legend(frameon=False, title=f"{int(round(100 * level))}% CI bands", fontsize="small")
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    return fig


def plot_johnson_neyman(
    results,
    y: str,
    x: str,
    moderator: str,
    *,
    level: float = 0.95,
    z_range: float = 3.0,
    ax=None,
    figsize=(5.5, 4.0),
):
    """Simple slope of ``x`` against ``moderator`` with its confidence band and
    the Johnson-Neyman region of significance shaded (Bauer & Curran, 2005;
    McCabe et al., 2018).

    Returns
    -------
    matplotlib.figure.Figure
    """
    jn = johnson_neyman(results, y, x, moderator, level=level)
    zs = np.linspace(jn.mean - z_range * jn.sd, jn.mean + z_range * jn.sd, 401)
    V = jn.vcov
    slope = jn.gamma_x + jn.gamma_xz * zs
    se = np.sqrt(np.clip(V[0, 0] + 2 * zs * V[0, 1] + zs**2 * V[1, 1], 0, None))
    q = normal_quantile(level)
    if ax is None:
        fig, ax = _figure(figsize)
    else:
        fig = ax.figure
    sig = jn.is_significant(zs)
    ax.fill_between(
        zs,
        0,
        1,
        where=sig,
        transform=ax.get_xaxis_transform(),
        color="#7570b3",
        alpha=0.12,
        lw=0,
        label="slope significant",
    )
    ax.plot(zs, slope, color="#1b9e77", lw=2, label=f"simple slope of {x}")
    ax.fill_between(
        zs, slope - q * se, slope + q * se, color="#1b9e77", alpha=0.2, lw=0,
        label=f"{int(round(100 * level))}% CI",
    )  # fmt: skip
    ax.axhline(0, color="0.3", lw=0.8)
    shown = [b for b in jn.bounds if zs[0] <= b <= zs[-1]]
    for bnd in shown:
        ax.axvline(bnd, color="#d95f02", ls="--", lw=1.2)
    if shown:
        ax.text(
            0.98, 0.03, "JN bounds: " + ", ".join(f"{b:.2f}" for b in shown),
            transform=ax.transAxes, ha="right", va="bottom", color="#d95f02", fontsize="small",
        )  # fmt: skip
    mean, sd = moderator_mean_sd_text(jn.mean, jn.sd)
    ax.set_xlabel(f"{moderator} (latent metric; mean {mean}, SD {sd})")
    ax.set_ylabel(f"Slope of {x} on {y}")
    ax.set_title("Johnson-Neyman plot")
    ax.legend(frameon=False, fontsize="small")
    return fig


def moderator_mean_sd_text(mean: float, sd: float) -> tuple[str, str]:
    """The moderator's mean and SD as the Johnson-Neyman figure's axis prints them
    (two decimals; a mean of -0.004 is "0.00", not "-0.00"); the report's
    translated labels are matched on the same text."""
    return f"{round(mean, 2) + 0.0:.2f}", f"{sd:.2f}"
