"""workbook.io.strptime gives pandas' to_datetime(format=..., errors="coerce") result, value for value."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.io import strptime as module
from workbook.io.strptime import strptime

FORMATS = ["%d/%m/%Y %H:%M:%S", "%Y/%m/%d %H:%M", "%m-%d-%Y", "%Y年%m月%d日 %H:%M", "%Y%m%d%H%M%S", "%Y.%m.%d"]


def _pandas(values, fmt):
    return pd.to_datetime(values, format=fmt, errors="coerce")


@pytest.fixture(autouse=True)
def small_columns_through_arrow(monkeypatch):
    monkeypatch.setattr(module, "MIN_VALUES", 1)


# Text near the formats: valid dates, days that do not exist (31/02, 29/02 of a common year),
# two-digit and five-digit years, blanks, unpadded fields, leap seconds, hour 24, letters.
_piece = st.sampled_from(["0", "1", "2", "3", "5", "9", "00", "01", "02", "12", "13", "24", "28", "29", "30",
                          "31", "59", "60", "25", "2024", "2025", "1999", "0999", "02025", "0000", " ", "  ",
                          "/", "-", ":", ".", "年", "月", "日", "x", ""])


@settings(max_examples=300, deadline=None)
@given(fmt=st.sampled_from(FORMATS), texts=st.lists(st.lists(_piece, max_size=14).map("".join), max_size=30),
       dates=st.lists(st.datetimes(min_value=pd.Timestamp("1000-01-01").to_pydatetime(),
                                   max_value=pd.Timestamp("2999-12-31").to_pydatetime()), max_size=30),
       unpad=st.booleans())
def test_equals_pandas(fmt, texts, dates, unpad):
    rendered = [d.strftime(fmt) for d in dates]
    if unpad:  # single-digit fields, as some exports write them
        rendered = [r.replace("/0", "/").replace(" 0", " ").lstrip("0") for r in rendered]
    values = pd.Series(texts + rendered + [None], dtype="str")
    out = strptime(values, fmt)
    expected = _pandas(values, fmt)
    pd.testing.assert_series_equal(out, expected)


@pytest.mark.parametrize("fmt", FORMATS)
def test_days_that_do_not_exist_and_loose_text_are_left_to_pandas(fmt):
    good = pd.Timestamp("2024-02-29 23:59:58")
    texts = [good.strftime(fmt), "2025-02-29", "31/02/2025 10:00:00", "2025/04/31 08:00", "20250230080000",
             " " + good.strftime(fmt), good.strftime(fmt) + " ", good.strftime(fmt).replace("2024", "24")]
    values = pd.Series(texts * 3, index=range(100, 124), name="t", dtype="str")
    out = strptime(values, fmt)
    pd.testing.assert_series_equal(out, _pandas(values, fmt))
    assert out.iloc[0] == good.floor("min" if "%S" not in fmt else "s").floor("D" if "%H" not in fmt else "s")


def test_other_formats_time_zones_and_small_columns_are_pandas_alone(monkeypatch):
    calls = []
    real = pd.to_datetime

    def spy(values, **kwargs):
        calls.append(len(values))
        return real(values, **kwargs)

    monkeypatch.setattr(module.pd, "to_datetime", spy)
    values = pd.Series(["05/01/25 08:00"] * 5, dtype="str")
    strptime(values, "%d/%m/%y %H:%M")
    assert calls == [5]
    calls.clear()
    strptime(pd.Series(["05/01/2025 08:00"] * 5, dtype="str"), "%d/%m/%Y %H:%M")
    assert calls == []  # every value taken from Arrow
    monkeypatch.setattr(module, "MIN_VALUES", 10)
    strptime(pd.Series(["05/01/2025 08:00"] * 5, dtype="str"), "%d/%m/%Y %H:%M")
    assert calls == [5]
