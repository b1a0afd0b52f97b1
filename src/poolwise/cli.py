"""The ``poolwise`` command: a thin shell over :func:`poolwise.fit_all` and the presentation layer.

``poolwise`` alone analyses the bundled SpaceX data with all three poolings and writes the HTML
report; ``poolwise fit DATA`` does the same for a CSV or Parquet file, ``report``, ``compare``,
``stream``, ``check-calibration`` and ``describe`` do one job each, ``datasets`` lists the bundled
data. Exit status: 0 on success, 2 on bad input or arguments (the message names file, column, row
and value), 1 when ``check-calibration`` finds the engine miscalibrated.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import sys
import warnings

from . import __version__
from ._core.validation import check_tol

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _prior(text: str) -> tuple[str, str]:
    name, sep, spec = text.partition("=")
    if not sep or not name.strip() or not spec.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=PRIOR such as alpha=HalfNormal(10) or 'alpha,beta=BDA3', got {text!r}"
        )
    return name.strip(), spec.strip()


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a probability strictly between 0 and 1, got {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a rate between 0 and 1, got {text!r}")
    return value


def _whole(minimum: int):
    """Make an argparse type for whole numbers of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


_positive_int = _whole(1)
_non_negative_int = _whole(0)

#: Largest number of trials a group may have: the engines count in 64-bit integers.
MAX_TRIALS = 2**63 - 1


def _tol(text: str) -> float:
    """Parse ``--tol`` with :func:`poolwise._core.validation.check_tol`."""
    try:
        return check_tol(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a finite number strictly between 0 and 1 (such as 1e-4), got {text!r}"
        ) from None


def _trials(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 0 separated by commas, got {text!r}")
    too_many = [v for v in values if v > MAX_TRIALS]
    if too_many:
        raise argparse.ArgumentTypeError(
            f"trials must be at most 2**63 - 1 = {MAX_TRIALS} (64-bit counts), got {too_many[0]}"
        )
    return values


def _observed(text: str) -> tuple[int, float]:
    """Parse ``Y/N``: successes of trials, or (event counts) events in an exposure such as ``3/5.2``."""
    y, sep, n = text.partition("/")
    try:
        successes, size = int(y), float(n)
    except ValueError:
        successes, size = -1, -1.0
    whole = size.is_integer() and size >= successes
    if not sep or successes < 0 or not (whole or (size > 0 and "." in n)):
        raise argparse.ArgumentTypeError(
            f"expected SUCCESSES/TRIALS such as 2/3 (or EVENTS/EXPOSURE such as 3/5.2), got {text!r}"
        )
    return successes, int(size) if whole else size


class _Families:
    """The registry's family names as ``--family`` choices, read when argparse first asks.

    Importing the registry loads every family's maths (SciPy): ``poolwise --version`` should not.
    """

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())

    @staticmethod
    def _names() -> tuple[str, ...]:
        from .families import registry

        return registry.names()


