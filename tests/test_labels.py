"""workbook.labels: one Chinese label per code, read from the module that defines the code."""

import pandas as pd

from workbook.acquisition import CHANNEL_LABELS_ZH
from workbook.labels import zh_label, zh_labels, zh_table
from workbook.rfm import SEGMENTS
from workbook.tiers import TIER_LABELS_ZH, TIER_NAMES


def test_codes_read_from_their_definitions():
    for code, zh in CHANNEL_LABELS_ZH.items():
        assert zh_label(code) == zh  # charts and tables name channels alike
    assert zh_labels(TIER_NAMES) == list(TIER_LABELS_ZH)
    assert zh_label("cant_lose") == SEGMENTS.set_index("segment").loc["cant_lose", "name_zh"]


def test_explicit_labels_win_and_unknown_codes_pass_through():
    assert zh_label("loyal", {"loyal": "忠诚客户"}) == "忠诚客户"
    assert zh_label("no_such_code") == "no_such_code"


def test_zh_table_is_a_display_copy():
    t = pd.DataFrame({"members": [1], "odd_col": [2]})
    shown = zh_table(t)
    assert list(shown.columns) == ["会员数 (members)", "odd_col"]
    assert list(t.columns) == ["members", "odd_col"]  # the analysis frame is unchanged
