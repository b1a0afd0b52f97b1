"""One-dimensional posterior marginals and their intervals, vectorised over rows.

A marginal is anything with ``ppf(q)`` mapping probabilities of shape ``(P, m)`` to values of shape
``(P, m)`` on the natural scale: :class:`BetaRows`, :class:`GammaRows` or :class:`NormalRows` (closed
forms) or
:class:`GridMarginal` (a density
tabulated on a uniform grid of an unconstrained coordinate ``z``, e.g. the logit of a rate, and
integrated exactly as a cubic spline). :func:`eti` and :func:`hdi` work on either.

NumPy/SciPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import interpolate, special


class Marginal(Protocol):
    """Rows of univariate distributions that can be inverted."""

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantiles, ``q`` of shape ``(P, m)``."""
        ...


@dataclass(frozen=True)
class BetaRows:
    """Independent Beta(a_p, b_p) distributions, one per row."""

    a: np.ndarray
    b: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Posterior means."""
        return self.a / (self.a + self.b)

    @property
    def sd(self) -> np.ndarray:
        """Posterior standard deviations."""
        s = self.a + self.b
        return np.sqrt(self.a * self.b / (s * s * (s + 1)))

    def ppf(self, q: np.ndarray) -> np.ndarray:  # noqa: D102
        return special.betaincinv(self.a[:, None], self.b[:, None], q)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function at ``x`` of shape ``(P, m)``."""
        return special.betainc(self.a[:, None], self.b[:, None], x)

    def ppf_log_density(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles ``x`` at ``q`` of shape ``(P, m)`` and the log density there."""
        x = self.ppf(q)
        a, b = self.a[:, None], self.b[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return x, special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b)

    def density(self, row: int, n: int = 513) -> tuple[np.ndarray, np.ndarray]:
        """Density of one row between its 1e-6 and 1 - 1e-6 quantiles (uniform in logit)."""
        lo, hi = special.logit(self.ppf(np.array([[1e-6, 1 - 1e-6]]) * np.ones((self.a.size, 1)))[row])
        x = special.expit(np.linspace(lo, hi, n))
        a, b = self.a[row], self.b[row]
        log_f = special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b)
        return x, np.exp(log_f)


@dataclass(frozen=True)
class GammaRows:
    """Independent Gamma(a_p, b_p) distributions (shape, rate), one per row."""

    a: np.ndarray
    b: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Posterior means."""
        return self.a / self.b

    @property
    def sd(self) -> np.ndarray:
        """Posterior standard deviations."""
        return np.sqrt(self.a) / self.b

    def ppf(self, q: np.ndarray) -> np.ndarray:  # noqa: D102
        return special.gammaincinv(self.a[:, None], q) / self.b[:, None]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function at ``x`` of shape ``(P, m)``."""
        return special.gammainc(self.a[:, None], self.b[:, None] * x)

    def ppf_log_density(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles ``x`` at ``q`` of shape ``(P, m)`` and the log density there."""
        x = self.ppf(q)
        a, b = self.a[:, None], self.b[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return x, a * np.log(b) - special.gammaln(a) + special.xlogy(a - 1, x) - b * x

    def density(self, row: int, n: int = 513) -> tuple[np.ndarray, np.ndarray]:
        """Density of one row between its 1e-6 and 1 - 1e-6 quantiles (uniform in log)."""
        lo, hi = np.log(self.ppf(np.array([[1e-6, 1 - 1e-6]]) * np.ones((self.a.size, 1)))[row])
        x = np.exp(np.linspace(lo, hi, n))
        a, b = self.a[row], self.b[row]
        log_f = a * np.log(b) - special.gammaln(a) + (a - 1) * np.log(x) - b * x
        return x, np.exp(log_f)


@dataclass(frozen=True)
class NormalRows:
    """Independent Normal(mean_p, sd_p^2) distributions, one per row."""

    mean: np.ndarray
    sd: np.ndarray

    def ppf(self, q: np.ndarray) -> np.ndarray:  # noqa: D102
        return self.mean[:, None] + self.sd[:, None] * special.ndtri(q)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function at ``x`` of shape ``(P, m)``."""
        return special.ndtr((x - self.mean[:, None]) / self.sd[:, None])

    def ppf_log_density(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles ``x`` at ``q`` of shape ``(P, m)`` and the log density there."""
        z = special.ndtri(q)
        sd = self.sd[:, None]
        return self.mean[:, None] + sd * z, -0.5 * z * z - np.log(sd) - 0.5 * np.log(2 * np.pi)

    def density(self, row: int, n: int = 513) -> tuple[np.ndarray, np.ndarray]:
        """Density of one row within 5 standard deviations of its mean."""
        m, s = self.mean[row], self.sd[row]
        x = np.linspace(m - 5 * s, m + 5 * s, n)
        z = (x - m) / s
        return x, np.exp(-0.5 * z * z) / (s * np.sqrt(2 * np.pi))

    def mode(self) -> np.ndarray:
        """Mode of each row (its mean)."""
        return self.mean


@dataclass(frozen=True)
class GridMarginal:
    """Densities tabulated on per-row uniform grids of an unconstrained coordinate ``z``.

    Row ``p`` has nodes ``z0[p] + h[p] * j`` for ``j = 0 .. X-1`` and density values ``pdf[p, j]``
    (with respect to ``z``; they need not be normalised). The density is interpolated by a cubic
    spline and its integral taken exactly, so quantiles are accurate to O(h^4) where the density
    is smooth. ``to_natural`` maps ``z`` to the reported scale (monotone increasing), and
    ``log_dx_dz`` is the log-Jacobian of that map, for densities on the natural scale.
    ``even_start`` says that the first node is a boundary at which the density is an even function
    of ``z`` (a scale parameter's density at zero): the spline then has zero slope there instead
    of the natural end condition, which keeps its O(h^4) accuracy up to that boundary.
    ``loc`` and ``scale`` (per row) make the tabulated coordinate a stretched one, ``y``, with
    ``z = loc[p] + scale[p] * sinh(y)`` in row ``p`` (fine near the centre, logarithmic in heavy
    tails: :mod:`poolwise._core.mixture`); the natural value is then ``to_natural(z)``.
    ``exact``, for a single row, is the unnormalised log density per unit ``z`` (unstretched) that
    the table was made from, evaluable anywhere: :meth:`mode` then maximises it instead of a
    parabola through the table.
    """

    z0: np.ndarray
    h: np.ndarray
    pdf: np.ndarray
    to_natural: Callable[[np.ndarray], np.ndarray]
    log_dx_dz: Callable[[np.ndarray], np.ndarray]
    from_natural: Callable[[np.ndarray], np.ndarray] | None = None
    even_start: bool = False
    loc: np.ndarray | None = None
    scale: np.ndarray | None = None
    exact: Callable[[np.ndarray], np.ndarray] | None = None

    def _placed(self, rows: np.ndarray | int | slice) -> tuple[np.ndarray, np.ndarray]:
        loc, scale = self.loc[rows], self.scale[rows]
        if np.ndim(loc):
            loc, scale = loc[:, None], scale[:, None]
        return loc, scale

    def _unstretched(self, y: np.ndarray, rows: np.ndarray | int | slice = slice(None)) -> np.ndarray:
        """Map tabulated coordinates ``y`` to ``z`` (rows of ``y`` are ``rows``)."""
        if self.loc is None:
            return y
        loc, scale = self._placed(rows)
        return loc + scale * np.sinh(y)

    def _natural(self, y: np.ndarray, rows: np.ndarray | int | slice = slice(None)) -> np.ndarray:
        """Map tabulated coordinates ``y`` to natural values (rows of ``y`` are ``rows``)."""
        with np.errstate(over="ignore"):  # a heavy tail's far quantile beyond 1e308 is inf, honestly
            return self.to_natural(self._unstretched(y, rows))

    def _log_dx_dy(self, y: np.ndarray, rows: np.ndarray | int | slice = slice(None)) -> np.ndarray:
        """``log |dx/dy|``: the natural transform's Jacobian, and the stretch's."""
        out = self.log_dx_dz(self._unstretched(y, rows))
        if self.loc is None:
            return out
        _, scale = self._placed(rows)
        a = np.abs(y)
        return out + np.log(scale) + a + np.log1p(np.exp(-2 * a)) - np.log(2.0)

    def __post_init__(self) -> None:
        n = self.pdf.shape[1]
        t = np.arange(n, dtype=float)
        # The spline lives on the node index t (shared by all rows) so one solve serves all rows.
        density_t = np.maximum(self.pdf, 0.0) * self.h[:, None]
        rows = self.pdf.shape[0]
        bc = ((1, np.zeros(rows)), (2, np.zeros(rows))) if self.even_start else "natural"
        spline = interpolate.CubicSpline(t, density_t, axis=1, bc_type=bc)
        cdf = spline.antiderivative()
        nodes = cdf(t)  # shape (P, X)
        total = nodes[:, -1:]
        object.__setattr__(self, "_dens", spline.c / total.T[None, :, :])  # (4, X-1, P)
        object.__setattr__(self, "_cdf", cdf.c / total.T[None, :, :])  # (5, X-1, P)
        object.__setattr__(self, "_nodes", np.maximum.accumulate(nodes / total, axis=1))
        object.__setattr__(self, "_total", total[:, 0])
        offset = 2.0 * np.arange(self._nodes.shape[0])[:, None]
        object.__setattr__(self, "_flat", (self._nodes + offset).ravel())

    @property
    def z(self) -> np.ndarray:
        """Node coordinates, shape ``(P, X)``."""
        return self.z0[:, None] + self.h[:, None] * np.arange(self.pdf.shape[1])

    @staticmethod
    def _horner(c: np.ndarray, dt: np.ndarray) -> np.ndarray:
        out = c[0]
        for ck in c[1:]:
            out = out * dt + ck
        return out

    def ppf_z(self, q: np.ndarray) -> np.ndarray:
        """Quantiles on the ``z`` scale, ``q`` of shape ``(P, m)``."""
        return self._ppf_t(q)[0]

    def ppf_log_density(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles ``x`` at ``q`` of shape ``(P, m)`` and the natural-scale log density there."""
        y, slope = self._ppf_t(q)
        # the spline's slope is the density per node index; per unit y it is slope / h, and per
        # unit x that divided by |dx/dy|
        with np.errstate(divide="ignore"):
            log_f = np.log(np.maximum(slope, 0.0)) - np.log(self.h)[:, None] - self._log_dx_dy(y)
        return self._natural(y), log_f

    def _ppf_t(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles on the tabulated scale and the CDF's slope per node index there."""
        q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)
        n_rows, n_nodes = self._nodes.shape
        # One searchsorted for all rows: offsetting row p by 2p keeps the flattened array sorted.
        offset = 2.0 * np.arange(n_rows)[:, None]
        pos = np.searchsorted(self._flat, (q + offset).ravel(), side="right").reshape(q.shape)
        cell = np.clip(pos - 1 - np.arange(n_rows)[:, None] * n_nodes, 0, n_nodes - 2)
        rows = np.arange(n_rows)[:, None]
        lo, hi = self._nodes[rows, cell], self._nodes[rows, cell + 1]
        span = np.where(hi > lo, hi - lo, 1.0)
        dt = np.clip((q - lo) / span, 0.0, 1.0)
        c_cdf, c_dens = self._cdf[:, cell, rows], self._dens[:, cell, rows]  # (k, P, m)
        for _ in range(3):  # Newton on the spline's integral within the cell
            value = self._horner(c_cdf, dt) - q
            slope = self._horner(c_dens, dt)
            step = np.where(slope > 1e-300, value / np.where(slope > 1e-300, slope, 1.0), 0.0)
            dt = np.clip(dt - step, 0.0, 1.0)
        t = cell + dt
        return self.z0[:, None] + self.h[:, None] * t, self._horner(c_dens, dt)

    def ppf(self, q: np.ndarray) -> np.ndarray:  # noqa: D102
        return self._natural(self.ppf_z(q))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function at natural-scale points ``x`` of shape ``(P, m)``."""
        if self.from_natural is None:
            raise ValueError("this marginal was built without the inverse of its transform")
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = self.from_natural(x)
            if self.loc is not None:
                z = np.arcsinh((z - self.loc[:, None]) / self.scale[:, None])
            t = (z - self.z0[:, None]) / self.h[:, None]
        n_nodes = self._nodes.shape[1]
        cell = np.clip(np.floor(np.nan_to_num(t, posinf=n_nodes, neginf=-1.0)), 0, n_nodes - 2).astype(int)
        rows = np.arange(cell.shape[0])[:, None]
        value = self._horner(self._cdf[:, cell, rows], np.clip(t - cell, 0.0, 1.0))
        return np.clip(np.where(t < 0, 0.0, np.where(t > n_nodes - 1, 1.0, value)), 0.0, 1.0)

    def density(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Normalised density of one row on the natural scale, at its tabulation nodes."""
        z = self.z[row]
        live = np.arange(z.size) <= np.flatnonzero(self.pdf[row] > 0).max(initial=0)
        z = z[live]
        with np.errstate(over="ignore"):  # mass piled within rounding of a bound: inf, honestly
            f = np.maximum(self.pdf[row][live], 0.0) / self._total[row] * np.exp(-self._log_dx_dy(z, row))
        return self._natural(z, row), f

    def mode(self) -> np.ndarray:
        """Mode of each row on the natural scale.

        The tabulated maximum refined by a parabola, or, where the exact density is known, by
        maximising it between the neighbouring nodes.
        """
        z = self.z
        with np.errstate(divide="ignore"):
            logf = np.log(self.pdf) - self._log_dx_dy(z)
        top = np.argmax(logf, axis=1)
        j = np.clip(top, 1, z.shape[1] - 2)
        rows = np.arange(z.shape[0])
        f0, f1, f2 = logf[rows, j - 1], logf[rows, j], logf[rows, j + 1]
        denom = f0 - 2 * f1 + f2
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(denom < 0, 0.5 * (f0 - f2) / denom, 0.0)
        shift = np.clip(np.nan_to_num(shift), -1.0, 1.0)
        # An even density peaking at its first node peaks exactly there (a scale's mode at zero).
        at_start = self.even_start & (top == 0)
        best = np.where(at_start, z[:, 0], z[rows, j] + shift * self.h)
        if self.exact is not None and top[0] == j[0]:  # an interior maximum: polish it
            best = np.array([self._maximise(z[0, j[0] - 1], z[0, j[0] + 1])])
        return self._natural(best[:, None])[:, 0]  # one value per row: a column, as _natural expects

    def _maximise(self, lo: float, hi: float) -> float:
        """Maximise the exact natural-scale density over tabulated ``[lo, hi]`` (Brent, to 1e-10 h)."""
        from scipy import optimize

        def minus_log_f(y: float) -> float:
            at = np.array([y])
            z = self._unstretched(at, 0)
            return -float((self.exact(z) - self.log_dx_dz(z))[0])

        found = optimize.minimize_scalar(
            minus_log_f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * float(self.h[0])}
        )
        return float(found.x)


def eti(marginal: Marginal, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval holding ``prob`` of each row's mass."""
    tail = (1.0 - prob) / 2.0
    q = marginal.ppf(np.array([[tail, 1.0 - tail]]) * np.ones((_rows(marginal), 1)))
    return q[:, 0], q[:, 1]


def hdi(marginal: Marginal, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Shortest interval holding ``prob`` of each row's mass (the HDI when the density is unimodal).

    Minimises the width ``w(q) = ppf(q + prob) - ppf(q)`` over ``q`` in ``[0, 1 - prob]``: a scan
    of 129 points brackets the minimum, then the bracket is narrowed to 1e-10 in probability. With
    the density at the quantiles (``ppf_log_density``) the narrowing finds the root of
    ``w'(q) = 1/f(upper) - 1/f(lower)``, whose sign is that of ``log f(lower) - log f(upper)``, by
    the Illinois variant of regula falsi (superlinear, a handful of steps); a minimum at an end of
    the range (a density piled at a bound) is kept there. Without it, golden-section search on the
    width. This is the interval ArviZ's ``hdi`` estimates from draws.
    """
    rows = _rows(marginal)
    free = 1.0 - prob
    scan = np.linspace(0.0, free, 129)[None, :] * np.ones((rows, 1))
    width = marginal.ppf(np.concatenate([scan + prob, scan], axis=1))
    width = width[:, :129] - width[:, 129:]
    best = np.argmin(width, axis=1)
    step = free / 128
    centre = scan[np.arange(rows), best]
    lo, hi = np.clip(centre - step, 0.0, free), np.clip(centre + step, 0.0, free)
    narrow = _narrow_by_slope if hasattr(marginal, "ppf_log_density") else _narrow_by_width
    q = narrow(marginal, prob, lo, hi)
    ends = marginal.ppf(np.stack([q, q + prob], axis=1))
    return ends[:, 0], ends[:, 1]


#: Width in probability to which the HDI's bracket is narrowed.
HDI_BRACKET = 1e-10


def _narrow_by_slope(marginal, prob: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Find the root of the width's slope in ``[lo, hi]`` per row (see :func:`hdi`), by Illinois."""

    def slope_sign(q: np.ndarray) -> np.ndarray:
        _, log_f = marginal.ppf_log_density(np.stack([q, q + prob], axis=1))
        with np.errstate(invalid="ignore"):
            g = log_f[:, 0] - log_f[:, 1]
        return np.where(np.isnan(g), 0.0, g)  # both ends at zero density: flat, stop there

    g_lo, g_hi = slope_sign(lo), slope_sign(hi)
    # the width grows from lo (or still falls at hi): the minimum is that end of the bracket
    at_lo, at_hi = g_lo >= 0, (g_hi <= 0) & (g_lo < 0)
    active = ~(at_lo | at_hi)
    side = np.zeros(lo.shape, int)  # which end moved last: -1 lo, +1 hi (Illinois halves the other)
    for _ in range(100):
        if not np.any(active & (hi - lo > HDI_BRACKET)):
            break
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            c = lo - g_lo * (hi - lo) / (g_hi - g_lo)
        inside = np.isfinite(c) & (c > lo) & (c < hi)
        c = np.where(inside, c, 0.5 * (lo + hi))
        g_c = slope_sign(c)
        go_lo = active & (g_c < 0)
        go_hi = active & (g_c > 0)
        hit = active & (g_c == 0)
        lo, g_lo = np.where(go_lo | hit, c, lo), np.where(go_lo, g_c, g_lo)
        hi, g_hi = np.where(go_hi | hit, c, hi), np.where(go_hi, g_c, g_hi)
        g_hi = np.where(go_lo & (side == -1), 0.5 * g_hi, g_hi)
        g_lo = np.where(go_hi & (side == 1), 0.5 * g_lo, g_lo)
        side = np.where(go_lo, -1, np.where(go_hi, 1, side))
    return np.where(at_lo, lo, np.where(at_hi, hi, 0.5 * (lo + hi)))


def _narrow_by_width(marginal, prob: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Golden-section search of the width's minimum in ``[lo, hi]`` per row."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def w(q: np.ndarray) -> np.ndarray:
        ends = marginal.ppf(np.stack([q, q + prob], axis=1))
        return ends[:, 1] - ends[:, 0]

    c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    wc, wd = w(c), w(d)
    while np.max(hi - lo) > HDI_BRACKET:
        left = wc <= wd
        # Keep [lo, d] when c is better, else [c, hi]; the surviving interior point is reused.
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        c_new = np.where(left, hi - ratio * (hi - lo), d)
        d_new = np.where(left, c, lo + ratio * (hi - lo))
        fresh = np.where(left, c_new, d_new)
        wf = w(fresh)
        wc, wd = np.where(left, wf, wd), np.where(left, wc, wf)
        c, d = c_new, d_new
    return (lo + hi) / 2.0


def interval(marginal: Marginal, kind: str, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Credible interval of ``kind`` ``"hdi"`` or ``"eti"`` with probability ``prob``."""
    if kind == "hdi":
        return hdi(marginal, prob)
    if kind == "eti":
        return eti(marginal, prob)
    raise ValueError(f"ci_kind must be 'hdi' or 'eti', got {kind!r}")


def _rows(marginal: Marginal) -> int:
    if isinstance(marginal, BetaRows | GammaRows):
        return marginal.a.shape[0]
    if isinstance(marginal, NormalRows):
        return marginal.mean.shape[0]
    return marginal.pdf.shape[0]