class _Spelled(argparse.Action):
    """Store ``(option, value)``: an option spelled in a family's own words keeps that meaning.

    ``--new-size`` and ``--heldout-count``/``--heldout-size`` speak of any family's data; their old
    spellings (``--new-trials``, ``--heldout-events``, ...) name one kind of data, and are refused
    for another as before. ``types`` parses the value per spelling (whole trials, a real exposure).
    """

    def __init__(self, *args, types: dict | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.types = types or {}

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parse = self.types.get(option_string)
        if parse is not None:
            try:
                values = parse(values)
            except argparse.ArgumentTypeError as err:
                raise argparse.ArgumentError(self, str(err)) from None
        setattr(namespace, self.dest, (option_string, values))


def _add_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("data", nargs="?", metavar="DATA", help="CSV or Parquet file, one row per group")
    source.add_argument(
        "--dataset", metavar="NAME", help="a bundled dataset instead (see `poolwise datasets`)"
    )
    parser.add_argument("--group", help="group label column (default: group)")
    parser.add_argument("--successes", help="successes column, y (default: successes)")
    parser.add_argument("--trials", help="trials column, n (default: trials)")
    parser.add_argument(
        "--estimate",
        help="estimates with known standard errors instead of counts (the normal-normal family: a "
        "random-effects meta-analysis); with --std-error or --variance",
    )
    spread = parser.add_mutually_exclusive_group()
    spread.add_argument("--std-error", help="standard error column of --estimate")
    spread.add_argument("--variance", help="sampling variance column of --estimate")
    parser.add_argument(
        "--events",
        help="event counts in an exposure instead (the gamma-Poisson family: failures per operating "
        "hour, cases per person-year); with --exposure (default columns: events, exposure)",
    )
    parser.add_argument("--exposure", help="exposure column of --events (hours, person-years, ...)")
    parser.add_argument("--sep", help="CSV delimiter (default ',')")


def _add_fit_options(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """Add the options of a fit, to the top-level parser or (``defaults=False``) to a command's.

    A command's copies have no defaults (``argparse.SUPPRESS``): argparse would otherwise reset an
    option given before the command (``poolwise --json fit data.csv``) to the command's default.
    """
    add = parser.add_argument if defaults else functools.partial(_add_without_default, parser)
    add(
        "--pooling",
        choices=["none", "complete", "partial", "all"],
        default="all",
        help="which model(s) to fit (default: all three)",
    )
    add(
        "--ci-kind",
        choices=["hdi", "eti"],
        default="hdi",
        help="credible interval: highest-density or equal-tailed (default: hdi)",
    )
    add(
        "--ci-prob",
        type=_probability,
        default=0.94,
        help="probability inside the interval (default: 0.94)",
    )
    add(
        "--prior",
        action="append",
        type=_prior,
        default=[],
        metavar="NAME=PRIOR",
        help="override a prior, e.g. --prior alpha=HalfNormal(10) --prior beta=Gamma(2,0.5); "
        "--prior mu=Beta(1,1) --prior kappa=Exponential(0.1); --prior 'alpha,beta=BDA3'; "
        "--prior theta=Beta(1,1) for no/complete pooling",
    )
    add(
        "--family",
        choices=_Families(),
        default=None,
        metavar="FAMILY",
        help="one of %(choices)s; implied by the columns: for counts beta-binomial (default; the "
        "seed's Beta population) or logit-normal (logit theta_i ~ N(mu, sigma^2), as lme4, brms and "
        "INLA fit it); normal-normal for --estimate; gamma-poisson for events in an exposure "
        "(--events/--exposure)",
    )
    add(
        "--engine",
        choices=["exact", "nuts"],
        default="exact",
        help="exact (default): integrals on a grid; nuts: the seed's PyMC models sampled with NUTS "
        "(needs pip install 'poolwise[mcmc]')",
    )
    add(
        "--draws",
        type=_positive_int,
        default=None,
        help="draws per chain (default 1000; with --engine nuts the seed's 5000)",
    )
    add("--tune", type=_non_negative_int, default=None, help="nuts: tuning steps per chain (default 5000)")
    add(
        "--target-accept",
        type=_probability,
        default=None,
        help="nuts: target acceptance rate (default 0.95)",
    )
    add(
        "--nuts-sampler",
        choices=["pymc", "nutpie", "numpyro", "blackjax"],
        default=None,
        help="nuts: NUTS implementation passed to pm.sample (default pymc; the others must be installed)",
    )
    add(
        "--parametrization",
        choices=["centered", "marginal"],
        default=None,
        help="nuts, partial pooling: centered (the seed's, default) or marginal (alpha, beta against "
        "the beta-binomial likelihood, theta drawn from its conjugate Beta afterwards)",
    )
    add("--chains", type=_positive_int, default=4, help="independent chains (default 4)")
    add("--seed", type=int, default=42, help="random seed of the draws (default 42)")
    add("--tol", type=_tol, default=1e-4, help="grid convergence tolerance, in (0, 1) (default 1e-4)")
    add("--json", action="store_true", help="print a machine-readable result on stdout")
    add("--out", metavar="FILE.csv", help="write the per-group table (all poolings) to a CSV file")
    add("--report", metavar="FILE.html", help="also write the self-contained HTML report to this file")
    add(
        "--threshold",
        type=_rate,
        metavar="T",
        help="also call groups above (or --direction below) the rate T, with q-values (partial pooling)",
    )
    add("--direction", choices=["above", "below"], default="above")
    add(
        "--new-group",
        action="append",
        type=_observed,
        default=[],
        metavar="Y/N",
        help="also predict a new group that has shown Y successes in N trials, e.g. 2/3, or Y events "
        "in exposure N, e.g. 3/5.2 (repeatable)",
    )
    add(
        "--new-size",
        "--new-trials",
        "--new-exposure",
        dest="new_size",
        action=_Spelled,
        types={
            "--new-size": _positive_float,
            "--new-trials": _positive_int,
            "--new-exposure": _positive_float,
        },
        metavar="M",
        help="also predict an unseen group's count in a size M: successes in M trials (the report's "
        "figure uses M too; default there: the median group's trials), or events in exposure M (in "
        "the data's units); --new-trials and --new-exposure name one kind of data",
    )
    add(
        "--heldout-count",
        "--heldout-successes",
        "--heldout-events",
        dest="heldout_count",
        action=_Spelled,
        metavar="COLUMN",
        help="with --heldout-size: later counts of the same groups (successes, e.g. the rest of a "
        "season; events), in columns of the same table; every pooling is scored on them",
    )
    add(
        "--heldout-size",
        "--heldout-trials",
        "--heldout-exposure",
        dest="heldout_size",
        action=_Spelled,
        metavar="COLUMN",
        help="the trials (exposures) of --heldout-count",
    )
    add(
        "--pairwise",
        action="store_true",
        help="print P(theta_i > theta_j) for every pair (up to 12 groups; --json has it up to 200)",
    )
    add("--quiet", "-q", action="store_true", help="print nothing but errors (and --json)")


def _add_without_default(parser: argparse.ArgumentParser, *args, **kwargs) -> argparse.Action:
    return parser.add_argument(*args, **{**kwargs, "default": argparse.SUPPRESS})


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="poolwise",
        description="Exact Bayesian partial pooling for binomial counts per group. With no command, "
        "analyses the bundled SpaceX launch data with no, complete and partial pooling.",
    )
    parser.add_argument("--version", action="version", version=f"poolwise {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = commands.add_parser(
        "fit",
        help="fit a CSV or Parquet file (one row per group)",
        description="Fit no/complete/partial pooling to a table of counts per group.",
    )
    _add_source(fit)
    _add_fit_options(fit, defaults=False)
    report = commands.add_parser(
        "report",
        help="fit and write the self-contained HTML report",
        description="Fit the poolings and write one self-contained HTML page with the whole study.",
    )
    _add_source(report)
    _add_fit_options(report, defaults=False)
    report.add_argument(
        "-o",
        "--output",
        default=None,
        help="the HTML file to write (default: poolwise-report.html; --report FILE says the same)",
    )
    compare = commands.add_parser(
        "compare",
        help="which pooling do the data support? exact leave-one-group-out CV and PSIS-LOO",
        description="Compare no, complete and partial pooling by exact leave-one-group-out "
        "cross-validation, with PSIS-LOO and stacking weights beside it.",
    )
    _add_source(compare)
    _add_fit_options(compare, defaults=False)
    stream = commands.add_parser(
        "stream",
        help="partial pooling of a Parquet file too large for memory, in two passes",
        description="Fit partial pooling to a Parquet file in bounded memory and write every group's "
        "posterior summary to a Parquet file.",
    )
    stream.add_argument(
        "data",
        metavar="DATA.parquet",
        help="Parquet file, one row per group; with --dask also a directory or glob of Parquet files",
    )
    stream.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.parquet",
        help="file to write (with --dask: a directory, one Parquet file per partition)",
    )
    stream.add_argument("--group", default="group", help="group label column (default: group)")
    stream.add_argument("--successes", default="successes", help="successes column (default: successes)")
    stream.add_argument("--trials", default="trials", help="trials column (default: trials)")
    stream.add_argument("--prior", action="append", type=_prior, default=[], metavar="NAME=PRIOR")
    stream.add_argument("--ci-kind", choices=["hdi", "eti"], default="hdi")
    stream.add_argument("--ci-prob", type=_probability, default=0.94)
    stream.add_argument(
        "--batch-rows",
        type=_positive_int,
        default=1_000_000,
        help="rows read at a time (without --dask; with it, a partition is the unit)",
    )
    stream.add_argument(
        "--dask",
        metavar="SCHEDULER_ADDRESS",
        help="fit on a dask.distributed cluster at this address (e.g. tcp://10.0.0.1:8786), or 'local' "
        "for a cluster on this machine; needs pip install 'poolwise[dask]'",
    )
    stream.add_argument("--quiet", "-q", action="store_true", help="no progress bar on standard error")
    stream.add_argument(
        "--pooling",
        choices=["partial", "none", "complete"],
        default="partial",
        help="partial (default), or a closed form from the same pair counts",
    )
    calibration = commands.add_parser(
        "check-calibration",
        help="simulation-based calibration of an engine on your design",
        description="Draw hyperparameters, rates and counts from the prior for your trials, fit, and "
        "test that the truth's posterior CDF values (exact) or ranks among thinned draws (nuts) are "
        "uniform (chi-square per parameter).",
    )
    calibration.add_argument(
        "--trials", required=True, type=_trials, help="trials per group, comma-separated (e.g. 10,10,5,300)"
    )
    calibration.add_argument(
        "--pooling",
        choices=["none", "complete", "partial"],
        default="partial",
        help="the model calibrated (default: partial)",
    )
    calibration.add_argument(
        "--prior",
        action="append",
        type=_prior,
        default=[],
        metavar="NAME=PRIOR",
        help="override a prior, as for fit (it must be proper: the truth is drawn from it)",
    )
    calibration.add_argument(
        "--simulations",
        type=_positive_int,
        default=200,
        help="data sets simulated and fitted (default: 200)",
    )
    calibration.add_argument(
        "--false-alarm",
        type=_probability,
        default=0.01,
        help="probability that a correct engine fails the check, over all parameters (default: 0.01)",
    )
    calibration.add_argument(
        "--seed", type=int, default=0, help="random seed of the simulations and the sampler (default: 0)"
    )
    calibration.add_argument(
        "--engine",
        choices=["exact", "nuts"],
        default="exact",
        help="the engine calibrated (nuts: PyMC, 500 draws after 500 tuning steps in 2 chains, about "
        "a second per simulation)",
    )
    calibration.add_argument("--quiet", "-q", action="store_true", help="no progress bar on standard error")
    meta = commands.add_parser(
        "meta",
        help="frequentist random-effects meta-analysis (REML, DL, PM, ML, EB, SJ, HE), as metafor reports it",
        description="Estimate the between-study variance tau^2, the pooled effect with its confidence "
        "and prediction intervals, and the heterogeneity (Q, I^2, H^2) from estimates with standard "
        "errors or variances, one row per study.",
    )
    meta_source = meta.add_mutually_exclusive_group(required=True)
    meta_source.add_argument("data", nargs="?", metavar="DATA", help="CSV or Parquet file, one row per study")
    meta_source.add_argument("--dataset", metavar="NAME", help="a bundled dataset (e.g. bcg, eight_schools)")
    meta.add_argument("--group", help="study label column (default: row numbers)")
    meta.add_argument("--estimate", help="effect estimate column, e.g. a log odds ratio")
    spread = meta.add_mutually_exclusive_group()
    spread.add_argument("--std-error", help="standard error column")
    spread.add_argument("--variance", help="sampling variance column")
    meta.add_argument(
        "--method",
        default="REML",
        # checked by meta_analysis (exit 2 naming the choices): importing it here would load SciPy
        # for every command
        help="tau^2 estimator, as metafor's rma(method=): REML (default), DL, PM, ML, EB, SJ or HE",
    )
    meta.add_argument(
        "--knha", action="store_true", help="Knapp-Hartung adjustment (t with k - 1 degrees of freedom)"
    )
    meta.add_argument("--level", type=_probability, default=0.95, help="confidence level (default 0.95)")
    meta.add_argument("--sep", help="CSV delimiter (default ',')")
    meta.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    meta.add_argument("-o", "--output", metavar="FILE.png", help="draw the forest plot to PNG/SVG/PDF")
    meta.add_argument(
        "--exp", action="store_true", help="forest plot of log ratios: label the axis as ratios, exp(value)"
    )
    describe = commands.add_parser(
        "describe",
        help="state a model in formulas and draw its diagram (plate notation)",
        description="Print the model's statements and, with -o, draw its diagram in plate notation.",
    )
    describe.add_argument("--pooling", choices=["none", "complete", "partial", "all"], default="all")
    describe.add_argument(
        "--family",
        choices=_Families(),
        default=None,
        metavar="FAMILY",
        help="one of %(choices)s: counts (beta-binomial, default; logit-normal), estimates with "
        "standard errors (normal-normal) or events in an exposure (gamma-poisson)",
    )
    describe.add_argument("--prior", action="append", type=_prior, default=[], metavar="NAME=PRIOR")
    describe.add_argument("-o", "--output", metavar="FILE.png", help="draw the diagram(s) to PNG/SVG/PDF")
    commands.add_parser("datasets", help="list the bundled datasets")
    _add_fit_options(parser)
    parser.add_argument(
        "--no-report", action="store_true", help="with no command: do not write poolwise-report.html"
    )
    return parser


