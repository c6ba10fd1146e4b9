"""Boundary checks shared by every module."""

import pandas as pd
import pytest

from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, parse_date, require_dataframe, require_numeric


def test_missing_table_names_the_parameter():
    with pytest.raises(WorkbookInputError, match="No members table was given.*MEMBERS_PATH"):
        require_dataframe(None, "members")


def test_non_numeric_values_are_located():
    df = pd.DataFrame({"amount": ["1.0", "x", "2"]})
    with pytest.raises(WorkbookInputError, match=r"'amount'.*row 1 \(1 in total\).*'x'"):
        require_numeric(df, "amount")


def test_format_rows_truncates():
    assert format_rows(range(8)) == "rows 0, 1, 2, 3, 4, ... (8 in total)"
    assert format_rows([3]) == "row 3 (1 in total)"


def test_parse_date_rejects_text():
    with pytest.raises(WorkbookInputError, match="start='soon' is not a date"):
        parse_date("soon", "start")


def test_analysis_date_must_be_a_date():
    from workbook.validation import resolve_analysis_date

    ts = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    with pytest.raises(WorkbookInputError, match="analysis_date='NaT' is not a date"):
        resolve_analysis_date(ts, analysis_date="NaT")
    assert resolve_analysis_date(ts, analysis_date="2024-03-01") == pd.Timestamp("2024-03-01")
