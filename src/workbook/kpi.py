"""Store analysis compass (店铺分析罗盘): store KPIs, chain benchmark and weakest link.

``store_kpis`` builds one row per store (and period) with the classic retail
funnel: traffic -> receipts -> sales, plus basket and membership KPIs.
``compare_to_chain`` indexes each KPI against the chain (1.0 = chain level),
``weakest_link`` names each store's lowest KPI with levers from
:data:`KPI_DEFINITIONS` (the one table of names, formulas and levers), and
``sales_decomposition`` splits each store's sales gap into traffic, conversion
and basket effects using ``sales = traffic x conversion x ATV``.

Definitions
-----------
* A *receipt* is a purchase transaction (not a return) in the chosen channel
  (offline by default: the door counter only sees store visitors).  Returns are
  rows whose ``is_return`` is true (without that column: negative amounts).
* ``sales`` = amount of receipts (returns are reported apart in ``return_amount``
  and ``net_sales``), so ``sales = traffic * conversion * atv`` holds exactly.
* Transactions and traffic at or after the analysis date are ignored; traffic
  before the first transaction day is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.transactions import PERIOD_FREQ, purchases
from workbook.validation import (
    format_rows,
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
    require_no_missing,
    require_numeric,
    require_whole,
)

__all__ = [
    "KPI_DEFINITIONS",
    "COMPASS_KPIS",
    "kpi_definitions",
    "store_kpis",
    "chain_benchmark",
    "compare_to_chain",
    "weakest_link",
    "benchmark_label",
    "sales_decomposition",
]

_DEFINITIONS = [
    # kpi, name_zh, name_en, formula, unit, levers_zh, levers_en
    (
        "traffic",
        "客流量",
        "Traffic",
        "进店人数 visitors (door counter)",
        "visitors",
        "门店引流活动、社群与小程序推送、异业合作、橱窗与门头",
        "footfall campaigns, WeChat group and mini-program pushes, partner promotions, window display",
    ),
    (
        "conversion",
        "成交率",
        "Conversion rate",
        "成交单数 / 客流量 = receipts / visitors",
        "share",
        "店员销售技巧培训、陈列与动线优化、高峰时段排班",
        "sales-skills coaching, display and store layout, staffing at peak hours",
    ),
    (
        "atv",
        "客单价",
        "Average transaction value (ATV)",
        "销售额 / 成交单数 = sales / receipts",
        "CNY",
        "连带销售、套餐组合、满额赠、高价值商品推荐",
        "cross-selling, bundles, spend-threshold gifts, recommending higher-value items",
    ),
    (
        "upt",
        "客单件（连带率）",
        "Units per transaction (UPT)",
        "销售件数 / 成交单数 = items / receipts",
        "items",
        "搭配陈列、第二件优惠、收银台连带推荐话术",
        "complementary display, second-item offers, add-on suggestions at the till",
    ),
    (
        "member_sales_share",
        "会员销售占比",
        "Member sales share",
        "会员销售额 / 销售额 = member sales / sales",
        "share",
        "收银台入会引导、扫码入会礼、会员价标签",
        "sign-up prompts at the till, QR-code join gifts, member-price tags",
    ),
    (
        "repurchase_rate",
        "复购率",
        "Repurchase rate",
        "窗口期内再次购买的会员 / 可观察的购买会员 = repurchasers / eligible members",
        "share",
        "企微一对一回访、复购券、会员日活动",
        "WeCom follow-up messages, return coupons, member days",
    ),
    (
        "new_member_rate",
        "入会率",
        "New-member rate",
        "新会员数 / 成交单数 = new members / receipts",
        "share",
        "入会礼、店员拉新激励、简化开卡流程",
        "join gifts, staff incentives for sign-ups, quicker sign-up",
    ),
    (
        "new_member_growth",
        "新会员增长率",
        "New-member growth",
        "本期新会员 / 上期新会员 - 1 = new members / previous period's - 1",
        "share",
        "入会礼、店员拉新激励、简化开卡流程",
        "join gifts, staff incentives for sign-ups, quicker sign-up",
    ),
]

#: One table mapping each KPI to its Chinese and English name, formula, unit and typical levers.
KPI_DEFINITIONS = pd.DataFrame(
    _DEFINITIONS, columns=["kpi", "name_zh", "name_en", "formula", "unit", "levers_zh", "levers_en"]
).set_index("kpi")

#: KPIs shown on the compass (radar) and compared with the chain by default.
COMPASS_KPIS = (
    "traffic",
    "conversion",
    "atv",
    "upt",
    "member_sales_share",
    "repurchase_rate",
    "new_member_rate",
)
#: Default candidates for the weakest link: traffic mostly reflects size and location.
_LINK_KPIS = tuple(k for k in COMPASS_KPIS if k != "traffic")

_PERIODS = {"M": PERIOD_FREQ["M"], "W": PERIOD_FREQ["W"], "Q": "Q", "Y": "Y"}

KPI_COLUMNS = [
    "visitors",
    "receipts",
    "sales",
    "items",
    "member_sales",
    "return_amount",
    "net_sales",
    "active_members",
    "repurchase_eligible",
    "repurchasers",
    "new_members",
    "traffic",
    "conversion",
    "atv",
    "upt",
    "member_sales_share",
    "repurchase_rate",
    "new_member_rate",
    "new_member_growth",
]
#: Count columns from which chain totals are rebuilt.
_COUNT_COLUMNS = KPI_COLUMNS[: KPI_COLUMNS.index("traffic")]


def kpi_definitions(kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy of :data:`KPI_DEFINITIONS` (optionally only some KPIs, in that order).

    Examples
    --------
    >>> kpi_definitions(["conversion", "atv"])["name_zh"].tolist()
    ['成交率', '客单价']
    """
    if kpis is None:
        return KPI_DEFINITIONS.copy()
    unknown = [k for k in kpis if k not in KPI_DEFINITIONS.index]
    if unknown:
        raise WorkbookInputError(f"Unknown KPI(s) {unknown}; known KPIs are {list(KPI_DEFINITIONS.index)}.")
    return KPI_DEFINITIONS.loc[list(kpis)].copy()


