"""Bundled datasets with their sources: ``load(name)``, ``list()``, ``info(name)``.

Each CSV starts with ``#`` lines that give its source; :func:`load` skips them.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from importlib import resources

import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """A bundled dataset and the columns that play each role."""

    name: str
    description: str
    group: str
    successes: str
    trials: str

    @property
    def columns(self) -> dict[str, str]:
        """Keyword arguments for :func:`poolwise.fit`: ``group``, ``successes``, ``trials``."""
        return {"group": self.group, "successes": self.successes, "trials": self.trials}

    @property
    def source(self) -> str:
        """The header lines of the file, which cite where the numbers come from."""
        lines = _path(self.name).read_text(encoding="utf-8").splitlines()
        return "\n".join(line.lstrip("# ").rstrip() for line in lines if line.startswith("#"))


_DATASETS = {
    d.name: d
    for d in (
        Dataset(
            "spacex",
            "SpaceX launch vehicles: successes y of N launches (the seed analysis)",
            "Mission",
            "y",
            "N",
        ),
        Dataset(
            "rat_tumors",
            "71 experiments: rats with tumours y of n (Tarone 1982; BDA3 Table 5.1)",
            "experiment",
            "y",
            "n",
        ),
        Dataset(
            "surgical",
            "12 hospitals: deaths r of n cardiac operations in babies (BUGS Examples)",
            "hospital",
            "r",
            "n",
        ),
        Dataset(
            "efron_morris",
            "18 baseball players: hits y in the first K=45 at-bats of 1970, "
            "with the rest of the season in K_new, y_new (Efron & Morris 1975)",
            "player",
            "y",
            "K",
        ),
    )
}


def _path(name: str):
    return resources.files(__package__).joinpath(f"{name}.csv")


def list() -> builtins.list[str]:  # noqa: A001  (mirrors the CLI's `poolwise datasets`)
    """Names of the bundled datasets."""
    return sorted(_DATASETS)


def info(name: str) -> Dataset:
    """Return the description, column roles and source of a bundled dataset."""
    try:
        return _DATASETS[name]
    except KeyError:
        raise ValueError(f"no bundled dataset {name!r}; available: {', '.join(list())}") from None


def load(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame (its columns as in the source; see :func:`info`)."""
    info(name)
    with resources.as_file(_path(name)) as path:
        return pd.read_csv(path, comment="#")
