"""Prior distributions for the hyperparameters and group parameters.

Each prior is a small immutable object with a vectorised log-density, a sampler and a printable form
(``HalfNormal(sigma=10)``) that round-trips through :func:`parse`. Parameter names follow PyMC
(``HalfNormal(sigma)``, ``HalfCauchy(beta)``, ``Exponential(lam)``, ``Gamma(alpha, beta)`` with
``beta`` a rate), so a model written for PyMC reads the same here.

A :class:`JointPrior` is a density on the pair ``(alpha, beta)`` that does not factorise, such as the
prior of Gelman et al. (BDA3 §5.3), ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)``; :class:`Product`
multiplies one by priors on ``alpha`` and ``beta`` (PyMC's rat-tumour notebook).

Two improper priors serve the normal-normal family: :class:`Flat` on the real line (the usual prior
on a mean ``mu``) and :class:`HalfFlat` on ``[0, inf)`` (BDA3's uniform prior on a scale ``tau``).
They have a log-density up to a constant but cannot be sampled. So is :class:`Jeffreys`, Jeffreys'
prior ``p(s) ∝ 1/s`` for a scale (flat on ``log s``).

Priors on a transform of a standard deviation, as BUGS writes them
--------------------------------------------------------------------
BUGS and JAGS put their priors on a precision, ``tau ~ dgamma(0.001, 0.001)`` with
``sigma <- 1 / sqrt(tau)``, or on a variance. :class:`OnPrecision` and :class:`OnVariance` wrap a
prior on ``[0, inf)`` so that it describes ``1 / s^2`` or ``s^2`` of the standard deviation ``s``
they are attached to (``tau`` of the normal-normal family, ``sigma`` of the logit-normal one); their
density on ``s`` includes the Jacobian, ``log p(s) = log p_P(s^-2) + log 2 - 3 log s`` and
``log p(s) = log p_V(s^2) + log 2 + log s``. In text, the transform follows the prior after the word
``on``::

    OnPrecision(Gamma(0.001, 0.001))     # in Python; text: "Gamma(0.001, 0.001) on precision"
    OnVariance(InverseGamma(1, 1))       # in Python; text: "InverseGamma(1, 1) on variance"

so that ``--prior "tau=Gamma(0.001, 0.001) on precision"`` is BUGS's prior on the command line.

Writing a prior of one's own
----------------------------
A user-defined prior is a frozen dataclass subclassing :class:`Prior`, its fields its parameters,
passed as an object (``priors={"kappa": MyPrior(...)}``; :func:`parse` reads only the priors here).
For the exact engine it must provide:

- ``_logpdf(x)``: the log-density at an array ``x`` of points inside the support, vectorised and
  normalised when proper (:meth:`Prior.logpdf` calls it under ``np.errstate`` and sets ``-inf``
  outside the support; an improper prior may be off by a constant);
- ``support``, a class attribute ``(lower, upper)`` (default ``(0, inf)``), or a ``bounds`` property
  when the support depends on the parameters; the engines integrate over it and the models check
  it (a scale such as ``tau`` or ``kappa`` needs ``lower >= 0``);
- ``proper``, a class attribute or property (default True): improper priors are never sampled and
  the engines check that the posterior they give is proper;
- ``_sample(rng, size)`` when proper: independent draws, for a new group's prior, calibration and
  prior-predictive checks.

``str()`` prints ``Name(field=value, ...)`` unless ``__str__`` is overridden. For the NUTS engine
:meth:`Prior.pymc` creates the PyMC random variable: by default the PyMC distribution of the same
class name with the fields as keyword arguments (so ``HalfNormal(sigma)`` is ``pm.HalfNormal``);
override it for any other prior.
"""

from __future__ import annotations

import ast
import math
import re
import sys
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from scipy import special

from .errors import PriorError

__all__ = [
    "BDA3",
    "Beta",
    "Exponential",
    "Flat",
    "Gamma",
    "HalfFlat",
    "HalfCauchy",
    "HalfNormal",
    "HalfStudentT",
    "InverseGamma",
    "Jeffreys",
    "JointPrior",
    "LogNormal",
    "Normal",
    "OnPrecision",
    "OnTransform",
    "OnVariance",
    "Pareto",
    "Prior",
    "Product",
    "StudentT",
    "Uniform",
    "names",
    "parse",
]