def _safe_div(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den with NaN where den is 0 (rates of empty groups are undefined)."""
    return num / den.where(den != 0)


def _period_key(ts: pd.Series, period: str | None) -> pd.Series:
    """Start of each timestamp's period; one constant key when there are no periods."""
    if period is None:
        return pd.Series(pd.Timestamp("2000-01-01"), index=ts.index)
    return ts.dt.to_period(_PERIODS[period]).dt.start_time


def store_kpis(
    transactions: pd.DataFrame,
    store_traffic: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    period: str | None = None,
    analysis_date: object | None = None,
    repurchase_window_days: int = 90,
    channel: str | None = "offline",
    member_col: str = "member_id",
    store_col: str = "store_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    items_col: str = "items",
    return_col: str | None = "is_return",
    channel_col: str = "channel",
    traffic_date_col: str = "date",
    visitors_col: str = "visitors",
    join_col: str = "join_date",
    home_store_col: str = "home_store_id",
) -> pd.DataFrame:
    """Store KPI dashboard: one row per store (and per period if ``period`` is given).

    KPIs (counts first, then rates):

    * ``visitors`` / ``traffic``: door-counter visitors (客流量);
    * ``receipts``: purchase transactions (成交单数), returns excluded;
    * ``sales``: amount of those receipts (CNY); ``return_amount`` (negative)
      and ``net_sales = sales + return_amount``;
    * ``conversion = receipts / visitors`` (成交率);
    * ``atv = sales / receipts`` (客单价); ``upt = items / receipts`` (客单件);
    * ``member_sales_share = member_sales / sales`` (会员销售占比), member sales
      being receipts with a member id;
    * ``repurchase_rate = repurchasers / repurchase_eligible`` (复购率).  The
      cohort is the members with a receipt at the store in the period
      (``active_members``); for each, ``d0`` is the day of their first receipt
      there in the period.  A member *repurchases* if they have another receipt
      at the same store on a later day within ``repurchase_window_days`` days
      (``1 <= day - d0 <= repurchase_window_days``, also after the period end).
      Only members whose whole window lies before the analysis date are
      *eligible* (``d0 + window < analysis date``), so recent buyers do not
      pull the rate down;
    * ``new_members``: members whose ``join_date`` falls in the period and
      whose ``home_store_id`` is the store (when ``members`` is given);
      otherwise members whose first receipt at that store (in the data) falls
      in the period.  Without a period this counts every such member in the data;
    * ``new_member_rate = new_members / receipts`` (入会率);
    * ``new_member_growth = new_members / new_members of the previous period - 1``
      (NaN for the first period, without periods, or when the previous is 0).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    store_traffic : DataFrame
        Daily visitors per store (``store_id``, ``date``, ``visitors``), one row
        per store and day.  Every day with receipts at a store must have a row.
    members : DataFrame, optional
        Member table with ``join_date`` and ``home_store_id`` for new members.
    period : {None, "M", "W", "Q", "Y"}
        Whole data window (default), calendar months, weeks (Mon-Sun), quarters or years.
    analysis_date : date-like, optional
        Rows at or after it are ignored (default: midnight after the last transaction day).
    repurchase_window_days : int, default 90
        Window for the repurchase rate.
    channel : str or None, default "offline"
        Only transactions of this channel count (door counters see store
        visitors only); None keeps all.  Ignored if ``channel_col`` is absent.

    Returns
    -------
    DataFrame
        Columns ``store_id``, ``period`` (first day of the period, only if
        ``period`` is given) and :data:`KPI_COLUMNS`, sorted by store and period.

    Raises
    ------
    WorkbookInputError
        If a store has receipts on days without a traffic row (the message names
        the store and the first days), a traffic day is duplicated, or data are invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", None, "a"], "store_id": ["S1", "S1", "S1"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 12:00"]),
    ...     "amount": [100.0, 50.0, 150.0], "items": [2, 1, 3]})
    >>> traffic = pd.DataFrame({"store_id": ["S1", "S1"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "visitors": [10, 20]})
    >>> k = store_kpis(tx, traffic, repurchase_window_days=1)
    >>> k[["store_id", "traffic", "receipts", "conversion", "atv", "upt", "member_sales_share"]]
      store_id  traffic  receipts  conversion    atv  upt  member_sales_share
    0       S1       30         3         0.1  100.0  2.0            0.833333
    """
    require_dataframe(transactions, "transactions")
    require_columns(transactions, [member_col, store_col, time_col, amount_col, items_col], "transactions")
    require_datetime(transactions, time_col, "transactions")
    require_numeric(transactions, amount_col, "transactions")
    require_numeric(transactions, items_col, "transactions")
    require_dataframe(store_traffic, "store_traffic")
    require_columns(store_traffic, [store_col, traffic_date_col, visitors_col], "store_traffic")
    require_datetime(store_traffic, traffic_date_col, "store_traffic")
    require_numeric(store_traffic, visitors_col, "store_traffic")
    require_no_missing(store_traffic, store_col, "store_traffic")
    if period is not None:
        require_choice(period, list(_PERIODS), "period")
    require_whole(repurchase_window_days, "repurchase_window_days", unit="days")
    neg = store_traffic[visitors_col] < 0
    if neg.any():
        raise WorkbookInputError(
            f"Column {visitors_col!r} of store_traffic has negative visitor counts at "
            f"{format_rows(store_traffic.index[neg])}."
        )
    # ---- transactions in scope (walk-in sales count for the store)
    by_channel = channel is not None and channel_col in transactions.columns
    t, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                        amount_col=amount_col, return_col=return_col, include_returns=True,
                        include_walk_ins=True, columns=[store_col] + ([channel_col] if by_channel else []),
                        numeric=[items_col])
    if by_channel:
        t = t.loc[(t[channel_col] == channel).fillna(False).to_numpy(dtype=bool)]
    if t.empty:
        raise WorkbookInputError(
            f"transactions has no rows before {date}"
            + (f" in channel {channel!r} (column {channel_col!r})" if channel is not None else "")
            + "."
        )
    require_no_missing(t, store_col, "transactions")
    if members is not None:
        require_dataframe(members, "members")
        require_columns(members, [member_col, join_col, home_store_col], "members")
        require_datetime(members, join_col, "members")
    # Group on integer codes: much faster than on (arrow) strings.
    tx_store = t[store_col].to_numpy(dtype=object)
    tr_store = store_traffic[store_col].to_numpy(dtype=object)
    home = members[home_store_col].dropna().to_numpy(dtype=object) if members is not None else tx_store[:0]
    stores = pd.Index(pd.unique(np.concatenate([tx_store, tr_store, home])))
    tx = pd.DataFrame(
        {
            "store": stores.get_indexer(tx_store),
            "member": pd.factorize(t["member_id"])[0],
            "ts": t["ts"].to_numpy(),
            "amount": t["amount"].to_numpy(dtype="float64"),
            "items": t[items_col].to_numpy(dtype="float64"),
            "is_return": t["is_return"].to_numpy(),
        }
    )
    tx["day"] = tx["ts"].dt.normalize()
    tx["period"] = _period_key(tx["ts"], period)
    buys = tx.loc[~tx["is_return"]]
    first_day = tx["day"].min()

    # ---- traffic: in the data window, one row per store and day
    tr = pd.DataFrame(
        {
            "store": stores.get_indexer(tr_store),
            "day": store_traffic[traffic_date_col].dt.normalize().to_numpy(),
            "visitors": store_traffic[visitors_col].to_numpy(dtype="float64"),
        }
    )
    tr = tr.loc[(tr["day"] >= first_day) & (tr["day"] < date)]
    dup = tr.duplicated(["store", "day"], keep=False)
    if dup.any():
        d = tr.loc[dup].iloc[0]
        raise WorkbookInputError(
            f"store_traffic has {int(dup.sum())} rows on duplicated store days, e.g. store "
            f"{stores[d['store']]!r} on {d['day'].date()}; aggregate them to one row per store and day."
        )
    sold_days = buys[["store", "day"]].drop_duplicates()
    missing = sold_days.merge(tr[["store", "day"]], how="left", indicator=True)
    missing = missing.loc[missing["_merge"] == "left_only"]
    if not missing.empty:
        missing = missing.assign(name=stores[missing["store"].to_numpy()].astype(str)).sort_values(["name", "day"])
        store = stores[missing["store"].iloc[0]]
        days = missing.loc[missing["store"] == missing["store"].iloc[0], "day"].dt.strftime("%Y-%m-%d").tolist()
        shown = ", ".join(days[:5]) + (", ..." if len(days) > 5 else "")
        others = missing["store"].nunique() - 1
        raise WorkbookInputError(
            f"store_traffic has no visitors for store {store!r} on {shown} "
            f"({len(days)} {'day' if len(days) == 1 else 'days'} in total) "
            f"although it has receipts on those days"
            + (f"; {others} other store(s) have the same problem" if others else "")
            + ". Conversion would be overstated: add the door-counter rows or drop those days."
        )
    tr["period"] = _period_key(tr["day"], period)

    keys = ["store", "period"]
    buys_m = buys.loc[buys["member"] >= 0]
    agg = buys.groupby(keys).agg(receipts=("amount", "size"), sales=("amount", "sum"), items=("items", "sum"))
    agg["member_sales"] = buys_m.groupby(keys)["amount"].sum()
    agg = agg.join(tx.loc[tx["is_return"]].groupby(keys)["amount"].sum().rename("return_amount"), how="outer")
    agg = agg.join(tr.groupby(keys)["visitors"].sum(), how="outer")
    agg["active_members"] = buys_m.groupby(keys)["member"].nunique()

    # ---- repurchase: first receipt day per store, member and period vs. the next receipt day
    days = buys_m[["store", "member", "day", "period"]].drop_duplicates(["store", "member", "day"])
    days = days.sort_values(["store", "member", "day"], kind="stable")
    days["next_day"] = days.groupby(["store", "member"], sort=False)["day"].shift(-1)
    first_in_period = days.drop_duplicates(["store", "member", "period"], keep="first")
    window = pd.Timedelta(days=repurchase_window_days)
    eligible = first_in_period["day"] + window + pd.Timedelta(days=1) <= date
    again = (first_in_period["next_day"] - first_in_period["day"]) <= window
    rep = first_in_period.assign(eligible=eligible, again=again & eligible).groupby(keys)
    agg["repurchase_eligible"] = rep["eligible"].sum()
    agg["repurchasers"] = rep["again"].sum()

    # ---- new members
    if members is not None:
        mem = members.loc[
            (members[join_col] >= first_day) & (members[join_col] < date) & members[home_store_col].notna()
        ]
        new = pd.DataFrame(
            {
                "store": stores.get_indexer(mem[home_store_col].to_numpy(dtype=object)),
                "member": pd.factorize(mem[member_col])[0],
                "period": _period_key(mem[join_col], period).to_numpy(),
            }
        )
    else:
        new = days.drop_duplicates(["store", "member"], keep="first")
    agg["new_members"] = new.groupby(keys)["member"].nunique()

    counts = ["visitors", "receipts", "sales", "items", "member_sales", "return_amount", "active_members",
              "repurchase_eligible", "repurchasers", "new_members"]
    agg = agg.reindex(columns=counts).fillna(0.0)
    if period is not None:
        # Complete the store x period grid so growth compares consecutive periods.
        present = agg.index.get_level_values("store").unique()
        starts = agg.index.get_level_values("period")
        starts = pd.period_range(starts.min(), starts.max(), freq=_PERIODS[period]).start_time
        agg = agg.reindex(pd.MultiIndex.from_product([present, starts], names=keys), fill_value=0.0)
    # Sort by store name (codes follow first appearance), then period.
    agg = agg.reset_index()
    agg.insert(0, "store_id", stores[agg.pop("store").to_numpy()])
    agg = agg.sort_values(["store_id", "period"], kind="stable").set_index(["store_id", "period"])
    for c in ["receipts", "active_members", "repurchase_eligible", "repurchasers", "new_members"]:
        agg[c] = agg[c].astype("int64")
    agg["net_sales"] = agg["sales"] + agg["return_amount"]
    agg["traffic"] = agg["visitors"]
    agg["conversion"] = _safe_div(agg["receipts"], agg["visitors"])
    agg["atv"] = _safe_div(agg["sales"], agg["receipts"])
    agg["upt"] = _safe_div(agg["items"], agg["receipts"])
    agg["member_sales_share"] = _safe_div(agg["member_sales"], agg["sales"])
    agg["repurchase_rate"] = _safe_div(agg["repurchasers"], agg["repurchase_eligible"])
    agg["new_member_rate"] = _safe_div(agg["new_members"], agg["receipts"])
    if period is not None:
        prev = agg.groupby(level="store_id")["new_members"].shift()
        agg["new_member_growth"] = _safe_div(agg["new_members"], prev) - 1
    else:
        agg["new_member_growth"] = np.nan
    if (agg["visitors"] == agg["visitors"].round()).all():
        agg["visitors"] = agg["visitors"].astype("int64")
        agg["traffic"] = agg["traffic"].astype("int64")
    out = agg.reset_index()
    if period is None:
        out = out.drop(columns="period")
    out = out[["store_id", *(["period"] if period is not None else []), *KPI_COLUMNS]]
    out.attrs["analysis_date"] = date
    return out


