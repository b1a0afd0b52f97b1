r"""Binomial counts with a logit-normal population: the logit-normal binomial family.

The varying-intercept model that Bambi, brms, lme4 (``glmer``) and INLA fit to grouped counts::

    y_i | theta_i          ~ Binomial(n_i, theta_i)
    z_i = logit(theta_i)   ~ Normal(mu, sigma^2)
    mu ~ p(mu),  sigma ~ p(sigma)          # defaults in poolwise.models

It is not conjugate: group ``i``'s marginal likelihood is the one-dimensional integral

.. math::

    p(y_i | \mu, \sigma) = \binom{n_i}{y_i} \frac{1}{\sigma\sqrt{2\pi}} \int e^{h_i(z)}\,dz, \qquad
    h_i(z) = y_i \log \operatorname{expit} z + (n_i - y_i) \log \operatorname{expit}(-z)
        - \frac{(z - \mu)^2}{2\sigma^2},

whose integrand is log-concave (``h'' <= -1/sigma^2``). Adaptive Gauss-Hermite (nodes ``ẑ + s x_k``
about the mode ``ẑ`` with the Laplace scale ``s = (-h''(ẑ))^{-1/2}``; lme4's ``nAGQ``) was tried
first and is not accurate enough here: where ``y = 0`` or ``y = n`` and ``sigma`` is large the
integrand is a half-Gaussian of spread ``sigma`` cut off by a cliff of width ~1, so the curvature at
the mode says nothing about one side (32 nodes: errors of 5e-7 nats at ``sigma = 3``, 0.1 at 50).
Instead each side of the mode is integrated by its own Gauss-Legendre rule (:data:`GL_NODES`
nodes) from ``ẑ`` to the point where ``h`` has fallen :data:`TAIL_NATS` below ``h(ẑ)`` (found by
Newton's method; the log-concave density beyond holds a negligible ``e^-34``-fraction): the rule
follows the integrand wherever its mass is, for thousands of trials and for ``y = 0`` or
``y = n``. Checked against ``scipy.integrate.quad`` in tests/test_logit_normal.py (within 2e-8 nats
for ``sigma <= 5``, the logit-scale spreads a posterior visits; 4e-7 up to ``sigma = 50``). Given
``(mu, sigma)`` group ``i``'s posterior is ``p(z | y_i, mu, sigma) = e^{h_i(z)} / ∫ e^{h_i}``, and
its moments of ``theta = expit(z)`` use the same nodes.

The hyperparameters are integrated in ``(u, w) = (mu, asinh(sigma / c))`` with ``c`` =
:data:`SIGMA_SCALE` (Jacobian ``c cosh w``): logarithmic in ``sigma`` above ``c``, where a
well-identified spread's posterior is log-normal-like, and linear below, down to complete pooling
at ``sigma = 0``. ``log sigma`` cannot reach that point: under the usual priors (finite density at
0) the posterior of ``log sigma`` then has a tail ``~ sigma`` that needs ~30 units of ``log sigma``
to fall by e^-30 and a grid of 128 x 128 nodes or more to resolve its bulk. ``sigma = 0`` is a natural
boundary of the grid at which the likelihood is an even, smooth function of ``sigma`` (it depends on
``sigma^2``), as ``tau = 0`` is for the normal-normal family. The marginal likelihood depends on the
data only through the distinct ``(n, y)`` pairs (:class:`poolwise.families.beta_binomial.Pairs`),
each computed once and weighted by its count.

No and complete pooling use the beta-binomial family's conjugate Beta posteriors: a
logit-normal population says nothing about a single rate, and the Beta(1/2, 1/2) prior keeps the
three poolings' group-level answers comparable across the two binomial families.

What the analysis layer asks every family by the same name: ``shrinkage_weight``,
``prior_alternatives``, ``log_marginal``, ``new_group`` and ``predictive_pmf`` (see
:mod:`poolwise.families.beta_binomial`) and the constant :data:`CENTRED_ON_DATA`.

NumPy/SciPy only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import interpolate, special

from .. import priors as pr
from .._core import mixture as mixturelib
from .._core.grid import Box
from .._core.marginal import GridMarginal
from ..priors import Prior
from .beta_binomial import Pairs, log_binomial_coefficient

#: ``c`` of ``w = asinh(sigma / c)``: a tenth of a unit on the logit scale, below which groups differ
#: by less than ~10% in their odds.
SIGMA_SCALE = 0.1

#: Search limits for ``(mu, w)``: rates from expit(-30) ~ 1e-13 to 1 - 1e-13, and a spread sigma from
#: 0 to 150 on the logit scale. A posterior still heavy at an edge other than ``sigma = 0`` is
#: improper or prior-dominated.
LIMITS = Box(-30.0, 30.0, 0.0, float(np.arcsinh(150.0 / SIGMA_SCALE)))

#: Gauss-Legendre nodes on each side of the mode.
GL_NODES = 32

#: Newton steps at most when locating a mode or a tail point (each converges in a handful).
NEWTON_STEPS = 60

#: Elements (points x pairs) evaluated at once: bounds memory with many distinct pairs.
CHUNK = 2**16

#: Nats below its peak at which a conditional density's tabulation may end (e^-34 ~ 2e-15).
TAIL_NATS = 34.0

#: Columns of mixture components whose sigma is below this many grid spacings of mu are integrated
#: over mu, not summed (:func:`theta_mixture`): the sum's aliasing error there is 2 exp(-2 pi^2) ~ 5e-9.
NARROW_SPACINGS = 1.0

#: Gauss-Hermite nodes of that integral over t = (z - mu) / sigma.
HERMITE_NODES = 24

_GL_X, _GL_W = special.roots_legendre(GL_NODES)
#: Gauss-Legendre on (0, 1): nodes and log weights.
_T, _LOG_W = (1.0 + _GL_X) / 2, np.log(_GL_W / 2)
_GH_X, _GH_W = special.roots_hermitenorm(HERMITE_NODES)
#: Gauss-Hermite for a standard normal: nodes and log weights (summing to one).
_GH_T, _GH_LOG_W = _GH_X, np.log(_GH_W / math.sqrt(2 * math.pi))


def _log_expit(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def log_kernel(z, trials, successes, mu, sigma) -> np.ndarray:
    """``h(z) = y log expit z + (n - y) log expit(-z) - (z - mu)^2 / (2 sigma^2)``, broadcast."""
    return _kernel(np.asarray(z, float) - mu, trials, successes, mu, sigma)


# The functions below work on the offset d = z - mu, so that a tiny sigma (the grid reaches
# sigma = 0) keeps its digits: z itself cannot resolve a spread of 1e-17 around mu = -2.


def _kernel(d, trials, successes, mu, sigma) -> np.ndarray:
    """``h(mu + d)``."""
    # log expit(-z) = log expit(z) - z; both finite for finite z, so a zero count gives exactly 0.
    z = mu + d
    log_p = _log_expit(z)
    return successes * log_p + (trials - successes) * (log_p - z) - 0.5 * (d / sigma) ** 2


def _slope(d, trials, successes, mu, sigma) -> np.ndarray:
    """``h'(mu + d) = y expit(-z) - (n - y) expit(z) - d / sigma^2`` (``y - n p`` without cancellation)."""
    z = mu + d
    return successes * special.expit(-z) - (trials - successes) * special.expit(z) - d / sigma**2


