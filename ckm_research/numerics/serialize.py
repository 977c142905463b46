"""Plain-JSON values and file digests (the one home of both).

:func:`to_json_ready` turns what the analyses return (numpy scalars and arrays,
pandas frames and series, NaN and infinities, tuples, paths) into the types
:func:`json.dumps` writes with ``allow_nan=False``; :func:`sha256_file` is the
digest stored for every data file and output.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_json_ready", "sha256_file"]


def to_json_ready(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, NaN/inf (and ``pd.NA``/``NaT``)
    as ``None``, tuples and arrays as lists, frames as lists of records, paths
    and other objects as strings.

    Examples
    --------
    >>> to_json_ready({"a": np.float64("nan"), "b": (np.int64(2), np.inf), 3: np.bool_(True)})
    {'a': None, 'b': [2, None], '3': True}
    """
    if isinstance(value, Mapping):
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_json_ready(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    pd = _pandas()
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return to_json_ready(value.to_dict(orient="records"))
        if isinstance(value, pd.Series):
            return to_json_ready(value.to_dict())
        if value is pd.NA or value is pd.NaT:
            return None
    return str(value)


def _pandas():
    """pandas if it is imported (a pandas object cannot exist otherwise)."""
    import sys

    return sys.modules.get("pandas")


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
