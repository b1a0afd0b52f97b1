"""Effect sizes of two-arm trials from their counts, as metafor's ``escalc()`` computes them.

Each trial gives events out of a total in a treated and a control arm, the 2x2 table
``a = treated events, b = treated non-events, c = control events, d = control non-events``.
:func:`escalc` turns the tables into an estimate ``yi`` with its sampling variance ``vi`` per trial,
ready for :func:`poolwise.meta_analysis` (``estimate="yi", variance="vi"``):

- ``"OR"``: log odds ratio ``log(a d / (b c))``, variance ``1/a + 1/b + 1/c + 1/d``;
- ``"RR"``: log risk ratio ``log(p1 / p2)``, variance ``1/a - 1/n1 + 1/c - 1/n2``;
- ``"RD"``: risk difference ``p1 - p2``, variance ``p1 (1 - p1)/n1 + p2 (1 - p2)/n2``;

with ``p1 = a/n1``, ``p2 = c/n2`` and ``n1``, ``n2`` the arm totals (metafor's large-sample
variances, its default ``vtype="LS"``).  A zero cell makes the log measures infinite, so by
default ``1/2`` is added to every cell of the tables that have one (metafor's
``add=1/2, to="only0"``); all three measures are computed from the corrected counts, as metafor
does.  Only NumPy and pandas are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["MEASURES", "escalc"]

#: The effect-size measures, by metafor's names.
MEASURES: Final = ("OR", "RR", "RD")
#: Which tables get the continuity correction, by metafor's names.
_TO: Final = ("only0", "all", "if0all", "none")
_COLUMNS: Final = ("treated_events", "treated_total", "control_events", "control_total")
# Counts above 2**53 are not all representable in float64, where the measures are computed.
_MAX_COUNT: Final = 2**53


def _counts(name: str, values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Return one column of counts as float64, or raise DataError naming the first bad row."""
    # dtype=object keeps each value as given (a list mixing 1 and "3" is not made all text) and
    # as a Python scalar, so that the message shows 2.5, not np.float64(2.5).
    array = np.asarray(
        values.tolist() if isinstance(values, pd.Series | np.ndarray) else values, dtype=object
    )
    if array.ndim != 1:
        raise DataError(
            f"column {name!r}: need a one-dimensional array, got shape {array.shape}", column=name
        )
    numbers = np.empty(len(array))
    for row, value in enumerate(array, start=1):
        try:
            # Text and booleans are not counts, though float() would take "3" and True.
            number = np.nan if isinstance(value, str | bytes | bool | np.bool_) else float(value)
        except (TypeError, ValueError):
            number = np.nan
        if not (np.isfinite(number) and number == round(number)):
            raise DataError(
                f"column {name!r}, row {row}: value {value!r} is not a whole number; counts must be "
                "whole numbers >= 0",
                column=name,
                row=row,
                value=value,
            )
        if not 0 <= number <= _MAX_COUNT:
            raise DataError(
                f"column {name!r}, row {row}: value {value!r} is "
                + ("negative" if number < 0 else f"above 2**53 = {_MAX_COUNT}")
                + "; counts must be whole numbers >= 0",
                column=name,
                row=row,
                value=value,
            )
        numbers[row - 1] = number
    return numbers


def _tables(
    treated_events: np.ndarray,
    treated_total: np.ndarray,
    control_events: np.ndarray,
    control_total: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check that events fit in their totals and return the cells ``a, b, c, d``."""
    for events, total, (events_name, total_name) in (
        (treated_events, treated_total, _COLUMNS[:2]),
        (control_events, control_total, _COLUMNS[2:]),
    ):
        for row in np.flatnonzero(total == 0)[:1]:
            raise DataError(
                f"column {total_name!r}, row {row + 1}: value 0: an arm needs at least one participant",
                column=total_name,
                row=int(row) + 1,
                value=0,
            )
        for row in np.flatnonzero(events > total)[:1]:
            raise DataError(
                f"column {events_name!r}, row {row + 1}: value {events[row]:.0f} is greater than "
                f"the total {total[row]:.0f} (column {total_name!r})",
                column=events_name,
                row=int(row) + 1,
                value=events[row],
            )
    return treated_events, treated_total - treated_events, control_events, control_total - control_events


def _double_zero(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Trials with no events in either arm, or only events: they say nothing about an OR or RR."""
    return ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))


def _corrected(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, to: str, usable: np.ndarray
) -> np.ndarray:
    """Return which of the usable tables get ``add`` in every cell, by metafor's rule `to`."""
    has_zero = usable & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    if to == "all":
        return usable.copy()
    if to == "only0":
        return has_zero
    if to == "if0all":
        return usable & has_zero.any()
    return np.zeros_like(usable)


def _log_odds_ratio(a, b, c, d) -> tuple[np.ndarray, np.ndarray]:
    return np.log(a / b) - np.log(c / d), 1 / a + 1 / b + 1 / c + 1 / d


def _log_risk_ratio(a, b, c, d) -> tuple[np.ndarray, np.ndarray]:
    n1, n2 = a + b, c + d
    return np.log(a / n1) - np.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2


