"""Every notebook that accepts user data runs on a minimal export: member id, time, amount.

Many small shops can export only the receipts with a member number (often the
phone number), a time and an amount: no members file, no store, no channel.
Each teaching notebook must still run to the end via
:func:`workbook.runner.run_notebook`; a section that needs an optional column
(store, birthday, tier, acquisition channel, join date) says so in a Chinese
note and is skipped instead of crashing.  Notebooks that run only on their own
synthetic scenario (the case studies) must refuse the export with a clear
message before starting a kernel.

The export is built from the committed synthetic data set: the purchases of a
few hundred members over the full two years, member ids rewritten as 11-digit
phone-like numbers, Chinese column names, ``2024/03/05 14:07`` timestamps.
No raw phone number may appear in any output.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from workbook.errors import WorkbookInputError
from workbook.runner import run_notebook

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
# A test key with enough entropy (no real data is pseudonymised with it).
KEY = "9c41d7e2a85f306b1e4c9a27d58f0b63c2e71a948d05f6b3a1c8e2d47f9b6051"
N_MEMBERS = 600

MAPPING_YAML = """\
transactions:
  columns:
    会员手机号: member_id
    交易时间: timestamp
    实付金额: amount
  date_format: "%Y/%m/%d %H:%M"
"""


@pytest.fixture(scope="module")
def minimal_export(tmp_path_factory) -> dict:
    """Write ``minimal.csv`` (three columns) and ``mapping.yaml``; return paths and the raw ids."""
    from workbook.synth import load_dataset

    ds = load_dataset()
    rng = np.random.default_rng(11)
    tx = ds.transactions
    tx = tx.loc[(tx["kind"] == "purchase") & ~tx["is_return"]]
    buyers = np.sort(tx["member_id"].dropna().unique())
    chosen = np.sort(rng.choice(buyers, N_MEMBERS, replace=False))
    phones = pd.Series(
        [f"1{p}{n:08d}" for p, n in zip(rng.choice(["38", "39", "52", "86"], N_MEMBERS),
                                         rng.choice(10**8, N_MEMBERS, replace=False), strict=True)],
        index=chosen,
    )
    tx = tx.loc[tx["member_id"].isin(chosen)]
    export = pd.DataFrame({
        "会员手机号": tx["member_id"].map(phones),
        "交易时间": tx["timestamp"].dt.strftime("%Y/%m/%d %H:%M"),
        "实付金额": tx["amount"].round(2),
    })
    out = tmp_path_factory.mktemp("minimal_export")
    export.to_csv(out / "minimal.csv", index=False, encoding="utf-8")
    (out / "mapping.yaml").write_text(MAPPING_YAML, encoding="utf-8")
    return {"data": out / "minimal.csv", "mapping": out / "mapping.yaml", "rows": len(export),
            "phones": list(phones)}


def test_export_is_minimal(minimal_export):
    """The fixture itself: three columns, phone-like ids, a few thousand rows."""
    df = pd.read_csv(minimal_export["data"], dtype=str)
    assert list(df.columns) == ["会员手机号", "交易时间", "实付金额"]
    assert df["会员手机号"].str.fullmatch(r"1\d{10}").all()
    assert df["会员手机号"].nunique() == N_MEMBERS
    assert 2000 < len(df) < 20000


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(o) -> str:
    parts = [str(o.get("text", "")), str(o.get("evalue", ""))]
    parts += [str(v) for k, v in o.get("data", {}).items() if not k.startswith("image/")]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_minimal_export(path, minimal_export, tmp_path, monkeypatch, shared_kernel):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    monkeypatch.setenv("WORKBOOK_STRICT_CLAIMS", "0")  # claims are about the default data
    monkeypatch.chdir(tmp_path)
    params = {}  # 06's Spark demo (RUN_SPARK) moved to notebooks/analyst/A1_scale.ipynb
    # In the tests' shared kernel (conftest.SharedKernel), reset first.
    shared_kernel.reset({"WORKBOOK_PSEUDO_KEY": KEY, "WORKBOOK_STRICT_CLAIMS": "0"})
    try:
        out = run_notebook(path, data=minimal_export["data"], mapping=minimal_export["mapping"],
                           output=tmp_path / path.name, parameters=params, timeout_seconds=300,
                           kernel_manager=shared_kernel.km)
    except WorkbookInputError as exc:
        if "cannot run on your data" in str(exc):
            # Refused before a kernel started: only the case studies may do that.
            assert "_case_" in path.stem, f"{path.name} refuses user data: {exc}"
            return
        raise
    assert "_case_" not in path.stem, f"{path.name} ran on user data; case studies must refuse it"
    nb = nbformat.read(out, as_version=4)
    outputs = _outputs(nb)
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    shown = "\n".join(_text(o) for o in outputs)
    assert "Traceback" not in shown
    warnings = [_text(o) for o in outputs if o.get("name") == "stderr" and "Warning" in _text(o)]
    assert not warnings, f"{path.name}: warning printed: {warnings[0][:300]}"
    # it really ran on the export, and no raw phone number leaked into any output
    assert f"{minimal_export['rows']:,}" in shown or str(minimal_export["rows"]) in shown
    leaked = [p for p in minimal_export["phones"] if p in shown]
    assert not leaked, f"{path.name}: {len(leaked)} raw member ids in the outputs"
