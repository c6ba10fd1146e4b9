"""Care lists for member maintenance (维护): whom to contact this month.

``birthday_members``
    members whose birthday falls in a month (birthday greetings and gifts);
``tier_upgrade_candidates``
    members close to the next tier threshold (a reminder that a little more
    spend earns the upgrade).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import (
    parse_date,
    require_columns,
    require_dataframe,
    require_datetime,
    resolve_analysis_date,
)

__all__ = ["birthday_members", "tier_upgrade_candidates"]


def birthday_members(
    members: pd.DataFrame,
    month: int | None = None,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    birth_col: str = "birth_date",
) -> pd.DataFrame:
    """Members whose birthday falls in a given month (birthday-care list).

    Parameters
    ----------
    members : DataFrame
        One row per member with a birth date (not modified; members without
        a birth date are skipped).
    month : int 1-12, optional
        Default: the month of ``analysis_date``.
    analysis_date : date-like, optional
        Gives the year of the birthday (and the default month); one of
        ``month`` and ``analysis_date`` is required.
    member_col, birth_col : str
        Column names.

    Returns
    -------
    DataFrame
        ``members``' rows with a birthday in that month (all columns), plus
        ``birthday`` (this year's date; 29 February becomes 28 February in
        other years; NaT without ``analysis_date``) and ``age`` (age reached
        on that birthday), sorted by day of month.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "b", "c"],
    ...                   "birth_date": pd.to_datetime(["1990-03-20", "1988-02-29", "2000-03-02"])})
    >>> birthday_members(m, analysis_date="2025-03-01")[["member_id", "birthday", "age"]]
      member_id   birthday  age
    2         c 2025-03-02   25
    0         a 2025-03-20   35
    >>> birthday_members(m, month=2, analysis_date="2025-01-15")[["member_id", "birthday"]]
      member_id   birthday
    1         b 2025-02-28
    """
    require_dataframe(members, "members")
    require_columns(members, [member_col, birth_col], "members")
    if not pd.api.types.is_datetime64_any_dtype(members[birth_col]):
        raise WorkbookInputError(
            f"Column {birth_col!r} of members must hold dates (datetime64), got dtype {members[birth_col].dtype}."
        )
    date = None if analysis_date is None else parse_date(analysis_date, "analysis_date")
    if month is None:
        if date is None:
            raise WorkbookInputError("Give month=1..12 or analysis_date= (its month is used).")
        month = date.month
    if isinstance(month, bool) or not isinstance(month, (int, np.integer)) or not 1 <= month <= 12:
        raise WorkbookInputError(f"month={month!r} must be a whole number from 1 to 12.",
                                 message_zh=f"生日月份 month（笔记本参数 BIRTHDAY_MONTH）必须是 1 到 12 的整数，现在是 {month!r}。")
    birth = members[birth_col]
    out = members.loc[birth.dt.month == month].copy()
    b = out[birth_col]
    day = b.dt.day
    if date is not None:
        year = date.year
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        if not leap:
            day = day.where(~((b.dt.month == 2) & (day == 29)), 28)
        out["birthday"] = pd.to_datetime(
            pd.DataFrame({"year": year, "month": b.dt.month, "day": day}), errors="coerce"
        )
        out["age"] = (year - b.dt.year).astype("int64")
    else:
        out["birthday"] = pd.NaT
        out["age"] = pd.array([pd.NA] * len(out), dtype="Int64")
    order = np.lexsort((out[member_col].astype(str).to_numpy(), day.to_numpy()))
    return out.iloc[order]


def tier_upgrade_candidates(
    transactions: pd.DataFrame,
    policy: object | None = None,
    *,
    max_gap_cny: float | None = 500.0,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Members close to the next tier threshold (the "just a little more" care list).

    Each member's qualifying value at the analysis date (trailing spend over
    the policy's qualification window) comes from
    :func:`workbook.tiers.assign_tiers`; the gap is the next tier's threshold
    minus that value.

    Parameters
    ----------
    transactions : DataFrame
        Data contract transactions (not modified).
    policy : workbook.tiers.TierPolicy, optional
        Default :meth:`workbook.tiers.TierPolicy.default`.
    max_gap_cny : float or None, default 500
        Keep members whose gap is at most this; ``None`` keeps every member
        below the top tier.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    member_col, time_col, amount_col, return_col : str
        Column names.

    Returns
    -------
    DataFrame
        ``member_id``, ``tier``, ``qualifying_value``, ``next_tier``,
        ``next_threshold``, ``gap`` (in the policy's unit, CNY for spend) and
        ``gap_share`` (gap / next threshold), smallest gap first.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.tiers import TierPolicy
    >>> tx = pd.DataFrame({"member_id": ["a", "b", "c"], "amount": [1400.0, 3000.0, 12000.0],
    ...                    "timestamp": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03"])})
    >>> policy = TierPolicy(thresholds=(0, 1500, 4000, 10000))
    >>> tier_upgrade_candidates(tx, policy, max_gap_cny=1000)[["member_id", "tier", "next_tier", "gap"]]
      member_id    tier next_tier     gap
    0         a  member    silver   100.0
    1         b  silver      gold  1000.0
    """
    from workbook.tiers import TierPolicy, assign_tiers

    policy = TierPolicy.default() if policy is None else policy
    if max_gap_cny is not None:
        ok = isinstance(max_gap_cny, (int, float)) and not isinstance(max_gap_cny, bool)
        if not ok or not np.isfinite(max_gap_cny) or max_gap_cny < 0:
            raise WorkbookInputError(f"max_gap_cny={max_gap_cny!r} must be a non-negative amount or None.")
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [time_col], "transactions")
    require_datetime(transactions, time_col, "transactions")
    date = resolve_analysis_date(transactions[time_col], analysis_date=analysis_date)
    tiers = assign_tiers(
        transactions, policy, review_dates=[date], analysis_date=date, member_col=member_col,
        time_col=time_col, amount_col=amount_col, return_col=return_col,
    )
    level = tiers["tier_level"].to_numpy(dtype="int64")
    thresholds = np.asarray(policy.thresholds, dtype="float64")
    names = np.asarray(policy.names, dtype=object)
    below_top = level < len(thresholds) - 1
    t = tiers.loc[below_top]
    nxt = level[below_top] + 1
    out = pd.DataFrame(
        {
            "member_id": t["member_id"].to_numpy(),
            "tier": t["tier"].astype(str).to_numpy(),
            "qualifying_value": t["qualifying_value"].to_numpy(dtype="float64"),
            "next_tier": names[nxt].astype(str),
            "next_threshold": thresholds[nxt],
        }
    )
    out["gap"] = np.round(out["next_threshold"] - out["qualifying_value"], 2)
    out["gap_share"] = out["gap"] / out["next_threshold"]
    if max_gap_cny is not None:
        out = out.loc[out["gap"] <= max_gap_cny]
    out = out.sort_values(["gap", "member_id"], kind="stable").reset_index(drop=True)
    out.attrs["analysis_date"] = date
    return out