def _check_kpis(kpis: object, needed: Sequence[str]) -> pd.DataFrame:
    require_dataframe(kpis, "kpis")
    require_columns(kpis, ["store_id", *needed], "kpis")
    return kpis


def _kpi_list(kpis: Sequence[str] | None, default: Sequence[str]) -> list[str]:
    chosen = list(default if kpis is None else kpis)
    kpi_definitions(chosen)  # validates names
    if not chosen:
        raise WorkbookInputError("kpis is empty; name at least one KPI.")
    return chosen


def chain_benchmark(
    kpis: pd.DataFrame,
    method: str = "median",
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Chain reference values of every KPI (per period and group if present).

    Parameters
    ----------
    kpis : DataFrame
        Output of :func:`store_kpis` (optionally with extra columns such as city or size).
    method : {"median", "total"}
        ``"median"``: median over stores of each KPI (a typical store; NaN
        stores are skipped).  ``"total"``: the KPIs of the chain as one big store,
        recomputed from the summed counts (weighted by size).
    by : str, optional
        Column to benchmark within (e.g. ``"size"``, after merging the store table).

    Returns
    -------
    DataFrame
        One row per period / group with the KPI columns.

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "visitors": [100, 300, 600],
    ...     "receipts": [10, 60, 60], "sales": [1000.0, 3000.0, 6000.0]})
    >>> k["conversion"] = k["receipts"] / k["visitors"]
    >>> chain_benchmark(k, "median")["conversion"].item()
    0.1
    >>> chain_benchmark(k, "total")["conversion"].item()
    0.13
    """
    require_choice(method, ["median", "total"], "method")
    kpis = _check_kpis(kpis, [])
    keys = [c for c in ("period", by) if c is not None and c in kpis.columns]
    if by is not None and by not in kpis.columns:
        raise WorkbookInputError(f"by={by!r} is not a column of kpis; it has {list(kpis.columns)}.")
    rate_cols = [c for c in KPI_COLUMNS if c in kpis.columns and c not in _COUNT_COLUMNS]
    if method == "median":
        cols = [c for c in KPI_COLUMNS if c in kpis.columns]
        if keys:
            return kpis.groupby(keys, sort=True)[cols].median().reset_index()
        return kpis[cols].median().to_frame().T
    # Chain as one store: sum the counts, recompute the rates with store_kpis' formulas.
    present = [c for c in _COUNT_COLUMNS if c in kpis.columns]
    total = kpis.groupby(keys, sort=True)[present].sum() if keys else kpis[present].sum().to_frame().T
    formulas = {
        "traffic": ("visitors", None),
        "conversion": ("receipts", "visitors"),
        "atv": ("sales", "receipts"),
        "upt": ("items", "receipts"),
        "member_sales_share": ("member_sales", "sales"),
        "repurchase_rate": ("repurchasers", "repurchase_eligible"),
        "new_member_rate": ("new_members", "receipts"),
    }
    for col in rate_cols:
        if col == "new_member_growth":
            if "period" in keys and "new_members" in total.columns:
                other = [k for k in keys if k != "period"]
                prev = total.groupby(level=other)["new_members"].shift() if other else total["new_members"].shift()
                total[col] = _safe_div(total["new_members"], prev) - 1
            else:
                total[col] = np.nan
            continue
        num, den = formulas[col]
        if num not in total.columns or (den is not None and den not in total.columns):
            raise WorkbookInputError(
                f"method='total' needs the count columns {num!r}{' and ' + repr(den) if den else ''} "
                f"to rebuild {col!r}; pass the full output of store_kpis or use method='median'."
            )
        total[col] = total[num] if den is None else _safe_div(total[num], total[den])
    return total.reset_index() if keys else total.reset_index(drop=True)


def compare_to_chain(
    kpis: pd.DataFrame,
    method: str = "median",
    *,
    compass: Sequence[str] | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Index of each store's KPIs against the chain (1.0 = chain level).

    Parameters
    ----------
    kpis : DataFrame
        Output of :func:`store_kpis`.
    method : {"median", "total"}
        Chain reference, see :func:`chain_benchmark`.
    compass : sequence of str, optional
        KPIs to compare (default :data:`COMPASS_KPIS`).
    by : str, optional
        Compare within groups of this column (e.g. store ``size``).

    Returns
    -------
    DataFrame
        Long format, one row per store (and period) and KPI: ``store_id``,
        [``period``], [``by``], ``kpi``, ``name_zh``, ``name_en``, ``value``,
        ``chain_value``, ``index`` (value / chain value; NaN if the chain value
        is 0 or either is missing).  ``attrs["benchmark_zh"]`` and
        ``attrs["benchmark_en"]`` name the reference (see :func:`benchmark_label`).

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "conversion": [0.1, 0.2, 0.4]})
    >>> compare_to_chain(k, compass=["conversion"])[["store_id", "value", "chain_value", "index"]]
      store_id  value  chain_value  index
    0       S1    0.1          0.2    0.5
    1       S2    0.2          0.2    1.0
    2       S3    0.4          0.2    2.0
    """
    chosen = _kpi_list(compass, COMPASS_KPIS)
    kpis = _check_kpis(kpis, chosen)
    for c in chosen:
        _require_numeric_or_nan(kpis, c)
    bench = chain_benchmark(kpis, method, by=by)
    keys = [c for c in ("period", by) if c is not None and c in kpis.columns]
    id_cols = ["store_id", *keys]
    left = kpis[[*id_cols, *chosen]].melt(id_vars=id_cols, var_name="kpi", value_name="value")
    right = bench[[*keys, *chosen]].melt(id_vars=keys, var_name="kpi", value_name="chain_value") if keys else (
        bench[chosen].melt(var_name="kpi", value_name="chain_value")
    )
    out = left.merge(right, on=[*keys, "kpi"], how="left")
    out["value"] = out["value"].astype("float64")
    out["chain_value"] = out["chain_value"].astype("float64")
    out["index"] = _safe_div(out["value"], out["chain_value"])
    defs = KPI_DEFINITIONS[["name_zh", "name_en"]]
    out = out.join(defs, on="kpi")
    order = {k: i for i, k in enumerate(chosen)}
    out = out.assign(_o=out["kpi"].map(order)).sort_values([*id_cols, "_o"], kind="stable")
    out = out[[*id_cols, "kpi", "name_zh", "name_en", "value", "chain_value", "index"]].reset_index(drop=True)
    out.attrs["method"] = method
    out.attrs["benchmark_zh"], out.attrs["benchmark_en"] = benchmark_label(method, by)
    return out