def _columns(args: argparse.Namespace) -> tuple[object, dict, str]:
    from . import datasets
    from .families import registry

    has_source = getattr(args, "command", None) in ("fit", "report", "compare")
    estimates = has_source and (args.estimate or args.std_error or args.variance)
    family = registry.get(args.family) if args.family else None
    events = has_source and (args.events or args.exposure or (family is not None and family.data == "rates"))
    given = [
        kind
        for kind, present in (
            ("counts (--successes, --trials)", has_source and (args.successes or args.trials)),
            ("estimates (--estimate with --std-error or --variance)", estimates),
            ("events (--events, --exposure)", args.events or args.exposure if has_source else None),
        )
        if present
    ]
    if len(given) > 1:
        raise ValueError(f"give {' or '.join(given)}, not {'both' if len(given) == 2 else 'several'}")
    if has_source and args.data is not None:
        if estimates:
            if not (args.estimate and (args.std_error or args.variance)):
                raise ValueError("--estimate needs --std-error or --variance (and they need --estimate)")
            spread = {"std_error": args.std_error} if args.std_error else {"variance": args.variance}
            return args.data, {"group": args.group or "group", "estimate": args.estimate, **spread}, args.data
        if events:
            cols = {
                "group": args.group or "group",
                "events": args.events or "events",
                "exposure": args.exposure or "exposure",
            }
            return args.data, cols, args.data
        cols = {
            "group": args.group or "group",
            "successes": args.successes or "successes",
            "trials": args.trials or "trials",
        }
        return args.data, cols, args.data
    name = args.dataset if has_source else "spacex"
    info = datasets.info(name)
    cols = info.columns
    if has_source and (args.std_error or args.variance):  # the user's spread column replaces the bundled one
        cols.pop("std_error", None)
        cols.pop("variance", None)
    for role in ("group", "successes", "trials", "estimate", "std_error", "variance", "events", "exposure"):
        if getattr(args, role, None):
            cols[role] = getattr(args, role)
    return datasets.load(name), cols, f"{info.description} (bundled dataset '{name}')"


