"""workbook.ids: the one place that normalises member, store and card ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyarrow as pa

from workbook.ids import (
    WALK_IN_VALUES, ids_in, increasing, lost_leading_zeros, mask_ids, normalise_ids, order_keys, sort_order,
    take_fixed_width,
)


def norm(values, **kw):
    return normalise_ids(pd.Series(values, dtype=object), **kw)


@pytest.mark.parametrize("raw, expected, repair", [
    (" 0012 ", "0012", None),
    ("\u3000０１２３\u3000", "0123", "full-width"),
    ("15258218732.0", "15258218732", "float .0"),
    ("15258218732.00", "15258218732", "float .0"),
    ('="000123"', "000123", "text guard"),
    ("'000123", "000123", "text guard"),
    ("M-001", "M-001", None),
    ("6222021234567890123", "6222021234567890123", None),
    ("\ufeff0001", "0001", None),
])
def test_repairs(raw, expected, repair):
    ids, reasons, repairs = norm([raw])
    assert ids.iloc[0] == expected and pd.isna(reasons.iloc[0])
    assert (pd.isna(repairs.iloc[0]) if repair is None else repairs.iloc[0] == repair)


@pytest.mark.parametrize("raw, word", [
    ("1.5258219e+10", "scientific"),
    ("6.22848E+15", "scientific"),
    ("1E10", "scientific"),
    ("6222021234567890123.0", "more than 15 significant digits"),
])
def test_unrecoverable_ids_are_refused_with_a_bilingual_reason(raw, word):
    ids, reasons, _ = norm([raw, "0001"])
    assert pd.isna(ids.iloc[0]) and ids.iloc[1] == "0001"
    assert word in reasons.iloc[0] and "文本" in reasons.iloc[0]
    assert raw not in reasons.iloc[0]  # the reason never quotes the id


def test_numeric_columns_exact_or_refused():
    ids, reasons, _ = normalise_ids(pd.Series([15258218732.0, np.nan, 12.5, 6.222021234567891e18]))
    assert ids.iloc[0] == "15258218732" and ids.iloc[1:].isna().all()
    assert pd.isna(reasons.iloc[1])  # empty cell: a walk-in, not a problem
    assert "fractional" in reasons.iloc[2] and "15 significant" in reasons.iloc[3]
    # integer columns (Parquet int64) are exact at any length
    ids, reasons, _ = normalise_ids(pd.Series([6222021234567890123, 42], dtype="int64"))
    assert ids.tolist() == ["6222021234567890123", "42"] and reasons.isna().all()


def test_zero_tails_refused_only_when_far_above_chance():
    lost = ["6222021234567890000", "6222021234567880000"]
    ids, reasons, _ = norm(lost + ["6222021234567890123"])
    assert reasons.iloc[:2].str.contains("zeros").all() and pd.isna(reasons.iloc[2])
    # one 16-digit card ending in 0 among genuine ones: chance, accepted
    cards = [f"62220212345678{i:02d}" for i in range(10, 40)]
    ids, reasons, _ = norm(cards)
    assert reasons.isna().all() and ids.tolist() == cards


def test_walk_in_placeholders_become_missing_without_reason():
    raw = ["散客", "非会员", "无", "-", "0", "0000", "", None, "Walk-In", "NULL", "0001"]
    ids, reasons, repairs = norm(raw)
    assert ids.isna().tolist() == [True] * 10 + [False]
    assert reasons.isna().all()
    assert repairs.iloc[:7].eq("walk-in").sum() == 6  # the empty string is no placeholder text
    # a table where every row needs an id: no placeholders
    ids, _, _ = norm(["0", "散客"], walk_in_values=())
    assert ids.tolist() == ["0", "散客"]
    assert "散客" in WALK_IN_VALUES and "0" in WALK_IN_VALUES


def test_phone_ids_beside_a_chinese_placeholder_are_matched_by_arrow_not_value_by_value(monkeypatch):
    # pandas hands a regex with \\d to Python's re, one value at a time, when a value is not ASCII:
    # 2.7 s of a 2M-row export with 散客 rows.  The patterns use [0-9]; here the per-value path fails.
    from pandas.core.strings.object_array import ObjectStringArrayMixin

    def per_value(*args, **kwargs):
        raise AssertionError("a regex ran value by value in Python")

    monkeypatch.setattr(ObjectStringArrayMixin, "_str_fullmatch", per_value)
    raw = pd.Series(["13800001234", "散客", "1.38E+10", "62220212345678901234", "00"], dtype="str")
    ids, reasons, repairs = normalise_ids(raw)
    assert ids.fillna("-").tolist() == ["13800001234", "-", "-", "62220212345678901234", "-"]
    assert "scientific" in reasons.iloc[2] and pd.isna(reasons.iloc[3]) and repairs.iloc[4] == "walk-in"


def test_mask_ids_hides_most_characters():
    out = mask_ids(pd.Series(["13912345678", "6222021234567890123", "0099", "a@b.cn", None]))
    assert out.iloc[0] == "13*******78" and out.iloc[1].startswith("62") and "*" * 15 in out.iloc[1]
    assert out.iloc[2] == "****" and out.iloc[3] == "******" and pd.isna(out.iloc[4])


def test_lost_leading_zeros():
    out = lost_leading_zeros(pd.Series(["123", "000123", "4567", None, "89"]),
                             ["000123", "004567", "0089x"])
    assert out.tolist() == [True, False, True, False, False]


def test_index_is_kept():
    s = pd.Series(["1", "散客"], index=[10, 20])
    ids, reasons, repairs = normalise_ids(s)
    assert ids.index.tolist() == reasons.index.tolist() == repairs.index.tolist() == [10, 20]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=15), min_size=1, max_size=20))
def test_property_digit_ids_round_trip_through_text_and_float_exports(ids):
    """Up to 15 digits: the id, its '.0' float export and its full-width form all agree."""
    ids = [i for i in ids if i.strip("0")]  # all-zero ids are walk-in placeholders
    if not ids:
        return
    plain = norm(ids).ids
    assert plain.tolist() == ids
    as_float = norm([str(int(i)) + ".0" for i in ids]).ids
    assert as_float.tolist() == [str(int(i)) for i in ids]
    wide = norm([i.translate(str.maketrans("0123456789", "０１２３４５６７８９")) for i in ids]).ids
    assert wide.tolist() == ids


_ID = st.one_of(st.none(), st.sampled_from(["M01", "M02", "0012", "12", "散客", "", "139 0000 1111"]))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_ID, max_size=12), known=st.lists(_ID, max_size=6),
       kind=st.sampled_from(["series", "index", "set", "list", "object"]))
def test_ids_in_agrees_with_pandas_isin(values, known, kind):
    left = pd.Series(values, dtype="str")
    right = {"series": pd.Series(known, dtype="str"), "index": pd.Index(known, dtype="str"),
             "set": set(known), "list": list(known), "object": pd.Series(known, dtype=object)}[kind]
    expected = left.isin(right).to_numpy(dtype=bool)
    got = ids_in(left, right)
    assert got.dtype == bool and got.tolist() == expected.tolist()
    assert ids_in(pd.Index(left), right).tolist() == expected.tolist()


def test_ids_in_leaves_other_types_to_pandas():
    assert ids_in(pd.Series([1, 2, 3]), [2, 3]).tolist() == [False, True, True]
    assert ids_in(pd.Series(["1", "2"], dtype="str"), [2]).tolist() == [False, False]  # text is not a number
    assert ids_in(pd.Series(["a", "b"], dtype="category"), ["b"]).tolist() == [False, True]
    assert ids_in(pd.Series([], dtype="str"), ["a"]).tolist() == []


# Fixed-width ids over a few bytes, including non-ASCII (3 UTF-8 bytes per character) and digits.
_WIDE_ID = st.text(alphabet="09AMz店\x7f", min_size=3, max_size=3)


@settings(max_examples=80, deadline=None)
@given(a=st.lists(_WIDE_ID, max_size=15), b=st.lists(_WIDE_ID, max_size=15))
def test_order_keys_sort_and_compare_like_the_ids(a, b):
    a = [x for x in a if len(x.encode()) == 3] or ["M01"]
    b = [x for x in b if len(x.encode()) == 3]
    keys = order_keys(pd.Series(a, dtype="str"), pd.Series(b, dtype="str"))
    assert keys is not None and [len(k) for k in keys] == [len(a), len(b)]
    ids, key = a + b, np.concatenate(keys)
    for i in range(len(ids)):
        for j in range(len(ids)):
            # byte order of UTF-8 text = code point order = Python's str order
            assert (key[i] < key[j]) == (ids[i] < ids[j]) and (key[i] == key[j]) == (ids[i] == ids[j])
    assert increasing(pd.Series(sorted(set(ids)), dtype="str"))
    assert increasing(pd.Series(ids, dtype="str")) == all(x < y for x, y in zip(ids, ids[1:]))


@settings(max_examples=80, deadline=None)
@given(ids=st.lists(st.one_of(_WIDE_ID, st.text(alphabet="09AMz店", max_size=4)), max_size=20),
       chunks=st.integers(1, 3), fixed=st.booleans())
def test_sort_order_sorts_like_pandas(ids, chunks, fixed):
    if fixed:  # one byte width: the integer-key path
        ids = [x for x in ids if len(x.encode()) == 3]
    size = -(-len(ids) // chunks) or 1
    arr = pa.chunked_array([pa.array(ids[i:i + size], pa.string()) for i in range(0, len(ids), size)], pa.string())
    order = sort_order(arr)
    assert order.dtype == np.int64
    # pandas' stable sort of the same text is the reference order (ties keep their input order)
    assert order.tolist() == pd.Series(ids, dtype="str").sort_values(kind="stable").index.tolist()


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["M01", "M02", "M10", "店", "A9z", "a", "ab"]),  # repeats
                               st.one_of(st.none(), st.integers(-3, 3))), max_size=25),
       fixed=st.booleans(), as_time=st.booleans())
def test_sort_order_with_a_second_key_sorts_like_pandas_sort_values(rows, fixed, as_time):
    if fixed:
        rows = [r for r in rows if len(r[0].encode()) == 3]
    ids = pd.Series([r[0] for r in rows], dtype="str")
    then = pd.Series([np.nan if r[1] is None else r[1] for r in rows], dtype="float64")
    if as_time:  # periods are timestamps; a missing one is NaT
        then = pd.to_datetime(then, unit="D")
    order = sort_order(ids, then=then.to_numpy())
    frame = pd.DataFrame({"ids": ids, "then": then})
    assert order.tolist() == frame.sort_values(["ids", "then"], kind="stable").index.tolist()


def test_sort_order_keeps_repeated_ids_in_input_order():
    ids = np.random.default_rng(1).choice(["M1", "M2", "M3"], 500).tolist()  # fixed width, many ties
    assert sort_order(pa.array(ids)).tolist() == pd.Series(ids, dtype="str").sort_values(kind="stable").index.tolist()


def test_sort_order_of_ids_whose_keys_use_the_sign_bit():
    # ten positions of 80 byte values each: integer keys up to 80**10 > 2**63, past the packed sort's
    # range, so NumPy's stable sort of the unsigned keys orders them (repeats keep their input order)
    rng = np.random.default_rng(5)
    alphabet = np.array(list("/0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"))
    assert len(alphabet) == 79
    ids = ["".join(row) for row in rng.choice(np.append(alphabet, "\\"), (300, 10))]
    ids += ["/" * 10, "~" * 10, ids[3], ids[7]]
    assert int(order_keys(pa.array(ids))[0].max()) >= 2**63
    assert sort_order(pa.array(ids)).tolist() == pd.Series(ids, dtype="str").sort_values(kind="stable").index.tolist()


def test_sort_order_of_numbers():
    assert sort_order(pa.array([30, 4, 100, 4])).tolist() == [1, 3, 0, 2]


def test_order_keys_refuse_what_they_cannot_encode():
    assert order_keys(pd.Series(["a", "bc"], dtype="str")) is None  # two widths
    assert order_keys(pd.Series(["ab", None], dtype="str")) is None  # a missing id
    assert order_keys(pd.Series(["ab"], dtype="str"), pd.Series(["abc"], dtype="str")) is None
    assert order_keys(pd.Series([1, 2])) is None  # numbers are not text ids
    # 40 positions of 5 different bytes each need 93 bits: no 64-bit key
    assert order_keys(pd.Series(["a" * 40, "e" * 40], dtype="str")) is None
    phones = pd.Series(["13900001111", "13800002222", "15258218732"], dtype="str")  # 11 digits fit
    (k,) = order_keys(phones)
    assert np.argsort(k).tolist() == [1, 0, 2]
    assert [len(k) for k in order_keys(pd.Series([], dtype="str"), phones)] == [0, 3]


def test_increasing_on_numbers_text_and_objects():
    assert increasing(np.array([1, 2, 5])) and not increasing(np.array([1, 1, 2]))
    assert not increasing(pd.Index(["a", "c", "b", "dd"], dtype="str"))  # two widths: Arrow's compare
    assert increasing(pd.Index(["a", "b", "dd"], dtype="str"))
    assert not increasing(pd.Index(["a", None, "dd"], dtype="str"))
    assert increasing(pd.Index([3, 7, 9])) and not increasing(pd.Index(["b", "a"], dtype=object))


def test_fixed_width_take_equals_arrow_take():
    rng = np.random.default_rng(2)
    for words in (["M0000001", "M0000002", "M0000003"], ["S01", "S02"], ["a", "bc", "def"], ["x", None, "y"]):
        for kind in (pa.string(), pa.large_string()):
            arr = pa.array(words, kind)
            for values in (arr, arr.slice(1), pa.chunked_array([arr[:1], arr[1:]])):
                rows = rng.integers(-1, len(values), 50)
                result = take_fixed_width(values, rows)
                result.validate(full=True)
                expected = pa.chunked_array([values]).combine_chunks() if isinstance(values, pa.Array) else values
                expected = (expected.combine_chunks() if isinstance(expected, pa.ChunkedArray) else expected).take(
                    pa.array(rows, mask=rows < 0))
                assert result.type == kind and result.equals(expected)
