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

What the analysis layer asks every family by the same name: ``shrinkage_weight`` (the population's
weight against a group's own data), ``prior_alternatives`` (the hyperpriors of a sensitivity
analysis), ``new_group`` and ``predictive_pmf`` (a new group's ``theta`` and counts, mixed over the
hyperparameters' nodes), and the constant :data:`CENTRED_ON_DATA`.

NumPy/SciPy only. ``n - y`` is always formed in integers before a hyperparameter is added, so that a
group with all successes and a tiny ``beta`` keeps its precision.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .. import priors as pr
from .._core import mixture as mixturelib
from .._core.grid import Box, HyperLine
from .._core.grid import log_posterior as log_posterior_of
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

    @property
    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """``(trials, successes)``, in the order :meth:`from_counts` takes them."""
        return self.trials, self.successes

    def with_new_group(self) -> Pairs:
        """Add a last pair with no trials: the predictive of an unseen group."""
        return Pairs(
            np.append(self.trials, 0), np.append(self.successes, 0), np.append(self.count, 0), self.inverse
        )


#: The shape hyperparameter (complete pooling is its limit at infinity), as warnings name it.
SHAPE_NAME = "kappa"


def limits(pairs: Pairs) -> Box:
    """Search limits for ``(logit mu, log kappa)``: :data:`LIMITS`, whatever the data."""
    return LIMITS


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
    return log_posterior_of(functools.partial(log_prior_uv, priors), log_likelihood(pairs))


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


def _log_expit(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def _log_dexpit(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)


def _identity(z: np.ndarray) -> np.ndarray:
    return z


#: The reported hyperparameters as lines of the plane: ``alpha``, ``beta``, ``kappa`` are
#: ``exp(v + c(u))`` with ``c = log expit(u)``, ``log expit(-u)`` and ``0``; ``mu = expit(u)``.
HYPER_LINES = {
    "alpha": HyperLine(
        lambda u, v: v + _log_expit(u), lambda s, t: (t, s - _log_expit(t)), False, np.exp, _identity, np.log
    ),
    "beta": HyperLine(
        lambda u, v: v + _log_expit(-u),
        lambda s, t: (t, s - _log_expit(-t)),
        False,
        np.exp,
        _identity,
        np.log,
    ),
    "mu": HyperLine(lambda u, v: u, lambda s, t: (s, t), True, special.expit, _log_dexpit, special.logit),
    "kappa": HyperLine(lambda u, v: v, lambda s, t: (t, s), False, np.exp, _identity, np.log),
}


def draw(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, size=None) -> np.ndarray:
    """Draws of the rate from ``Beta(a, b)``."""
    return rng.beta(a, b, size=size)


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def moments_exist(pairs: Pairs) -> np.ndarray:
    """Per pair, whether its rate's posterior mean is sure to be finite: always, in [0, 1]."""
    return np.ones(pairs.count.size, bool)


def posterior_params(alpha: np.ndarray, beta: np.ndarray, pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's conjugate ``Beta(alpha + y, beta + n - y)`` at every node, shapes ``(P, K)``."""
    return alpha[None, :] + pairs.successes[:, None], beta[None, :] + pairs.failures[:, None]


def theta_mixture(
    alpha: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    trials: np.ndarray,
    successes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Posterior of ``theta`` for each ``(n, y)`` row: a mixture of Betas over hyperparameter nodes.

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
        The mixture density on the logit scale (see :mod:`poolwise._core.mixture`).
    """
    successes = np.asarray(successes, np.int64)
    a = alpha[None, :] + successes[:, None]
    b = beta[None, :] + (np.asarray(trials, np.int64) - successes)[:, None]
    return mixture(a, b, weight)


def mixture(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Mixtures of ``Beta(a[p, k], b[p, k])`` with weights ``weight[k]``: see :func:`theta_mixture`.

    Tabulated on the logit scale, where each Beta is log-concave, by
    :func:`poolwise._core.mixture.stretch`: its heavy tails (``a`` or ``b`` near 0, mass piled at
    a bound) and its narrow components (a billion trials) both resolved.
    """
    s = a + b
    m = a / s
    mean = m @ weight
    var = (a * b / (s * s * (s + 1)) + (m - mean[:, None]) ** 2) @ weight
    lbeta = special.betaln(a, b)
    # Moments of z = logit(theta): E = digamma(a) - digamma(b), Var = trigamma(a) + trigamma(b).
    mz = special.digamma(a) - special.digamma(b)
    sz = np.sqrt(special.polygamma(1, a) + special.polygamma(1, b))
    nodes = mixturelib.stretch(mz, sz, weight)

    # log density of z under Beta(a, b) is a log s(z) + b log s(-z) - log B(a, b): one product.
    def log_density(z: np.ndarray, row: int, k: np.ndarray) -> np.ndarray:
        basis = np.stack([_log_sigmoid(z), _log_sigmoid(-z), np.ones(z.size)], axis=1)
        return basis @ np.stack([a[row, k], b[row, k], -lbeta[row, k]])

    pdf = mixturelib.tabulate(nodes, log_density, weight, mz, sz)
    marginal = GridMarginal(
        nodes.y0,
        nodes.h,
        pdf,
        special.expit,
        _log_dtheta_dz,
        special.logit,
        loc=nodes.centre,
        scale=nodes.scale,
    )
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


#: The marginal pmf of a group's counts given the hyperparameters (the name every family shares).
log_marginal = log_beta_binomial


def component_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of ``Beta(a, b)``."""
    return a / (a + b)


# --- The family contract (issue 14): what the fitting layer asks of every family by this name. ---


def draw_new_group(rng: np.random.Generator, hyper: dict[str, np.ndarray]) -> np.ndarray:
    """Draw an unseen group's ``theta`` once per draw of the hyperparameters ``hyper`` (by name)."""
    return draw(rng, hyper["alpha"], hyper["beta"])


#: Whether the exact engine centres its grid on the data (so that a partial fit needs a group with
#: data): no, the grid's box is fixed (:data:`LIMITS`).
CENTRED_ON_DATA = False

#: The hyperpriors of a sensitivity analysis (:func:`prior_alternatives`): the seed's
#: ``HalfNormal(10)`` on ``alpha`` and ``beta``, the BDA3 prior ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)``,
#: a narrower ``HalfNormal(1)`` and a wider ``HalfNormal(100)``, and a prior on the population
#: instead (``mu ~ Beta(1, 1)``, ``kappa ~ Exponential(0.01)``).
ALTERNATIVES: dict[str, dict] = {
    "HalfNormal(10) (seed)": {"alpha": pr.HalfNormal(10), "beta": pr.HalfNormal(10)},
    "BDA3": {"alpha,beta": pr.BDA3()},
    "HalfNormal(1) (narrower)": {"alpha": pr.HalfNormal(1), "beta": pr.HalfNormal(1)},
    "HalfNormal(100) (wider)": {"alpha": pr.HalfNormal(100), "beta": pr.HalfNormal(100)},
    "mu ~ Beta(1, 1), kappa ~ Exponential(0.01)": {"mu": pr.Beta(1, 1), "kappa": pr.Exponential(0.01)},
}


def prior_alternatives(trials: np.ndarray, successes: np.ndarray) -> dict[str, dict]:
    """Return the hyperpriors to refit a partial-pooling fit under: :data:`ALTERNATIVES`.

    Parameters
    ----------
    trials, successes : ndarray
        The data's size and count columns (scale-free here: a probability needs no scaling).

    Returns
    -------
    dict
        Label -> priors, as :func:`poolwise.fit` takes them.
    """
    return ALTERNATIVES


def population_weight(size: np.ndarray, weight: np.ndarray, data: np.ndarray) -> np.ndarray:
    """``E[c / (c + n_i) | y]`` for each ``n_i`` in ``data``, over nodes ``size`` = c with ``weight``.

    The population's weight against ``n_i`` of a group's own data (trials, or exposure). Computed
    once per distinct ``n_i``, in blocks, so that many groups cost memory for a block only.

    Parameters
    ----------
    size, weight : ndarray
        The population's prior sample size ``c`` at the hyperparameters' nodes, and their weights.
    data : ndarray
        Each group's ``n_i``.

    Returns
    -------
    ndarray
        One weight per group.
    """
    w = np.asarray(weight, float) / np.sum(weight)
    c = np.asarray(size, float)
    distinct, inverse = np.unique(np.asarray(data, float), return_inverse=True)
    out = np.empty(distinct.size)
    block = max(1, 2**22 // max(c.size, 1))  # about 32 MiB of float64 per block
    for start in range(0, distinct.size, block):
        n = distinct[start : start + block, None]
        out[start : start + block] = (c[None, :] / (c[None, :] + n)) @ w
    return out[inverse.ravel()]


def shrinkage_weight(table, posterior) -> np.ndarray:
    """``E[kappa / (kappa + n_i) | y]``: the Beta population's weight against ``n_i`` trials.

    Given the hyperparameters a group's posterior mean is ``(1 - B_i) y_i / n_i + B_i mu`` with
    ``B_i = kappa / (kappa + n_i)``; a group with no trials has ``B_i = 1``.

    Parameters
    ----------
    table : pandas.DataFrame
        The group table (its ``trials``).
    posterior : poolwise.analysis.shrinkage.PopulationPosterior
        The partial fit's hyperparameters (``hyper_mixture()``: nodes of ``alpha``, ``beta`` and weights).

    Returns
    -------
    ndarray
        One weight per group, in the table's order.
    """
    alpha, beta, weight, _ = posterior.hyper_mixture()
    return population_weight(alpha + beta, weight, table["trials"].to_numpy(float))


def new_group(
    alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray, trials: np.ndarray, successes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, GridMarginal]:
    """Posterior of ``theta`` for a group with ``successes`` in ``trials``, over the nodes' weights.

    Parameters
    ----------
    alpha, beta, weight : ndarray
        The hyperparameters' nodes, with the weights the group's own data gave them.
    trials, successes : ndarray
        The group's data, shape ``(1,)``.

    Returns
    -------
    mean, sd, marginal
        As :func:`theta_mixture`.
    """
    return theta_mixture(alpha, beta, weight, trials, successes)


def predictive_pmf(trials: int, alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    r"""``P(y_new = k)``, ``k = 0..n``: the beta-binomials of the nodes ``(alpha, beta)`` mixed by ``weight``.

    The lightest nodes, holding 1e-12 of the mass together, are left out; the rest is summed in
    blocks of about two million terms.

    Parameters
    ----------
    trials : int
        The new group's trials :math:`n`.
    alpha, beta, weight : ndarray
        The hyperparameters' nodes and their posterior probabilities.

    Returns
    -------
    ndarray
        Unnormalised probabilities, shape ``(n + 1,)``.
    """
    k = np.arange(trials + 1)
    keep = np.argsort(weight)[::-1]
    mass = np.cumsum(weight[keep])
    keep = keep[: int(np.searchsorted(mass, mass[-1] * (1 - 1e-12))) + 1]
    alpha, beta, weight = alpha[keep], beta[keep], weight[keep] / weight[keep].sum()
    pmf = np.zeros(trials + 1)
    chunk = max(1, 2_000_000 // (trials + 1))
    for start in range(0, alpha.size, chunk):
        a = alpha[start : start + chunk, None]
        b = beta[start : start + chunk, None]
        logp = stats.betabinom.logpmf(k[None, :], trials, a, b)
        pmf += weight[start : start + chunk] @ np.exp(logp)
    return pmf