def _fit(args: argparse.Namespace):
    from .study.fits import fit_all

    data, cols, title = _columns(args)
    nuts = {
        "tune": args.tune,
        "target_accept": args.target_accept,
        "nuts_sampler": args.nuts_sampler,
        "parametrization": args.parametrization,
    }
    if args.engine == "nuts":
        nuts["progressbar"] = not args.quiet
    # PyMC draws its progress bars on stdout; keep stdout for the result (text or --json).
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        fits = fit_all(
            data,
            **cols,
            poolings=args.pooling,
            priors=dict(args.prior) or None,
            family=args.family,
            engine=args.engine,
            draws=args.draws,
            chains=args.chains,
            random_seed=args.seed,
            tol=args.tol,
            sep=getattr(args, "sep", None),
            **nuts,
        )
    for w in caught:
        if not args.json and not args.quiet:
            continue  # shown in the text output beside the model it concerns
        print(f"poolwise: warning: {w.message}", file=sys.stderr)
    return fits, title


def _data_family(cols: dict, family: str | None):
    """Return the family a fit of these columns will be: ``--family``, or their kind of data's."""
    from .families import registry

    if family is not None:
        return registry.get(family)
    implied = (registry.get(kind.family) for kind in registry.KINDS.values())
    return next(f for f in implied if f.roles[0] in cols)


