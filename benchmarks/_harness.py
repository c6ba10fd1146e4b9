"""Shared harness of the benchmarks: each method in its own process, rounds, ratios.

A benchmark script defines *methods* (name -> function of the data folder that
runs the timed work and returns the seconds it took plus a short result
description).  :func:`compare` runs every method in a fresh Python process
(so that one method's memory and caches never help another), ``rounds`` times
in alternating order, records the timed seconds reported by the child and its
own peak resident memory (``VmHWM``, see :func:`peak_rss_gib`), and prints a Markdown
table with the ratio of each method's best time to the baseline methods' best
times measured in the same run (and how many times faster it is than the
``faster_than`` methods, e.g. lifetimes).  ``in_process=True`` runs the methods in this
process instead (only for the smoke test: fast, but no memory isolation).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

Method = Callable[[Path], dict]


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and its threads so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``fn``; return its result, wall seconds and CPU seconds."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu_seconds() - c0


def machine_line() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )


def peak_rss_gib() -> float | None:
    """This process's own peak resident memory (``VmHWM``), in GiB; None off Linux.

    Not ``ru_maxrss`` of the child from ``wait4``: Linux carries the parent's
    peak over ``fork``/``exec``, so a harness that had just synthesised the data
    would report its own size for every child.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20  # kB
    except OSError:
        return None
    return None


def written_once(folder: Path, meta: dict, write: Callable[[Path], None]) -> Path:
    """``folder`` with the data ``write(folder)`` makes for ``meta``: written once, reused while its
    ``_COMPLETE.json`` (written last, so a run stopped half-way writes again) holds the same ``meta``."""
    marker = folder / "_COMPLETE.json"
    if marker.exists() and json.loads(marker.read_text()) == meta:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    write(folder)
    marker.write_text(json.dumps(meta))
    return folder


def child_main(methods: dict[str, Method], argv: list[str]) -> bool:
    """If called as a child (``--run-one NAME DATA``), run one method, print JSON, return True."""
    if len(argv) >= 3 and argv[0] == "--run-one":
        res = methods[argv[1]](Path(argv[2]))
        res.setdefault("peak_gib", peak_rss_gib())
        print(json.dumps(res), flush=True)
        return True
    return False


def _run_child(script: str, name: str, data: Path) -> dict:
    cmd = [sys.executable, script, "--run-one", name, str(data)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, rusage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        lines = err.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {code}"}
    res = json.loads(out.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    if res.get("peak_gib") is None:
        res["peak_gib"] = rusage.ru_maxrss / 2**20  # KiB on Linux; may include the parent's peak
    return res


def best_seconds(rounds: list[dict]) -> float | None:
    """The fastest of one method's rounds, None if every round failed."""
    ok = [r["seconds"] for r in rounds if "error" not in r]
    return min(ok) if ok else None


def compare(
    script: str,
    methods: dict[str, Method],
    data: Path,
    *,
    baselines: list[str],
    faster_than: list[str] = (),
    rounds: int = 3,
    in_process: bool = False,
    title: str = "",
) -> tuple[str, dict[str, list[dict]]]:
    """Run every method ``rounds`` times; return the Markdown table and the raw results."""
    results: dict[str, list[dict]] = {name: [] for name in methods}
    names = list(methods)
    for rnd in range(rounds):
        order = names if rnd % 2 == 0 else names[::-1]
        for name in order:
            if in_process:
                try:
                    res = methods[name](data)
                except Exception as exc:  # noqa: BLE001 - reported in the table
                    res = {"error": f"{type(exc).__name__}: {exc}"}
            else:
                res = _run_child(script, name, data)
            results[name].append(res)
            shown = res.get("error") or f"{res['seconds']:.2f} s, cpu {res.get('cpu_s', float('nan')):.1f} s"
            print(f"  round {rnd + 1} {name:<22} {shown}", flush=True)

    header = (
        "| method | seconds (each round) | CPU s (best round) | peak memory GiB | "
        + "".join(f"time / {b} | " for b in baselines)
        + "".join(f"times faster than {b} | " for b in faster_than)
        + "result |"
    )
    n_ratio = len(baselines) + len(faster_than)
    lines = [title, "", machine_line(), "", header, "|---" * (5 + n_ratio) + "|"]
    for name in names:
        rs = results[name]
        errors = [r["error"] for r in rs if "error" in r]
        if errors and len(errors) == len(rs):
            lines.append(f"| {name} | failed: {errors[0]} |" + " |" * (3 + n_ratio))
            continue
        secs = ", ".join(f"{r['seconds']:.2f}" if "error" not in r else "failed" for r in rs)
        ok = [r for r in rs if "error" not in r]
        top = min(ok, key=lambda r: r["seconds"])
        peak = max((r.get("peak_gib", float("nan")) for r in ok), default=float("nan"))
        ratios = []
        for b in baselines:
            ref = best_seconds(results[b])
            ratios.append("" if ref is None else f"{top['seconds'] / ref:.2f}")
        for b in faster_than:
            ref = best_seconds(results[b])
            ratios.append("" if ref is None else f"{ref / top['seconds']:.1f}")
        lines.append(
            f"| {name} | {secs} | {top.get('cpu_s', float('nan')):.1f} | "
            + ("" if peak != peak else f"{peak:.2f}")
            + " | " + " | ".join(ratios) + f" | {top.get('result', '')} |"
        )
    lines += ["", f"Load average at the end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[2]:.1f} (15 min)."]
    table = "\n".join(lines)
    print("\n" + table, flush=True)
    return table, results


def bench_main(
    script: str,
    methods: dict[str, Method],
    argv: list[str],
    *,
    description: str,
    prepare: Callable[[int, int, int, Path], Path],
    baselines: list[str],
    faster_than: list[str] = (),
    transactions: float = 10e6,
    members: float = 1e6,
) -> str:
    """Command line shared by bench_rfm, bench_cohorts and bench_load: sizes, methods, rounds; returns the table."""
    if child_main(methods, argv):
        return ""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--transactions", type=float, default=transactions)
    p.add_argument("--members", type=float, default=members)
    p.add_argument("--methods", nargs="+", default=list(methods), choices=list(methods))
    # three rounds: on these machines one query's rounds differ by 10-45% (2026-12-03), and the
    # ratios compare best rounds
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--data-dir", type=Path, default=Path("/tmp/workbook-bench-rfm"))
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)  # smoke test only
    args = p.parse_args(argv)
    n_tx, n_m = int(args.transactions), int(args.members)
    folder = prepare(n_tx, n_m, args.seed, args.data_dir)
    chosen = {name: methods[name] for name in args.methods}
    table, _ = compare(
        script, chosen, folder, baselines=[b for b in baselines if b in chosen],
        faster_than=[b for b in faster_than if b in chosen], rounds=args.rounds, in_process=args.in_process,
        title=f"{Path(script).stem}: {n_tx:,} transactions, {n_m:,} members",
    )
    return table