#: Smallest scale (standard deviation, width, 1/rate) a prior may have: its square is the smallest
#: normal float64, so ``(x / scale) ** 2`` in a log-density stays finite for ``x`` of order one.
#: Below it the density is ``-inf`` at every grid node but one and no engine can integrate it.
MIN_SCALE = math.sqrt(sys.float_info.min)

#: Largest rate (1 / :data:`MIN_SCALE`), for the priors parametrised by a rate.
MAX_RATE = 1.0 / MIN_SCALE


def _positive(cls_name: str, **params: float) -> None:
    for key, value in params.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise PriorError(f"{cls_name}: parameter {key} must be a finite number > 0, got {value!r}")


def _finite(cls_name: str, **params: float) -> None:
    for key, value in params.items():
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise PriorError(f"{cls_name}: parameter {key} must be a finite number, got {value!r}")


def _scale(cls_name: str, **params: float) -> None:
    """Refuse scales so small that the log-density overflows float64 (see :data:`MIN_SCALE`)."""
    _positive(cls_name, **params)
    for key, value in params.items():
        if value < MIN_SCALE:
            raise PriorError(
                f"{cls_name}: parameter {key}={value:g} is too small to compute with in float64 "
                f"(its square underflows, so the log-density is -inf almost everywhere); "
                f"use {key} >= {MIN_SCALE:.3g}"
            )


def _rate(cls_name: str, **params: float) -> None:
    """Refuse rates so large that their scale ``1 / rate`` is below :data:`MIN_SCALE`."""
    _positive(cls_name, **params)
    for key, value in params.items():
        if value > MAX_RATE:
            raise PriorError(
                f"{cls_name}: parameter {key}={value:g} is too large to compute with in float64 "
                f"(its scale 1/{key} squared underflows); use {key} <= {MAX_RATE:.3g}"
            )


@dataclass(frozen=True)
class Prior:
    """Base class of the univariate priors; subclasses are frozen dataclasses of their parameters.

    A subclass provides ``_logpdf``, ``support`` (or ``bounds``), ``proper`` and, when proper,
    ``_sample``; see "Writing a prior of one's own" in the module docstring.
    """

    support: ClassVar[tuple[float, float]] = (0.0, math.inf)
    proper: ClassVar[bool] = True

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density at ``x``; ``-inf`` outside the support."""
        x = np.asarray(x, dtype=float)
        lo, hi = self.bounds
        inside = (x >= lo) & (x <= hi) & np.isfinite(x)
        # Outside the support the formula may give nan or a finite value: neither may leak out.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = self._logpdf(x)
        return np.where(inside, out, -np.inf)

    @property
    def bounds(self) -> tuple[float, float]:
        """Support of the distribution as ``(lower, upper)``."""
        return self.support

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Independent draws from the prior."""
        return self._sample(rng, size)

    def pymc(self, pm, name: str, **kwargs):
        """Create the PyMC random variable of this prior, for the NUTS engine.

        By default the PyMC distribution of the class's name with the fields as keyword arguments:
        poolwise's names and parameters are PyMC's. Priors without such a twin override it.

        Parameters
        ----------
        pm : module
            The imported ``pymc``; called inside a ``pm.Model`` context.
        name : str
            Name of the variable (``"tau"``, ``"kappa"``, ...).
        **kwargs
            Passed on to the distribution, e.g. ``dims``.

        Returns
        -------
        pytensor.tensor.TensorVariable
            The variable of the model named ``name``.

        Raises
        ------
        NotImplementedError
            PyMC has no distribution of this prior's name.
        """
        twin = getattr(pm, type(self).__name__, None)
        if twin is None:
            raise NotImplementedError(
                f"engine='nuts' has no PyMC form of the prior {self}: give its class a method "
                "pymc(pm, name, **kwargs) that creates the PyMC variable"
            )
        return twin(name, **{f.name: getattr(self, f.name) for f in fields(self)}, **kwargs)

    def _logpdf(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def __str__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))
        return f"{type(self).__name__}({args})"


@dataclass(frozen=True)
class HalfNormal(Prior):
    """Half-normal on ``[0, inf)`` with scale ``sigma``: ``p(x) = 2 N(x | 0, sigma^2)``."""

    sigma: float = 1.0

    def __post_init__(self) -> None:
        _scale("HalfNormal", sigma=self.sigma)

    def _logpdf(self, x):
        return 0.5 * math.log(2 / math.pi) - math.log(self.sigma) - 0.5 * (x / self.sigma) ** 2

    def _sample(self, rng, size):
        return np.abs(rng.normal(0.0, self.sigma, size))