def _heldout(args: argparse.Namespace):
    """Validate the later counts named by --heldout-count/--heldout-size (or their old spellings)."""
    from .families import registry

    spelled = [s for s in (args.heldout_count, args.heldout_size) if s is not None]
    if not spelled:
        return None
    words = {option.removeprefix("--heldout-") for option, _ in spelled}
    # One language (count, size), or the words of one family's data (successes, trials; events, exposure).
    counted = dict.fromkeys(f.roles for f in registry.REGISTRY.values() if f.display.counts)
    pair = next((p for p in [("count", "size"), *counted] if words <= set(p)), None)
    if pair is None:
        spellings = " or ".join("/".join(f"--heldout-{w}" for w in p) for p in counted)
        raise ValueError(f"give --heldout-count/--heldout-size (or {spellings}) in one language")
    options = ", ".join(f"--heldout-{w}" for w in pair)
    if len(spelled) < 2:
        raise ValueError(f"{options.replace(', ', ' and ')} must be given together")
    from .errors import DataError

    data, cols, _ = _columns(args)
    family = next((f for f in registry.REGISTRY.values() if f.roles == pair), None)
    family = family or _data_family(cols, args.family)
    columns = dict(zip(family.roles, (args.heldout_count[1], args.heldout_size[1]), strict=True))
    try:
        later = family.kind.read(data, group=cols["group"], **columns, sep=getattr(args, "sep", None))
    except DataError as err:
        raise ValueError(f"held-out counts ({options}): {err}") from err
    return tuple(getattr(later, role) for role in family.roles)


