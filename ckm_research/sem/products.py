"""Product terms of observed variables (``y ~ x1 + x2 + x1:x2``).

lavaan reads ``x1:x2`` on the right of ``~`` as an observed variable of its own
when both ``x1`` and ``x2`` are observed variables of the model
(``lav_partable_vnames``, ``ov.interaction``) and builds its column from the
data as the raw product ``x1 * x2`` (``lav_data_full``; a column already named
``"x1:x2"`` in the data is used as it is).  The product is then an exogenous
covariate like any other: with ``fixed.x = TRUE`` its variance and covariances
are fixed at their sample values.  Nothing is centred: centre ``x1`` and ``x2``
in the data beforehand if the main effects are to be read at the means
(Aiken & West, 1991, ch. 3).

Product terms with a latent component (``X:Z``) are latent interactions and
are fitted by :mod:`ckm_research.moderation` instead (lavaan 0.6.14 refuses
them).

In R::

    lavaan::sem("x9 ~ x1 + x2 + x1:x2", data = HolzingerSwineford1939)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckm_research.errors import ModelSpecificationError
from ckm_research.sem.partable import VariableRoles
from ckm_research.sem.syntax import ParsedModel

__all__ = ["add_product_columns"]


def add_product_columns(
    frame: pd.DataFrame, parsed: ParsedModel, roles: VariableRoles
) -> pd.DataFrame:
    """Add the column of every observed product term ``x1:x2`` of the model.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    parsed : ParsedModel
        The model.
    roles : VariableRoles
        Its variable roles (``roles.ov_interactions`` are the products).

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when the model has no observed product (or the data
        already hold every product column), else a copy with the columns
        ``"x1:x2"`` = ``x1 * x2`` added (missing when either factor is).

    Raises
    ------
    ModelSpecificationError
        When a factor of a product is not an observed variable of the model
        outside the product (lavaan then stops with "some (observed) variables
        specified in the model are not found in the dataset"), is not in the
        data, is not numeric, or is a dependent variable of the model (lavaan
        then treats the product as endogenous, which is not supported here),
        or for a product of three or more variables.
    """
    todo = [t for t in roles.ov_interactions if t not in frame.columns]
    if not todo:
        return frame
    dependent = {s.lhs for s in parsed.statements if s.op == "~"}
    ov_plain = [v for v in roles.ov if ":" not in v]
    out = frame.copy()
    for term in todo:
        parts = term.split(":")
        if len(parts) != 2:
            raise ModelSpecificationError(
                f"the product term '{term}' has more than two factors; lavaan does not support "
                "three-way product terms either: compute the product in the data, give it a "
                "name (e.g. x1_x2_x3) and use that name in the model"
            )
        absent = [v for v in parts if v not in ov_plain]
        if absent:
            raise ModelSpecificationError(
                f"the product term '{term}' needs {' and '.join(repr(v) for v in absent)} in "
                "the model as an observed variable of its own (lavaan builds the product only "
                "then): add the main effect(s) to the regression (e.g. "
                f"'... + {' + '.join(absent)} + {term}'), or put a column named '{term}' "
                "in the data"
            )
        endo = [v for v in parts if v in dependent]
        if endo:
            raise ModelSpecificationError(
                f"the product term '{term}' multiplies {', '.join(repr(v) for v in endo)}, a "
                "dependent variable of the model; lavaan then makes the product an endogenous "
                "variable, which ckm-research does not support: compute the product in the "
                "data under a name without ':' and model it explicitly"
            )
        missing_cols = [v for v in parts if v not in frame.columns]
        if missing_cols:
            raise ModelSpecificationError(
                f"the product term '{term}' needs the column(s) "
                f"{', '.join(repr(v) for v in missing_cols)}, which are not in the data"
            )
        cols = []
        for v in parts:
            col = pd.to_numeric(frame[v], errors="coerce")
            if col.isna().sum() > frame[v].isna().sum():
                raise ModelSpecificationError(
                    f"the product term '{term}' needs numeric values in '{v}', but it has "
                    "non-numeric cells; recode it as a number"
                )
            cols.append(col.to_numpy(dtype=float))
        out[term] = np.multiply(cols[0], cols[1])
    return out