@dataclass(frozen=True)
class HalfCauchy(Prior):
    """Half-Cauchy on ``[0, inf)`` with scale ``beta``: ``p(x) = 2 / (pi beta (1 + (x/beta)^2))``."""

    beta: float = 1.0

    def __post_init__(self) -> None:
        _scale("HalfCauchy", beta=self.beta)

    def _logpdf(self, x):
        return math.log(2 / math.pi) - math.log(self.beta) - np.log1p((x / self.beta) ** 2)

    def _sample(self, rng, size):
        return np.abs(self.beta * rng.standard_cauchy(size))


@dataclass(frozen=True)
class Exponential(Prior):
    """Exponential with rate ``lam``: ``p(x) = lam exp(-lam x)``."""

    lam: float = 1.0

    def __post_init__(self) -> None:
        _rate("Exponential", lam=self.lam)

    def _logpdf(self, x):
        return math.log(self.lam) - self.lam * x

    def _sample(self, rng, size):
        return rng.exponential(1.0 / self.lam, size)


@dataclass(frozen=True)
class Gamma(Prior):
    """Gamma with shape ``alpha`` and rate ``beta``: ``p(x) ∝ x^(alpha-1) exp(-beta x)``.

    ``beta = 0`` is the improper limit ``p(x) ∝ x^(alpha-1)``: ``Gamma(0.5, 0)`` is Jeffreys' prior
    for a Poisson rate, the default of the gamma-Poisson family's no and complete pooling.
    """

    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        _positive("Gamma", alpha=self.alpha)
        if self.beta != 0:
            _rate("Gamma", beta=self.beta)

    @property
    def proper(self) -> bool:  # noqa: D102
        return self.beta > 0

    def _logpdf(self, x):
        a, b = self.alpha, self.beta
        if b == 0:
            return (a - 1) * np.log(x)
        return a * math.log(b) - special.gammaln(a) + (a - 1) * np.log(x) - b * x

    def _sample(self, rng, size):
        if self.beta == 0:
            raise PriorError(f"{self} is improper: it has no draws")
        return rng.gamma(self.alpha, 1.0 / self.beta, size)

    def pymc(self, pm, name: str, **kwargs):  # noqa: D102
        if self.proper:
            return super().pymc(pm, name, **kwargs)
        # PyMC's Gamma needs beta > 0: the improper limit is a flat positive variable reweighted.
        x = pm.HalfFlat(name, **kwargs)
        pm.Potential(f"{name}_prior", (self.alpha - 1) * pm.math.log(x))
        return x


