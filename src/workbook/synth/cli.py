"""``workbook generate``: write a synthetic data set to a folder."""

from __future__ import annotations

import argparse
import sys
import time

from workbook.synth.generator import generate
from workbook.synth.scenario import PRESETS, Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``generate`` options to ``parser``."""
    parser.add_argument("--preset", choices=PRESETS, default="retail_chain", help="named scenario")
    parser.add_argument("--members", type=int, default=None, help="number of members (default: preset's)")
    parser.add_argument("--stores", type=int, default=None, help="number of stores (default: preset's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--start", default=None, help="first day, e.g. 2023-01-01")
    parser.add_argument("--end", default=None, help="last day, e.g. 2024-12-31")
    parser.add_argument("--locale", choices=("zh_CN", "en_US"), default=None, help="Faker locale")
    parser.add_argument("--no-seasonality", action="store_true", help="switch weekly/holiday seasonality off")
    parser.add_argument("--no-reactivation", action="store_true", help="switch reactivation campaigns off")
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet,csv")
    parser.add_argument("--out", default="datasets/", help="output folder (default datasets/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The :class:`Scenario` described by parsed command-line arguments."""
    overrides = {}
    for arg, field_name in (("members", "n_members"), ("stores", "n_stores"), ("start", "start"),
                            ("end", "end"), ("locale", "locale")):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[field_name] = value
    if getattr(args, "no_seasonality", False):
        overrides["seasonality"] = False
    if getattr(args, "no_reactivation", False):
        overrides["reactivation"] = False
    return Scenario.preset(args.preset, **overrides)


def run(args: argparse.Namespace) -> int:
    """Generate and save; return the exit code (0 on success)."""
    scenario = scenario_from_args(args)
    formats = tuple(f.strip() for f in str(args.formats).split(",") if f.strip())
    t0 = time.perf_counter()
    data = generate(scenario, random_state=args.seed, progress=None if not args.quiet else False)
    out = data.save(args.out, formats=formats)
    if not args.quiet:
        print(
            f"wrote {len(data.members):,} members and {len(data.transactions):,} transactions "
            f"({scenario.name}, seed {args.seed}) to {out} in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
    return 0
