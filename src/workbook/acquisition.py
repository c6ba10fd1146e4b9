"""Acquisition and recruitment: channel mix, funnel, channel quality and cost.

The questions of the first lifecycle steps (引流 → 招募 → 维护):

``channel_mix``
    how many members each acquisition channel brought (per month if wanted);
``acquisition_funnel``
    store visitors → registered members → first purchase → repeat purchase;
``first_purchase_durations`` / ``first_purchase_conversion``
    how long new members take to make their first purchase, and the share
    converted within 7/30/90 days, censoring done right (members who joined
    recently have not had 30 days yet);
``channel_quality`` / ``channel_economics``
    which channel brings members who stay (repeat, 12-month retention, value)
    and what an acquired / buying / retained member costs per channel;
(Care lists for member maintenance are in :mod:`workbook.care`.)

Definitions (as in :mod:`workbook.aggregate`)
---------------------------------------------
* A *purchase* is a transaction that is not a return (``is_return`` true, or
  without that column a negative amount).  Walk-in sales without a member id
  are left out; so are transactions at or after the analysis date.
* *Revenue* is net: purchases minus returns (CNY).
* Windows are measured from the registration time ``join_date`` and are
  half-open: "within 30 days" means ``join_date <= t < join_date + 30 days``.
  A purchase recorded before the registration time (registered at the till
  after paying) counts as day 0.
* Only members observed for the whole window (``join_date + window <=
  analysis_date``) enter a rate, so recent members do not drag it down.

Channel and stage labels for charts are in :data:`CHANNEL_LABELS_ZH` and
:data:`FUNNEL_STAGES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.transactions import DAY, purchases
from workbook.validation import (
    format_rows,
    parse_date,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
)

__all__ = [
    "CHANNEL_LABELS_ZH",
    "FUNNEL_STAGES",
    "acquisition_funnel",
    "channel_economics",
    "channel_label",
    "channel_mix",
    "channel_quality",
    "first_purchase_conversion",
    "first_purchase_durations",
]

#: Chinese display names of the acquisition channels of the data contract.
CHANNEL_LABELS_ZH = {
    "store_walk_in": "门店现场",
    "wechat_mini_program": "微信小程序",
    "app": "App",
    "ecommerce": "电商平台",
    "referral": "老带新",
    "offline_event": "线下活动",
}

#: Funnel stages in order, with their Chinese names.
FUNNEL_STAGES = {
    "visitors": "进店人次",
    "registered": "注册会员",
    "first_purchase": "首次购买",
    "repeat_purchase": "重复购买",
}

#: Label of the all-groups row of :func:`channel_quality`.
TOTAL_LABEL = "All"



def channel_label(channel: object, language: str = "both") -> str:
    """Display label of a channel code: ``"微信小程序 wechat_mini_program"``, ``"微信小程序"`` or the code.

    Examples
    --------
    >>> channel_label("referral")
    '老带新 referral'
    >>> channel_label("referral", "zh")
    '老带新'
    >>> channel_label("tiktok")
    'tiktok'
    """
    code = str(channel)
    zh = CHANNEL_LABELS_ZH.get(code)
    if language == "en" or zh is None:
        return code
    return zh if language == "zh" else f"{zh} {code}"


# --------------------------------------------------------------------------- inputs
def _members_frame(
    members: pd.DataFrame, member_col: str, join_col: str, extra: Sequence[str] = ()
) -> pd.DataFrame:
    """Validated members (unique ids, join dates); only the needed columns, a copy."""
    require_dataframe(members, "members")
    cols = [member_col, join_col, *[c for c in extra if c not in (member_col, join_col)]]
    require_columns(members, cols, "members")
    require_datetime(members, join_col, "members")
    ids = members[member_col]
    if ids.isna().any():
        raise WorkbookInputError(
            f"Column {member_col!r} of members has missing ids at {format_rows(members.index[ids.isna()])}."
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise WorkbookInputError(
            f"Column {member_col!r} of members is not unique: {ids[dup].iloc[0]!r} appears more than once "
            f"({format_rows(members.index[dup])})."
        )
    for c in extra:
        if members[c].isna().any():
            raise WorkbookInputError(
                f"Column {c!r} of members has missing values at {format_rows(members.index[members[c].isna()])}."
            )
    return members.loc[:, cols].copy()


def _members_first(args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
    """Recognise the old order ``f(members, transactions, ...)`` by the columns of the two tables."""
    time_col, join_col = kwargs.get("time_col", "timestamp"), kwargs.get("join_col", "join_date")
    if len(args) >= 2 and all(isinstance(a, pd.DataFrame) for a in args[:2]):
        first, second = args[0], args[1]
        if time_col not in first.columns and join_col in first.columns and time_col in second.columns:
            return (second, first, *args[2:]), kwargs
    return None


def _member_transactions(
    transactions: pd.DataFrame,
    member_col: str,
    time_col: str,
    amount_col: str,
    return_col: str | None,
    analysis_date: object | None,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Member rows before the analysis date: ``member_id``, ``ts``, ``amount``, ``is_purchase``.

    The rows are :func:`workbook.transactions.purchases`, so purchases, returns and
    walk-ins are defined exactly as for every other per-member metric.
    """
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=amount_col, return_col=return_col, include_returns=True)
    rows = rows.reset_index(drop=True)
    return rows.assign(is_purchase=~rows["is_return"]).drop(columns="is_return"), date