@dataclass(frozen=True)
class LogNormal(Prior):
    """Log-normal: ``log x ~ N(mu, sigma^2)``."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _finite("LogNormal", mu=self.mu)
        _scale("LogNormal", sigma=self.sigma)

    def _logpdf(self, x):
        logx = np.log(x)
        return (
            -logx
            - math.log(self.sigma)
            - 0.5 * math.log(2 * math.pi)
            - 0.5 * ((logx - self.mu) / self.sigma) ** 2
        )

    def _sample(self, rng, size):
        return rng.lognormal(self.mu, self.sigma, size)


@dataclass(frozen=True)
class Uniform(Prior):
    """Uniform on ``[lower, upper]``."""

    lower: float = 0.0
    upper: float = 1.0

    def __post_init__(self) -> None:
        finite = all(isinstance(v, int | float) and math.isfinite(v) for v in (self.lower, self.upper))
        if not finite or self.upper <= self.lower:
            raise PriorError(
                f"Uniform: need finite lower < upper, got lower={self.lower!r}, upper={self.upper!r}"
            )
        width = self.upper - self.lower
        if not math.isfinite(width) or width < MIN_SCALE:
            raise PriorError(
                f"Uniform: width upper - lower = {width:g} (lower={self.lower:g}, upper={self.upper:g}) "
                f"cannot be computed with in float64; need a finite width >= {MIN_SCALE:.3g}"
            )

    @property
    def bounds(self) -> tuple[float, float]:  # noqa: D102
        return (self.lower, self.upper)

    def _logpdf(self, x):
        return np.full_like(x, -math.log(self.upper - self.lower))

    def _sample(self, rng, size):
        return rng.uniform(self.lower, self.upper, size)


@dataclass(frozen=True)
class Beta(Prior):
    """Beta on ``[0, 1]``: ``p(x) ∝ x^(alpha-1) (1-x)^(beta-1)``."""

    support: ClassVar[tuple[float, float]] = (0.0, 1.0)
    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        _positive("Beta", alpha=self.alpha, beta=self.beta)

    def _logpdf(self, x):
        a, b = self.alpha, self.beta
        return special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b)

    def _sample(self, rng, size):
        return rng.beta(self.alpha, self.beta, size)


@dataclass(frozen=True)
class Normal(Prior):
    """Normal on the real line with mean ``mu`` and standard deviation ``sigma``."""

    support: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _finite("Normal", mu=self.mu)
        _scale("Normal", sigma=self.sigma)

    def _logpdf(self, x):
        return -0.5 * math.log(2 * math.pi) - math.log(self.sigma) - 0.5 * ((x - self.mu) / self.sigma) ** 2

    def _sample(self, rng, size):
        return rng.normal(self.mu, self.sigma, size)


@dataclass(frozen=True)
class Flat(Prior):
    """Improper uniform prior on the real line, ``p(x) ∝ 1`` (PyMC's ``Flat``)."""

    support: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    proper: ClassVar[bool] = False

    def _logpdf(self, x):
        return np.zeros_like(x)

    def _sample(self, rng, size):
        raise PriorError("Flat() is improper: it has no draws")


@dataclass(frozen=True)
class HalfFlat(Prior):
    """Improper uniform prior on ``[0, inf)``, ``p(x) ∝ 1`` (PyMC's ``HalfFlat``).

    On the between-group scale ``tau`` of the normal-normal model this is the prior of BDA3 §5.4
    (``"uniform"`` with no bound). The posterior is proper only with at least 3 groups.
    """

    proper: ClassVar[bool] = False

    def _logpdf(self, x):
        return np.zeros_like(x)

    def _sample(self, rng, size):
        raise PriorError("HalfFlat() is improper: it has no draws")


@dataclass(frozen=True)
class InverseGamma(Prior):
    """Inverse gamma with shape ``alpha`` and scale ``beta``: ``p(x) ∝ x^(-alpha-1) exp(-beta / x)``.

    ``1 / x ~ Gamma(alpha, beta)`` (``beta`` a rate there). The conjugate prior of a normal
    variance: BUGS's ``InverseGamma(0.001, 0.001)`` on a variance is written
    ``OnVariance(InverseGamma(0.001, 0.001))`` on a standard deviation. With a tiny ``alpha`` many
    draws overflow float64 to ``inf``: the distribution has that much mass beyond ``1e308``.
    """

    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        _positive("InverseGamma", alpha=self.alpha, beta=self.beta)

    def _logpdf(self, x):
        a, b = self.alpha, self.beta
        return a * math.log(b) - special.gammaln(a) - (a + 1) * np.log(x) - b / x

    def _sample(self, rng, size):
        with np.errstate(divide="ignore"):
            return 1.0 / rng.gamma(self.alpha, 1.0 / self.beta, size)


@dataclass(frozen=True)
class Pareto(Prior):
    """Pareto on ``[m, inf)`` with shape ``alpha``: ``p(x) = alpha m^alpha / x^(alpha + 1)``.

    The arguments come in Stan's order, ``pareto(y_min, alpha)``: ``Pareto(1, 1.5)`` is Stan's
    ``kappa ~ pareto(1, 1.5)``. The names are PyMC's (``pm.Pareto(alpha, m)``), so write
    ``Pareto(m=1, alpha=1.5)`` to be unambiguous.
    """

    m: float = 1.0
    alpha: float = 1.0

    def __post_init__(self) -> None:
        _positive("Pareto", m=self.m, alpha=self.alpha)

    @property
    def bounds(self) -> tuple[float, float]:  # noqa: D102
        return (self.m, math.inf)

    def _logpdf(self, x):
        a = self.alpha
        return math.log(a) + a * math.log(self.m) - (a + 1) * np.log(x)

    def _sample(self, rng, size):
        # numpy's "pareto" is the Lomax distribution, Pareto(1, alpha) shifted to start at 0.
        return self.m * (1.0 + rng.pareto(self.alpha, size))


def _log1p_square(z: np.ndarray, nu: float) -> np.ndarray:
    """``log(1 + z^2 / nu)`` without overflow for huge ``|z|`` (``z^2`` would be ``inf``)."""
    return np.logaddexp(0.0, 2 * np.log(np.abs(z)) - math.log(nu))


@dataclass(frozen=True)
class StudentT(Prior):
    """Student's t on the real line with ``nu`` degrees of freedom, location ``mu`` and scale ``sigma``."""

    support: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    nu: float = 1.0
    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _positive("StudentT", nu=self.nu)
        _finite("StudentT", mu=self.mu)
        _scale("StudentT", sigma=self.sigma)

    def _logpdf(self, x):
        nu = self.nu
        return (
            special.gammaln((nu + 1) / 2)
            - special.gammaln(nu / 2)
            - 0.5 * math.log(nu * math.pi)
            - math.log(self.sigma)
            - (nu + 1) / 2 * _log1p_square((x - self.mu) / self.sigma, nu)
        )

    def _sample(self, rng, size):
        return self.mu + self.sigma * rng.standard_t(self.nu, size)


@dataclass(frozen=True)
class HalfStudentT(Prior):
    """Half Student's t on ``[0, inf)``: ``|t|`` for ``t ~ StudentT(nu, 0, sigma)``.

    ``HalfStudentT(3, s)`` is brms's default prior on a standard deviation (``student_t(3, 0, s)``
    restricted to positive values); ``nu = 1`` is :class:`HalfCauchy`.
    """

    nu: float = 1.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        _positive("HalfStudentT", nu=self.nu)
        _scale("HalfStudentT", sigma=self.sigma)

    def _logpdf(self, x):
        nu = self.nu
        return (
            math.log(2.0)
            + special.gammaln((nu + 1) / 2)
            - special.gammaln(nu / 2)
            - 0.5 * math.log(nu * math.pi)
            - math.log(self.sigma)
            - (nu + 1) / 2 * _log1p_square(x / self.sigma, nu)
        )

    def _sample(self, rng, size):
        return np.abs(self.sigma * rng.standard_t(self.nu, size))


@dataclass(frozen=True)
class Jeffreys(Prior):
    """Jeffreys' prior for a scale, ``p(s) ∝ 1/s`` on ``(0, inf)``: improper, flat on ``log s``.

    On the normal-normal ``tau`` or the logit-normal ``sigma`` the posterior it gives is improper
    (the likelihood stays positive as the scale goes to 0, where ``∫ ds / s`` diverges; BDA3 §5.4):
    the exact engine then only warns that its summaries did not converge. Do not use it there.
    """

    proper: ClassVar[bool] = False

    def _logpdf(self, x):
        return -np.log(x)

    def _sample(self, rng, size):
        raise PriorError("Jeffreys() is improper: it has no draws")

    def pymc(self, pm, name: str, **kwargs):  # noqa: D102
        x = pm.HalfFlat(name, **kwargs)
        pm.Potential(f"{name}_prior", -pm.math.log(x))
        return x


@dataclass(frozen=True)
class OnTransform(Prior):
    """A prior on a transform ``t(s)`` of the standard deviation ``s`` it is attached to.

    The density on ``s`` is ``p(s) = p_base(t(s)) |t'(s)|``. Subclasses: :class:`OnPrecision` and
    :class:`OnVariance`.

    Parameters
    ----------
    base : Prior
        The prior on the transform: a univariate prior on ``[0, inf)``, not itself transformed.
    """

    #: The transform's name in text (``"Gamma(1, 1) on precision"``) and in PyMC (``tau_precision``).
    transform: ClassVar[str]
    base: Prior

    def __post_init__(self) -> None:
        cls = type(self).__name__
        if not isinstance(self.base, Prior) or isinstance(self.base, OnTransform):
            shown = self.base if isinstance(self.base, Prior | JointPrior) else repr(self.base)
            raise PriorError(
                f"{cls}: its base must be one univariate prior such as Gamma(0.001, 0.001), got {shown}"
            )
        if self.base.bounds[0] < 0:
            raise PriorError(
                f"{cls}: the {self.transform} is positive, so its prior must live on [0, inf), "
                f"got {self.base}"
            )

    @property
    def proper(self) -> bool:  # noqa: D102
        return self.base.proper

    def _to_transform(self, s):
        raise NotImplementedError

    def _from_transform(self, t):
        raise NotImplementedError

    def _log_jacobian(self, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _logpdf(self, x):
        base = self.base.logpdf(self._to_transform(x))
        # Where the base density is 0 (t(s) overflowed, or at s = 0) the Jacobian may be
        # infinite: -inf + inf is nan, and the density there is 0.
        return np.where(base == -np.inf, -np.inf, base + self._log_jacobian(x))

    def _sample(self, rng, size):
        with np.errstate(divide="ignore", over="ignore"):
            return self._from_transform(self.base.sample(rng, size))

    def pymc(self, pm, name: str, **kwargs):
        """Create the base prior on ``{name}_{transform}`` (as BUGS samples it) and ``name`` from it.

        Parameters
        ----------
        pm : module
            The imported ``pymc``.
        name : str
            Name of the standard deviation (``"tau"``, ``"sigma"``).
        **kwargs
            Passed on to the base prior's variable; ``dims`` also to the standard deviation.

        Returns
        -------
        pytensor.tensor.TensorVariable
            The deterministic standard deviation ``name``.
        """
        t = self.base.pymc(pm, f"{name}_{self.transform}", **kwargs)
        return pm.Deterministic(name, self._from_transform(t), dims=kwargs.get("dims"))

    def __str__(self) -> str:
        return f"{self.base} on {self.transform}"


@dataclass(frozen=True)
class OnPrecision(OnTransform):
    """A prior on the precision ``p = 1 / s^2`` of the standard deviation ``s``.

    BUGS's ``tau ~ dgamma(0.001, 0.001)`` with ``sigma <- 1 / sqrt(tau)`` is
    ``OnPrecision(Gamma(0.001, 0.001))`` on ``sigma`` (text: ``"Gamma(0.001, 0.001) on precision"``).
    Its density on ``s`` is ``p_base(s^-2) 2 s^-3``.

    Parameters
    ----------
    base : Prior
        The prior on the precision, on ``[0, inf)``.
    """

    transform: ClassVar[str] = "precision"

    @property
    def bounds(self) -> tuple[float, float]:  # noqa: D102
        lo, hi = self.base.bounds
        return (1 / math.sqrt(hi) if hi > 0 else math.inf, 1 / math.sqrt(lo) if lo > 0 else math.inf)

    def _to_transform(self, s):
        return s**-2.0

    def _from_transform(self, t):
        return t**-0.5

    def _log_jacobian(self, s):
        return math.log(2.0) - 3 * np.log(s)


@dataclass(frozen=True)
class OnVariance(OnTransform):
    """A prior on the variance ``v = s^2`` of the standard deviation ``s``.

    ``OnVariance(InverseGamma(0.001, 0.001))`` (text: ``"InverseGamma(0.001, 0.001) on variance"``)
    is the conjugate-looking prior on a variance. Its density on ``s`` is ``p_base(s^2) 2 s``.

    Parameters
    ----------
    base : Prior
        The prior on the variance, on ``[0, inf)``.
    """

    transform: ClassVar[str] = "variance"

    @property
    def bounds(self) -> tuple[float, float]:  # noqa: D102
        lo, hi = self.base.bounds
        return (math.sqrt(lo), math.sqrt(hi))

    def _to_transform(self, s):
        return s**2.0

    def _from_transform(self, t):
        return t**0.5

    def _log_jacobian(self, s):
        return math.log(2.0) + np.log(s)


@dataclass(frozen=True)
class JointPrior:
    """A prior density on the pair ``(alpha, beta)`` of the beta-binomial population.

    A subclass gives :meth:`logpdf` (NumPy, for the exact engine) and :meth:`pymc_logp` (the same
    density on PyMC's variables, for the NUTS twin); :meth:`pymc` then puts it on flat positive
    ``alpha`` and ``beta``. :class:`Product` multiplies one by priors on ``alpha`` and ``beta``.
    """

    proper: ClassVar[bool] = False

    def logpdf(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Log-density (up to a constant when improper) at ``(alpha, beta)``."""
        raise NotImplementedError

    #: The density in words, as the model's equations print it after the prior's name.
    formula: ClassVar[str] = ""

    def pymc_logp(self, pm, alpha, beta):
        """Return :meth:`logpdf` as a PyMC expression of the variables ``alpha`` and ``beta``."""
        raise NotImplementedError(f"engine='nuts' has no PyMC form of the joint prior {self}")

    def pymc(self, pm) -> tuple:
        """Create ``alpha`` and ``beta`` in the current PyMC model, with this density on them.

        Returns
        -------
        alpha, beta : pytensor.tensor.TensorVariable
        """
        alpha, beta = pm.HalfFlat("alpha"), pm.HalfFlat("beta")
        pm.Potential("alpha_beta_prior", self.pymc_logp(pm, alpha, beta))
        return alpha, beta

    def __str__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class Product(JointPrior):
    """A joint factor times priors on ``alpha`` and ``beta``: ``p(a, b) ∝ f(a, b) p_a(a) p_b(b)``.

    PyMC's rat-tumour notebook writes ``ab = pm.HalfNormal("ab", sigma=10, shape=2)`` with
    ``pm.Potential("p(a, b)", log((a + b)^(-5/2)))``: ``Product(BDA3(), HalfNormal(10),
    HalfNormal(10))``, which ``priors={"alpha,beta": "BDA3", "alpha": "HalfNormal(10)", "beta":
    "HalfNormal(10)"}`` builds. Improper whenever the factor is unbounded (BDA3's is at the origin):
    the exact engine's edge checks decide whether the posterior is proper.
    """

    factor: JointPrior
    alpha: Prior
    beta: Prior

    @property
    def formula(self) -> str:  # noqa: D102
        return f"{self.factor.formula} x p_alpha(alpha) x p_beta(beta)"

    def logpdf(self, alpha, beta):  # noqa: D102
        return self.factor.logpdf(alpha, beta) + self.alpha.logpdf(alpha) + self.beta.logpdf(beta)

    def pymc(self, pm) -> tuple:  # noqa: D102
        alpha, beta = self.alpha.pymc(pm, "alpha"), self.beta.pymc(pm, "beta")
        pm.Potential("alpha_beta_prior", self.factor.pymc_logp(pm, alpha, beta))
        return alpha, beta

    def __str__(self) -> str:
        return f"{self.factor} x alpha ~ {self.alpha} x beta ~ {self.beta}"


@dataclass(frozen=True)
class BDA3(JointPrior):
    """The improper prior ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)`` of BDA3 §5.3.

    Flat on ``alpha / (alpha + beta)`` and on ``(alpha + beta)^(-1/2)``, roughly the prior standard
    deviation of a group's rate. The posterior is proper when at least one group has both
    successes and failures; the exact engine checks that the grid's edges hold no mass.
    """

    formula: ClassVar[str] = "∝ (alpha + beta)^(-5/2)"

    def logpdf(self, alpha, beta):  # noqa: D102
        return -2.5 * np.log(np.asarray(alpha) + np.asarray(beta))

    def pymc_logp(self, pm, alpha, beta):  # noqa: D102
        return -2.5 * pm.math.log(alpha + beta)


#: Longest prior text :func:`parse` reads: the longest real one, ``Uniform(lower=..., upper=...)``
#: with 17-digit numbers, is under 80 characters, under 100 with ``on variance``.
MAX_SPEC_LENGTH = 200

_REGISTRY: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        HalfNormal,
        HalfCauchy,
        Exponential,
        Gamma,
        LogNormal,
        Uniform,
        Beta,
        BDA3,
        Normal,
        Flat,
        HalfFlat,
        InverseGamma,
        Pareto,
        StudentT,
        HalfStudentT,
        Jeffreys,
    )
}

#: The transforms a prior's text may name after ``on``: ``"Gamma(0.001, 0.001) on precision"``.
_TRANSFORMS: dict[str, type[OnTransform]] = {cls.transform: cls for cls in (OnPrecision, OnVariance)}

#: ``<prior> on <transform>``; greedy, so that the last ``on`` is the transform's.
_ON = re.compile(r"(?P<base>.*\S)\s+on\s+(?P<transform>\w+)", re.IGNORECASE | re.DOTALL)

_ON_HINT = (
    "a prior on a transform of a standard deviation reads '<prior> on precision' or "
    "'<prior> on variance', e.g. 'Gamma(0.001, 0.001) on precision'"
)


def names() -> list[str]:
    """Names of the priors that :func:`parse` understands."""
    return sorted(_REGISTRY)


def parse(spec: str | Prior | JointPrior) -> Prior | JointPrior:
    """Build a prior from text such as ``"HalfNormal(sigma=10)"``, ``"Gamma(2, 0.5)"`` or ``"BDA3"``.

    Parameters
    ----------
    spec : str or Prior or JointPrior
        A call of one of :func:`names` with numeric positional or keyword arguments (no other code
        is evaluated), optionally followed by ``on precision`` or ``on variance`` to place it on
        ``1 / s^2`` or ``s^2`` of the standard deviation ``s`` (``"Gamma(0.001, 0.001) on
        precision"`` is :class:`OnPrecision`). Prior objects are returned unchanged.

    Returns
    -------
    Prior or JointPrior

    Raises
    ------
    PriorError
        Unknown name or transform, non-numeric argument or invalid parameter value.
    """
    if isinstance(spec, Prior | JointPrior):
        return spec
    if not isinstance(spec, str):
        raise PriorError(f"a prior must be a string like 'HalfNormal(10)' or a prior object, got {spec!r}")
    text = spec.strip()
    if len(text) > MAX_SPEC_LENGTH:
        raise PriorError(
            f"prior text is {len(text)} characters long, more than {MAX_SPEC_LENGTH}: "
            f"{_shorten(spec)}; write it like 'HalfNormal(sigma=10)'"
        )
    return _parse_text(text, spec)


def _parse_text(text: str, spec: str) -> Prior | JointPrior:
    """Parse a prior's text, ``on <transform>`` included; ``spec`` is the whole text, for messages."""
    on = _ON.fullmatch(text)
    if on is None:
        return _parse_call(text, spec)
    transform = _TRANSFORMS.get(on["transform"].lower())
    if transform is None:
        raise PriorError(f"unknown transform {on['transform']!r} in {_shorten(spec)}; {_ON_HINT}")
    return transform(_parse_text(on["base"], spec))


def _advice(text: str) -> str:
    """How to write a prior, for a text that cannot be read: a transform's form if it tried one."""
    if "~" in text or re.search(r"\bon\b", text, re.IGNORECASE):
        return _ON_HINT
    return "write it like 'HalfNormal(sigma=10)'"


def _parse_call(text: str, spec: str) -> Prior | JointPrior:
    """One call such as ``Gamma(2, beta=0.5)`` of a prior in :func:`names`."""
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError):
        # Deep nesting ("-" * 1000 + "1") exhausts the parser's stack: bad text, not a crash.
        raise PriorError(f"cannot read prior {_shorten(spec)}; {_advice(spec)}") from None
    if isinstance(node, ast.Name):
        node = ast.Call(func=node, args=[], keywords=[])
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise PriorError(f"cannot read prior {_shorten(spec)}; {_advice(spec)}")
    lookup = {name.lower(): cls for name, cls in _REGISTRY.items()}
    cls = lookup.get(node.func.id.lower())
    if cls is None:
        _refuse_transform_call(node, spec)
        raise PriorError(f"unknown prior {node.func.id!r} in {spec!r}; known priors: {', '.join(names())}")

    def number(arg: ast.expr) -> float:
        try:
            value = ast.literal_eval(arg)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            value = None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PriorError(
                f"prior {_shorten(spec)}: arguments must be numbers, got {_shorten(ast.unparse(arg))}"
            )
        return float(value)

    args = [number(a) for a in node.args]
    kwargs = _keywords(spec, node.keywords, number)
    try:
        return cls(*args, **kwargs)
    except TypeError as err:
        params = ", ".join(f.name for f in fields(cls)) or "none"
        raise PriorError(f"prior {spec!r}: {err}; {cls.__name__} takes: {params}") from None


def _refuse_transform_call(node: ast.Call, spec: str) -> None:
    """``OnPrecision(Gamma(1, 1))`` is Python, not prior text: say how the text writes it."""
    for transform, cls in _TRANSFORMS.items():
        if node.func.id.lower() == cls.__name__.lower():
            args = [*node.args, *(k.value for k in node.keywords if k.arg == "base")]
            alone = len(node.args) + len(node.keywords) == 1
            example = f"'{ast.unparse(args[0]) if alone and args else '<prior>'} on {transform}'"
            raise PriorError(
                f"prior {_shorten(spec)}: in text, a prior on the {transform} is written {example}"
            )


def _keywords(spec: str, keywords: list[ast.keyword], number) -> dict[str, float]:
    """Keyword arguments of a prior's text, each given once (Python's parser lets a repeat through)."""
    out: dict[str, float] = {}
    for keyword in keywords:
        if keyword.arg is None:
            raise PriorError(f"prior {spec!r}: '**' is not allowed; give parameters as name=number")
        if keyword.arg in out:
            raise PriorError(f"prior {spec!r}: keyword {keyword.arg!r} is given more than once")
        out[keyword.arg] = number(keyword.value)
    return out


def _shorten(spec: str) -> str:
    """``repr`` of a prior's text, cut short so that a runaway string cannot swamp the message."""
    return repr(spec) if len(spec) <= 80 else repr(spec[:60]) + f"... ({len(spec)} characters)"
