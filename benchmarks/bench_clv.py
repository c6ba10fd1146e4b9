"""Benchmark: fitting and predicting BG/NBD and Pareto/NBD on 1M members.

Targets (issue 13): each fit on 1,000,000 members under 10 s, predictions
(expected purchases in the next 52 weeks and P(alive)) for 1,000,000 members
under 2 s.

The summary is simulated directly with NumPy from the BG/NBD model (independent of
the package; the CDNOW estimates as truth), on a *daily grid* as
:func:`workbook.clv.bgnbd_summary` builds it from receipts: ages are whole days up to
two years, recency whole days, both converted to weeks.  Members sharing
(frequency, recency, T) are then evaluated once, as on real data.

lifetimes (``BetaGeoFitter``, ``ParetoNBDFitter``) is timed in the same run on a
subsample (default 100,000 members for BG/NBD, 20,000 for Pareto/NBD: its Pareto/NBD
takes minutes beyond that) and both times are printed per member, with the ratio.
Wall-clock and CPU time are printed: on a shared machine the wall clock depends on
the load, which is printed too.

Usage::

    .venv/bin/python benchmarks/bench_clv.py                    # 1M members
    .venv/bin/python benchmarks/bench_clv.py --members 2e5 --no-lifetimes
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from workbook.clv import BetaGeoModel, ParetoNBDModel

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, weeks
FIT_TARGET_S = 10.0
PREDICT_TARGET_S = 2.0


def simulate_summary(n: int, seed: int = 2024) -> pd.DataFrame:
    """BG/NBD summary of ``n`` members on a daily grid, in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUTH["r"], 1.0 / TRUTH["alpha"], n)  # per week
    p = rng.beta(TRUTH["a"], TRUTH["b"], n)
    T_days = rng.integers(7, 731, n)
    K = rng.poisson(lam * T_days / 7.0)
    x = np.minimum(K, rng.geometric(p))
    # The x-th of K uniform arrival times, rounded up to a whole day (at least day 1).
    t_days = np.where(x > 0, np.ceil(T_days * rng.beta(np.maximum(x, 1), K - x + 1)), 0.0)
    t_days = np.where(x > 0, np.clip(t_days, 1, T_days), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t_days / 7.0, "T": T_days / 7.0})


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def bench_workbook(model_cls, summary: pd.DataFrame) -> dict:
    model, fit_wall, fit_cpu = timed(lambda: model_cls().fit(summary))

    def predict():
        return model.expected_purchases(52, summary), model.probability_alive(summary)

    _, pred_wall, pred_cpu = timed(predict)
    return {"model": model, "fit_wall": fit_wall, "fit_cpu": fit_cpu, "predict_wall": pred_wall,
            "predict_cpu": pred_cpu}


def bench_lifetimes(name: str, summary: pd.DataFrame) -> dict | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes
    except ImportError:
        print("  lifetimes not installed: no comparison")
        return None
    fitter = {"BG/NBD": lifetimes.BetaGeoFitter, "Pareto/NBD": lifetimes.ParetoNBDFitter}[name]()
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fit_wall, fit_cpu = timed(lambda: fitter.fit(f, r, T))
        _, pred_wall, _ = timed(lambda: (
            fitter.conditional_expected_number_of_purchases_up_to_time(52, f, r, T),
            fitter.conditional_probability_alive(f, r, T)))
    return {"fitter": fitter, "fit_wall": fit_wall, "fit_cpu": fit_cpu, "predict_wall": pred_wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=float, default=1e6)
    parser.add_argument("--lifetimes-bgnbd", type=float, default=1e5, help="lifetimes BG/NBD subsample")
    parser.add_argument("--lifetimes-pareto", type=float, default=2e4, help="lifetimes Pareto/NBD subsample")
    parser.add_argument("--no-lifetimes", action="store_true")
    args = parser.parse_args()
    n = int(args.members)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}")
    summary = simulate_summary(n)
    distinct = len(summary.drop_duplicates())
    print(f"{n:,} members (daily grid, {distinct:,} distinct (frequency, recency, T) rows), "
          f"{(summary['frequency'] == 0).mean():.0%} without repeat purchases\n")
    failures = []
    for name, cls, sub in [("BG/NBD", BetaGeoModel, args.lifetimes_bgnbd),
                           ("Pareto/NBD", ParetoNBDModel, args.lifetimes_pareto)]:
        res = bench_workbook(cls, summary)
        est = ", ".join(f"{k}={v:.3f}" for k, v in res["model"].params_.items())
        print(f"{name}: {est}")
        print(f"  workbook fit      {n:>9,} members  {res['fit_wall']:7.2f} s wall  {res['fit_cpu']:7.2f} s cpu"
              f"   (target < {FIT_TARGET_S:g} s)")
        print(f"  workbook predict  {n:>9,} members  {res['predict_wall']:7.2f} s wall  "
              f"{res['predict_cpu']:7.2f} s cpu   (target < {PREDICT_TARGET_S:g} s)")
        for clock in ("wall", "cpu"):
            if res[f"fit_{clock}"] > FIT_TARGET_S:
                failures.append(f"{name} fit {res[f'fit_{clock}']:.1f} s {clock}")
            if res[f"predict_{clock}"] > PREDICT_TARGET_S:
                failures.append(f"{name} predict {res[f'predict_{clock}']:.1f} s {clock}")
        if not args.no_lifetimes:
            m = min(int(sub), n)
            part = summary.sample(m, random_state=1) if m < n else summary
            ref = bench_lifetimes(name, part)
            if ref is not None:
                ours = bench_workbook(cls, part)
                print(f"  lifetimes fit     {m:>9,} members  {ref['fit_wall']:7.2f} s wall  "
                      f"(workbook on the same {m:,}: {ours['fit_wall']:.2f} s; lifetimes/workbook "
                      f"{ref['fit_wall'] / ours['fit_wall']:.1f}x; per member vs workbook at {n:,}: "
                      f"{(ref['fit_wall'] / m) / (res['fit_wall'] / n):.1f}x)")
                print(f"  lifetimes predict {m:>9,} members  {ref['predict_wall']:7.2f} s wall  "
                      f"(workbook on the same {m:,}: {ours['predict_wall']:.2f} s; lifetimes/workbook "
                      f"{ref['predict_wall'] / ours['predict_wall']:.1f}x)")
                diff = (ours["model"].params_ / ref["fitter"].params_[ours["model"].params_.index] - 1).abs().max()
                print(f"  largest relative difference of the estimates on the subsample: {diff:.1e}")
        print()
    print("targets met" if not failures else "TARGETS MISSED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
