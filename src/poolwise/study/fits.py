"""The fits a user holds: :class:`Fit` and :class:`FitSet` with their questions; :func:`fit`.

The study layer (6 of 8) sits above the analysis it asks for: a :class:`Fit` is the fitting layer's
:class:`~poolwise.fitting.fit.Fit` (posterior, summary, new group, DataTree) with the questions of
:mod:`poolwise.analysis` as methods, so ``fit.ranks()`` reads as the seed analysis asks it and the
layers below never import the ones above.
"""

from __future__ import annotations

import functools

import pandas as pd

from ..analysis.checks import ppc
from ..analysis.comparison import compare
from ..analysis.predict import new_group_with_data, predictive_counts
from ..analysis.questions import pairwise, prob_above, prob_best, prob_top, ranks, threshold_test
from ..families import registry
from ..fitting import fit as fitting


class Fit(fitting.Fit):
    """One fitted model, with the questions of :mod:`poolwise.analysis` as methods; see :func:`fit`.

    Everything else (``summary``, ``group_table``, ``new_group``, ``idata``, ``posterior``, ...) is
    the fitting layer's :class:`poolwise.fitting.fit.Fit`.
    """

    @classmethod
    def of(cls, base: fitting.Fit) -> Fit:
        """Give a fitting-layer result its questions (the same posterior, not a refit).

        Parameters
        ----------
        base : poolwise.fitting.fit.Fit
            A fit from :func:`poolwise.fitting.fit.fit` or :func:`~poolwise.fitting.fit.fit_all`.

        Returns
        -------
        Fit
        """
        return cls(
            base.model,
            base.data,
            base.posterior,
            draws=base.n_draws,
            chains=base.chains,
            random_seed=base.random_seed,
        )

    def prob_above(self, threshold: float) -> pd.Series:
        """``P(theta_i > threshold | y)`` per group, exact; see :func:`poolwise.questions.prob_above`."""
        return prob_above(self, threshold)

    def threshold_test(self, threshold: float, *, direction: str = "above") -> pd.DataFrame:
        """Call groups above/below a threshold, with error rates; see :mod:`poolwise.questions`."""
        return threshold_test(self, threshold, direction=direction)

    def ranks(self) -> pd.DataFrame:
        """Posterior rank distribution of every group; see :func:`poolwise.questions.ranks`."""
        return ranks(self)

    def prob_best(self) -> pd.DataFrame:
        """``P(group i is best)`` with its Monte Carlo error; see :func:`poolwise.questions.prob_best`."""
        return prob_best(self)

    def prob_top(self, k: int) -> pd.DataFrame:
        """``P(group i is among the k best)``; see :func:`poolwise.questions.prob_top`."""
        return prob_top(self, k)

    def pairwise(self) -> pd.DataFrame:
        """``P(theta_i > theta_j)`` for every pair; see :func:`poolwise.questions.pairwise`."""
        return pairwise(self)

    def ppc(self) -> pd.DataFrame:
        """Posterior predictive checks; see :func:`poolwise.checks.ppc`."""
        if not registry.get(self.family).display.counts:  # events have theirs (checks.RATE_STATISTICS)
            self.require_binomial("ppc (its statistics count successes or events)")
        return ppc(self)

    def predict_new(self, successes: int, trials: float) -> pd.Series:
        """Predict a new group that has shown ``successes`` in ``trials``; see :mod:`poolwise.predict`.

        For event counts (gamma-Poisson) the two are the new group's events and its exposure.
        """
        if not registry.get(self.family).display.counts:
            raise NotImplementedError(
                "predict_new is for counts (successes of trials, events in an exposure); this fit is "
                f"{self.family}"
            )
        return new_group_with_data(self, successes, trials)

    def predictive_counts(self, trials: int) -> pd.Series:
        """``P(y_new = k)`` for an unseen group in ``trials`` trials; see :mod:`poolwise.predict`."""
        self.require_binomial("predictive_counts")
        return predictive_counts(self, trials)


class FitSet(fitting.FitSet):
    """Fits of the same data under several poolings, keyed by pooling name, with :meth:`compare`."""

    def compare(self, *, psis: bool = True):
        """Which pooling the data support; see :func:`poolwise.compare`."""
        return compare(self, psis=psis)


@functools.wraps(fitting.fit)
def fit(*args, **kwargs) -> Fit:  # noqa: D103 (the docstring is fitting.fit's)
    return Fit.of(fitting.fit(*args, **kwargs))


@functools.wraps(fitting.fit_all)
def fit_all(*args, **kwargs) -> FitSet:  # noqa: D103 (the docstring is fitting.fit_all's)
    return FitSet({pooling: Fit.of(one) for pooling, one in fitting.fit_all(*args, **kwargs).items()})
