r"""Binomial counts with a Beta population: the beta-binomial family.

Model (partial pooling)::

    y_i | theta_i    ~ Binomial(n_i, theta_i)
    theta_i | a, b   ~ Beta(alpha, beta)
    (alpha, beta)    ~ p(alpha, beta)   # or priors on mu = alpha/(alpha+beta), kappa = alpha+beta

Integrating ``theta_i`` out gives the beta-binomial marginal likelihood

.. math::

    p(y | alpha, beta) = \prod_i \binom{n_i}{y_i} B(alpha + y_i, beta + n_i - y_i) / B(alpha, beta),

and given ``(alpha, beta)`` each group's posterior is ``Beta(alpha + y_i, beta + n_i - y_i)``.
The hyperparameters are integrated in the unconstrained coordinates ``u = logit(mu)`` and
``v = log(kappa)``, where ``alpha = kappa mu`` and ``beta = kappa (1 - mu)``; the Jacobian of
``(u, v) -> (alpha, beta)`` is ``alpha * beta``.

No and complete pooling are conjugate: ``theta_i ~ Beta(a0 + y_i, b0 + n_i - y_i)`` and
``theta ~ Beta(a0 + sum y, b0 + sum (n - y))``.

NumPy/SciPy only. ``n - y`` is always formed in integers before a hyperparameter is added, so that a
group with all successes and a tiny ``beta`` keeps its precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .._core.grid import Box
from .._core.marginal import BetaRows, GridMarginal
from ..priors import Beta, JointPrior, Prior

#: Search limits for (logit mu, log kappa): kappa from 2e-9 to 1e11 covers every proper posterior
#: seen in practice; a posterior still heavy at these edges is improper or prior-dominated.
LIMITS = Box(-30.0, 30.0, -20.0, 25.0)


@dataclass(frozen=True)
class Pairs:
    """Distinct ``(trials, successes)`` pairs: the likelihood depends on the data only through them.

    ``inverse[i]`` is the pair of group ``i``; ``count[p]`` the number of groups with pair ``p``.
    """

    trials: np.ndarray
    successes: np.ndarray
    count: np.ndarray
    inverse: np.ndarray

    @classmethod
    def from_counts(cls, trials: np.ndarray, successes: np.ndarray) -> Pairs:
        """Compress per-group counts."""
        trials, successes = np.asarray(trials, np.int64), np.asarray(successes, np.int64)
        if trials.size and trials.max() < 2**31:
            # One int64 key per pair sorts ~10x faster than np.unique over rows.
            key = (trials << 32) | successes
            unique, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
            return cls(unique >> 32, unique & (2**32 - 1), count, inverse.ravel())
        stacked = np.stack([trials, successes], axis=1)
        unique, inverse, count = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
        return cls(unique[:, 0], unique[:, 1], count, inverse.ravel())

    @property
    def failures(self) -> np.ndarray:
        """``n - y`` per pair, as integers."""
        return self.trials - self.successes


def log_binomial_coefficient(trials: np.ndarray, successes: np.ndarray) -> np.ndarray:
    """``log C(n, y)``."""
    n, y = np.asarray(trials, float), np.asarray(successes, float)
    return special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)


def log_beta_binomial(
    successes: np.ndarray, trials: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Beta-binomial log-pmf ``log C(n,y) + log B(alpha+y, beta+n-y) - log B(alpha, beta)``."""
    y = np.asarray(successes, np.int64)
    failures = np.asarray(trials, np.int64) - y
    return (
        log_binomial_coefficient(trials, successes)
        + special.betaln(alpha + y, beta + failures)
        - special.betaln(alpha, beta)
    )


def alpha_beta(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)`` from ``u = logit(mu)``, ``v = log(kappa)``, computed in log space."""
    return np.exp(v - np.logaddexp(0.0, -u)), np.exp(v - np.logaddexp(0.0, u))


def log_prior_uv(priors: dict[str, Prior | JointPrior], u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Log prior density of ``(u, v)``, Jacobian included.

    ``priors`` holds either ``alpha`` and ``beta``, ``mu`` and ``kappa``, or ``alpha,beta``.
    """
    log_mu, log_1m_mu = -np.logaddexp(0.0, -u), -np.logaddexp(0.0, u)
    if "mu" in priors:
        # p(u, v) = p_mu(mu) p_kappa(kappa) * mu (1 - mu) * kappa
        return (
            priors["mu"].logpdf(np.exp(log_mu)) + priors["kappa"].logpdf(np.exp(v)) + log_mu + log_1m_mu + v
        )
    alpha, beta = np.exp(v + log_mu), np.exp(v + log_1m_mu)
    # p(u, v) = p(alpha, beta) * alpha * beta
    jacobian = 2 * v + log_mu + log_1m_mu
    if "alpha,beta" in priors:
        return priors["alpha,beta"].logpdf(alpha, beta) + jacobian
    return priors["alpha"].logpdf(alpha) + priors["beta"].logpdf(beta) + jacobian


