"""Latent interactions by double-mean-centred product indicators ("dblcent").

A latent product term ``Y ~ X + Z + X:Z`` is estimated by a linear SEM in
which the product ``X:Z`` is a latent factor ``X.Z`` measured by products of
the indicators of ``X`` and ``Z`` (Kenny & Judd, 1984).  The "double mean
centring" strategy of Lin, Wen, Marsh & Lin (2010, *Structural Equation
Modeling* 17(3), 374-391, doi:10.1080/10705511.2010.488999) builds them as

.. math::

    (xz)_{jk} = (x_j - \\bar x_j)(z_k - \\bar z_k)
                - \\overline{(x_j - \\bar x_j)(z_k - \\bar z_k)},

i.e. the indicators are mean-centred, multiplied, and the products
mean-centred again, so that no mean structure is needed.  Following modsem's
default (``method = "dblcent"`` of the R package modsem, Slupphaug et al.) we use
*all* pairs of indicators (``match = FALSE``) and free the residual
covariance of every two product indicators that share an indicator, also
across different product terms (modsem's ``res.cov.method = "simple"``,
``res.cov.across = TRUE``; Marsh, Wen & Hau, 2004).  The product data are
those of semTools' ``indProd(data, var1, var2, match = FALSE, meanC = TRUE,
residualC = FALSE, doubleMC = TRUE)`` and the product factor and its
indicators are named as semTools names them (``X.Z``, ``x1.z1``).  The model
is then fitted by :func:`ckm_research.fit` like any other; the row of the
interaction effect is reported as ``lhs = Y, op = "~", rhs = "X:Z"``.

In R::

    dat <- semTools::indProd(dat, var1 = c("x1", "x2", "x3"),
                             var2 = c("z1", "z2", "z3"), match = FALSE,
                             meanC = TRUE, residualC = FALSE, doubleMC = TRUE)
    lavaan::sem(model_with_product_factor, dat)
    # or: modsem::modsem(model, dat, method = "dblcent")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations

import pandas as pd

from ckm_research.errors import ModelSpecificationError
from ckm_research.sem.syntax import ParsedModel, parse_model

__all__ = [
    "ProductTerm",
    "ProductIndicatorModel",
    "double_mean_centered_products",
    "product_indicator_model",
    "fit_dblcent",
    "product_terms",
]

_NAME = r"(?:[^\W\d]|\.)[\w.]*"  # as syntax._NAME_RE: letters of any alphabet
_PRODUCT_RE = re.compile(rf"(?<![\w.])({_NAME}):({_NAME})(?![\w.])")
RES_COV_METHODS = ("simple", "none")


@dataclass(frozen=True)
class ProductTerm:
    """One latent product term ``left:right`` and its product indicators.

    Attributes
    ----------
    term : str
        The term as written, e.g. ``"X:Z"``.
    left, right : str
        The two variables (latent factors or observed variables).
    factor : str
        Name of the product factor in the rewritten model (``"X.Z"``).
    left_indicators, right_indicators : tuple of str
        Indicators of ``left`` and ``right`` (an observed variable is its own
        single indicator).
    products : tuple of str
        Product indicator names (``"x1.z1"``, ...), left indicator varying
        slowest, as semTools orders them.
    members : dict
        Product indicator -> the two indicators it multiplies.
    """

    term: str
    left: str
    right: str
    factor: str
    left_indicators: tuple[str, ...]
    right_indicators: tuple[str, ...]
    products: tuple[str, ...]
    members: dict = field(default_factory=dict, compare=False)


@dataclass
class ProductIndicatorModel:
    """A product-indicator specification ready to be fitted.

    Attributes
    ----------
    syntax : str
        lavaan syntax with product factors (``X.Z =~ x1.z1 + ...``) and the
        residual covariances of product indicators that share an indicator.
    data : pandas.DataFrame
        The input data plus the double-mean-centred product columns.
    terms : tuple of ProductTerm
    residual_covariances : tuple of (str, str)
    """

    syntax: str
    data: pd.DataFrame
    terms: tuple[ProductTerm, ...]
    residual_covariances: tuple[tuple[str, str], ...]

    def term_for_factor(self) -> dict[str, str]:
        """Product factor name -> product term (``{"X.Z": "X:Z"}``)."""
        return {t.factor: t.term for t in self.terms}


def _indicators(parsed: ParsedModel, name: str) -> tuple[str, ...]:
    lv = {s.lhs for s in parsed.statements if s.op == "=~"}
    if name not in lv:
        return (name,)  # an observed variable: its own single indicator
    inds = []
    for s in parsed.statements:
        if s.op == "=~" and s.lhs == name and s.rhs not in inds:
            if s.rhs in lv:
                raise ModelSpecificationError(
                    f"the product term needs the indicators of '{name}', but '{name}' is a "
                    f"higher-order factor (measured by the factor '{s.rhs}'); product "
                    "indicators of higher-order factors are not supported: use "
                    "interaction='lms' or form the product of first-order factors"
                )
            inds.append(s.rhs)
    return tuple(inds)


def product_terms(model: str | ParsedModel) -> tuple[ProductTerm, ...]:
    """The latent product terms of a model and their product indicators.

    Parameters
    ----------
    model : str or ParsedModel
        lavaan syntax with product terms (``Y ~ X + Z + X:Z``).

    Returns
    -------
    tuple of ProductTerm
        In the order they first appear; empty if the model has none.
    """
    parsed = parse_model(model) if isinstance(model, str) else model
    seen: dict[str, ProductTerm] = {}
    for s in parsed.statements:
        if s.op != "~" or ":" not in s.rhs or s.rhs in seen:
            continue
        parts = s.rhs.split(":")
        if len(parts) != 2:
            raise ModelSpecificationError(
                f"the product term '{s.rhs}' (line {s.line}) has {len(parts)} factors; only "
                "two-way products (X:Z) are supported"
            )
        left, right = parts
        li, ri = _indicators(parsed, left), _indicators(parsed, right)
        products, members = [], {}
        for a in li:
            for b in ri:
                name = f"{a}.{b}"
                products.append(name)
                members[name] = (a, b)
        seen[s.rhs] = ProductTerm(
            term=s.rhs,
            left=left,
            right=right,
            factor=f"{left}.{right}",
            left_indicators=li,
            right_indicators=ri,
            products=tuple(products),
            members=members,
        )
    return tuple(seen.values())


def double_mean_centered_products(
    data: pd.DataFrame, var1: list[str] | tuple[str, ...], var2: list[str] | tuple[str, ...]
) -> pd.DataFrame:
    """Double-mean-centred products of all pairs of two sets of indicators.

    Each indicator is centred at its mean, every pair is multiplied, and each
    product is centred at its own mean (Lin et al., 2010). Means skip missing
    values, and a product is missing where either factor is.

    Parameters
    ----------
    data : pandas.DataFrame
    var1, var2 : sequence of str
        Column names; the result has ``len(var1) * len(var2)`` columns named
        ``f"{a}.{b}"``, ``var1`` varying slowest.

    Returns
    -------
    pandas.DataFrame
        The product columns, with ``data``'s index.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 4.0], "z": [0.0, 1.0, 1.0]})
    >>> double_mean_centered_products(df, ["x"], ["z"]).round(4)["x.z"].tolist()
    [0.4444, -0.5556, 0.1111]

    In R: ``semTools::indProd(data, var1, var2, match = FALSE, meanC = TRUE,
    residualC = FALSE, doubleMC = TRUE)``.
    """
    c1 = data[list(var1)].astype(float)
    c2 = data[list(var2)].astype(float)
    c1 = c1 - c1.mean(axis=0, skipna=True)
    c2 = c2 - c2.mean(axis=0, skipna=True)
    cols = {}
    for a in var1:
        for b in var2:
            p = c1[a] * c2[b]
            cols[f"{a}.{b}"] = p - p.mean(skipna=True)
    return pd.DataFrame(cols, index=data.index)


def _rewrite_syntax(text: str, terms: tuple[ProductTerm, ...]) -> str:
    factors = {t.term: t.factor for t in terms}

    def repl(m: re.Match) -> str:
        key = f"{m.group(1)}:{m.group(2)}"
        return factors.get(key, m.group(0))

    lines = []
    for raw in text.splitlines():
        code, hash_, comment = raw.partition("#")
        lines.append(_PRODUCT_RE.sub(repl, code) + hash_ + comment)
    return "\n".join(lines)


def product_indicator_model(
    model: str, data: pd.DataFrame, *, res_cov: str = "simple"
) -> ProductIndicatorModel:
    """Rewrite a model with product terms as a product-indicator model.

    Parameters
    ----------
    model : str
        lavaan syntax with product terms ``X:Z`` on the right of ``~``.
    data : pandas.DataFrame
        The data (must hold every indicator of the factors in product terms).
    res_cov : {'simple', 'none'}
        ``'simple'`` (default, as modsem): free residual covariances between
        product indicators that share an indicator, within and across terms;
        ``'none'``: none.

    Returns
    -------
    ProductIndicatorModel

    Raises
    ------
    ModelSpecificationError
        If the model has no product term, a product term involves a
        higher-order factor, or a product name clashes with an existing name.
    """
    if res_cov not in RES_COV_METHODS:
        raise ModelSpecificationError(
            "The 'res_cov' parameter of product_indicator_model must be one of "
            f"{', '.join(repr(r) for r in RES_COV_METHODS)}. Got {res_cov!r} instead."
        )
    parsed = parse_model(model)
    terms = product_terms(parsed)
    if not terms:
        raise ModelSpecificationError(
            "the model has no product term (X:Z on the right of '~'); nothing to build"
        )
    names_in_model = {s.lhs for s in parsed.statements} | {s.rhs for s in parsed.statements}
    missing = sorted(
        {v for t in terms for v in t.left_indicators + t.right_indicators} - set(data.columns)
    )
    if missing:
        raise ModelSpecificationError(
            "the indicators " + ", ".join(missing) + " of the product terms are not in the data"
        )
    frame = data.copy()
    for t in terms:
        clash = [p for p in (t.factor, *t.products) if p in names_in_model or p in data.columns]
        if clash:
            raise ModelSpecificationError(
                f"the product term '{t.term}' needs the names {', '.join(clash)}, which the "
                "model or the data already use; rename those variables"
            )
        prods = double_mean_centered_products(frame, t.left_indicators, t.right_indicators)
        for c in prods.columns:
            frame[c] = prods[c]
    lines = [_rewrite_syntax(model, terms).rstrip(), "", "# product indicators (dblcent)"]
    for t in terms:
        lines.append(f"{t.factor} =~ " + " + ".join(t.products))
    rescov: list[tuple[str, str]] = []
    if res_cov == "simple":
        members = {p: set(m) for t in terms for p, m in t.members.items()}
        for a, b in combinations(list(members), 2):
            if members[a] & members[b]:
                rescov.append((a, b))
        for a, b in rescov:
            lines.append(f"{a} ~~ {b}")
    return ProductIndicatorModel(
        syntax="\n".join(lines) + "\n",
        data=frame,
        terms=terms,
        residual_covariances=tuple(rescov),
    )


def fit_dblcent(
    model: str,
    data,
    *,
    res_cov: str = "simple",
    missing_values=None,
    options=None,
    **fit_kwargs,
):
    """Fit a latent interaction model by double-mean-centred product indicators.

    Parameters
    ----------
    model : str
        lavaan syntax with product terms, e.g. ``"... \\nY ~ X + Z + X:Z"``.
    data : pandas.DataFrame or path
    res_cov : {'simple', 'none'}
        See :func:`product_indicator_model`.
    missing_values : optional
        Missing-value codes, as for :func:`ckm_research.fit`.
    options : ckm_research.sem.options.FitOptions, optional
        The options of :func:`ckm_research.fit` (validated); without it they are
        built from ``missing_values`` and ``fit_kwargs``.
    **fit_kwargs
        Keywords of :func:`ckm_research.fit` (``estimator``, ``std_lv``, ...).

    Returns
    -------
    SEMResults
        The product-indicator fit; the interaction rows read ``Y ~ X:Z``.
        ``results.notes["interaction"]`` holds the method, the lavaan syntax
        that was fitted and the product indicators.

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> one_int = load_dataset("oneInt")
    >>> model = ("X =~ x1 + x2 + x3\\nZ =~ z1 + z2 + z3\\nY =~ y1 + y2 + y3\\n"
    ...          "Y ~ X + Z + X:Z")
    >>> res = fit_dblcent(model, one_int)
    >>> res.estimates.query("rhs == 'X:Z'")[["lhs", "op", "rhs", "est", "se"]].round(3)
       lhs op  rhs    est     se
    11   Y  ~  X:Z  0.697  0.055

    In R: ``modsem::modsem(model, data, method = "dblcent")``.
    """
    from ckm_research.data.io import read_data
    from ckm_research.sem.api import fit_with_options
    from ckm_research.sem.options import FitOptions

    if options is None:
        options = FitOptions.from_kwargs(missing_values=missing_values, **fit_kwargs)
    elif fit_kwargs or missing_values is not None:  # validated again with the changes
        changes = dict(fit_kwargs)
        if missing_values is not None:
            changes["missing_values"] = missing_values
        options = FitOptions.from_kwargs(**{**options.to_kwargs(), **changes})
    if options.ordered:
        raise ModelSpecificationError(
            "product indicators of ordinal items are not meaningful; fit the interaction "
            "with continuous items (estimator 'ML' or 'MLR')"
        )
    frame = read_data(data, missing_values=options.missing_values)
    spec = product_indicator_model(model, frame, res_cov=res_cov)
    # the codes are read already; the product-indicator model has no product term left
    res = fit_with_options(
        spec.syntax, spec.data, options.replace(missing_values=None, interaction=None)
    )
    rename = spec.term_for_factor()
    est = res.estimates
    is_int = (est["op"] == "~") & est["rhs"].isin(list(rename))
    est.loc[is_int, "rhs"] = est.loc[is_int, "rhs"].map(rename)
    res.model_text = model
    res.options = options
    res.notes["interaction"] = {
        "method": "dblcent",
        "lavaan_syntax": spec.syntax,
        "terms": {t.term: {"factor": t.factor, "products": list(t.products)} for t in spec.terms},
        "residual_covariances": [list(p) for p in spec.residual_covariances],
    }
    res.notes.setdefault("summary_lines", [])
    res.notes["summary_lines"] = list(res.notes["summary_lines"]) + [
        ("dblcent", "Latent interaction method")
    ]
    return res
