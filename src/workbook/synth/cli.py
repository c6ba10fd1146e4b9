"""``workbook generate``: write a synthetic data set to a folder."""

from __future__ import annotations

import argparse
import sys
import time

from workbook.errors import WorkbookInputError
from workbook.synth.generator import generate
from workbook.synth.io import EarlyWriter, save_dataset
from workbook.synth.scenario import PRESETS, Scenario


_FORMATS = {"parquet": ("parquet",), "csv": ("csv",), "both": ("parquet", "csv")}


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
    parser.add_argument("--format", choices=_FORMATS, default=None,
                        help="files to write: parquet (default; what the notebooks read), csv (UTF-8 copies "
                        "for Excel) or both")
    parser.add_argument("--formats", default=None, help=argparse.SUPPRESS)  # former comma-separated option
    parser.add_argument("--out", default="datasets/", help="output folder (default datasets/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary")


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


def formats_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    """File formats asked for: ``--format`` (default parquet), or the former ``--formats parquet,csv``."""
    if getattr(args, "format", None) is not None and getattr(args, "formats", None) is not None:
        raise WorkbookInputError("use --format only (--formats is its former spelling)",
                                 message_zh="只用 --format 一个选项（--formats 是旧写法）")
    if getattr(args, "formats", None) is not None:
        return tuple(f.strip() for f in str(args.formats).split(",") if f.strip())
    return _FORMATS[getattr(args, "format", None) or "parquet"]


def run(args: argparse.Namespace) -> int:
    """Generate and save, with a progress bar for each; return the exit code (0 on success)."""
    scenario = scenario_from_args(args)
    formats = formats_from_args(args)
    show = not args.quiet
    # Parquet files of finished tables are written while the rest is generated (published only
    # after the integrity check in save_dataset, like the others)
    early = EarlyWriter(args.out) if "parquet" in formats else None
    t0 = time.perf_counter()
    try:
        data = generate(scenario, random_state=args.seed, progress=show, on_table=early)
        t1 = time.perf_counter()
        out = save_dataset(data, args.out, formats=formats, progress=show, early=early)
    except BaseException:
        if early is not None:
            early.discard()
        raise
    if show:
        t2 = time.perf_counter()
        print(
            f"已写入 {len(data.members):,} 名会员、{len(data.transactions):,} 笔交易 → {out} "
            f"(wrote {len(data.members):,} members and {len(data.transactions):,} transactions, "
            f"{scenario.name}, seed {args.seed}, {'+'.join(formats)}): "
            f"生成 (generate) {t1 - t0:.1f} s, 写入 (write) {t2 - t1:.1f} s",
            file=sys.stderr,
        )
    return 0