#: Trials above which a pair's likelihood term is computed by ``betaln`` rather than by the
#: shared log-gamma sums, whose terms (~n log n) would then lose digits to cancellation.
LARGE_TRIALS = 100_000


def _weighted_values(values: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-zero ``values`` and the total ``count`` behind each."""
    keep = values > 0
    distinct, inverse = np.unique(values[keep], return_inverse=True)
    return distinct.astype(float), np.bincount(inverse, weights=count[keep], minlength=distinct.size)


def log_likelihood(pairs: Pairs):
    """Build the beta-binomial log marginal likelihood of ``(u, v)`` as a vectorised function.

    ``log B(alpha + y, beta + f) - log B(alpha, beta)`` splits into
    ``[lgamma(alpha + y) - lgamma(alpha)] + [lgamma(beta + f) - lgamma(beta)]
    - [lgamma(kappa + n) - lgamma(kappa)]``; each bracket depends on one count only, so summed over
    groups it costs one ``lgamma`` per distinct ``y``, ``f`` and ``n`` rather than one ``betaln`` per
    distinct pair (a bracket with a zero count is exactly zero and skipped, which keeps an
    all-success group exact at tiny ``beta``). Pairs with more than :data:`LARGE_TRIALS` trials use
    ``betaln``, which keeps its precision there.
    """
    const = float(np.sum(pairs.count * log_binomial_coefficient(pairs.trials, pairs.successes)))
    count = pairs.count.astype(float)
    large = pairs.trials > LARGE_TRIALS
    small = ~large
    ys, cy = _weighted_values(pairs.successes[small], count[small])
    fs, cf = _weighted_values(pairs.failures[small], count[small])
    ns, cn = _weighted_values(pairs.trials[small], count[small])
    y_big, f_big, c_big = pairs.successes[large], pairs.failures[large], count[large]

    def loglik(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        alpha, beta = alpha_beta(u, v)
        kappa = np.exp(v)
        a, b, k = alpha[..., None], beta[..., None], kappa[..., None]
        total = (
            special.gammaln(a + ys) @ cy
            - special.gammaln(alpha) * cy.sum()
            + special.gammaln(b + fs) @ cf
            - special.gammaln(beta) * cf.sum()
            - special.gammaln(k + ns) @ cn
            + special.gammaln(kappa) * cn.sum()
        )
        if c_big.size:
            terms = special.betaln(a + y_big, b + f_big) - special.betaln(a, b)
            total = total + terms @ c_big
        return total + const

    return loglik


def log_posterior(priors: dict[str, Prior | JointPrior], pairs: Pairs):
    """Build the unnormalised log posterior of ``(u, v)`` as a vectorised function."""
    loglik = log_likelihood(pairs)

    def logp(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        with np.errstate(invalid="ignore"):
            return log_prior_uv(priors, u, v) + loglik(u, v)

    return logp


def type2_ml(pairs: Pairs) -> tuple[float, float]:
    """``(u, v)`` maximising the marginal likelihood (empirical Bayes), within :data:`LIMITS`."""
    from scipy import optimize

    from .._core.grid import find_mode

    loglik = log_likelihood(pairs)
    start = find_mode(loglik, LIMITS)
    bounds = [(LIMITS.u_lo, LIMITS.u_hi), (LIMITS.v_lo, LIMITS.v_hi)]
    result = optimize.minimize(
        lambda x: -float(loglik(x[:1], x[1:])[0]),
        start,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-8, "fatol": 1e-10},
    )
    return float(result.x[0]), float(result.x[1])


def pooled_log_likelihood(pairs: Pairs) -> float:
    """Log-likelihood in the complete-pooling limit (kappa -> inf) at the best shared rate."""
    y = float(pairs.count @ pairs.successes)
    f = float(pairs.count @ pairs.failures)
    const = float(np.sum(pairs.count * log_binomial_coefficient(pairs.trials, pairs.successes)))
    if y + f == 0:
        return const
    rate = y / (y + f)
    return const + float(special.xlogy(y, rate) + special.xlog1py(f, -rate))


def hyper_draws(u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Compute the reported hyperparameters at points ``(u, v)``."""
    alpha, beta = alpha_beta(u, v)
    return {"alpha": alpha, "beta": beta, "mu": special.expit(u), "kappa": np.exp(v)}


#: Weight of the narrowest mixture components that the logit-scale spacing may leave coarse.
NARROW_MASS = 0.01


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def _tail_point(a, b, lbeta, weight, log_mass: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, a ``z`` in ``[lo, hi]`` below which the mixture holds at most ``exp(log_mass)``.

    Bisection (to 1e-6 of the bracket) on the weighted sum of the per-component bounds, which is
    increasing in ``z``.
    """
    base = np.log(weight)[None, :] - np.log(a) - lbeta + np.where(b < 1, np.log(2.0), 0.0)
    for _ in range(20):
        mid = (lo + hi) / 2
        bound = np.minimum(base + a * _log_sigmoid(mid)[:, None], 0.0)
        bound = np.where((b >= 1) | (mid[:, None] <= 0), bound, 0.0)
        top = bound.max(axis=1)
        mass = top + np.log(np.exp(bound - top[:, None]).sum(axis=1))
        below = mass <= log_mass
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return lo


def theta_mixture(
    alpha: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    trials: np.ndarray,
    successes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Posterior of ``theta`` for each ``(n, y)`` row: a mixture of Betas over hyperparameter nodes.

    The density is tabulated on the logit scale, where every Beta is smooth with exponential tails,
    over the range that holds all but 2e-12 of the mixture's mass, at a spacing of at most 1/8 of
    the mixture's standard deviation and 1/4 of the standard deviation below which only
    :data:`NARROW_MASS` of the components' weight lies.

    Parameters
    ----------
    alpha, beta, weight : ndarray
        Hyperparameter nodes and their posterior probabilities, shape ``(K,)``.
    trials, successes : ndarray
        Shape ``(P,)``; ``(0, 0)`` gives the predictive of a new group.

    Returns
    -------
    mean, sd : ndarray
        Exact mixture moments, shape ``(P,)``.
    marginal : GridMarginal
        The mixture density on the logit scale, for quantiles and intervals.
    """
    a = alpha[None, :] + successes[:, None]
    b = beta[None, :] + (trials - successes)[:, None]
    s = a + b
    m = a / s
    mean = m @ weight
    var = (a * b / (s * s * (s + 1)) + (m - mean[:, None]) ** 2) @ weight
    lbeta = special.betaln(a, b)
    # Moments of z = logit(theta): E = digamma(a) - digamma(b), Var = trigamma(a) + trigamma(b).
    mz = special.digamma(a) - special.digamma(b)
    vz = special.polygamma(1, a) + special.polygamma(1, b)
    mean_z = mz @ weight
    sd_mix = np.sqrt(np.maximum((vz + (mz - mean_z[:, None]) ** 2) @ weight, 0.0))
    # The spacing must resolve the components that carry the mass; a weighted mean of their sds
    # would be inflated by the wide logit tails of components with a tiny a or b.
    sd_z = np.sqrt(vz)
    order = np.argsort(sd_z, axis=1)
    cumulative = np.cumsum(weight[order], axis=1)
    first = np.argmax(cumulative >= NARROW_MASS, axis=1)
    sd_narrow = np.take_along_axis(sd_z, np.take_along_axis(order, first[:, None], axis=1), axis=1)[:, 0]
    wide = 50.0 * sd_mix + 50.0
    log_mass = np.log(1e-12)
    lo = _tail_point(a, b, lbeta, weight, log_mass, mean_z - wide, mean_z)
    hi = -_tail_point(b, a, lbeta, weight, log_mass, -mean_z - wide, -mean_z)
    step = np.minimum(sd_mix / 8, sd_narrow / 4)
    # Each row gets the nodes it needs; shorter rows are padded with zero density beyond their end.
    need = np.clip(np.ceil((hi - lo) / step), 128, 4096).astype(int) + 1
    h = (hi - lo) / (need - 1)
    pdf = np.zeros((lo.size, need.max()))
    for p in range(lo.size):  # rows one at a time keep memory at X*K, not P*X*K
        z = lo[p] + h[p] * np.arange(need[p])
        # log density of z under Beta(a, b) is a log s(z) + b log s(-z) - log B(a, b): one product.
        basis = np.stack([_log_sigmoid(z), _log_sigmoid(-z), np.ones(z.size)], axis=1)
        pdf[p, : z.size] = np.exp(basis @ np.stack([a[p], b[p], -lbeta[p]])) @ weight
    marginal = GridMarginal(lo, h, pdf, special.expit, _log_dtheta_dz, special.logit)
    return mean, np.sqrt(np.maximum(var, 0.0)), marginal


def _log_dtheta_dz(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)


def conjugate(prior: Beta, trials: np.ndarray, successes: np.ndarray) -> BetaRows:
    """Closed-form posterior ``Beta(a0 + y, b0 + n - y)`` for each row."""
    failures = np.asarray(trials, np.int64) - np.asarray(successes, np.int64)
    return BetaRows(prior.alpha + np.asarray(successes, float), prior.beta + failures.astype(float))


def binomial_logpmf(successes: np.ndarray, trials: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Pointwise ``log Binomial(y | n, theta)``, broadcasting over draws."""
    y = np.asarray(successes, np.int64)
    failures = np.asarray(trials, np.int64) - y
    return (
        log_binomial_coefficient(trials, successes)
        + special.xlogy(y, theta)
        + special.xlog1py(failures, -theta)
    )
