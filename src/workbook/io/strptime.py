"""Text dates in a known format: pandas' result, most values parsed by Arrow.

``pd.to_datetime(values, format=fmt, errors="coerce")`` runs a regular
expression and a Python-level date check per value for any format other than
ISO 8601: about 1.7 s per million values, the slowest step of loading a large
export with times such as ``2025/01/05 08:00:00`` or ``05/01/2025 08:00``.
Arrow's ``strptime`` is some 20x faster but more lenient than pandas: it rolls
31/02 over into March, reads ``25`` under ``%Y`` as the year 25 and skips
leading blanks.  So Arrow's value is taken only where the text has the strict
shape of the format (a regular expression that accepts a subset of what pandas
accepts, checked by Arrow) and the day did not roll over; every other value is
parsed by pandas.  The result is pandas' own, value for value
(``tests/test_io_strptime.py`` compares them).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["strptime"]

#: Fields Arrow parses as pandas does, as strict patterns (subsets of pandas' own: no blank-padded
#: day, no leap second, years 1000-9999); the second form where two fields touch (``%Y%m%d``),
#: fixed width so that the split of the digits cannot differ.
_FIELDS = {
    "%Y": ("[1-9][0-9]{3}", "[1-9][0-9]{3}"),
    "%m": ("0[1-9]|1[0-2]|[1-9]", "0[1-9]|1[0-2]"),
    "%d": ("0[1-9]|[12][0-9]|3[01]|[1-9]", "0[1-9]|[12][0-9]|3[01]"),
    "%H": ("[01][0-9]|2[0-3]|[0-9]", "[01][0-9]|2[0-3]"),
    "%M": ("[0-5][0-9]|[0-9]", "[0-5][0-9]"),
    "%S": ("[0-5][0-9]|[0-9]", "[0-5][0-9]"),
}
_LATE_DAYS = "29|30|31"  # the only days that can roll over into the next month
#: Below this many values pandas alone is fast enough.
MIN_VALUES = 10_000


def _patterns(fmt: str) -> tuple[str, str] | None:
    """The strict pattern of ``fmt`` and the same with the day limited to 29-31; None if Arrow cannot be used."""
    parts = [p for p in re.split(r"(%.)", fmt) if p]
    directives = [p for p in parts if p.startswith("%") and len(p) == 2]
    if not {"%Y", "%m", "%d"} <= set(directives) <= _FIELDS.keys() or len(directives) != len(set(directives)) \
            or any("%" in p for p in parts if p not in directives):
        return None  # other directives (%y, %b, %f, %z, %p, %%, ...) or repeated ones: pandas
    strict, late = [], []
    for i, p in enumerate(parts):
        if p in directives:
            touches = any(q in directives for q in parts[max(i - 1, 0):i] + parts[i + 1:i + 2])
            field = _FIELDS[p][1 if touches else 0]
            strict.append(f"(?:{field})")
            late.append(f"(?:{_LATE_DAYS})" if p == "%d" else f"(?:{field})")
        else:
            literal = re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", p)
            strict.append(literal)
            late.append(literal)
    return "^" + "".join(strict) + "$", "^" + "".join(late) + "$"


def strptime(values: pd.Series, fmt: str, utc: bool = False) -> pd.Series:
    """``pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)``, faster on large columns.

    Parameters
    ----------
    values : Series of str
        Text dates; missing values stay missing.
    fmt : str
        A ``strptime`` format.  Formats of ``%Y``, ``%m``, ``%d`` (and ``%H``,
        ``%M``, ``%S``) with literal separators go through Arrow; any other, time
        zones (``utc=True``) and columns under :data:`MIN_VALUES` values, through
        pandas alone.
    utc : bool
        As in :func:`pandas.to_datetime`.

    Returns
    -------
    Series
        Equal to pandas' result, index and dtype included.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["05/01/2025 08:00", "31/02/2025 08:00", "5/1/2025 8:00", None] * 5000)
    >>> out = strptime(s, "%d/%m/%Y %H:%M")
    >>> out.equals(pd.to_datetime(s, format="%d/%m/%Y %H:%M", errors="coerce"))
    True
    >>> out.iloc[:3].tolist()
    [Timestamp('2025-01-05 08:00:00'), NaT, Timestamp('2025-01-05 08:00:00')]
    """
    patterns = None if utc or len(values) < MIN_VALUES else _patterns(fmt)
    if patterns is None:
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.astype("str"), type=pa.large_string())
    strict, late = patterns
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    rolled = pc.and_(pc.match_substring_regex(text, late), pc.less(pc.day(parsed), 29))
    taken = pc.and_not(pc.match_substring_regex(text, strict), rolled)
    taken = pc.fill_null(pc.and_(taken, pc.is_valid(parsed)), False).to_numpy(zero_copy_only=False)
    if not taken.any():  # nothing Arrow could read: pandas' result as it is (its unit is seconds then)
        return pd.to_datetime(values, format=fmt, errors="coerce")
    out = parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]")
    rest = ~taken & values.notna().to_numpy()
    if rest.any():
        out[rest] = pd.to_datetime(values[rest], format=fmt, errors="coerce").to_numpy("datetime64[us]")
    return pd.Series(out, index=values.index, name=values.name)
