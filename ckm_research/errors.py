"""Exceptions and warnings raised by ckm-research.

Every error a researcher can cause (a bad model, bad data, a model that does
not converge) derives from :class:`CkmError`, so the command line can print its
message and exit with code 2 instead of a traceback. Messages say what is wrong
*and* what to try next, naming the column, row, item or parameter at fault.
"""

from __future__ import annotations

__all__ = [
    "CkmError",
    "ModelSyntaxError",
    "ModelSpecificationError",
    "ModelFileError",
    "IdentificationError",
    "DataError",
    "ConvergenceError",
    "HeywoodCaseWarning",
    "NonPositiveDefiniteWarning",
    "CkmWarning",
]


class CkmError(ValueError):
    """Base class of every error caused by user input (model, data, options)."""


class ModelSyntaxError(CkmError):
    """The lavaan model syntax cannot be parsed.

    Parameters
    ----------
    message : str
        What is wrong.
    line, column : int, optional
        1-based position in the model text.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        where = ""
        if line is not None:
            where = f"line {line}" + (f", column {column}" if column is not None else "") + ": "
        super().__init__(f"Model syntax error at {where}{message}" if where else message)


class ModelSpecificationError(CkmError):
    """The model is syntactically valid but does not fit the data or options
    (for example, it names variables that are not in the data)."""


class IdentificationError(ModelSpecificationError):
    """The model is not identified (negative degrees of freedom, a latent
    variable without a fixed scale, ...)."""


class DataError(CkmError):
    """The data cannot be used as given (unreadable file, non-numeric cells,
    constant or duplicate columns, too few rows)."""


class ConvergenceError(CkmError):
    """The optimiser did not reach a solution; no estimates are reported."""


class CkmWarning(UserWarning):
    """Base class of the toolkit's warnings."""


class HeywoodCaseWarning(CkmWarning):
    """A variance estimate is negative or a standardized loading exceeds 1."""


class NonPositiveDefiniteWarning(CkmWarning):
    """A model-implied or latent covariance matrix is not positive definite."""


class ModelFileError(CkmError):
    """The model file cannot be read (missing, a folder, not UTF-8 text, empty)."""