#: The sizes a new group's count can be predicted in: keywords ``new_<size>`` of the study.
_NEW_SIZES = ("trials", "exposure")


def _new_size(args: argparse.Namespace) -> dict:
    """``--new-size`` as the study's ``new_trials`` or ``new_exposure``, by the family's size.

    An old spelling (``--new-trials``, ``--new-exposure``) names its own, which the study refuses
    for the other kind of data.
    """
    out = {f"new_{size}": None for size in _NEW_SIZES}
    if args.new_size is None:
        return out
    option, value = args.new_size
    size = option.removeprefix("--new-")
    if size == "size":
        family = _data_family(_columns(args)[1], args.family)
        size = family.roles[1]
        if size not in _NEW_SIZES:
            raise ValueError(f"{option}: a new group's count is for counts; this fit is {family.name}")
        if size == "trials":
            if not value.is_integer():
                raise ValueError(f"{option} {value:g}: trials are a whole number")
            value = int(value)
    out[f"new_{size}"] = value
    return out


def _run_fit(args: argparse.Namespace) -> int:
    from ._core.io import atomic_write_text, csv_safe
    from .presentation import render
    from .presentation.explain import study

    report, option = args.report, "--report"
    if args.command == "report":
        if args.output is not None and report is not None and args.output != report:
            raise ValueError(
                f"report: two files for the one report, -o {args.output!r} and --report {report!r}; give one"
            )
        if args.output is not None:
            report, option = args.output, "--output"
        if report is None:  # an empty path is refused below, not replaced
            report = "poolwise-report.html"
    if args.command is None and report is None and not args.no_report:
        report = "poolwise-report.html"
    # A path that cannot be written fails now, not after a fit of minutes.
    check_output_paths([("--out", args.out), (option, report)])
    # bad held-out columns and sizes fail before the fit, not after it
    heldout = _heldout(args)
    sizes = _new_size(args)
    fits, title = _fit(args)
    questions = {
        "threshold": args.threshold,
        "direction": args.direction,
        "new_groups": args.new_group,
        "heldout": heldout,
        **sizes,
        "ci_kind": args.ci_kind,
        "ci_prob": args.ci_prob,
    }
    answers = study(fits, **questions)
    if args.out:
        table = render.long_table(fits, args.ci_kind, args.ci_prob)
        atomic_write_text(args.out, csv_safe(table).to_csv(index=False))
    if report:
        from .presentation.report import write_report

        code = "pw.datasets.load('spacex')" if args.command is None else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the fits' own warnings are already shown
            report = write_report(
                fits,
                report,
                title=title,
                ci_kind=args.ci_kind,
                ci_prob=args.ci_prob,
                **sizes,
                data_code=code,
                study=answers,
            )
    if args.json:
        doc = render.to_dict(fits, args.ci_kind, args.ci_prob)
        doc["data"]["title"] = title
        doc.update(render.study_dict(answers))
        if report:
            doc["report"] = str(report)
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif not args.quiet:
        if args.command != "compare":
            sys.stdout.write(render.to_text(fits, args.ci_kind, args.ci_prob, title=title))
        sys.stdout.write(render.study_text(answers, pairwise=args.pairwise))
        if args.out:
            print(f"\nper-group table written to {render.printable(args.out)}")
        if report:
            print(f"\nreport written to {render.printable(report)}")
    return EXIT_OK


