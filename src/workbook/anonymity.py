"""Re-identification risk of an export: k-anonymity, uniqueness and generalisation.

Pseudonymising member ids (:mod:`workbook.privacy`) removes the *direct*
identifiers, but a row can still point at one person through its *quasi
identifiers*: gender + birth date + home store + join date is unique for most
members of a chain.  An export is *k-anonymous* on a set of quasi identifiers
when every combination of their values that occurs is shared by at least ``k``
rows (Sweeney 2002); the rows of smaller groups are the ones a colleague,
neighbour or data buyer could single out.

:func:`anonymity_report` measures that risk, :func:`class_sizes` gives each
row's group size, :func:`generalise` coarsens quasi identifiers (birth date ->
birth decade, join date -> join year, amounts -> bands) and
:func:`suppress_small_classes` drops the rows that are still in groups smaller
than ``k``.  Missing values count as a value of their own (a blank birth date
is as identifying as any other value when few rows share it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import require_columns, require_dataframe, require_whole

__all__ = ["COLUMN_ROLES", "column_roles", "class_sizes", "anonymity_report", "generalise", "suppress_small_classes"]

#: Role of the usual columns of a membership export under PIPL-minded review:
#: ``direct`` identifies a person on its own (never export raw), ``quasi`` can
#: identify in combination, ``other`` is behaviour without identity.
COLUMN_ROLES = {
    "member_id": "direct",
    "name": "direct",
    "phone": "direct",
    "email": "direct",
    "id_card": "direct",
    "address": "direct",
    "gender": "quasi",
    "birth_date": "quasi",
    "join_date": "quasi",
    "home_store_id": "quasi",
    "acquisition_channel": "quasi",
    "tier": "quasi",
    "city": "quasi",
}

_UNIT_ZH = {"year": "年", "month": "月", "decade": "十年"}
_ROLE_ZH = {"direct": "直接标识符", "quasi": "准标识符", "other": "其他（行为数据）"}


def column_roles(df: pd.DataFrame) -> pd.DataFrame:
    """The role of every column of ``df`` (direct identifier, quasi identifier or other).

    Examples
    --------
    >>> import pandas as pd
    >>> column_roles(pd.DataFrame(columns=["member_id", "gender", "amount"]))
          column    role   role_zh
    0  member_id  direct     直接标识符
    1     gender   quasi      准标识符
    2     amount   other  其他（行为数据）
    """
    roles = [COLUMN_ROLES.get(str(c), "other") for c in df.columns]
    return pd.DataFrame({"column": [str(c) for c in df.columns], "role": roles,
                         "role_zh": [_ROLE_ZH[r] for r in roles]})


def _check(df: object, quasi_identifiers: Sequence[str], name: str = "data") -> list[str]:
    require_dataframe(df, name)
    qi = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    if not qi:
        raise WorkbookInputError(
            "quasi_identifiers is empty: name the columns that could identify a person in combination.",
            message_zh="quasi_identifiers 为空：请列出组合起来可能认出一个人的列。",
        )
    require_columns(df, qi, name)
    return qi


def class_sizes(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """For every row, how many rows share its values of ``quasi_identifiers``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["F", "F", "M"], "year": [1990, 1990, 1990]})
    >>> class_sizes(df, ["gender", "year"]).tolist()
    [2, 2, 1]
    """
    codes = _group_codes(df, quasi_identifiers)
    return codes.map(codes.value_counts()).rename("class_size")


def _group_codes(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    qi = _check(df, quasi_identifiers)
    return df[qi].groupby(qi, dropna=False, sort=False).ngroup()


def anonymity_report(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> pd.Series:
    """How identifiable the rows of an export are through ``quasi_identifiers``.

    Parameters
    ----------
    df : DataFrame
        The export (not modified).
    quasi_identifiers : sequence of str
        Columns that could identify a person in combination.
    k : int, default 5
        The smallest group size considered safe.

    Returns
    -------
    Series
        ``rows``, ``classes`` (distinct combinations), ``k_anonymity`` (the
        smallest group: the export is k-anonymous for every k up to this),
        ``unique_share`` (rows alone in their group), ``below_k_share`` (rows
        in groups smaller than ``k``) and ``k``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["F"] * 5 + ["M"], "decade": [1990] * 6})
    >>> anonymity_report(df, ["gender", "decade"], k=5)
    rows             6.000000
    classes          2.000000
    k_anonymity      1.000000
    unique_share     0.166667
    below_k_share    0.166667
    k                5.000000
    dtype: float64
    """
    require_whole(k, "k", minimum=1)
    codes = _group_codes(df, quasi_identifiers)
    counts = codes.value_counts()
    sizes = codes.map(counts)
    n = len(sizes)
    return pd.Series(
        {
            "rows": float(n),
            "classes": float(len(counts)),
            "k_anonymity": float(sizes.min()),
            "unique_share": float((sizes == 1).mean()),
            "below_k_share": float((sizes < k).mean()),
            "k": float(k),
        }
    )


def _generalise_column(s: pd.Series, rule, column: str) -> pd.Series:
    if rule in ("year", "month", "decade"):
        if not pd.api.types.is_datetime64_any_dtype(s):
            raise WorkbookInputError(
                f"Column {column!r} must hold dates to be generalised to a {rule}, it holds {s.dtype}.",
                message_zh=f"列 {column!r} 必须是日期才能按{_UNIT_ZH[rule]}粗化，现在是 {s.dtype}。",
            )
        if rule == "month":
            return s.dt.to_period("M").astype("string")
        year = s.dt.year
        if rule == "decade":
            year = (year // 10) * 10
        return year.astype("Int64").astype("string").where(s.notna())
    if isinstance(rule, int | np.integer) and not isinstance(rule, bool) and rule > 0:
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise WorkbookInputError(
                f"Column {column!r} must be numeric to be put into bands of {rule}, it holds {s.dtype}.",
                message_zh=f"列 {column!r} 必须是数值才能按 {rule} 分段，现在是 {s.dtype}。",
            )
        low = np.floor(s / rule) * rule
        text = low.map(lambda v: f"{v:g}") + "-" + (low + rule).map(lambda v: f"{v:g}")
        return text.where(s.notna()).astype("string")
    if rule == "drop":
        return s
    raise WorkbookInputError(
        f"Unknown generalisation rule {rule!r} for column {column!r}: use 'year', 'month', 'decade', "
        f"'drop' or a positive band width.",
        message_zh=f"列 {column!r} 的粗化规则 {rule!r} 无效：可用 'year'、'month'、'decade'、'drop' 或一个正数的分段宽度。",
    )


def generalise(df: pd.DataFrame, rules: Mapping[str, object]) -> pd.DataFrame:
    """A copy of ``df`` with quasi identifiers coarsened.

    Parameters
    ----------
    df : DataFrame
        Not modified.
    rules : mapping
        Column -> ``"year"``, ``"month"``, ``"decade"`` (dates, as text),
        a positive number (numeric bands such as ``"100-200"``) or ``"drop"``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"birth_date": pd.to_datetime(["1987-03-02", "1981-11-30"]),
    ...                    "spend": [130.0, 260.0], "phone": ["13800000000", "13900000000"]})
    >>> generalise(df, {"birth_date": "decade", "spend": 100, "phone": "drop"})
      birth_date    spend
    0       1980  100-200
    1       1980  200-300
    """
    require_dataframe(df, "data")
    require_columns(df, list(rules), "data")
    out = df.copy()
    for column, rule in rules.items():
        out[column] = _generalise_column(df[column], rule, column)
    return out.drop(columns=[c for c, r in rules.items() if r == "drop"])


def suppress_small_classes(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5) -> pd.DataFrame:
    """The rows of ``df`` whose quasi-identifier group has at least ``k`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["F", "F", "M"], "store": ["S1", "S1", "S1"]})
    >>> len(suppress_small_classes(df, ["gender", "store"], k=2))
    2
    """
    require_whole(k, "k", minimum=1)
    return df.loc[class_sizes(df, quasi_identifiers) >= k]