# Chinese / English wording of the group a store is benchmarked within (``by=``).
_GROUP_LABELS = {
    "size": ("同规模门店", "same-size stores"),
    "city": ("同城市门店", "stores in the same city"),
    "region": ("同区域门店", "stores in the same region"),
    "format": ("同业态门店", "stores of the same format"),
}


def benchmark_label(method: str = "median", by: str | None = None) -> tuple[str, str]:
    """Chinese and English name of the benchmark a store is compared with.

    Parameters
    ----------
    method : {"median", "total"}
        Chain reference, see :func:`chain_benchmark`.
    by : str, optional
        Column the comparison is made within (e.g. ``"size"``); ``None`` for
        the whole chain.

    Returns
    -------
    tuple of str
        ``(label_zh, label_en)``, e.g. ``("连锁中位数", "the chain median")``.

    Examples
    --------
    >>> benchmark_label("median")
    ('连锁中位数', 'the chain median')
    >>> benchmark_label("median", by="size")
    ('同规模门店中位数', 'the median of same-size stores')
    >>> benchmark_label("total", by="channel_mix")
    ('同一channel_mix分组门店整体', 'stores with the same channel_mix as a whole')
    """
    require_choice(method, ["median", "total"], "method")
    if by is None:
        return ("连锁中位数", "the chain median") if method == "median" else ("连锁整体", "the chain as a whole")
    zh, en = _GROUP_LABELS.get(by, (f"同一{by}分组门店", f"stores with the same {by}"))
    if method == "median":
        return zh + "中位数", "the median of " + en
    return zh + "整体", en + " as a whole"