def _offset_mode(n, y, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """``ẑ - mu`` and ``s`` (see :func:`mode`); arguments already broadcast float arrays."""
    precision = 1.0 / sigma**2
    lo, hi = -(n - y) / precision, y / precision
    empirical = np.log(y + 0.5) - np.log(n - y + 0.5)
    info = n * (y + 0.5) * (n - y + 0.5) / (n + 1.0) ** 2
    d = np.clip((empirical - mu) * info / (precision + info), lo, hi)
    previous = np.full(d.shape, np.inf)
    for _ in range(NEWTON_STEPS):
        slope = _slope(d, n, y, mu, sigma)
        lo, hi = np.where(slope > 0, d, lo), np.where(slope < 0, d, hi)
        p, q = special.expit(mu + d), special.expit(-(mu + d))
        newton = slope / (n * p * q + precision)
        scale = 1e-13 * np.maximum(sigma, np.abs(d))
        # Bisect where Newton leaves the bracket or stalls (|h'| not halved: it can cycle between
        # the two sides of a logistic step) -- but not once its step is down to rounding, where
        # |h'| is noise and halving it means nothing.
        slow = (np.abs(slope) > 0.5 * previous) & (np.abs(newton) > scale)
        previous = np.abs(slope)
        new = d + newton
        new = np.where((new < lo) | (new > hi) | slow, 0.5 * (lo + hi), new)
        step = np.abs(new - d)
        d = new
        if np.all(step <= scale):
            break
    p, q = special.expit(mu + d), special.expit(-(mu + d))
    return d, 1.0 / np.sqrt(n * p * q + precision)


def _broadcast(trials, successes, mu, sigma) -> list[np.ndarray]:
    return np.broadcast_arrays(
        np.asarray(trials, float),
        np.asarray(successes, float),
        np.asarray(mu, float),
        np.asarray(sigma, float),
    )


def mode(trials, successes, mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    """Mode ``ẑ`` of ``h`` and the Laplace scale ``s = (-h''(ẑ))^(-1/2)``, broadcast.

    Newton's method on ``h'`` (decreasing), safeguarded by the bracket
    ``[mu - (n - y) sigma^2, mu + y sigma^2]`` that holds the root (``|y - n expit z|`` is at most
    ``n - y`` below and ``y`` above): a step leaving the bracket is replaced by bisection, as is one
    that fails to halve ``|h'|`` (Press et al.'s ``rtsafe``). It starts from the precision-weighted
    blend of ``mu`` and the empirical logit.
    """
    n, y, mu, sigma = _broadcast(trials, successes, mu, sigma)
    d, s = _offset_mode(n, y, mu, sigma)
    return mu + d, s


def _tail_offset(n, y, mu, sigma, dhat, s, side: float, nats: float = TAIL_NATS) -> np.ndarray:
    """Offset ``d`` where ``h`` has dropped ``nats`` below ``h(ẑ)``, on the side ``sign(side)``.

    ``g(d) = h(mu + d) - h(ẑ) + nats`` is concave and monotone beyond the mode, so Newton's method
    from the Laplace guess ``d̂ ± sqrt(2 nats) s`` reaches the root in one step past it and then
    converges monotonically. The log-concave density beyond that point holds at most ``e^-nats`` of
    its peak times ``1 / |h'|`` there.
    """
    top = _kernel(dhat, n, y, mu, sigma)
    d = dhat + side * math.sqrt(2 * nats) * s
    for _ in range(NEWTON_STEPS):
        new = d - (_kernel(d, n, y, mu, sigma) - top + nats) / _slope(d, n, y, mu, sigma)
        step = np.abs(new - d)
        d = new
        if np.all(step <= 1e-6 * s):
            break
    return d


def _nodes(trials, successes, mu, sigma):
    """Quadrature nodes ``z`` (last axis) and ``log(weight) + h(z)``: Gauss-Legendre on each side."""
    n, y, mu, sigma = _broadcast(trials, successes, mu, sigma)
    dhat, s = _offset_mode(n, y, mu, sigma)
    lo = _tail_offset(n, y, mu, sigma, dhat, s, -1.0)
    hi = _tail_offset(n, y, mu, sigma, dhat, s, 1.0)
    # [d̂, lo] and [d̂, hi] each mapped to t in (0, 1): d = d̂ + (end - d̂) t
    d = np.concatenate(
        [dhat[..., None] + (lo - dhat)[..., None] * _T, dhat[..., None] + (hi - dhat)[..., None] * _T],
        axis=-1,
    )
    log_w = np.concatenate(
        [np.log(dhat - lo)[..., None] + _LOG_W, np.log(hi - dhat)[..., None] + _LOG_W], axis=-1
    )
    mu, sigma = mu[..., None], sigma[..., None]
    terms = log_w + _kernel(d, n[..., None], y[..., None], mu, sigma)
    return mu + d, terms


def log_integral(trials, successes, mu, sigma) -> np.ndarray:
    """``log ∫ e^{h(z)} dz`` by adaptive Gauss-Hermite, broadcast over all arguments."""
    return special.logsumexp(_nodes(trials, successes, mu, sigma)[1], axis=-1)


def log_group_marginal(trials, successes, mu, sigma) -> np.ndarray:
    """``log p(y | n, mu, sigma)``: the binomial integrated over ``logit theta ~ N(mu, sigma^2)``."""
    sigma = np.asarray(sigma, float)
    return (
        log_binomial_coefficient(trials, successes)
        + log_integral(trials, successes, mu, sigma)
        - np.log(sigma)
        - 0.5 * math.log(2 * math.pi)
    )


def conditional_moments(trials, successes, mu, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log ∫ e^h``, ``E[theta]`` and ``E[theta^2]`` under ``p(z | y, mu, sigma)``, same nodes."""
    z, terms = _nodes(trials, successes, mu, sigma)
    log_total = special.logsumexp(terms, axis=-1)
    w = np.exp(terms - log_total[..., None])
    theta = special.expit(z)
    return log_total, np.sum(w * theta, axis=-1), np.sum(w * theta * theta, axis=-1)


def to_sigma(w: np.ndarray) -> np.ndarray:
    """``sigma = c sinh(w)``."""
    return SIGMA_SCALE * np.sinh(w)


def to_w(sigma: np.ndarray) -> np.ndarray:
    """``w = asinh(sigma / c)``."""
    return np.arcsinh(np.asarray(sigma, float) / SIGMA_SCALE)


def log_dsigma_dw(w: np.ndarray) -> np.ndarray:
    """``log(c cosh w)``, the log-Jacobian of ``w -> sigma``, without overflow."""
    a = np.abs(w)
    return math.log(SIGMA_SCALE) + a + np.log1p(np.exp(-2 * a)) - math.log(2.0)


def log_prior_uv(priors: dict[str, Prior], u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Log prior density of ``(u, w) = (mu, asinh(sigma / c))``, Jacobian ``c cosh w`` included."""
    with np.errstate(invalid="ignore"):
        return priors["mu"].logpdf(u) + priors["sigma"].logpdf(to_sigma(w)) + log_dsigma_dw(w)


def log_likelihood(pairs: Pairs):
    """Build ``log p(y | mu, sigma) = sum_p count_p log p(y_p | n_p, mu, sigma)`` of ``(u, w)``.

    Vectorised over points of any shape; evaluated in chunks of :data:`CHUNK` points x pairs.
    """
    n, y = pairs.trials.astype(float), pairs.successes.astype(float)
    count = pairs.count.astype(float)
    const = float(count @ log_binomial_coefficient(pairs.trials, pairs.successes))

    def loglik(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        mu, sigma = u.ravel(), to_sigma(v.ravel())
        out = np.empty(mu.size)
        step = max(1, CHUNK // max(n.size, 1))
        for start in range(0, mu.size, step):
            part = slice(start, start + step)
            m, sg = mu[part, None], sigma[part, None]
            # sigma = 0 (the grid's boundary) is complete pooling at the rate expit(mu): the limit of
            # log ∫ e^h - log sigma, the binomial kernel at z = mu (plus the 2 pi term added below).
            zero = sg[:, 0] == 0
            terms = np.empty((sg.shape[0], n.size))
            terms[zero] = log_kernel(m[zero], n, y, m[zero], 1.0) + 0.5 * math.log(2 * math.pi)
            live = ~zero
            terms[live] = log_integral(n, y, m[live], sg[live]) - np.log(sg[live])
            out[part] = terms @ count
        return (out + const - 0.5 * math.log(2 * math.pi) * count.sum()).reshape(u.shape)

    return loglik


def log_posterior(priors: dict[str, Prior], pairs: Pairs):
    """Build the unnormalised log posterior of ``(u, w) = (mu, asinh(sigma / c))``, vectorised."""
    loglik = log_likelihood(pairs)

    def logp(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        prior = log_prior_uv(priors, u, v)
        out = np.full(u.shape, -np.inf)
        live = np.isfinite(prior)
        out[live] = prior[live] + loglik(u[live], v[live])
        return out

    return logp


def pooled_log_likelihood(pairs: Pairs) -> float:
    """Log-likelihood of complete pooling (``sigma -> 0``) at the best shared rate."""
    y = float(pairs.count @ pairs.successes)
    f = float(pairs.count @ (pairs.trials - pairs.successes))
    const = float(np.sum(pairs.count * log_binomial_coefficient(pairs.trials, pairs.successes)))
    if y + f == 0:
        return const
    rate = y / (y + f)
    return const + float(special.xlogy(y, rate) + special.xlog1py(f, -rate))


def theta_mixture(
    mu: np.ndarray,
    sigma: np.ndarray,
    weight: np.ndarray,
    trials: np.ndarray,
    successes: np.ndarray,
    *,
    spacing: float | None = None,
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    r"""Posterior of ``theta`` for each ``(n, y)`` row: a mixture over hyperparameter nodes.

    Component ``k`` of row ``p`` is ``p(z | y_p, mu_k, sigma_k) = e^{h(z)} / ∫ e^h``. The moments of
    ``theta = expit(z)`` are exact mixtures of the components' quadrature moments (smooth functions
    of ``mu`` and ``sigma``, so the grid's midpoint rule integrates them to its own accuracy).

    The density is another matter where ``sigma`` is small. As a function of ``mu`` the
    component's density at a point ``z`` is a Gaussian of width ``sigma``, and the midpoint rule
    over nodes ``spacing`` apart aliases it by ``2 exp(-2 pi^2 sigma^2 / spacing^2)`` (5e-9 at
    ``sigma = spacing``, order one below): the sum is a comb of spikes at the nodes, not the smooth
    mixture it stands for, and its quantiles converge only as fast as ``spacing`` shrinks. So in each
    column of cells (one ``sigma``) with ``sigma < NARROW_SPACINGS * spacing`` the sum over ``mu`` is
    replaced by the integral it approximates. With ``l(z) = y log expit z + (n - y) log expit(-z)``,

    .. math::

        \sum_k w_k\, p(z | y, \mu_k, \sigma) = e^{l(z)} \sum_k \text{spacing}\; e^{A_k}
            N(z | \mu_k, \sigma^2) \approx e^{l(z)} \int e^{A(\mu)} N(z | \mu, \sigma^2)\, d\mu,
        \qquad A_k = \log w_k + \log(\sigma \sqrt{2\pi}) - \log \int e^{h_k} - \log \text{spacing},

    where ``e^{A(mu)}`` is the posterior of the hyperparameters without the row's own likelihood
    (the other groups' and the prior's: smooth on the scale the grid resolves). ``A`` is the cubic
    spline through the column's nodes (``-inf`` beyond half a spacing from its outer nodes, where
    the grid's cells end) and the integral over ``t = (z - mu) / sigma`` Gauss-Hermite of
    :data:`HERMITE_NODES` nodes. Columns with ``sigma`` of ``spacing`` or more keep the sum.

    The density is tabulated on the logit scale ``z`` from the leftmost to the rightmost point at
    which a component has fallen :data:`TAIL_NATS` below its peak, at a spacing of at most 1/8 of
    the mixture's Laplace standard deviation and 1/4 of the width below which only 1% of the
    components' weight lies (:func:`~poolwise._core.mixture.narrow_width`; 128 to 4096 nodes). A
    component's width is its Laplace scale, or in a column integrated over ``mu`` the spread of that
    column's mixture.

    Parameters
    ----------
    mu, sigma, weight : ndarray
        Hyperparameter nodes and their posterior probabilities, shape ``(K,)``.
    trials, successes : ndarray
        Shape ``(P,)``; ``(0, 0)`` gives the predictive of a new group, ``logit theta ~`` the
        mixture of ``N(mu_k, sigma_k^2)``.
    spacing : float, optional
        The nodes' spacing in ``mu``, if they lie on a lattice of such spacing in each column of
        equal ``sigma`` (a grid's pruned cells); without it every column keeps the sum.

    Returns
    -------
    mean, sd : ndarray
        Mixture moments of ``theta``, shape ``(P,)``.
    marginal : GridMarginal
        The mixture density on the logit scale, for quantiles and intervals.
    """
    n = np.asarray(trials, float)[:, None]
    y = np.asarray(successes, float)[:, None]
    rows = n.shape[0]
    log_total, first, second = np.empty((3, rows, weight.size))
    block = max(1, CHUNK // rows)  # rows x block x 2 GL_NODES elements per temporary
    for k in range(0, weight.size, block):
        part = slice(k, k + block)
        log_total[:, part], first[:, part], second[:, part] = conditional_moments(
            n, y, mu[None, part], sigma[None, part]
        )
    mean = first @ weight
    var = np.maximum(second @ weight - mean**2, 0.0)
    n, y, m, sg = _broadcast(n, y, mu[None, :], sigma[None, :])
    dhat, s = _offset_mode(n, y, m, sg)
    zhat = m + dhat
    centre = zhat @ weight
    sd_mix = np.sqrt(np.maximum((s**2 + (zhat - centre[:, None]) ** 2) @ weight, 0.0))
    columns = _NarrowColumns(mu, sigma, weight, log_total, spacing)
    width = s if spacing is None else _column_spread(sigma, weight, zhat, s)
    lo = (m + _tail_offset(n, y, m, sg, dhat, s, -1.0)).min(axis=1)
    hi = (m + _tail_offset(n, y, m, sg, dhat, s, 1.0)).max(axis=1)
    step = np.minimum(sd_mix / 8, mixturelib.narrow_width(width, weight) / 4)
    need, h = mixturelib.node_count(lo, hi, step)
    wide = np.flatnonzero(~columns.narrow)
    pdf = np.zeros((lo.size, need.max()))
    for p in range(lo.size):  # a row at a time, components in blocks of CHUNK * 64 elements
        z = (lo[p] + h[p] * np.arange(need[p]))[:, None]
        block = max(1, CHUNK * 64 // need[p])
        for k in range(0, wide.size, block):
            part = wide[k : k + block]
            log_f = log_kernel(z, n[p, part], y[p, part], m[p, part], sg[p, part]) - log_total[p, part]
            pdf[p, : need[p]] += np.exp(log_f) @ weight[part]
        if columns.narrow.any():
            pdf[p, : need[p]] += columns.density(p, z[:, 0], n[p, 0], y[p, 0])
    marginal = GridMarginal(lo, h, pdf, special.expit, _log_dtheta_dz, special.logit)
    return mean, np.sqrt(var), marginal


def _column_spread(sigma, weight, zhat, s) -> np.ndarray:
    """Return the standard deviation of the mixture of ``z`` in each cell's column (equal ``sigma``)."""
    out = np.empty_like(s)
    for value in np.unique(sigma):
        cells = np.flatnonzero(sigma == value)
        w = weight[cells] / weight[cells].sum()
        centre = zhat[:, cells] @ w
        spread = np.sqrt(np.maximum((s[:, cells] ** 2 + (zhat[:, cells] - centre[:, None]) ** 2) @ w, 0.0))
        out[:, cells] = spread[:, None]
    return out


class _NarrowColumns:
    """The columns of cells that :func:`theta_mixture` integrates over ``mu``, splined per row."""

    def __init__(self, mu, sigma, weight, log_total, spacing):
        narrow = np.zeros(mu.size, bool)
        if spacing is not None:
            narrow = (sigma < NARROW_SPACINGS * spacing) & (weight > 0)
        self.cells, knots, splines = [], [], []
        for value in np.unique(sigma[narrow]):
            cells = np.flatnonzero(narrow & (sigma == value))
            cells = cells[np.argsort(mu[cells])]
            if cells.size < 2:  # a lone cell has no neighbour to spline with: it keeps the sum
                narrow[cells] = False
                continue
            a = np.log(weight[cells]) + np.log(value * math.sqrt(2 * math.pi)) - log_total[:, cells]
            self.cells.append(cells)
            knots.append(mu[cells])
            splines.append(interpolate.CubicSpline(mu[cells], a - math.log(spacing), axis=1).c)
        self.narrow = narrow
        if not self.cells:
            return
        self.sigma = np.array([sigma[c[0]] for c in self.cells])
        # Column j's knots are shifted by j * shift, so that one sorted array serves all columns.
        self.shift = float(mu.max() - mu.min()) + 4 * spacing + 1.0
        shifted = [k[:-1] + j * self.shift for j, k in enumerate(knots)]
        self.left = np.concatenate(shifted)
        self.knot = np.concatenate([k[:-1] for k in knots])
        sizes = np.array([k.size - 1 for k in knots])
        self.first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.last = self.first + sizes - 1
        self.lo = np.array([k[0] for k in knots]) - spacing / 2
        self.hi = np.array([k[-1] for k in knots]) + spacing / 2
        self.coef = np.concatenate(splines, axis=1)  # (4, intervals, rows)

    def density(self, row: int, z: np.ndarray, trials: float, successes: float) -> np.ndarray:
        """Return the columns' density at ``z`` for one row, ``e^{l(z)} ∫ e^{A} N(z | mu, sigma^2) dmu``."""
        out = np.empty(z.size)
        step = max(1, CHUNK * 16 // (self.sigma.size * HERMITE_NODES))
        for start in range(0, z.size, step):
            part = z[start : start + step]
            x = part[:, None, None] - self.sigma[None, :, None] * _GH_T  # (z, columns, nodes)
            column = np.arange(self.sigma.size)[None, :, None]
            pos = np.searchsorted(self.left, x + column * self.shift, side="right") - 1
            pos = np.clip(pos, self.first[column], self.last[column])
            dt = x - self.knot[pos]
            c = self.coef[:, pos, row]
            value = ((c[0] * dt + c[1]) * dt + c[2]) * dt + c[3]
            inside = (x >= self.lo[column]) & (x <= self.hi[column])
            value = np.where(inside, value + _GH_LOG_W, -np.inf)
            log_l = successes * _log_expit(part) + (trials - successes) * _log_expit(-part)
            out[start : start + step] = np.exp(log_l + special.logsumexp(value, axis=(1, 2)))
        return out


def _log_dtheta_dz(z: np.ndarray) -> np.ndarray:
    return _log_expit(z) + _log_expit(-z)


def sample_conditional(
    trials: np.ndarray, successes: np.ndarray, mu: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Exact draws of ``z ~ p(z | y, mu, sigma)``, one per element of the broadcast arguments.

    Rejection from an envelope of the log-concave density: flat at its peak ``e^{h(ẑ)}`` between
    the points ``z_-, z_+`` where ``h`` has fallen about 1 nat, and the tangent exponentials of
    ``h`` there beyond them (a concave ``h`` lies below its tangents). About 3 in 4 proposals are accepted;
    the loop repeats for the rejected ones only.
    """
    arrays = _broadcast(trials, successes, mu, sigma)
    shape = arrays[0].shape
    n, y, mu, sigma = (a.ravel() for a in arrays)
    dhat, s = _offset_mode(n, y, mu, sigma)
    top = _kernel(dhat, n, y, mu, sigma)
    left = _tail_offset(n, y, mu, sigma, dhat, s, -1.0, nats=1.0)
    right = _tail_offset(n, y, mu, sigma, dhat, s, 1.0, nats=1.0)
    slope_l, slope_r = _slope(left, n, y, mu, sigma), -_slope(right, n, y, mu, sigma)
    # Each tail's envelope is the tangent at its end point (h there, not top - 1: the Newton root is
    # only close), which a concave h never exceeds.
    drop_l, drop_r = _kernel(left, n, y, mu, sigma) - top, _kernel(right, n, y, mu, sigma) - top
    # Envelope areas relative to e^{top}: the flat middle, and each tail e^{drop} / |h'| there.
    areas = np.stack([right - left, np.exp(drop_l) / slope_l, np.exp(drop_r) / slope_r], axis=1)
    cumulative = np.cumsum(areas, axis=1) / areas.sum(axis=1)[:, None]
    out = np.empty(n.size)
    idx = np.arange(n.size)
    while idx.size:
        piece = (rng.random(idx.size)[:, None] > cumulative[idx, :2]).sum(axis=1)
        e = rng.exponential(size=idx.size)
        lf, rt = left[idx], right[idx]
        d = np.where(
            piece == 0,
            lf + (rt - lf) * rng.random(idx.size),
            np.where(piece == 1, lf - e / slope_l[idx], rt + e / slope_r[idx]),
        )
        # log envelope: top in the middle, the tangent (drop - |h'| * distance) in a tail
        drop = np.where(piece == 1, drop_l[idx], drop_r[idx])
        envelope = top[idx] + np.where(piece == 0, 0.0, drop - e)
        accept = np.log(rng.random(idx.size)) <= _kernel(d, n[idx], y[idx], mu[idx], sigma[idx]) - envelope
        out[idx[accept]] = mu[idx[accept]] + d[accept]
        idx = idx[~accept]
    return out.reshape(shape)


# --- The family contract (issue 14): what the fitting layer asks of every family by this name. ---


def draw_new_group(rng: np.random.Generator, hyper: dict[str, np.ndarray]) -> np.ndarray:
    """Draw an unseen group's ``theta`` once per draw of the hyperparameters ``hyper`` (by name)."""
    return special.expit(rng.normal(hyper["mu"], hyper["sigma"]))


# --- What the analysis layer asks of every family by this name (issue 14). ---

#: Whether the exact engine centres its grid on the data (so that a partial fit needs a group with
#: data): no, the grid's box is fixed (:data:`LIMITS`).
CENTRED_ON_DATA = False

#: The hyperpriors of a sensitivity analysis (:func:`prior_alternatives`): the default (McElreath's
#: intercept, a brms-style HalfNormal(1) on sigma); rstanarm's decov for one varying intercept,
#: Exponential(1); a heavier-tailed HalfCauchy(1); a wider HalfNormal(2.5); and rstanarm's wider
#: intercept prior Normal(0, 2.5).
ALTERNATIVES: dict[str, dict] = {
    "mu ~ Normal(0, 1.5), sigma ~ HalfNormal(1) (default)": {
        "mu": pr.Normal(0, 1.5),
        "sigma": pr.HalfNormal(1),
    },
    "sigma ~ Exponential(1) (rstanarm)": {"mu": pr.Normal(0, 1.5), "sigma": pr.Exponential(1)},
    "sigma ~ HalfCauchy(1) (heavier tail)": {"mu": pr.Normal(0, 1.5), "sigma": pr.HalfCauchy(1)},
    "sigma ~ HalfNormal(2.5) (wider)": {"mu": pr.Normal(0, 1.5), "sigma": pr.HalfNormal(2.5)},
    "mu ~ Normal(0, 2.5) (rstanarm's intercept)": {"mu": pr.Normal(0, 2.5), "sigma": pr.HalfNormal(1)},
}


def prior_alternatives(trials: np.ndarray, successes: np.ndarray) -> dict[str, dict]:
    """Return the hyperpriors to refit a partial-pooling fit under: :data:`ALTERNATIVES`.

    Parameters
    ----------
    trials, successes : ndarray
        The data's size and count columns (scale-free here: log-odds need no scaling).

    Returns
    -------
    dict
        Label -> priors, as :func:`poolwise.fit` takes them.
    """
    return ALTERNATIVES


def log_marginal(successes, trials, mu, sigma) -> np.ndarray:
    """``log p(y | n, mu, sigma)`` in the argument order the conjugate families' ``log_marginal`` has.

    Parameters
    ----------
    successes, trials : array-like
        A group's data.
    mu, sigma : array-like
        The hyperparameters (broadcast against the data).

    Returns
    -------
    ndarray
        :func:`log_group_marginal`.
    """
    return log_group_marginal(trials, successes, mu, sigma)


def shrinkage_weight(table, posterior) -> np.ndarray:
    """``1 - Var(logit theta_i | y) / Var(logit theta_i | y_i)``, clipped to [0, 1].

    No closed-form weight exists given ``(mu, sigma)``: on the log-odds scale, where the population
    is normal, this is the share of the own-data variance that pooling removed, the latter under no
    pooling's ``Beta(1/2 + y, 1/2 + n - y)`` (``trigamma(a) + trigamma(b)``). For a normal
    population and a normal likelihood it is exactly the weight of the population. A group with no
    trials has weight 1.

    Parameters
    ----------
    table : pandas.DataFrame
        The group table (its ``successes`` and ``trials``).
    posterior : poolwise.analysis.shrinkage.PopulationPosterior
        The partial fit (``logit_variance()``: each group's ``Var(logit theta_i | y)``).

    Returns
    -------
    ndarray
        One weight per group, in the table's order.
    """
    y, n = table["successes"].to_numpy(float), table["trials"].to_numpy(float)
    alone = special.polygamma(1, 0.5 + y) + special.polygamma(1, 0.5 + n - y)
    pooled = posterior.logit_variance()
    return np.where(n > 0, np.clip(1.0 - pooled / alone, 0.0, 1.0), 1.0)


def _heavy(weight: np.ndarray) -> np.ndarray:
    """Return the nodes that can move any probability (weight above 1e-14 of the largest)."""
    return weight > 1e-14 * weight.max()


def new_group(
    mu: np.ndarray, sigma: np.ndarray, weight: np.ndarray, trials: np.ndarray, successes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Posterior of ``theta`` for a group with ``successes`` in ``trials``, over the nodes' weights.

    Parameters
    ----------
    mu, sigma, weight : ndarray
        The hyperparameters' nodes, with the weights the group's own data gave them.
    trials, successes : ndarray
        The group's data, shape ``(1,)``.

    Returns
    -------
    mean, sd, marginal
        As :func:`theta_mixture`, over the nodes that carry weight.
    """
    keep = _heavy(weight)
    return theta_mixture(mu[keep], sigma[keep], weight[keep] / weight[keep].sum(), trials, successes)


def predictive_pmf(trials: int, mu: np.ndarray, sigma: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``P(y_new = k)``, ``k = 0..n``: ``sum_g w_g p(k | n, mu_g, sigma_g)``.

    Each term is the quadrature of the binomial over ``logit theta ~ N(mu_g, sigma_g^2)``
    (:func:`log_group_marginal`), summed over the nodes that carry weight.

    Parameters
    ----------
    trials : int
        The new group's trials ``n``.
    mu, sigma, weight : ndarray
        The hyperparameters' nodes and their posterior probabilities.

    Returns
    -------
    ndarray
        Unnormalised probabilities, shape ``(n + 1,)``.
    """
    keep = _heavy(weight)
    mu, sigma, weight = mu[keep], sigma[keep], weight[keep]
    k = np.arange(trials + 1)
    pmf = np.zeros(trials + 1)
    chunk = max(1, 200_000 // (trials + 1))
    for start in range(0, mu.size, chunk):
        part = slice(start, start + chunk)
        log_p = log_group_marginal(trials, k[None, :], mu[part, None], sigma[part, None])
        pmf += weight[part] @ np.exp(log_p)
    return pmf
