"""``ckm simulate``: survey answers drawn from a population model with known truth.

Registered in :mod:`ckm_research.cli` through :func:`add_parser`; the handler
:func:`run_simulate` calls :func:`ckm_research.data.simulate.simulate` and
:func:`ckm_research.data.formats.write_responses`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run_simulate"]


def _rate(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share in [0, 1)")
    return x


def _count(value: str) -> int:
    try:
        x = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= x <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{value} is not in [1, 1000000]")
    return x


def _seed(value: str) -> int:
    try:
        x = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if x < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return x


def add_parser(subparsers) -> None:
    """Add ``simulate`` to the ``ckm`` parser."""
    from ckm_research.cli.common import common_options
    from ckm_research.data.choices import WRITE_FORMATS

    p = subparsers.add_parser(
        "simulate", parents=[common_options()],
        help="simulate survey answers from a population model (known truth)",
        description=(
            "Draw survey answers, as respondents give them (reverse-keyed items not "
            "reverse-coded), from a population model: by default the CKM study's "
            "(ckm_research/data/populations/ckm_study.yaml), with a customer turbulence x "
            "CKM latent interaction. Same seed, same file."
        ),
        epilog=(
            "examples:\n"
            "  ckm simulate --n 400 --seed 2024 --missing 0.01 --output sim.csv\n"
            "  ckm simulate --n 300 --seed 1 --careless 0.05 --format qualtrics "
            "--output qualtrics_like.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--population", default=None, metavar="FILE",
                   help="population model YAML (default: the CKM study's)")
    p.add_argument("--instrument", default=None, metavar="NAME|PATH",
                   help="instrument (default: the one the population file names)")
    p.add_argument("--n", type=_count, required=True, metavar="N", help="respondents")
    p.add_argument("--seed", type=_seed, required=True, metavar="S", help="random seed")
    p.add_argument("--missing", type=_rate, default=0.0, metavar="RATE",
                   help="share of answers missing completely at random (default 0)")
    p.add_argument("--careless", type=_rate, default=0.0, metavar="RATE",
                   help="share of careless respondents (default 0)")
    p.add_argument("--format", default=None, choices=list(WRITE_FORMATS), metavar="FORMAT",
                   help="csv, excel, spss, stata, qualtrics or kobo "
                        "(default: from the extension)")
    p.add_argument("--labels", action="store_true",
                   help="qualtrics/kobo: answer labels instead of codes")
    p.add_argument("--output", required=True, metavar="PATH", help="file to write")
    p.set_defaults(func=run_simulate)


def run_simulate(args: argparse.Namespace, ui) -> int:
    """Handler of ``ckm simulate``."""
    from ckm_research.data.formats import write_responses
    from ckm_research.data.simulate import load_population, simulate
    from ckm_research.instrument import load_instrument

    population = load_population(args.population)
    instrument = load_instrument(args.instrument or population.instrument)
    with ui.status(f"Simulating {args.n} respondents ..."):
        data = simulate(args.n, args.seed, missing=args.missing, careless=args.careless,
                        population=population, instrument=instrument)
        path = write_responses(data, args.output, args.format, instrument, labels=args.labels)
    ui.note(f"Wrote {len(data)} simulated respondents ({data.shape[1] - 2} items, population "
            f"{population.name!r}, seed {args.seed}) to {path}")
    return 0