def _require_numeric_or_nan(df: pd.DataFrame, column: str) -> None:
    """Raise unless ``column`` is numeric (NaN allowed: a rate of an empty store)."""
    if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
        raise WorkbookInputError(f"Column {column!r} of kpis must be numeric, got dtype {df[column].dtype}.")


def weakest_link(
    kpis: pd.DataFrame,
    method: str = "median",
    *,
    compass: Sequence[str] | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Each store's weakest KPI against the chain, with a bilingual recommendation.

    Parameters
    ----------
    kpis : DataFrame
        Output of :func:`store_kpis`.
    method : {"median", "total"}
        Chain reference, see :func:`chain_benchmark`.
    compass : sequence of str, optional
        Candidate KPIs; default :data:`COMPASS_KPIS` without ``traffic`` (which
        mostly reflects store size and location rather than store execution).
    by : str, optional
        Compare within groups of this column.

    Returns
    -------
    DataFrame
        One row per store (and period): ``kpi`` with the lowest index (ties: the
        first in ``compass`` order), ``name_zh``, ``name_en``, ``value``,
        ``chain_value``, ``index``, ``levers_zh``, ``levers_en`` and
        ``recommendation`` (one Chinese and one English sentence naming the
        benchmark used, e.g. 同规模门店中位数 with ``by="size"``; see
        :func:`benchmark_label`).  Stores with no comparable KPI are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "conversion": [0.1, 0.2, 0.2],
    ...     "atv": [300.0, 200.0, 100.0]})
    >>> w = weakest_link(k, compass=["conversion", "atv"])
    >>> w[["store_id", "kpi", "index"]]
      store_id         kpi  index
    0       S1  conversion    0.5
    1       S2  conversion    1.0
    2       S3         atv    0.5
    """
    chosen = _kpi_list(compass, _LINK_KPIS)
    comp = compare_to_chain(kpis, method, compass=chosen, by=by)
    id_cols = [c for c in comp.columns if c in ("store_id", "period") or c == by]
    comp = comp.loc[comp["index"].notna()]
    idx = comp.groupby(id_cols, sort=False)["index"].idxmin()
    out = comp.loc[idx.to_numpy()].sort_values(id_cols, kind="stable").reset_index(drop=True)
    out = out.join(KPI_DEFINITIONS[["levers_zh", "levers_en"]], on="kpi")
    pct = (100 * out["index"]).round().astype("int64").astype(str)
    ref_zh, ref_en = benchmark_label(method, by)
    out["recommendation"] = (
        out["name_zh"] + "为" + ref_zh + "的 " + pct + "%，建议：" + out["levers_zh"] + "。 "
        + out["name_en"] + " is " + pct + "% of " + ref_en + "; try " + out["levers_en"] + "."
    )
    return out


def sales_decomposition(kpis: pd.DataFrame, method: str = "median", *, by: str | None = None) -> pd.DataFrame:
    """``sales = traffic x conversion x ATV`` per store, and the gap to the chain split in three.

    With chain reference values ``T, C, A`` (see :func:`chain_benchmark`), the
    log gap ``ln(sales / (T * C * A))`` is exactly the sum of
    ``traffic_effect = ln(traffic / T)``, ``conversion_effect = ln(conversion / C)``
    and ``atv_effect = ln(atv / A)``.

    Returns
    -------
    DataFrame
        ``store_id``, [``period``], ``traffic``, ``conversion``, ``atv``,
        ``sales``, ``sales_check`` (traffic * conversion * atv),
        ``chain_sales_ref`` (T * C * A), ``log_gap`` and the three effects.

    Examples
    --------
    >>> import pandas as pd
    >>> k = pd.DataFrame({"store_id": ["S1"], "visitors": [100], "receipts": [10], "sales": [1500.0]})
    >>> k = k.assign(traffic=k["visitors"], conversion=k["receipts"] / k["visitors"],
    ...              atv=k["sales"] / k["receipts"])
    >>> sales_decomposition(k)[["sales", "sales_check", "log_gap"]]
        sales  sales_check  log_gap
    0  1500.0       1500.0      0.0
    """
    needed = ["traffic", "conversion", "atv", "sales"]
    kpis = _check_kpis(kpis, needed)
    bench = chain_benchmark(kpis, method, by=by)
    keys = [c for c in ("period", by) if c is not None and c in kpis.columns]
    out = kpis[["store_id", *keys, *needed]].copy()
    ref = bench[[*keys, "traffic", "conversion", "atv"]].rename(
        columns={"traffic": "_T", "conversion": "_C", "atv": "_A"}
    )
    out = out.merge(ref, on=keys, how="left") if keys else out.assign(**{c: ref[c].iloc[0] for c in ref.columns})
    out["sales_check"] = out["traffic"] * out["conversion"] * out["atv"]
    out["chain_sales_ref"] = out["_T"] * out["_C"] * out["_A"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["traffic_effect"] = np.log(out["traffic"] / out["_T"])
        out["conversion_effect"] = np.log(out["conversion"] / out["_C"])
        out["atv_effect"] = np.log(out["atv"] / out["_A"])
        out["log_gap"] = np.log(out["sales_check"] / out["chain_sales_ref"])
    cols = ["store_id", *keys, "traffic", "conversion", "atv", "sales", "sales_check", "chain_sales_ref",
            "log_gap", "traffic_effect", "conversion_effect", "atv_effect"]
    return out[cols]
