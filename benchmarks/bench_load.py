"""Benchmark: loading a large, messy POS export with ``workbook.io.load_transactions``.

The export is what analysts bring (see docs/real_data.md): a GBK-encoded CSV with
Chinese headers, phone numbers as member ids and ``散客`` for walk-in sales,
day-first times (``19/09/2024 13:58:07``), amounts with a currency sign and
thousands separators (``￥1,280.00``), and returns flagged ``退货``.  Made from
the data of ``bench_rfm.py`` (2M transactions by default).  Methods, each in its
own process, three rounds in alternating order (see ``_harness.py``):

* ``workbook load``  ``load_transactions(path, mapping)``: decoding, the date
  format found on the whole column, ids normalised, amounts cleaned, returns
  signed, checks (duplicates, schema, dates after the analysis date) and the
  cleaning notes;
* ``pandas read``    the baseline: what one writes by hand with pandas for this
  file, and nothing else: ``read_csv`` as text, ``to_datetime`` with the format
  given, the currency sign and separators stripped, ``散客`` read as missing.

Where the time went (2026-12-03, cProfile; tables and cleaning notes identical before and after):

* 2M rows: reading the file 3.9 s (pandas' C parser 2.4 s), the dates 3.9 s (pandas' strptime; now
  ``workbook.io.strptime``: 0.6 s), the ids 3.8 s (``\\d`` patterns, which pandas runs value by value in
  Python once a value such as ``散客`` is not ASCII; now ``[0-9]``: 1.2 s), duplicate check 1.4-1.8 s,
  schema checks 0.8-1.4 s.
* 10M rows (93 s, 5.6 GiB before): 38 s in pandas re-encoding the decoded text of a ``StringIO`` back
  to UTF-8 in small reads (now the bytes are handed over, encoded once), 3 s and about 1 GB for
  splitting every line of the file when only the first few are looked at (now only those), 2-3.5 s
  building ``R<row>`` receipt ids in a Python loop (now vectorised); after those, the exact-duplicate
  check 7.2 s (pandas' ``DataFrame.duplicated`` factorising each text column; now only rows whose
  cleaned values hash alike are compared as text: 1.6 s), the ids 5.8-6.4 s, the schema checks 3-5 s.

Measured with this script on an idle machine (best of three rounds; ratio to ``pandas read``):

| rows | code | workbook load | pandas read | ratio | peak |
|---|---|---|---|---|---|
| 2M | before (3f77886, ``PYTHONPATH`` on its source) | 13.83 s | 5.65 s | 2.45x | 1.25 GiB |
| 2M | strptime and ids (b0a0899) | 8.89 s | 5.33 s | 1.67x | 1.25 GiB |
| 2M | bytes to pandas (5b04405) | 5.10 s | 4.84 s | 1.05x | 0.91 GiB |
| 10M | b0a0899, one run (``--run-one``) | 93.1 s | | | 5.59 GiB |
| 10M | 5b04405, two rounds | 35.29 s | 26.91 s | 1.31x | 3.50 GiB |
| 10M | duplicate candidates by a hash of the typed columns (4afabdb), two rounds | 33.94 s | 26.88 s | 1.26x | 3.48 GiB |

Usage::

    .venv/bin/python benchmarks/bench_load.py                       # 2M rows
    .venv/bin/python benchmarks/bench_load.py --transactions 10e6 --members 1e6
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench_main, timed, written_once  # noqa: E402
from bench_rfm import synthesise  # noqa: E402

MAPPING = {"会员手机号": "member_id", "交易时间": "timestamp", "实付金额": "amount", "交易类型": "is_return"}
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"
ENCODING = "gbk"


def write_export(folder: Path, n_transactions: int, n_members: int, seed: int) -> Path:
    """The messy export ``export.csv`` in ``folder``; reused if present."""
    def write(out: Path) -> None:
        tx, _ = synthesise(n_transactions, n_members, seed)
        digits = tx["member_id"].str.slice(1).astype("float64")  # "M000123" -> a phone number
        phone = (13_800_000_000 + digits.fillna(0)).astype("int64").astype("str")
        export = pd.DataFrame({
            "会员手机号": np.where(tx["member_id"].isna(), "散客", phone),
            "交易时间": tx["timestamp"].dt.strftime(TIME_FORMAT),
            "实付金额": tx["amount"].abs().map("￥{:,.2f}".format),
            "交易类型": np.where(tx["is_return"], "退货", "销售"),
        })
        export.to_csv(out / "export.csv", index=False, encoding=ENCODING)

    meta = {"transactions": n_transactions, "members": n_members, "seed": seed, "export": 1}
    return written_once(folder, meta, write)


def workbook_load(data: Path) -> dict:
    from workbook.io import load_transactions

    path = data / "export.csv"
    res, secs, cpu = timed(lambda: load_transactions(path, MAPPING, analysis_date="2030-01-01", return_report=True))
    return {"seconds": secs, "cpu_s": cpu,
            "result": f"{len(res.data):,} rows, {int(res.data['member_id'].notna().sum()):,} with a member"}


def pandas_read(data: Path) -> dict:
    def read() -> pd.DataFrame:
        raw = pd.read_csv(data / "export.csv", encoding=ENCODING, dtype="str")
        amount = pd.to_numeric(raw["实付金额"].str.replace("[￥,]", "", regex=True))
        is_return = raw["交易类型"].eq("退货")
        return pd.DataFrame({
            "member_id": raw["会员手机号"].where(raw["会员手机号"].ne("散客")),
            "timestamp": pd.to_datetime(raw["交易时间"], format=TIME_FORMAT),
            "amount": amount.where(~is_return, -amount),
            "is_return": is_return,
        })

    out, secs, cpu = timed(read)
    return {"seconds": secs, "cpu_s": cpu,
            "result": f"{len(out):,} rows, {int(out['member_id'].notna().sum()):,} with a member"}


METHODS = {"workbook load": workbook_load, "pandas read": pandas_read}


def prepare(n_transactions: int, n_members: int, seed: int, data_dir: Path) -> Path:
    return write_export(data_dir / f"export_{n_transactions}_{n_members}_{seed}", n_transactions, n_members, seed)


def main(argv: list[str] | None = None) -> str:
    return bench_main(
        __file__, METHODS, sys.argv[1:] if argv is None else argv, description=__doc__.splitlines()[0],
        prepare=prepare, baselines=["pandas read"], transactions=2e6, members=2e5,
    )


if __name__ == "__main__":
    main()
