"""Smoke test of the benchmark scripts at a tiny size: they run and print their ratio tables.

The benchmarks themselves (10M+ transactions) are run by hand, not by ``make test``;
this only keeps the scripts working.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("script", ["bench_rfm", "bench_cohorts", "bench_load"])
def test_pipeline_benchmarks_run_at_small_size(script, tmp_path):
    bench = _load(script)
    table = bench.main(["--transactions", "3000", "--members", "300", "--rounds", "1", "--in-process",
                        "--data-dir", str(tmp_path)])
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert {row.split(" | ")[0].strip("| ") for row in rows} == set(bench.METHODS)
    assert "failed" not in table
    assert ("time / pandas read" if script == "bench_load" else "time / sql parquet") in table
    if script == "bench_rfm":
        assert "times faster than lifetimes" in table


def test_scale_benchmark_runs_at_small_size(tmp_path):
    bench = _load("bench_scale")
    assert bench.main(["--out", str(tmp_path), "--sizes", "20k", "--engines", "duckdb", "sql", "--rounds", "1"]) == 0
    table = (tmp_path / "results.md").read_text()
    assert re.search(r"^\| 20k \| duckdb \| \d+ \|", table, re.M) and "| 20k | sql |" in table
    assert "failed" not in table


def test_notebook_benchmark_times_a_notebook_against_the_kernel_start():
    bench = _load("bench_notebooks")
    table = bench.main(["--notebooks", "00_introduction", "--rounds", "1", "--in-process"])
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in table.splitlines()
            if line.startswith("| ") and "---" not in line and not line.startswith("| method")}
    assert set(rows) == {"kernel start", "00_introduction"}
    assert "failed" not in table and "time / kernel start" in table
    assert float(rows["kernel start"][1]) > 0 and float(rows["00_introduction"][1]) > 0
    assert rows["kernel start"][4] == "1.00"
    assert table.endswith("Every notebook ran under 20 s in its best round.")


def test_notebook_benchmark_reports_a_failing_notebook(tmp_path):
    import nbformat

    bench = _load("bench_notebooks")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('cell 1 broke')")])
    assert bench._execute(nb, tmp_path) == {"error": "ValueError: cell 1 broke"}
    with pytest.raises(SystemExit, match="unknown notebooks: 99_nothing"):
        bench.main(["--notebooks", "99_nothing", "--in-process"])
