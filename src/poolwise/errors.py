"""poolwise's exceptions and its warning, in one place (the bottom layer: every module may raise them).

:class:`DataError` for bad input data (it names file, column, row and value), :class:`PriorError`
for a prior given wrongly, :class:`PoolwiseWarning` for a result that needs the user's attention.
All are reachable as ``poolwise.DataError``, ``poolwise.PriorError`` and ``poolwise.PoolwiseWarning``.
"""

from __future__ import annotations

__all__ = ["DataError", "PoolwiseWarning", "PriorError"]


class DataError(ValueError):
    """Bad input data.

    The message names the file (if any), the column, the row and the value; the same facts are
    kept as attributes so that callers (the command line, a report) can use them without parsing
    the message.

    Parameters
    ----------
    message : str
        The full, human-readable message.  It is used verbatim.
    file : str or None, optional
        The file the data came from, or None for an in-memory table.
    column : str or None, optional
        The column at fault (the first one, if several).
    row : int or None, optional
        The 1-based data row at fault (row 1 is the first row after the header), or None when
        the problem is not about one row.
    value : object, optional
        The offending value as it appeared in the input.

    Attributes
    ----------
    file, column, row, value
        As given.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.column = column
        self.row = row
        self.value = value


class PriorError(ValueError):
    """A prior was specified wrongly: unknown name, bad parameter, or wrong place in the model."""


class PoolwiseWarning(UserWarning):
    """A result that needs the user's attention: prior-dominated, improper or not converged."""
