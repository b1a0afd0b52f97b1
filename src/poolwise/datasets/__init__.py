"""Bundled datasets with their sources: ``load(name)``, ``list()``, ``info(name)``.

Each CSV starts with ``#`` lines that give its source; :func:`load` skips them.  A dataset declares
its family and which column plays each role, so that ``info(name).columns`` are the keyword
arguments to pass on::

    info = pw.datasets.info("bcg")
    pw.meta_analysis(pw.datasets.load("bcg"), **info.columns)
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from importlib import resources

import pandas as pd

from ..families import registry


def _family(kind: registry.DataKind) -> str:
    """Name a kind of data as the datasets do: its family, or the kind where several families fit it."""
    fitting = [f.name for f in registry.REGISTRY.values() if f.data == kind.name]
    return fitting[0] if len(fitting) == 1 else kind.name


#: A bundled dataset's family for each kind of data (:data:`poolwise.families.registry.KINDS`).
_FAMILY_OF = {kind.name: _family(kind) for kind in registry.KINDS.values()}


def _roles(kind: registry.DataKind) -> tuple[str, str, str]:
    count, size = registry.get(kind.family).roles
    return ("group", count, "|".join((size, *kind.alternatives)))


#: The kinds of data a bundled dataset holds, and the :func:`poolwise.fit` keyword arguments
#: (column roles) each needs, in order; ``a|b``: either.
FAMILIES = {_FAMILY_OF[kind.name]: _roles(kind) for kind in registry.KINDS.values()}


@dataclass(frozen=True)
class Dataset:
    """A bundled dataset: what it is, its family, and the column that plays each role.

    Attributes
    ----------
    name, description : str
        As :func:`list` and the CLI show them.
    family : {"binomial", "normal-normal", "gamma-poisson"}
        ``"binomial"``: successes of trials per group; ``"normal-normal"``: an estimate with its
        standard error (or variance) per study, for :func:`poolwise.meta_analysis` and the
        normal-normal model; ``"gamma-poisson"``: a count of events in an exposure (operating
        time, person-years) per group, for the gamma-Poisson family.
    roles : tuple of (str, str)
        ``(keyword, column)`` pairs, e.g. ``(("group", "school"), ("estimate", "y"),
        ("std_error", "sigma"))`` or ``(("group", "pump"), ("events", "failures"), ("exposure",
        "hours"))``.  Each role is also an attribute: ``info("spacex").trials``.
    """

    name: str
    description: str
    family: str
    roles: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        wanted = FAMILIES[self.family]
        given = tuple(role for role, _ in self.roles)
        if len(given) != len(wanted) or any(
            g not in w.split("|") for g, w in zip(given, wanted, strict=True)
        ):
            raise ValueError(
                f"dataset {self.name!r}: a {self.family} dataset has roles {wanted}, got {given}"
            )

    @property
    def columns(self) -> dict[str, str]:
        """Keyword arguments naming the columns, e.g. ``group``, ``successes``, ``trials``."""
        return dict(self.roles)

    def __getattr__(self, role: str) -> str:
        # Only called for names that are not fields: the roles (group, successes, estimate, ...).
        for name, column in self.__dict__.get("roles", ()):
            if name == role:
                return column
        raise AttributeError(f"dataset {self.__dict__.get('name')!r} has no column role {role!r}")

    @property
    def source(self) -> str:
        """The header lines of the file, which cite where the numbers come from."""
        lines = _path(self.name).read_text(encoding="utf-8").splitlines()
        return "\n".join(line.lstrip("# ").rstrip() for line in lines if line.startswith("#"))


def _binomial(name: str, description: str, group: str, successes: str, trials: str) -> Dataset:
    return Dataset(
        name,
        description,
        _FAMILY_OF["binomial"],
        (("group", group), ("successes", successes), ("trials", trials)),
    )


def _estimates(name: str, description: str, group: str, estimate: str, spread: tuple[str, str]) -> Dataset:
    family = _FAMILY_OF["estimates"]
    return Dataset(name, description, family, (("group", group), ("estimate", estimate), spread))


def _events(name: str, description: str, group: str, events: str, exposure: str) -> Dataset:
    return Dataset(
        name, description, _FAMILY_OF["rates"], (("group", group), ("events", events), ("exposure", exposure))
    )


_DATASETS = {
    d.name: d
    for d in (
        _binomial(
            "spacex",
            "SpaceX launch vehicles: successes y of N launches (the seed analysis)",
            "Mission",
            "y",
            "N",
        ),
        _binomial(
            "rat_tumors",
            "71 experiments: rats with tumours y of n (Tarone 1982; BDA3 Table 5.1)",
            "experiment",
            "y",
            "n",
        ),
        _binomial(
            "surgical",
            "12 hospitals: deaths r of n cardiac operations in babies (BUGS Examples)",
            "hospital",
            "r",
            "n",
        ),
        _binomial(
            "efron_morris",
            "18 baseball players: hits y in the first K=45 at-bats of 1970, "
            "with the rest of the season in K_new, y_new (Efron & Morris 1975)",
            "player",
            "y",
            "K",
        ),
        _estimates(
            "eight_schools",
            "8 schools: coaching effect y with standard error sigma (Rubin 1981; BDA3 Table 5.2, rounded)",
            "school",
            "y",
            ("std_error", "sigma"),
        ),
        _estimates(
            "bcg",
            "13 BCG vaccine trials: log risk ratio yi with variance vi, and the 2x2 counts "
            "(Colditz et al. 1994; metafor dat.bcg)",
            "study",
            "yi",
            ("variance", "vi"),
        ),
        _estimates(
            "beta_blockers",
            "22 beta-blocker trials: log-odds ratio y of death with variance v, and the deaths "
            "rt of nt treated, rc of nc controls (BDA3 Sec 5.6)",
            "study",
            "y",
            ("variance", "v"),
        ),
        _estimates(
            "crins2014",
            "6 studies of IL-2RA after paediatric liver transplant: log-odds ratio yi of acute "
            "rejection with variance vi, and the counts (Crins et al. 2014)",
            "study",
            "yi",
            ("variance", "vi"),
        ),
        _events(
            "pumps",
            "10 power-plant pumps: failures in hours (thousands of operating hours) "
            "(Gaver & O'Muircheartaigh 1987; BUGS Examples)",
            "pump",
            "failures",
            "hours",
        ),
    )
}


def _path(name: str):
    return resources.files(__package__).joinpath(f"{name}.csv")


def list(family: str | None = None) -> builtins.list[str]:  # noqa: A001  (mirrors `poolwise datasets`)
    """Names of the bundled datasets, all or those of one family (see :data:`FAMILIES`)."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"no dataset family {family!r}; families: {', '.join(FAMILIES)}")
    return sorted(name for name, d in _DATASETS.items() if family in (None, d.family))


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
