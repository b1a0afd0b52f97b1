"""Prior distributions for the hyperparameters and group parameters.

Each prior is a small immutable object with a vectorised log-density, a sampler and a printable form
(``HalfNormal(sigma=10)``) that round-trips through :func:`parse`. Parameter names follow PyMC
(``HalfNormal(sigma)``, ``HalfCauchy(beta)``, ``Exponential(lam)``, ``Gamma(alpha, beta)`` with
``beta`` a rate), so a model written for PyMC reads the same here.

A :class:`JointPrior` is a density on the pair ``(alpha, beta)`` that does not factorise, such as the
prior of Gelman et al. (BDA3 §5.3), ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)``.

Two improper priors serve the normal-normal family: :class:`Flat` on the real line (the usual prior
on a mean ``mu``) and :class:`HalfFlat` on ``[0, inf)`` (BDA3's uniform prior on a scale ``tau``).
They have a log-density up to a constant but cannot be sampled.
"""

from __future__ import annotations

import ast
import math
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
    "JointPrior",
    "LogNormal",
    "Normal",
    "Prior",
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
    """Base class of the univariate priors; subclasses are frozen dataclasses of their parameters."""

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


@dataclass(frozen=True)
class LogNormal(Prior):
    """Log-normal: ``log x ~ N(mu, sigma^2)``."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.mu, int | float) and math.isfinite(self.mu)):
            raise PriorError(f"LogNormal: parameter mu must be a finite number, got {self.mu!r}")
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
        if not (isinstance(self.mu, int | float) and math.isfinite(self.mu)):
            raise PriorError(f"Normal: parameter mu must be a finite number, got {self.mu!r}")
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
class JointPrior:
    """A prior density on the pair ``(alpha, beta)`` of the beta-binomial population."""

    proper: ClassVar[bool] = False

    def logpdf(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Log-density (up to a constant when improper) at ``(alpha, beta)``."""
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True)
class BDA3(JointPrior):
    """The improper prior ``p(alpha, beta) ∝ (alpha + beta)^(-5/2)`` of BDA3 §5.3.

    Flat on ``alpha / (alpha + beta)`` and on ``(alpha + beta)^(-1/2)``, roughly the prior standard
    deviation of a group's rate. The posterior is proper when at least one group has both
    successes and failures; the exact engine checks that the grid's edges hold no mass.
    """

    def logpdf(self, alpha, beta):  # noqa: D102
        return -2.5 * np.log(np.asarray(alpha) + np.asarray(beta))


#: Longest prior text :func:`parse` reads: the longest real one, ``Uniform(lower=..., upper=...)``
#: with 17-digit numbers, is under 80 characters.
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
    )
}


def names() -> list[str]:
    """Names of the priors that :func:`parse` understands."""
    return sorted(_REGISTRY)


def parse(spec: str | Prior | JointPrior) -> Prior | JointPrior:
    """Build a prior from text such as ``"HalfNormal(sigma=10)"``, ``"Gamma(2, 0.5)"`` or ``"BDA3"``.

    Parameters
    ----------
    spec : str or Prior or JointPrior
        A call of one of :func:`names` with numeric positional or keyword arguments (no other code
        is evaluated). Prior objects are returned unchanged.

    Returns
    -------
    Prior or JointPrior

    Raises
    ------
    PriorError
        Unknown name, non-numeric argument or invalid parameter value.
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
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, RecursionError, MemoryError):
        # Deep nesting ("-" * 1000 + "1") exhausts the parser's stack: bad text, not a crash.
        raise PriorError(
            f"cannot read prior {_shorten(spec)}; write it like 'HalfNormal(sigma=10)'"
        ) from None
    if isinstance(node, ast.Name):
        node = ast.Call(func=node, args=[], keywords=[])
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise PriorError(f"cannot read prior {spec!r}; write it like 'HalfNormal(sigma=10)'")
    lookup = {name.lower(): cls for name, cls in _REGISTRY.items()}
    cls = lookup.get(node.func.id.lower())
    if cls is None:
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
