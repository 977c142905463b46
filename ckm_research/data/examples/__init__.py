"""Example data sets bundled with the package, for the docstring examples and tutorials.

Four data sets under the names R users know them by:

``HolzingerSwineford1939``
    Mental ability test scores of 301 seventh- and eighth-grade children from two
    schools (Holzinger & Swineford, 1939); the nine tests ``x1``-``x9`` of lavaan's CFA
    tutorial, with ``id sex ageyr agemo school grade``.  In R:
    ``lavaan::HolzingerSwineford1939``.
``PoliticalDemocracy``
    Industrialisation and political democracy in 75 developing countries, 1960 and
    1965 (Bollen, 1989, *Structural Equations with Latent Variables*, p. 322);
    ``y1``-``y8`` and ``x1``-``x3``.  In R: ``lavaan::PoliticalDemocracy``.
``Demo.growth``
    Simulated scores of 400 persons at four time points ``t1``-``t4`` with covariates
    ``x1 x2`` and time-varying covariates ``c1``-``c4``.  In R: ``lavaan::Demo.growth``.
``oneInt``
    The first 500 of the 2,000 rows of modsem's simulated elementary interaction data
    (``x1``-``x3``, ``z1``-``z3``, ``y1``-``y3``: Y on X, Z and X:Z).  In R:
    ``modsem::oneInt[1:500, ]``.

The files are the CSV files lavaan's and modsem's data were exported to for the
reference tests (tests/reference/data/), unchanged.
"""

from __future__ import annotations

from pathlib import Path

from ckm_research.errors import CkmError

__all__ = ["DATASETS", "load_dataset"]

_HERE = Path(__file__).resolve().parent

#: Name -> one line on what it is.
DATASETS = {
    "HolzingerSwineford1939": "mental ability tests, 301 children (lavaan)",
    "PoliticalDemocracy": "industrialisation and democracy, 75 countries (lavaan)",
    "Demo.growth": "simulated growth data, four waves, 400 persons (lavaan)",
    "oneInt": "simulated latent interaction X:Z, first 500 rows (modsem)",
}


def load_dataset(name: str):
    """One of the bundled example data sets as a ``pandas.DataFrame``.

    Parameters
    ----------
    name : str
        ``"HolzingerSwineford1939"``, ``"PoliticalDemocracy"``, ``"Demo.growth"`` or
        ``"oneInt"`` (see :data:`DATASETS`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from ckm_research.data.examples import load_dataset
    >>> hs = load_dataset("HolzingerSwineford1939")
    >>> hs.shape
    (301, 15)
    >>> round(float(hs["x1"].mean()), 3)
    4.936

    In R: ``data(HolzingerSwineford1939, package = "lavaan")``.
    """
    import pandas as pd

    if name not in DATASETS:
        raise CkmError(
            f"The 'name' parameter of load_dataset must be one of {', '.join(DATASETS)}. "
            f"Got {name!r} instead."
        )
    return pd.read_csv(_HERE / f"{name}.csv")