def _risk_difference(a, b, c, d) -> tuple[np.ndarray, np.ndarray]:
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


_MEASURE_FUNCTIONS: Final = {"OR": _log_odds_ratio, "RR": _log_risk_ratio, "RD": _risk_difference}


def escalc(
    measure: str,
    treated_events: Sequence[float] | np.ndarray | pd.Series,
    treated_total: Sequence[float] | np.ndarray | pd.Series,
    control_events: Sequence[float] | np.ndarray | pd.Series,
    control_total: Sequence[float] | np.ndarray | pd.Series,
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> pd.DataFrame:
    """Effect size and sampling variance of each two-arm trial, as metafor's ``escalc()``.

    Parameters
    ----------
    measure : {"OR", "RR", "RD"}
        Log odds ratio, log risk ratio or risk difference, treated versus control.
    treated_events, treated_total, control_events, control_total : array-like
        Per trial: events and participants in the treated arm, then in the control arm; whole
        numbers >= 0, events at most the total, totals at least 1, all of one length.
    add : float
        The continuity correction added to each of the four cells of a corrected table
        (metafor's ``add``, default 1/2).
    to : {"only0", "all", "if0all", "none"}
        Which tables get `add`: those with a zero cell (default), all, all if any table has a
        zero cell, or none (metafor's ``to``).
    drop00 : bool
        If true, double-zero trials -- no events in both arms, or only events in both -- get no
        estimate (NaN) and are marked ``dropped``; metafor's ``drop00``.  If false (the default,
        as metafor's), they are kept, and corrected under ``to="only0"``.

    Returns
    -------
    pandas.DataFrame
        One row per trial, in input order (with the index of `treated_events` if it is a
        Series), columns ``yi`` (the estimate), ``vi`` (its variance), ``corrected`` (bool:
        `add` was added to the table's cells) and ``dropped`` (bool: a double-zero trial left
        out by `drop00`).  ``yi`` and ``vi`` are NaN where the measure is undefined -- a dropped
        trial, or a zero cell left uncorrected (metafor's NA); drop those rows before
        :func:`poolwise.meta_analysis`.  ``DataFrame.attrs`` holds ``measure``, ``add``, ``to``
        and ``drop00``.

    Raises
    ------
    DataError
        If a count is not a whole number >= 0, events exceed their total, a total is 0, or the
        columns differ in length; the message names the column, the row (1-based) and the value.
    ValueError
        For an unknown `measure` or `to`, or a negative or non-finite `add`.

    Notes
    -----
    Under ``to="only0"`` the double-zero check comes first: with ``drop00=True`` a double-zero
    trial is dropped, not corrected, and under ``to="if0all"`` it does not make the others
    corrected.  For the risk difference, too, the corrected counts are used (metafor's default
    ``addyi=TRUE, addvi=TRUE``), though ``p1 - p2`` is finite without.

    Examples
    --------
    >>> import poolwise as pw
    >>> from poolwise.analysis.escalc import escalc
    >>> bcg = pw.datasets.load("bcg")
    >>> es = escalc("RR", bcg.tpos, bcg.tpos + bcg.tneg, bcg.cpos, bcg.cpos + bcg.cneg)
    >>> es.loc[0, ["yi", "vi"]].round(4).tolist()
    [-0.8893, 0.3256]
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(map(repr, MEASURES))}; got {measure!r}")
    if to not in _TO:
        raise ValueError(f"to must be one of {', '.join(map(repr, _TO))}; got {to!r}")
    if isinstance(add, bool) or not isinstance(add, float | int) or not 0 <= add < np.inf:
        raise ValueError(f"add must be a finite number >= 0, e.g. 0.5; got {add!r}")
    columns = [
        _counts(name, values)
        for name, values in zip(
            _COLUMNS, (treated_events, treated_total, control_events, control_total), strict=True
        )
    ]
    lengths = {name: len(column) for name, column in zip(_COLUMNS, columns, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataError(
            "the count columns differ in length: " + ", ".join(f"{name} {n}" for name, n in lengths.items())
        )
    a, b, c, d = _tables(*columns)

    dropped = _double_zero(a, b, c, d) if drop00 else np.zeros(len(a), dtype=bool)
    corrected = _corrected(a, b, c, d, to, ~dropped)
    a, b, c, d = (np.where(corrected, cell + add, cell) for cell in (a, b, c, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        yi, vi = _MEASURE_FUNCTIONS[measure](a, b, c, d)
    # metafor recodes infinite and NaN values (zero cells left uncorrected) to NA.
    undefined = dropped | ~np.isfinite(yi) | ~np.isfinite(vi) | (vi < 0)
    index = treated_events.index if isinstance(treated_events, pd.Series) else None
    table = pd.DataFrame(
        {
            "yi": np.where(undefined, np.nan, yi),
            "vi": np.where(undefined, np.nan, vi),
            "corrected": corrected & (add != 0),
            "dropped": dropped,
        },
        index=index,
    )
    table.attrs.update(measure=measure, add=float(add), to=to, drop00=bool(drop00))
    return table