def _check_days(value: object, name: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0:
        raise WorkbookInputError(f"{name}={value!r} must be a positive number of days.")
    return float(value)


def _window_activity(
    mem: pd.DataFrame, tx: pd.DataFrame, member_col: str, join_col: str, window_days: float
) -> pd.DataFrame:
    """Transactions of ``mem``'s members with their day offset from joining, inside the window."""
    j = tx.merge(
        mem[[member_col, join_col]].rename(columns={member_col: "member_id", join_col: "_join"}),
        on="member_id",
        how="inner",
    )
    offset = ((j["ts"] - j["_join"]) / DAY).clip(lower=0.0)
    j = j.assign(offset_days=offset.to_numpy(dtype="float64"))
    return j.loc[j["offset_days"] < window_days]


# --------------------------------------------------------------------------- channel mix
def channel_mix(
    members: pd.DataFrame,
    *,
    freq: str | None = None,
    start: object | None = None,
    end: object | None = None,
    channel_col: str = "acquisition_channel",
    member_col: str = "member_id",
    join_col: str = "join_date",
) -> pd.DataFrame:
    """Registered members per acquisition channel, with shares.

    Parameters
    ----------
    members : DataFrame
        One row per member (not modified).
    freq : {None, "M", "Q", "Y", "W"}
        ``None``: one row per channel over the whole period; otherwise one row
        per registration period and channel (long format).
    start, end : date-like, optional
        Only members who registered in ``[start, end)``.
    channel_col, member_col, join_col : str
        Column names (data contract defaults).

    Returns
    -------
    DataFrame
        Columns (``period``,) ``channel``, ``channel_zh``, ``members`` and
        ``share`` (of the period's registrations), sorted by period and
        descending members.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "b", "c", "d"],
    ...                   "join_date": pd.to_datetime(["2024-01-03", "2024-01-09", "2024-02-01", "2024-02-05"]),
    ...                   "acquisition_channel": ["app", "referral", "app", "app"]})
    >>> channel_mix(m)[["channel", "members", "share"]]
        channel  members  share
    0       app        3   0.75
    1  referral        1   0.25
    >>> channel_mix(m, freq="M")[["period", "channel", "members"]]
          period   channel  members
    0 2024-01-01       app        1
    1 2024-01-01  referral        1
    2 2024-02-01       app        2
    """
    mem = _members_frame(members, member_col, join_col, extra=[channel_col])
    mem = _between(mem, join_col, start, end)
    keys = ["channel"]
    frame = pd.DataFrame({"channel": mem[channel_col].astype(str).to_numpy()})
    if freq is not None:
        if freq not in ("M", "Q", "Y", "W"):
            raise WorkbookInputError(f"freq={freq!r} is not valid; choose None, 'M', 'Q', 'Y' or 'W'.")
        frame.insert(0, "period", mem[join_col].dt.to_period(freq).dt.start_time.to_numpy())
        keys = ["period", "channel"]
    out = frame.groupby(keys, sort=True).size().rename("members").reset_index()
    total = out.groupby(keys[:-1])["members"].transform("sum") if freq is not None else out["members"].sum()
    out["share"] = out["members"] / total
    out.insert(keys.index("channel") + 1, "channel_zh", out["channel"].map(lambda c: channel_label(c, "zh")))
    sort = (["period"] if freq is not None else []) + ["members", "channel"]
    asc = ([True] if freq is not None else []) + [False, True]
    return out.sort_values(sort, ascending=asc, kind="stable").reset_index(drop=True)


def _between(df: pd.DataFrame, col: str, start: object | None, end: object | None) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    if start is not None:
        mask &= df[col] >= parse_date(start, "start")
    if end is not None:
        mask &= df[col] < parse_date(end, "end")
    return df.loc[mask]


# --------------------------------------------------------------------------- funnel
@renamed_arguments(legacy_call=_members_first, legacy_hint="pass (transactions, members, ...)")
def acquisition_funnel(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    store_traffic: pd.DataFrame | None = None,
    *,
    start: object | None = None,
    end: object | None = None,
    within_days: float | None = None,
    by: str | None = None,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    join_col: str = "join_date",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    home_store_col: str = "home_store_id",
    store_col: str = "store_id",
    traffic_date_col: str = "date",
    visitors_col: str = "visitors",
) -> pd.DataFrame:
    """Funnel from store visitors to registered, first-purchase and repeat members.

    Stages: ``visitors`` (door-counter visits in ``[start, end)``; a person
    visiting twice counts twice), ``registered`` (members who registered in
    ``[start, end)``), ``first_purchase`` (of those, members with at least one
    purchase) and ``repeat_purchase`` (at least two purchases).  Purchases
    count up to the analysis date, or only within ``within_days`` of
    registration.

    Parameters
    ----------
    transactions, members : DataFrame
        Data contract tables (not modified).
    store_traffic : DataFrame, optional
        Door counts per store and day; without it the funnel starts at
        ``registered``.
    start, end : date-like, optional
        Registration window (default: everything before the analysis date).
    within_days : float, optional
        Count purchases only within this many days of registration, and only
        members observed for that long.  ``end`` must then be at most
        ``analysis_date - within_days`` (the default end).
    by : str, optional
        A members column to split the funnel (e.g. ``"acquisition_channel"``).
        Visitors are only available overall or by ``home_store_col`` (traffic
        is per store); for other splits the visitors stage is left out.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    member_col, join_col, time_col, amount_col, return_col, home_store_col, store_col, traffic_date_col, visitors_col : str
        Column names (data contract defaults).

    Returns
    -------
    DataFrame
        Long format: (``by``,) ``stage`` (ordered categorical), ``stage_zh``,
        ``count``, ``rate_from_previous`` (conversion from the stage before;
        NaN for the first) and ``rate_from_top``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "b", "c", "d"], "home_store_id": "S1",
    ...                   "join_date": pd.to_datetime(["2024-01-02"] * 4)})
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", None],
    ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-05", "2024-01-31"]),
    ...                    "amount": [50.0, 20.0, 30.0, 10.0]})
    >>> traffic = pd.DataFrame({"store_id": "S1", "date": pd.date_range("2024-01-02", periods=30),
    ...                         "visitors": 10})
    >>> acquisition_funnel(tx, m, traffic)[["stage", "count", "rate_from_previous"]]
                 stage  count  rate_from_previous
    0         visitors    300                 NaN
    1       registered      4            0.013333
    2   first_purchase      2            0.500000
    3  repeat_purchase      1            0.500000
    """
    extra = [by] if by is not None else []
    with_visitors = store_traffic is not None and (by is None or by == home_store_col)
    mem = _members_frame(members, member_col, join_col, extra=extra)
    tx, date = _member_transactions(transactions, member_col, time_col, amount_col, return_col, analysis_date)
    window = np.inf if within_days is None else _check_days(within_days, "within_days")
    last_join = date if within_days is None else date - pd.Timedelta(days=window)
    end_ts = last_join if end is None else parse_date(end, "end")
    if end_ts > last_join:
        raise WorkbookInputError(
            f"end={end_ts} leaves members less than within_days={within_days} days before the analysis date "
            f"{date}; use end <= {last_join} or a smaller within_days."
        )
    start_ts = mem[join_col].min() if start is None else parse_date(start, "start")
    if start_ts >= end_ts:
        raise WorkbookInputError(f"start={start_ts} must be before end={end_ts}.")
    cohort = _between(mem, join_col, start_ts, end_ts)
    act = _window_activity(cohort, tx.loc[tx["is_purchase"]], member_col, join_col, window)
    n_purch = act.groupby("member_id").size()
    per = pd.DataFrame(
        {
            "group": cohort[by].astype(str).to_numpy() if by else "all",
            "n": n_purch.reindex(cohort[member_col].to_numpy(), fill_value=0).to_numpy(),
        }
    )
    counts = per.groupby("group", sort=True).agg(
        registered=("n", "size"),
        first_purchase=("n", lambda s: int((s >= 1).sum())),
        repeat_purchase=("n", lambda s: int((s >= 2).sum())),
    )
    stages = list(FUNNEL_STAGES)[1:]
    if with_visitors:
        require_dataframe(store_traffic, "store_traffic")
        require_columns(store_traffic, [store_col, traffic_date_col, visitors_col], "store_traffic")
        require_datetime(store_traffic, traffic_date_col, "store_traffic")
        require_numeric(store_traffic, visitors_col, "store_traffic")
        tr = _between(store_traffic, traffic_date_col, start_ts.normalize(), end_ts)
        if by is None:
            visits = pd.Series({"all": tr[visitors_col].sum()})
        else:
            visits = tr.groupby(tr[store_col].astype(str))[visitors_col].sum()
        counts = counts.reindex(counts.index.union(visits.index), fill_value=0)
        counts.insert(0, "visitors", visits.reindex(counts.index, fill_value=0))
        stages = list(FUNNEL_STAGES)
    counts = counts.astype("int64")
    long = counts[stages].rename_axis(index="group", columns="stage").stack().rename("count").reset_index()
    long["stage"] = pd.Categorical(long["stage"], categories=stages, ordered=True)
    long = long.sort_values(["group", "stage"], kind="stable").reset_index(drop=True)
    prev = long.groupby("group")["count"].shift(1)
    top = long.groupby("group")["count"].transform("first")
    with np.errstate(divide="ignore", invalid="ignore"):
        long["rate_from_previous"] = long["count"] / prev.where(prev > 0)
        long["rate_from_top"] = long["count"] / top.where(top > 0)
    long.insert(2, "stage_zh", long["stage"].map(FUNNEL_STAGES).astype(str))
    if by is None:
        return long.drop(columns="group")
    return long.rename(columns={"group": by})


# --------------------------------------------------------------------------- first purchase
@renamed_arguments(legacy_call=_members_first, legacy_hint="pass (transactions, members, ...)")
def first_purchase_durations(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    keep: Sequence[str] = ("acquisition_channel",),
    member_col: str = "member_id",
    join_col: str = "join_date",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Days from registration to the first purchase, censored at the analysis date.

    Members who have not bought yet are *censored*: we only know they took
    longer than their follow-up.  The table plugs into
    :func:`workbook.survival.km_curves` (``duration_col="duration_days"``,
    ``event_col="bought"``): one minus the Kaplan-Meier curve is the share
    converted by day ``t``.

    Parameters
    ----------
    transactions, members : DataFrame
        Data contract tables (not modified).
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.  Members who
        registered at or after it are left out.
    keep : sequence of str
        Members columns to carry along (e.g. the channel to split by);
        columns absent from ``members`` are an error.
    member_col, join_col, time_col, amount_col, return_col : str
        Column names (data contract defaults).

    Returns
    -------
    DataFrame
        One row per member: ``member_id``, ``join_date``, the ``keep``
        columns, ``first_purchase`` (NaT if none), ``bought`` (bool),
        ``days_to_first_purchase`` (float days, 0 if bought before
        registering, NaN if not bought), ``followup_days`` (registration to
        analysis date) and ``duration_days`` (days to the first purchase, or
        the follow-up when censored).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "b"], "acquisition_channel": ["app", "app"],
    ...                   "join_date": pd.to_datetime(["2024-01-01", "2024-01-11"])})
    >>> tx = pd.DataFrame({"member_id": ["a", "a"], "amount": [10.0, 20.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-04 12:00", "2024-01-20 00:00"])})
    >>> d = first_purchase_durations(tx, m)
    >>> d[["member_id", "bought", "days_to_first_purchase", "duration_days"]]
      member_id  bought  days_to_first_purchase  duration_days
    0         a    True                     3.5            3.5
    1         b   False                     NaN           10.0
    """
    keep = [c for c in keep]
    mem = _members_frame(members, member_col, join_col, extra=keep)
    tx, date = _member_transactions(transactions, member_col, time_col, amount_col, return_col, analysis_date)
    mem = mem.loc[mem[join_col] < date].reset_index(drop=True)
    first = tx.loc[tx["is_purchase"]].groupby("member_id")["ts"].min()
    out = mem.rename(columns={member_col: "member_id", join_col: "join_date"})
    out["first_purchase"] = first.reindex(out["member_id"].to_numpy()).to_numpy()
    out["bought"] = out["first_purchase"].notna().to_numpy()
    days = ((out["first_purchase"] - out["join_date"]) / DAY).clip(lower=0.0)
    out["days_to_first_purchase"] = days.to_numpy(dtype="float64")
    out["followup_days"] = ((date - out["join_date"]) / DAY).to_numpy(dtype="float64")
    out["duration_days"] = out["days_to_first_purchase"].fillna(out["followup_days"])
    out.attrs["analysis_date"] = date
    return out


def first_purchase_conversion(
    durations: pd.DataFrame,
    within_days: Sequence[float] = (7, 30, 90),
    *,
    by: str | None = "acquisition_channel",
) -> pd.DataFrame:
    """Share of new members who made their first purchase within N days of registering.

    For each N only members with at least N days of follow-up count (a member
    who joined last week cannot have converted within 30 days yet).

    Parameters
    ----------
    durations : DataFrame
        Output of :func:`first_purchase_durations`.
    within_days : sequence of float
        Windows in days.
    by : str or None, default "acquisition_channel"
        Column to split by; ``None`` for all members together.

    Returns
    -------
    DataFrame
        Long format: (``by``,) ``within_days``, ``members`` (observed for the
        whole window), ``converted`` and ``conversion_rate``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"days_to_first_purchase": [1.0, 20.0, None, 50.0],
    ...                   "followup_days": [100.0, 100.0, 100.0, 60.0]})
    >>> first_purchase_conversion(d, (7, 30, 90), by=None)
       within_days  members  converted  conversion_rate
    0            7        4          1         0.250000
    1           30        4          2         0.500000
    2           90        3          2         0.666667
    """
    require_dataframe(durations, "durations")
    cols = ["days_to_first_purchase", "followup_days"] + ([by] if by is not None else [])
    require_columns(durations, cols, "durations")
    windows = [_check_days(w, "within_days") for w in within_days]
    if not windows:
        raise WorkbookInputError("within_days is empty; give at least one window, e.g. (7, 30, 90).")
    days = durations["days_to_first_purchase"].to_numpy(dtype="float64", na_value=np.nan)
    follow = durations["followup_days"].to_numpy(dtype="float64")
    group = durations[by].astype(str).to_numpy() if by is not None else np.full(len(durations), "all")
    w = np.asarray(windows)
    eligible = follow[:, None] >= w[None, :]
    conv = eligible & (days[:, None] < w[None, :])  # NaN compares False
    frame = pd.DataFrame(
        {
            "group": np.repeat(group, len(w)),
            "within_days": np.tile(w, len(group)),
            "members": eligible.ravel().astype("int64"),
            "converted": conv.ravel().astype("int64"),
        }
    )
    out = frame.groupby(["group", "within_days"], sort=True)[["members", "converted"]].sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["conversion_rate"] = out["converted"] / out["members"].where(out["members"] > 0)
    if all(float(x).is_integer() for x in windows):
        out["within_days"] = out["within_days"].astype("int64")
    if by is None:
        return out.drop(columns="group")
    return out.rename(columns={"group": by})


# --------------------------------------------------------------------------- channel quality and cost
@renamed_arguments(legacy_call=_members_first, legacy_hint="pass (transactions, members, ...)")
def channel_quality(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    *,
    horizon_days: float = 365,
    active_window_days: float = 90,
    by: str = "acquisition_channel",
    analysis_date: object | None = None,
    total: bool = True,
    member_col: str = "member_id",
    join_col: str = "join_date",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> pd.DataFrame:
    """Which channel brings members who stay: purchase, repeat, retention and value in the first year.

    Only members who registered at least ``horizon_days`` before the analysis
    date count, and only their first ``horizon_days`` after registering, so
    every channel is judged on the same time span.

    Parameters
    ----------
    transactions, members : DataFrame
        Data contract tables (not modified).
    horizon_days : float, default 365
        Length of the observation window after registration.
    active_window_days : float, default 90
        A member is *retained* at the horizon if they bought in the last
        ``active_window_days`` of the window, i.e. in
        ``[horizon - active_window, horizon)`` days after registering.
    by : str, default "acquisition_channel"
        Members column to group by.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    total : bool, default True
        Append a row ``"All"`` over all groups.
    member_col, join_col, time_col, amount_col, return_col : str
        Column names (data contract defaults).

    Returns
    -------
    DataFrame
        Indexed by ``by``: ``members``, ``buyers``, ``buyer_rate``,
        ``repeat_buyers`` (2+ purchases), ``repeat_rate`` (of members),
        ``repeat_rate_of_buyers``, ``retained``, ``retention_rate`` (of
        members), ``revenue`` (net CNY in the window), ``revenue_per_member``
        and ``revenue_per_buyer``.  ``attrs`` hold the windows and the
        analysis date.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": ["a", "b", "c"], "acquisition_channel": ["app", "app", "referral"],
    ...                   "join_date": pd.to_datetime(["2024-01-01"] * 3)})
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "c"], "amount": [100.0, 50.0, 80.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-03-20", "2024-01-05"])})
    >>> q = channel_quality(tx, m, horizon_days=90, active_window_days=30, analysis_date="2024-04-01")
    >>> q[["members", "buyer_rate", "repeat_rate", "retention_rate"]]  # doctest: +NORMALIZE_WHITESPACE
                         members  buyer_rate  repeat_rate  retention_rate
    acquisition_channel
    app                        2    0.500000     0.500000        0.500000
    referral                   1    1.000000     0.000000        0.000000
    All                        3    0.666667     0.333333        0.333333
    >>> q["revenue_per_member"].round(2).tolist()
    [75.0, 80.0, 76.67]
    """
    horizon = _check_days(horizon_days, "horizon_days")
    active = _check_days(active_window_days, "active_window_days")
    if active > horizon:
        raise WorkbookInputError(
            f"active_window_days={active_window_days} must not exceed horizon_days={horizon_days}.",
            message_zh=f"ACTIVE_WINDOW_DAYS（留存窗口，现在 {active_window_days} 天）不能大于 HORIZON_DAYS"
            f"（观察天数，现在 {horizon_days} 天）：请取 1–{horizon_days} 之间的值。",
        )
    mem = _members_frame(members, member_col, join_col, extra=[by])
    tx, date = _member_transactions(transactions, member_col, time_col, amount_col, return_col, analysis_date)
    cohort = mem.loc[mem[join_col] + pd.Timedelta(days=horizon) <= date]
    if cohort.empty:
        raise WorkbookInputError(
            f"No member registered at least horizon_days={horizon_days} days before the analysis date "
            f"{date} (first registration {mem[join_col].min()}); use a shorter horizon or a later date."
        )
    act = _window_activity(cohort, tx, member_col, join_col, horizon)
    purch = act.loc[act["is_purchase"]]
    ids = cohort[member_col].to_numpy()
    n = purch.groupby("member_id").size().reindex(ids, fill_value=0).to_numpy()
    late = purch.loc[purch["offset_days"] >= horizon - active].groupby("member_id").size()
    retained = late.reindex(ids, fill_value=0).to_numpy() > 0
    cents = np.floor(act["amount"].to_numpy() * 100 + 0.5).astype("int64")
    rev = pd.Series(cents, index=act["member_id"].to_numpy()).groupby(level=0).sum()
    per = pd.DataFrame(
        {
            "group": cohort[by].astype(str).to_numpy(),
            "members": 1,
            "buyers": (n >= 1).astype("int64"),
            "repeat_buyers": (n >= 2).astype("int64"),
            "retained": retained.astype("int64"),
            "revenue_cents": rev.reindex(ids, fill_value=0).to_numpy(),
        }
    )
    out = per.groupby("group", sort=True).sum()
    if total:
        out.loc[TOTAL_LABEL] = out.sum()
    out["revenue"] = out.pop("revenue_cents") / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        buyers = out["buyers"].where(out["buyers"] > 0)
        out["buyer_rate"] = out["buyers"] / out["members"]
        out["repeat_rate"] = out["repeat_buyers"] / out["members"]
        out["repeat_rate_of_buyers"] = out["repeat_buyers"] / buyers
        out["retention_rate"] = out["retained"] / out["members"]
        out["revenue_per_member"] = out["revenue"] / out["members"]
        out["revenue_per_buyer"] = out["revenue"] / buyers
    order = ["members", "buyers", "buyer_rate", "repeat_buyers", "repeat_rate", "repeat_rate_of_buyers",
             "retained", "retention_rate", "revenue", "revenue_per_member", "revenue_per_buyer"]
    out = out[order]
    out.index.name = by
    out.attrs.update(horizon_days=horizon, active_window_days=active, analysis_date=date)
    return out


@renamed_arguments(margin="margin_rate")
def channel_economics(
    quality: pd.DataFrame,
    cost_per_registration: Mapping[str, float],
    *,
    margin_rate: float = 0.4,
) -> pd.DataFrame:
    """Cost per acquired, buying and retained member by channel, against first-year gross profit.

    Parameters
    ----------
    quality : DataFrame
        Output of :func:`channel_quality` (one row per channel; an ``"All"``
        row is recomputed from the channel rows).
    cost_per_registration : mapping
        CNY spent per registered member for every channel in ``quality``
        (media, staff bonus, sign-up gift...).  0 is allowed.
    margin_rate : float, default 0.4
        Gross margin on revenue, in (0, 1].

    Returns
    -------
    DataFrame
        ``quality``'s ``members``, ``buyer_rate``, ``repeat_rate``,
        ``retention_rate``, ``revenue_per_member``, then
        ``cost_per_registration``, ``acquisition_cost`` (total CNY),
        ``cost_per_buyer``, ``cost_per_repeat_buyer``,
        ``cost_per_retained_member`` (NaN when nobody reached the stage),
        ``gross_profit_per_member`` (first-year revenue x margin_rate),
        ``net_value_per_member`` (gross profit minus cost) and
        ``profit_to_cost`` (gross profit / cost; above 1 the channel pays back
        within the horizon; NaN for free channels).

    Examples
    --------
    >>> import pandas as pd
    >>> q = pd.DataFrame({"members": [100, 50], "buyers": [80, 20], "repeat_buyers": [40, 5],
    ...                   "retained": [30, 2], "revenue": [20000.0, 3000.0]},
    ...                  index=pd.Index(["store_walk_in", "app"], name="acquisition_channel"))
    >>> e = channel_economics(q, {"store_walk_in": 5, "app": 30}, margin_rate=0.5)
    >>> e[["cost_per_buyer", "cost_per_retained_member", "profit_to_cost"]]  # doctest: +NORMALIZE_WHITESPACE
                         cost_per_buyer  cost_per_retained_member  profit_to_cost
    acquisition_channel
    store_walk_in                  6.25                 16.666667           20.00
    app                           75.00                750.000000            1.00
    All                           20.00                 62.500000            5.75
    """
    require_dataframe(quality, "quality")
    require_columns(quality, ["members", "buyers", "repeat_buyers", "retained", "revenue"], "quality")
    ok = isinstance(margin_rate, (int, float)) and not isinstance(margin_rate, bool)
    margin_f = float(margin_rate) if ok else np.nan
    if not (0 < margin_f <= 1):
        raise WorkbookInputError(f"margin_rate={margin_rate!r} must be a share in (0, 1], e.g. 0.4 for 40%.",
                                 message_zh=f"MARGIN（毛利率）必须在 0 到 1 之间（不含 0），例如 0.4 表示 40%；现在是 {margin_rate!r}。")
    if not isinstance(cost_per_registration, Mapping):
        raise WorkbookInputError(
            f"cost_per_registration must be a mapping {{channel: CNY}}, got {type(cost_per_registration).__name__}."
        )
    channels = [c for c in quality.index if c != TOTAL_LABEL]
    missing = [c for c in channels if c not in cost_per_registration]
    if missing:
        raise WorkbookInputError(
            f"cost_per_registration has no cost for channel(s) {missing}; it covers {sorted(cost_per_registration)}."
        )
    costs = pd.Series({c: cost_per_registration[c] for c in channels}, dtype="float64")
    bad = costs[~np.isfinite(costs) | (costs < 0)]
    if len(bad):
        raise WorkbookInputError(
            f"cost_per_registration[{bad.index[0]!r}]={bad.iloc[0]!r} must be a non-negative amount in CNY."
        )
    base = quality.loc[channels, ["members", "buyers", "repeat_buyers", "retained", "revenue"]].astype("float64")
    base["acquisition_cost"] = base["members"] * costs
    base.loc[TOTAL_LABEL] = base.sum()
    out = pd.DataFrame(index=base.index)
    out["members"] = base["members"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["buyer_rate"] = base["buyers"] / base["members"]
        out["repeat_rate"] = base["repeat_buyers"] / base["members"]
        out["retention_rate"] = base["retained"] / base["members"]
        out["revenue_per_member"] = base["revenue"] / base["members"]
        out["cost_per_registration"] = base["acquisition_cost"] / base["members"]
        out["acquisition_cost"] = base["acquisition_cost"]
        for stage, col in (("buyers", "cost_per_buyer"), ("repeat_buyers", "cost_per_repeat_buyer"),
                           ("retained", "cost_per_retained_member")):
            out[col] = base["acquisition_cost"] / base[stage].where(base[stage] > 0)
        out["gross_profit_per_member"] = out["revenue_per_member"] * margin_f
        out["net_value_per_member"] = out["gross_profit_per_member"] - out["cost_per_registration"]
        cost = out["cost_per_registration"]
        out["profit_to_cost"] = out["gross_profit_per_member"] / cost.where(cost > 0)
    out.index.name = quality.index.name
    out.attrs.update(quality.attrs, margin=margin_f)
    return out