def check_output_paths(options: list[tuple[str, str | None]], *, directory: bool = False) -> None:
    """Refuse output paths that cannot be written, before any work is done.

    Parameters
    ----------
    options : list of (str, str or None)
        The option's name and the path the user gave (None: the option was not given).
    directory : bool, optional
        The outputs are directories to create (``stream --dask``), not files.

    Raises
    ------
    ValueError
        The path is empty, its directory does not exist, or (for a file) it is a directory; the
        message names the option and the path as given.
    """
    for option, path in options:
        if path is None:
            continue
        if not path.strip():
            raise ValueError(f"{option}: the path is empty ({path!r}); give a file name")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ValueError(f"{option} {path!r}: directory {os.path.dirname(path) or '.'!r} does not exist")
        if not directory and os.path.isdir(path):
            raise ValueError(f"{option} {path!r}: is a directory, not a file")


class _StreamProgress:
    """A tqdm bar per pass of ``stream`` on standard error: rows done of the file's, and time left."""

    #: The rows in words (``pass 1 of 2: 2,000 rows of 5,000``), then the bar and the time left.
    FORMAT = "{desc}: {n:,} rows of {total:,} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]"

    def __init__(self, path: str) -> None:
        self.path, self.step, self.bar = path, 0, None

    def __call__(self, step: int, rows: int) -> None:
        if step != self.step:
            import pyarrow.parquet as pq
            from tqdm import tqdm

            self.close()
            # Called after a batch was read, so the file opens; its footer holds the row count.
            total = pq.ParquetFile(self.path).metadata.num_rows
            # A batch is a million rows by default: draw every one, however quick.
            self.bar = tqdm(
                total=total, desc=f"pass {step} of 2", file=sys.stderr, mininterval=0, bar_format=self.FORMAT
            )
            self.step = step
        self.bar.update(rows - self.bar.n)

    def close(self) -> None:
        """End the current pass's bar (its line stays, complete or where it stopped)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _run_stream(args: argparse.Namespace) -> int:
    from .presentation.render import printable

    options = {
        "group": args.group,
        "successes": args.successes,
        "trials": args.trials,
        "priors": dict(args.prior) or None,
        "ci_kind": args.ci_kind,
        "ci_prob": args.ci_prob,
        "pooling": args.pooling,
    }
    check_output_paths([("--output", args.output)], directory=bool(args.dask))
    if args.dask:
        from .fitting.distributed import fit_on_cluster

        result = fit_on_cluster(args.data, args.output, args.dask, progress=not args.quiet, **options)
    else:
        from .fitting.stream import fit_parquet

        progress = None if args.quiet else _StreamProgress(args.data)
        try:
            result = fit_parquet(
                args.data, args.output, batch_rows=args.batch_rows, progress=progress, **options
            )
        finally:
            if progress is not None:
                progress.close()
    pooling = {"none": "no pooling", "complete": "complete pooling"}.get(result.pooling, "partial pooling")
    print(f"{result.n_groups:,} groups, {result.n_pairs:,} distinct (n, y) pairs; {pooling}")
    print(result.hyperparameters.to_string(float_format=lambda v: f"{v:.4g}"))
    for warning in result.warnings:
        print(f"WARNING: {warning}")
    print(f"every group's posterior written to {printable(result.out)}")
    return EXIT_OK


def _run_calibration(args: argparse.Namespace) -> int:
    from .analysis.calibration import check_calibration

    result = check_calibration(
        args.trials,
        pooling=args.pooling,
        priors=dict(args.prior) or None,
        n_simulations=args.simulations,
        random_seed=args.seed,
        false_alarm=args.false_alarm,
        engine=args.engine,
        progress=not args.quiet,
    )
    located = "PIT of the truth" if args.engine == "exact" else "rank of the truth among thinned NUTS draws"
    print(
        f"simulation-based calibration: {args.simulations} data sets of {len(args.trials)} groups, "
        f"{args.pooling} pooling; {located} tested for uniformity (chi-square, 10 bins)"
    )
    print(result.tests.to_string(float_format=lambda v: f"{v:.3g}"))
    if result.sampler is not None:
        s = result.sampler
        print(
            f"NUTS: {s['divergences'].sum()} divergences in {(s['divergences'] > 0).sum()} data sets; "
            f"ranks among {s['ranked_among'].min()} to {s['ranked_among'].max()} thinned draws"
        )
    verdict = "calibrated" if result.passed else "NOT calibrated"
    print(f"{verdict} (a correct engine fails this check with probability {args.false_alarm:g})")
    return EXIT_OK if result.passed else 1


def _write_figure(path: str, draw) -> None:
    """Draw a figure (``draw()`` returns it) and write it atomically, in the format of its suffix."""
    import io

    from ._core.io import atomic_write_bytes
    from .presentation.plots._common import detached_figures

    with detached_figures():
        fig = draw()
        buffer = io.BytesIO()
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "png"
        fig.savefig(buffer, format=fmt, dpi=150)
    atomic_write_bytes(path, buffer.getvalue())


def _run_describe(args: argparse.Namespace) -> int:
    from .families import registry
    from .families.models import build

    check_output_paths([("--output", args.output)])
    models = build(args.pooling, dict(args.prior) or None, family=args.family or registry.DEFAULT)
    for model in models:
        print(f"{model.title}:")
        for line in model.equations():
            print(f"  {line}")
    if args.output:

        def draw():
            from .presentation.plots import plot_model_diagram
            from .presentation.plots._common import new_figure

            fig, axes = new_figure((4.2 * len(models), 3.4), 1, len(models))
            for ax, model in zip(axes[0], models, strict=True):
                plot_model_diagram(model, ax=ax)
            return fig

        _write_figure(args.output, draw)
        print(f"diagram written to {args.output}")
    return EXIT_OK


def _run_meta(args: argparse.Namespace) -> int:
    from . import datasets
    from .analysis.meta import meta_analysis
    from .data import read_table

    cols = {
        "group": args.group,
        "estimate": args.estimate,
        "std_error": args.std_error,
        "variance": args.variance,
    }
    check_output_paths([("--output", args.output)])
    if args.dataset is not None:
        info = datasets.info(args.dataset)
        if "estimate" not in info.columns:
            raise ValueError(
                f"dataset {args.dataset!r} holds {info.family} data, not estimates with standard errors"
            )
        given = {role: name for role, name in cols.items() if name is not None}
        cols = {**dict.fromkeys(cols), **info.columns, **given}
        if given.get("std_error") or given.get(
            "variance"
        ):  # the user's spread column replaces the bundled one
            cols["std_error" if "variance" in given else "variance"] = None
        data = datasets.load(args.dataset)
    else:
        data = read_table(args.data, sep=args.sep)
    if cols["estimate"] is None:
        raise ValueError("meta needs --estimate COLUMN, with --std-error COLUMN or --variance COLUMN")
    result = meta_analysis(
        data, **cols, method=args.method, test="knha" if args.knha else "z", level=args.level
    )
    if args.output:
        from .presentation.plots.meta_forest import plot_meta_forest

        _write_figure(args.output, lambda: plot_meta_forest(result, exp=args.exp).figure)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result.summary())
        if args.output:
            print(f"\nforest plot written to {args.output}")
    return EXIT_OK


def _list_datasets() -> int:
    from . import datasets

    for name in datasets.list():
        info = datasets.info(name)
        print(f"{name:<14} {info.family:<14} {info.description}")
    return EXIT_OK


def _one_line(err: BaseException) -> str:
    """Return an error's message on one line (pyarrow's and others' can span several)."""
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of exiting (for tests)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed its message
        return int(stop.code or 0)
    from .errors import DataError, PriorError

    try:
        commands = {
            "datasets": lambda _: _list_datasets(),
            "stream": _run_stream,
            "check-calibration": _run_calibration,
            "describe": _run_describe,
            "meta": _run_meta,
        }
        return commands.get(args.command, _run_fit)(args)
    except BrokenPipeError:  # the reader went away (`poolwise ... | head`): not an error of ours
        sys.stdout = open(os.devnull, "w")  # else the interpreter's final flush fails again
        return EXIT_OK
    except (DataError, PriorError, ValueError, OSError) as err:
        print(f"poolwise: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as err:
        # Only a missing optional extra is the user's to fix.
        if "poolwise[mcmc]" not in str(err) and "poolwise[dask]" not in str(err):
            raise
        print(f"poolwise: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
