"""Safe output: atomic file writes and CSV-injection defence.

Every file poolwise writes goes through :func:`atomic_write_bytes`, so that a reader (or a crash)
sees either the old file or the complete new one, never half of it.  Tables of user-provided
strings pass through :func:`csv_safe` before being written as CSV, because spreadsheets run cells
that look like formulas.
"""

import contextlib
import os
import secrets

import pandas as pd

__all__ = ["atomic_write_bytes", "atomic_write_text", "csv_safe"]

# OWASP "CSV Injection": a cell starting with one of these is run as a formula by Excel, LibreOffice
# and Google Sheets (tab and carriage return are included because some of them strip them first).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write text to a file atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.  Its directory must exist.
    text : str
        The content.  Written exactly: line endings are not translated on any platform.
    encoding : str, optional
        Text encoding, UTF-8 by default.

    Raises
    ------
    TypeError
        If `text` is not a str.
    OSError
        If the file cannot be written; the destination is then unchanged.

    See Also
    --------
    atomic_write_bytes : How atomicity is achieved.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to a file atomically.

    The data go to a new temporary file in the destination's directory, which is flushed and
    fsync'ed and then renamed over the destination with :func:`os.replace`.  The rename is atomic
    on POSIX and Windows, so readers see the old file or the new one, never a partial one.

    Parameters
    ----------
    path : str or os.PathLike
        Destination.  Its directory must exist.
    data : bytes
        The content (any bytes-like object).

    Raises
    ------
    TypeError
        If `data` is not bytes-like.
    OSError
        If the file cannot be written.  The destination is then unchanged and the temporary file
        has been removed.

    Notes
    -----
    Nothing of an existing destination is preserved: the new file has the default permissions
    for a new file (subject to the umask), not the old file's, and a symbolic link at `path` is
    replaced by a regular file rather than followed.

    A process killed outright while writing (SIGKILL, a power cut) cannot clean up after itself:
    the destination is then untouched (absent, or the complete previous version), but the hidden
    temporary file beside it, ``.<name>.<random>.tmp``, remains with part of the new content.
    Nothing reads it; it is safe to delete.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    temporary, descriptor = _create_temporary(directory, os.path.basename(target))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        # BaseException: a KeyboardInterrupt mid-write must not leave a stray temporary file.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _create_temporary(directory: str, name: str) -> tuple[str, int]:
    # os.open with mode 0o666 lets the umask decide the permissions, as for any new file;
    # tempfile.mkstemp would make the result private (0o600) once it is renamed into place.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable after a power cut (POSIX); Windows cannot open directories,
    # and the data are already safe, so failures here are ignored.
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of a table that spreadsheets will not run as formulas.

    Every string cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a single quote in front (OWASP's CSV-injection defence), as does every such string column
    name, since the header is a row of cells too.  Numbers, missing values and other cells are
    unchanged, so ``-2`` stored as a number stays ``-2`` while the text ``"-2"`` becomes ``"'-2"``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to be written as CSV.  It is not modified.

    Returns
    -------
    pandas.DataFrame
        A new frame with the same shape, index and column order.

    Raises
    ------
    TypeError
        If `frame` is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"group": ["=1+1", "a"], "y": [-1, 2]}))
       group  y
    0  '=1+1 -1
    1      a  2
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = _defuse_column(safe.iloc[:, position])
        if column is not None:
            safe.isetitem(position, column)  # by position: column names may repeat
    if not isinstance(safe.columns, pd.MultiIndex):
        labels = [_defuse(label) for label in safe.columns]
        if labels != list(safe.columns):  # otherwise keep the original Index and its dtype
            safe.columns = pd.Index(labels)
    return safe


def _defuse_column(column: pd.Series) -> pd.Series | None:
    """Return the column with formula-like strings defused, or None if it needs no change."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Renaming categories could merge two of them; plain values are simpler and safe.
        column = column.astype(object)
    elif not (pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)):
        return None  # numeric, boolean and datetime columns hold no strings
    values = column.to_numpy(dtype=object)
    # Element by element rather than Series.map, which re-infers the dtype and would turn an
    # object column holding [-4, None] into floats.
    hits = [i for i, value in enumerate(values) if _defuse(value) is not value]
    if not hits:
        return None
    out = column.copy()
    out.iloc[hits] = ["'" + values[i] for i in hits]
    return out


def _defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
