"""The ``poolwise`` command: a thin shell over :func:`poolwise.fit_all` and :mod:`poolwise.render`.

``poolwise`` alone analyses the bundled SpaceX data with all three poolings; ``poolwise fit DATA``
does the same for a CSV or Parquet file; ``poolwise datasets`` lists the bundled data. Exit status:
0 on success, 2 on bad input or arguments (the message names file, column, row and value).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings

from . import __version__

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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pooling",
        choices=["none", "complete", "partial", "all"],
        default="all",
        help="which model(s) to fit (default: all three)",
    )
    parser.add_argument(
        "--ci-kind",
        choices=["hdi", "eti"],
        default="hdi",
        help="credible interval: highest-density or equal-tailed (default: hdi)",
    )
    parser.add_argument(
        "--ci-prob",
        type=_probability,
        default=0.94,
        help="probability inside the interval (default: 0.94)",
    )
    parser.add_argument(
        "--prior",
        action="append",
        type=_prior,
        default=[],
        metavar="NAME=PRIOR",
        help="override a prior, e.g. --prior alpha=HalfNormal(10) --prior beta=Gamma(2,0.5); "
        "--prior mu=Beta(1,1) --prior kappa=Exponential(0.1); --prior 'alpha,beta=BDA3'; "
        "--prior theta=Beta(1,1) for no/complete pooling",
    )
    parser.add_argument(
        "--engine",
        choices=["exact", "nuts"],
        default="exact",
        help="exact (default): integrals on a grid; nuts: the seed's PyMC models sampled with NUTS "
        "(needs pip install 'poolwise[mcmc]')",
    )
    parser.add_argument(
        "--draws",
        type=_positive_int,
        default=None,
        help="draws per chain (default 1000; with --engine nuts the seed's 5000)",
    )
    parser.add_argument(
        "--tune", type=_non_negative_int, default=None, help="nuts: tuning steps per chain (default 5000)"
    )
    parser.add_argument(
        "--target-accept",
        type=_probability,
        default=None,
        help="nuts: target acceptance rate (default 0.95)",
    )
    parser.add_argument(
        "--nuts-sampler",
        choices=["pymc", "nutpie", "numpyro", "blackjax"],
        default=None,
        help="nuts: NUTS implementation passed to pm.sample (default pymc; the others must be installed)",
    )
    parser.add_argument(
        "--parametrization",
        choices=["centered", "marginal"],
        default=None,
        help="nuts, partial pooling: centered (the seed's, default) or marginal (alpha, beta against "
        "the beta-binomial likelihood, theta drawn from its conjugate Beta afterwards)",
    )
    parser.add_argument("--chains", type=_positive_int, default=4, help="independent chains (default 4)")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the draws (default 42)")
    parser.add_argument("--tol", type=float, default=1e-4, help="grid convergence tolerance (default 1e-4)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    parser.add_argument(
        "--out", metavar="FILE.csv", help="write the per-group table (all poolings) to a CSV file"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors (and --json)")


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
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("data", nargs="?", metavar="DATA", help="CSV or Parquet file, one row per group")
    source.add_argument(
        "--dataset", metavar="NAME", help="a bundled dataset instead (see `poolwise datasets`)"
    )
    fit.add_argument("--group", help="group label column (default: group)")
    fit.add_argument("--successes", help="successes column, y (default: successes)")
    fit.add_argument("--trials", help="trials column, n (default: trials)")
    fit.add_argument("--sep", help="CSV delimiter (default ',')")
    _add_fit_options(fit)
    commands.add_parser("datasets", help="list the bundled datasets")
    _add_fit_options(parser)
    return parser


def _columns(args: argparse.Namespace) -> tuple[object, dict, str]:
    from . import datasets

    if getattr(args, "command", None) == "fit" and args.data is not None:
        cols = {
            "group": args.group or "group",
            "successes": args.successes or "successes",
            "trials": args.trials or "trials",
        }
        return args.data, cols, args.data
    name = args.dataset if getattr(args, "command", None) == "fit" else "spacex"
    info = datasets.info(name)
    cols = info.columns
    for role in cols:
        if getattr(args, role, None):
            cols[role] = getattr(args, role)
    return datasets.load(name), cols, f"{info.description} (bundled dataset '{name}')"


def _run_fit(args: argparse.Namespace) -> int:
    from . import render
    from ._io import atomic_write_text, csv_safe
    from .fitting import fit_all

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
    if args.out:
        table = render.long_table(fits, args.ci_kind, args.ci_prob)
        atomic_write_text(args.out, csv_safe(table).to_csv(index=False))
    if args.json:
        doc = render.to_dict(fits, args.ci_kind, args.ci_prob)
        doc["data"]["title"] = title
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif not args.quiet:
        sys.stdout.write(render.to_text(fits, args.ci_kind, args.ci_prob, title=title))
        if args.out:
            print(f"per-group table written to {render.printable(args.out)}")
    return EXIT_OK


def _list_datasets() -> int:
    from . import datasets

    for name in datasets.list():
        print(f"{name:<14} {datasets.info(name).description}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of exiting (for tests)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed its message
        return int(stop.code or 0)
    from .data import DataError
    from .priors import PriorError

    try:
        if args.command == "datasets":
            return _list_datasets()
        return _run_fit(args)
    except (DataError, PriorError, ValueError, OSError) as err:
        print(f"poolwise: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as err:
        if "poolwise[mcmc]" not in str(err):  # only the missing optional extra is the user's to fix
            raise
        print(f"poolwise: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
