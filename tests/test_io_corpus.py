"""The messy-export corpus (issue 11): every file loads correctly or fails clearly.

``tests/data/make_corpus.py`` builds more than forty exports of the kinds Chinese
POS/CRM systems produce, each with its expected outcome stored beside it
(``<case>.expected.json``): the exact row count and amount sum of a correct
load, or the error with the rows and the column it must name.  Here every file
is loaded

* as the user would (``errors="raise"``): the outcome must be the expected one;
* with ``errors="drop"``: kept + rejected (+ walk-ins) must add up to the rows
  read, and the rejected rows must be exactly the rows named by the error;
* and every message, report, rejected-rows file, cleaning note and warning is
  scanned for the raw member ids (phone numbers, 19-digit card numbers), names
  and e-mails of the corpus: none may appear.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from workbook.errors import WorkbookInputError
from workbook.io import (DataQualityWarning, DataValidationError, LoadResult, load_members,
                         load_transactions)

NOW = "2026-06-30"
_spec = importlib.util.spec_from_file_location(
    "make_corpus", Path(__file__).parent / "data" / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)
NAMES = list(corpus.CASES)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("messy")
    corpus.build_messy_corpus(d)
    return d


def _spec_of(built: Path, name: str) -> dict:
    return json.loads((built / f"{name}.expected.json").read_text(encoding="utf-8"))


def _load(d: Path, spec: dict, errors: str = "raise"):
    mapping = spec["mapping"]
    if isinstance(mapping, str):
        mapping = d / mapping
    kwargs = dict(spec["kwargs"])
    if spec["table"] == "members":
        return load_members(d / spec["file"], mapping, analysis_date=NOW, errors=errors,
                            return_report=True, **kwargs)
    if spec.get("members_file"):
        kwargs["members"] = load_members(d / spec["members_file"], spec["members_mapping"],
                                         analysis_date=NOW)
    return load_transactions(d / spec["file"], mapping, analysis_date=NOW, errors=errors,
                             return_report=True, **kwargs)


def _check_accounting(res: LoadResult, table: str) -> None:
    c = res.counts
    assert c["kept"] == len(res.data) and c["rejected"] == len(res.rejected)
    if table == "transactions":
        assert c["rows_read"] == c["member_rows"] + c["walk_ins"] + c["rejected"]
        assert c["walk_ins"] == int(res.data["member_id"].isna().sum())
    else:
        assert c["rows_read"] == c["kept"] + c["rejected"]


def test_corpus_has_at_least_forty_exports(built):
    assert len(NAMES) >= 40
    specs = list(built.glob("*.expected.json"))
    assert len(specs) == len(NAMES)
    for spec in map(json.loads, (p.read_text(encoding="utf-8") for p in specs)):
        assert (built / spec["file"]).is_file()
    outcomes = [_spec_of(built, n)["outcome"] for n in NAMES]
    assert outcomes.count("ok") >= 15 and outcomes.count("error") >= 15


@pytest.mark.parametrize("name", NAMES)
def test_corpus_file_gives_expected_outcome(built, name):
    spec = _spec_of(built, name)
    if spec["outcome"] == "ok":
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataQualityWarning)  # nothing dropped silently
            if spec["kwargs"].get("duplicates") == "drop":
                warnings.simplefilter("ignore", DataQualityWarning)
            res = _load(built, spec)
        df = res.data
        assert len(df) == spec["rows"]
        if "amount_sum" in spec:
            assert df["amount"].sum() == pytest.approx(spec["amount_sum"], abs=1e-6)
        notes = " | ".join(res.cleaning["action"].astype(str) + " " + res.cleaning["column"])
        for text in spec.get("notes", []):
            assert text in notes, notes
        for key in ("walk_ins", "exact_duplicates", "blank_rows"):
            if key in spec:
                assert res.counts[key] == spec[key], res.counts
        if "members" in spec:
            assert df["member_id"].nunique() == spec["members"]
            assert not df["member_id"].dropna().str.contains(r"\.|e\+|\s", regex=True).any()
        if "first_timestamp" in spec:
            row = spec.get("first_row", 0)
            assert df["timestamp"].iloc[row] == pd.Timestamp(spec["first_timestamp"])
        if "rejected_rows" in spec:
            assert res.rejected.index.tolist() == spec["rejected_rows"]
        if "missing_birth_dates" in spec:
            assert df["birth_date"].isna().sum() == spec["missing_birth_dates"]
            assert df["join_date"].isna().sum() == spec["missing_join_dates"]
        _check_accounting(res, spec["table"])
        return
    with pytest.raises(WorkbookInputError) as info:
        _load(built, spec)
    err = info.value
    text = err.bilingual()
    assert err.message_zh, "every corpus error is bilingual"
    for part in spec["match"]:
        assert part in text, text
    if spec["error"] == "DataValidationError":
        assert isinstance(err, DataValidationError)
        rep = err.report
        assert sorted(rep["row"].unique()) == spec["error_rows"]
        assert set(rep["column"]) == {spec["column"]}
        for row in spec["error_rows"][:5]:
            assert str(row) in text  # the message names the rows ...
        assert repr(spec["column"]) in text  # ... and the column
        with pytest.warns(DataQualityWarning, match="dropped"):
            res = _load(built, spec, errors="drop")
        assert len(res.data) == spec["drop_rows"]
        if "drop_sum" in spec:
            assert res.data["amount"].sum() == pytest.approx(spec["drop_sum"], abs=1e-6)
        assert res.rejected.index.tolist() == spec["error_rows"]
        assert res.counts["rows_read"] == spec["drop_rows"] + len(spec["error_rows"])
        _check_accounting(res, spec["table"])


def _outputs(d: Path, spec: dict, tmp_path: Path) -> str:
    """Every text a user can see from loading the file, in both error modes."""
    parts = []
    for errors in ("raise", "drop"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = _load(d, spec, errors=errors)
            except WorkbookInputError as exc:
                parts.append(exc.bilingual())
                for attr in ("report", "rejected"):
                    frame = getattr(exc, attr, None)
                    if frame is not None:
                        parts.append(frame.to_csv())
                continue
            finally:
                parts.extend(str(w.message) for w in caught)
        parts += [res.report.to_csv(), res.rejected.to_csv(), res.cleaning.to_csv(),
                  json.dumps(res.counts)]
        out = res.write_report(tmp_path / f"rejected_{errors}.csv")
        parts.append(out.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_no_raw_personal_value_in_any_output(built, name, tmp_path):
    spec = _spec_of(built, name)
    text = _outputs(built, spec, tmp_path)
    secrets = corpus.PII + spec["kwargs"].get("extra_pii", []) + spec.get("extra_pii", [])
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{name}: raw personal values in the output: {leaked[:3]}"


def test_privacy_scan_catches_a_leak(built, tmp_path, monkeypatch):
    """The scan itself can fail: with masking switched off, phones leak into the report."""
    import workbook.io.report as report

    monkeypatch.setattr(report, "mask_ids", lambda values: pd.Series(values))
    text = _outputs(built, _spec_of(built, "orphan_phone_member"), tmp_path)
    assert corpus.PHONES[5] in text


def test_pseudonymiser_shows_pseudonyms_in_the_report(built):
    from workbook.privacy import Pseudonymiser

    ps = Pseudonymiser(key="5b0e7c2a9f41d836e0a7b3c95d2f18e4a6c0b7d39e52f1a8c4d06b7e3a9f25c1")  # random: weak keys are refused
    spec = _spec_of(built, "orphan_phone_member")
    members = load_members(built / spec["members_file"], spec["members_mapping"], analysis_date=NOW)
    with pytest.raises(DataValidationError) as info:
        load_transactions(built / spec["file"], spec["mapping"], analysis_date=NOW, members=members,
                          pseudonymiser=ps)
    values = info.value.report["value"]
    expected = ps.pseudonymise_ids(pd.Series([corpus.PHONES[5]])).iloc[0]
    assert set(values) == {expected}
    assert set(info.value.rejected["member_id"]) == {expected}
