"""The points ledger: points earned, redeemed, expired and outstanding per member.

Split out of :mod:`workbook.tiers` (tier design) because the ledger is its own
concept: it reads only the points columns of the transactions, with the walk-in
rule and analysis-date cut of :mod:`workbook.transactions`.  Returns keep their
(negative) ``points_earned``: a clawback reduces the month's earnings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.transactions import column_values, purchases
from workbook.validation import format_rows, require_choice, require_whole

__all__ = [
    "compare_expiry_rules",
    "infer_points_rules",
    "points_inflation",
    "points_ledger",
    "points_summary",
    "points_timeline",
]


def points_ledger(
    transactions: pd.DataFrame,
    *,
    expiry_months: int = 24,
    expiry: str = "rolling",
    expiry_years: int = 0,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
    point_value_yuan: float = 0.01,
) -> pd.DataFrame:
    """Points earned, redeemed, expired and outstanding per member.

    With ``expiry="rolling"``, points earned in a calendar month expire
    ``expiry_months`` months after the end of that month (at the start of month
    ``m + expiry_months + 1``).  With ``expiry="year_end"`` (积分年底清零), points
    earned in calendar year ``Y`` expire at the end of year ``Y + expiry_years``.
    Redemptions use the oldest points first (FIFO), so the points expired up to
    the expiry of month ``k`` are ``max over j <= k of (earned in months <= j -
    redeemed before expiry of j)``, floored at 0.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with points columns.  Not modified.
    expiry_months : int, default 24
        Months after the month of earning before points expire (``expiry="rolling"``).
    expiry : {"rolling", "year_end"}, default "rolling"
        Expiry rule: a rolling number of months, or a year-end clearing.
    expiry_years : int, default 0
        For ``expiry="year_end"``: points of year ``Y`` expire at the end of
        year ``Y + expiry_years`` (0: "当年有效，12月31日清零").
    analysis_date : date-like, optional
        Balance date (default: midnight after the last transaction day).
    earned_col, redeemed_col : str
        Points earned and redeemed per transaction (non-negative; negative
        earned points, e.g. clawed back on a return, reduce the month's earnings).
    point_value_yuan : float
        CNY value of one point, for ``balance_value``.

    Returns
    -------
    DataFrame
        Indexed by member id: ``earned``, ``redeemed``, ``expired``,
        ``balance`` (earned - redeemed - expired; negative when members redeem
        points earned before the data starts), ``expiring_next_month``
        (balance that expires within a month of the analysis date) and
        ``balance_value`` (balance * point_value_yuan, CNY).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2023-01-10", "2023-06-01", "2024-03-01"]),
    ...     "points_earned": [100, 50, 0], "points_redeemed": [0, 30, 0]})
    >>> led = points_ledger(tx, expiry_months=12, analysis_date="2024-07-01")
    >>> led[["earned", "redeemed", "expired", "balance"]]  # doctest: +NORMALIZE_WHITESPACE
               earned  redeemed  expired  balance
    member_id
    a           150.0      30.0    120.0      0.0
    """
    tx, date = _points_rows(transactions, analysis_date, member_col, time_col, earned_col, redeemed_col)
    probe = _expiry_probe(_with_points(tx), expiry=expiry, expiry_months=expiry_months, expiry_years=expiry_years)
    members = pd.Index(np.sort(tx["member_id"].unique()), name="member_id")
    next_month = date + pd.DateOffset(months=1)
    done = probe.loc[probe["expires"] <= date].groupby("member_id")["expired_cum"].max()
    soon = probe.loc[probe["expires"] <= next_month].groupby("member_id")["expired_cum"].max()
    out = pd.DataFrame(index=members)
    out["earned"] = tx.groupby("member_id")["earned"].sum().reindex(members).astype("float64")
    out["redeemed"] = tx.groupby("member_id")["redeemed"].sum().reindex(members).astype("float64")
    out["expired"] = done.reindex(members, fill_value=0.0).astype("float64")
    out["balance"] = out["earned"] - out["redeemed"] - out["expired"]
    out["expiring_next_month"] = soon.reindex(members, fill_value=0.0).astype("float64") - out["expired"]
    out["balance_value"] = out["balance"] * point_value_yuan
    out.attrs["analysis_date"] = date
    return out


def _points_rows(transactions, analysis_date, member_col, time_col, earned_col, redeemed_col):
    """Member rows before the analysis date with the points columns (validated), and the date."""
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=None, numeric=[earned_col, redeemed_col])
    neg = transactions[redeemed_col] < 0
    if neg.any():
        raise WorkbookInputError(
            f"Column {redeemed_col!r} of transactions has negative redeemed points at "
            f"{format_rows(transactions.index[neg])}.",
            message_zh=f"交易表的 {redeemed_col!r} 列在 {format_rows(transactions.index[neg])} 有负的使用积分。",
        )
    tx = pd.DataFrame(
        {
            "member_id": column_values(rows["member_id"]),
            "ts": rows["ts"].to_numpy(),
            "earned": rows[earned_col].to_numpy(dtype="float64"),
            "redeemed": rows[redeemed_col].to_numpy(dtype="float64"),
        }
    )
    return tx, date


def _with_points(tx: pd.DataFrame) -> pd.DataFrame:
    """Only the rows that move points (most receipts of a partial programme move none)."""
    return tx.loc[(tx["earned"] != 0) | (tx["redeemed"] != 0)].reset_index(drop=True)


def _expiry_probe(tx: pd.DataFrame, *, expiry: str, expiry_months: int, expiry_years: int) -> pd.DataFrame:
    """One row per member and month of earning: its expiry moment and the points expired by then (FIFO).

    ``expired_cum`` is the member's cumulative expired points once this month's
    points have expired: ``max over earlier months j of (earned in months <= j
    - redeemed before the expiry of j)``, floored at 0.
    """
    require_choice(expiry, ["rolling", "year_end"], "expiry")
    require_whole(expiry_months, "expiry_months", minimum=0)
    require_whole(expiry_years, "expiry_years", minimum=0)
    month = tx["ts"].dt.to_period("M")
    earn = tx.assign(month=month).groupby(["member_id", "month"], sort=True)["earned"].sum().reset_index()
    earn = earn.loc[earn["earned"] != 0].copy()
    earn["cum_earned"] = earn.groupby("member_id")["earned"].cumsum()
    if expiry == "rolling":
        earn["expires"] = (earn["month"] + expiry_months + 1).dt.start_time
    else:
        years = earn["month"].dt.year + expiry_years + 1
        earn["expires"] = pd.to_datetime(pd.DataFrame({"year": years, "month": 1, "day": 1}))
    earn["expires"] = earn["expires"].astype("datetime64[us]")
    # months that expire at the same moment (a year-end clearing) are one batch: a clawback in a
    # later month of the batch reduces what expires with it
    earn = earn.groupby(["member_id", "expires"], sort=False).agg(
        month=("month", "last"), earned=("earned", "sum"), cum_earned=("cum_earned", "last")).reset_index()
    # Cumulative redemptions strictly before each expiry moment, per member.
    red = tx.loc[tx["redeemed"] > 0, ["member_id", "ts", "redeemed"]].sort_values("ts", kind="stable")
    red["cum_redeemed"] = red.groupby("member_id")["redeemed"].cumsum()
    red["ts"] = red["ts"].astype("datetime64[us]")
    probe = earn.sort_values("expires", kind="stable")
    probe = pd.merge_asof(
        probe,
        red[["member_id", "ts", "cum_redeemed"]].rename(columns={"ts": "expires"}),
        on="expires",
        by="member_id",
        allow_exact_matches=False,
    )
    probe["cum_redeemed"] = probe["cum_redeemed"].fillna(0.0)
    probe = probe.sort_values(["member_id", "month"], kind="stable")
    probe["candidate"] = (probe["cum_earned"] - probe["cum_redeemed"]).clip(lower=0)
    probe["expired_cum"] = probe.groupby("member_id")["candidate"].cummax()
    # points expiring at this month's expiry moment (increments of the running maximum)
    probe["expires_now"] = probe["expired_cum"] - probe.groupby("member_id")["expired_cum"].shift(fill_value=0.0)
    return probe


def points_summary(
    transactions: pd.DataFrame,
    *,
    expiry_months: int = 24,
    expiry: str = "rolling",
    expiry_years: int = 0,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
) -> pd.Series:
    """The programme's points economics at the analysis date: liability, breakage, expiring points.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with points columns.  Not modified.
    expiry_months, expiry, expiry_years : see :func:`points_ledger`
        The expiry rule.
    analysis_date : date-like, optional
        Balance date (default: midnight after the last transaction day).
    cost_per_point_yuan : float, default 0.01
        What honouring one point costs the company (CNY): the face value for a
        cash discount at the till, less for gifts bought at cost.

    Returns
    -------
    Series
        ``earned``, ``redeemed``, ``expired``, ``outstanding`` (valid points
        members hold: the sum of positive member balances),
        ``negative_balance`` (sum of negative balances: points clawed back on
        returns after the member had used them; earned - redeemed - expired =
        outstanding + negative_balance), ``liability_yuan`` (outstanding x cost per point: what the books
        owe if every valid point were used), ``matured_earned`` (points earned in
        months whose expiry has passed), ``breakage_rate`` (expired /
        matured_earned: share of settled points never used; NaN if none
        matured), ``liability_net_of_breakage_yuan`` (liability x (1 -
        breakage_rate), the expected cost if the same share goes unused),
        ``expiring_next_month`` (valid points that expire within a month).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2023-03-01", "2023-05-01", "2023-06-01", "2024-02-01"]),
    ...     "points_earned": [300, 0, 200, 100], "points_redeemed": [0, 200, 0, 0]})
    >>> s = points_summary(tx, expiry="year_end", analysis_date="2024-03-01")
    >>> s[["earned", "redeemed", "expired", "outstanding", "breakage_rate"]].tolist()  # 100 of a's and 200 of b's 2023 points
    [600.0, 200.0, 300.0, 100.0, 0.6]
    >>> float(s["liability_yuan"])
    1.0
    """
    if not np.isfinite(cost_per_point_yuan) or cost_per_point_yuan < 0:
        raise WorkbookInputError(f"cost_per_point_yuan must be a non-negative number, got {cost_per_point_yuan!r}.",
                                 message_zh=f"每积分成本 cost_per_point_yuan 必须是非负数，现在是 {cost_per_point_yuan!r}。")
    tx, date = _points_rows(transactions, analysis_date, member_col, time_col, earned_col, redeemed_col)
    tx = _with_points(tx)
    probe = _expiry_probe(tx, expiry=expiry, expiry_months=expiry_months, expiry_years=expiry_years)
    done = probe["expires"] <= date
    soon = probe["expires"] <= date + pd.DateOffset(months=1)
    earned, redeemed = float(tx["earned"].sum()), float(tx["redeemed"].sum())
    expired = float(probe.loc[done, "expires_now"].sum())
    matured = float(probe.loc[done, "earned"].sum())
    balance = (tx.groupby("member_id")["earned"].sum() - tx.groupby("member_id")["redeemed"].sum()).sub(
        probe.loc[done].groupby("member_id")["expires_now"].sum(), fill_value=0.0)
    outstanding = float(balance.clip(lower=0).sum())
    breakage = expired / matured if matured > 0 else np.nan
    liability = outstanding * cost_per_point_yuan
    out = pd.Series(
        {
            "earned": earned,
            "redeemed": redeemed,
            "expired": expired,
            "outstanding": outstanding,
            "negative_balance": float(balance.clip(upper=0).sum()),
            "liability_yuan": liability,
            "matured_earned": matured,
            "breakage_rate": breakage,
            "liability_net_of_breakage_yuan": liability * (1 - breakage) if matured > 0 else np.nan,
            "expiring_next_month": float(probe.loc[soon & ~done, "expires_now"].sum()),
        },
        dtype="float64",
    )
    out.attrs["analysis_date"] = date
    return out


def points_timeline(
    transactions: pd.DataFrame,
    *,
    freq: str = "M",
    expiry_months: int = 24,
    expiry: str = "rolling",
    expiry_years: int = 0,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
) -> pd.DataFrame:
    """Points earned, redeemed and expired per period, and the outstanding balance and liability at each period end.

    Periods run from the first period with points earned or redeemed.
    Expiry moments are midnights at a month start; points expiring at midnight
    are counted in the period that ends there ("cleared at 24:00 on 31
    December" belongs to December), so ``outstanding`` is the balance after
    that period's clearing.  The last period ends at the analysis date.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with points columns.  Not modified.
    freq : {"M", "Q", "Y", "W"}, default "M"
        Calendar period.
    expiry_months, expiry, expiry_years, analysis_date, cost_per_point_yuan
        As in :func:`points_summary`.

    Returns
    -------
    DataFrame
        Indexed by period: ``earned``, ``redeemed``, ``expired`` (in the period),
        ``outstanding`` (valid points members hold at the period's end),
        ``negative_balance`` (as in :func:`points_summary`) and
        ``liability_yuan`` (outstanding x cost per point).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2023-11-05", "2023-12-20", "2024-01-10"]),
    ...     "points_earned": [300, 100, 50], "points_redeemed": [0, 200, 0]})
    >>> t = points_timeline(tx, expiry="year_end", analysis_date="2024-02-01")
    >>> t[["earned", "redeemed", "expired", "outstanding", "liability_yuan"]]  # doctest: +NORMALIZE_WHITESPACE
             earned  redeemed  expired  outstanding  liability_yuan
    month
    2023-11   300.0       0.0      0.0        300.0             3.0
    2023-12   100.0     200.0    200.0          0.0             0.0
    2024-01    50.0       0.0      0.0         50.0             0.5
    """
    require_choice(freq, ["M", "Q", "Y", "W"], "freq")
    tx, date = _points_rows(transactions, analysis_date, member_col, time_col, earned_col, redeemed_col)
    tx = _with_points(tx)
    if tx.empty:
        raise WorkbookInputError("No points earned or redeemed before the analysis date: nothing to count.",
                                 message_zh="分析日之前没有任何积分的发放或兑换，无法统计积分。")
    probe = _expiry_probe(tx, expiry=expiry, expiry_months=expiry_months, expiry_years=expiry_years)
    periods = pd.period_range(tx["ts"].min(), date - pd.Timedelta(microseconds=1), freq=freq)
    flows = tx.assign(period=tx["ts"].dt.to_period(freq)).groupby("period")[["earned", "redeemed"]].sum()
    done = probe.loc[probe["expires"] <= date]
    # an expiry at midnight belongs to the period that ends there
    ends = done["expires"] - pd.Timedelta(microseconds=1)
    exp = done.assign(period=ends.dt.to_period(freq)).groupby("period")["expires_now"].sum()
    out = pd.DataFrame(index=pd.PeriodIndex(periods, name={"M": "month", "Q": "quarter", "Y": "year",
                                                            "W": "week"}[freq]))
    out["earned"] = flows["earned"].reindex(periods, fill_value=0.0).to_numpy()
    out["redeemed"] = flows["redeemed"].reindex(periods, fill_value=0.0).to_numpy()
    out["expired"] = exp.reindex(periods, fill_value=0.0).to_numpy()
    # member balances at each period end (members x periods), so that a negative
    # balance (clawback after use) does not offset other members' valid points
    net = pd.concat([
        pd.DataFrame({"member_id": tx["member_id"], "period": tx["ts"].dt.to_period(freq),
                      "net": tx["earned"] - tx["redeemed"]}),
        pd.DataFrame({"member_id": done["member_id"], "period": ends.dt.to_period(freq),
                      "net": -done["expires_now"]}),
    ]).groupby(["member_id", "period"])["net"].sum().unstack(fill_value=0.0)
    bal = net.reindex(columns=periods, fill_value=0.0).cumsum(axis=1)
    out["outstanding"] = bal.clip(lower=0).sum(axis=0).to_numpy()
    out["negative_balance"] = bal.clip(upper=0).sum(axis=0).to_numpy()
    out["liability_yuan"] = out["outstanding"] * cost_per_point_yuan
    return out


def compare_expiry_rules(
    transactions: pd.DataFrame,
    rules: dict[str, dict],
    *,
    analysis_date: object | None = None,
    cost_per_point_yuan: float = 0.01,
    **columns: str,
) -> pd.DataFrame:
    """:func:`points_summary` under several expiry rules, one row per rule.

    The same earnings and redemptions are replayed under each rule: members
    are assumed not to change how they redeem (no rush before a clearing), so
    the table shows the mechanical effect of the rule only.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with points columns.  Not modified.
    rules : dict
        ``{name: {"expiry": ..., "expiry_months": ..., "expiry_years": ...}}``.
    analysis_date, cost_per_point_yuan, **columns
        As in :func:`points_summary`.

    Returns
    -------
    DataFrame
        Indexed by rule name, the columns of :func:`points_summary`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a"], "timestamp": pd.to_datetime(["2023-06-01", "2024-03-01"]),
    ...                    "points_earned": [500, 100], "points_redeemed": [0, 0]})
    >>> t = compare_expiry_rules(tx, {"当年清零": {"expiry": "year_end"},
    ...                               "次年清零": {"expiry": "year_end", "expiry_years": 1}},
    ...                          analysis_date="2024-06-01")
    >>> t["expired"].tolist()
    [500.0, 0.0]
    """
    if not isinstance(rules, dict) or not rules:
        raise WorkbookInputError("rules must be a non-empty dict {name: {expiry settings}}.",
                                 message_zh="rules 必须是非空字典 {规则名: {清零设置}}。")
    allowed = {"expiry", "expiry_months", "expiry_years"}
    rows = {}
    for name, rule in rules.items():  # a handful of rules, each vectorised
        bad = set(rule) - allowed
        if bad:
            raise WorkbookInputError(f"Rule {name!r} has unknown setting(s) {sorted(bad)}; use {sorted(allowed)}.",
                                     message_zh=f"规则 {name!r} 含有未知设置 {sorted(bad)}；可用 {sorted(allowed)}。")
        rows[name] = points_summary(transactions, analysis_date=analysis_date,
                                    cost_per_point_yuan=cost_per_point_yuan, **rule, **columns)
    return pd.DataFrame(rows).T.rename_axis("rule")


def points_inflation(
    transactions: pd.DataFrame,
    *,
    freq: str = "M",
    point_value_yuan: float = 0.01,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
) -> pd.DataFrame:
    """Earning against redemption over time: is the points currency inflating?

    Points inflate when the company issues more points per yuan of sales
    (double-points days, bonus campaigns) than members turn into value, so the
    outstanding stock grows faster than what it pays for.  Only member
    purchases that earned points count (``points_earned > 0``).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with amount and points columns.  Not modified.
    freq : {"M", "Q", "Y", "W"}, default "M"
        Calendar period.
    point_value_yuan : float, default 0.01
        What one redeemed point is worth to the member (CNY).

    Returns
    -------
    DataFrame
        Indexed by period: ``spend`` (CNY paid on purchases that earned points),
        ``earned`` and ``redeemed`` points, ``points_per_yuan`` (earn rate),
        ``promised_rebate`` (earned x value / spend: the rebate promised per
        yuan), ``paid_rebate`` (redeemed x value / spend: what was paid out),
        ``issue_to_redeem`` (earned / redeemed points; above 1 the stock grows).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-02-06"]),
    ...                    "amount": [100.0, 200.0, 100.0],
    ...                    "points_earned": [100, 400, 100], "points_redeemed": [0, 100, 0]})
    >>> points_inflation(tx)[["points_per_yuan", "promised_rebate", "paid_rebate"]]  # doctest: +NORMALIZE_WHITESPACE
             points_per_yuan  promised_rebate  paid_rebate
    month
    2024-01         1.000000         0.010000     0.000000
    2024-02         1.666667         0.016667     0.003333
    """
    require_choice(freq, ["M", "Q", "Y", "W"], "freq")
    rows, _ = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                        amount_col=amount_col, numeric=[earned_col, redeemed_col])
    period = rows["ts"].dt.to_period(freq).rename({"M": "month", "Q": "quarter", "Y": "year", "W": "week"}[freq])
    earning = rows[earned_col] > 0
    g = pd.DataFrame({
        "spend": rows[amount_col].where(earning, 0.0),
        "earned": rows[earned_col].clip(lower=0),
        "redeemed": rows[redeemed_col],
    }).groupby(period).sum()
    spend = g["spend"].where(g["spend"] > 0)
    g["points_per_yuan"] = g["earned"] / spend
    g["promised_rebate"] = g["earned"] * point_value_yuan / spend
    g["paid_rebate"] = g["redeemed"] * point_value_yuan / spend
    g["issue_to_redeem"] = g["earned"] / g["redeemed"].where(g["redeemed"] > 0)
    return g


def infer_points_rules(
    transactions: pd.DataFrame,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    discount_col: str = "discount",
    earned_col: str = "points_earned",
    redeemed_col: str = "points_redeemed",
) -> pd.Series:
    """Read the programme's earning and redemption rules back from the till data.

    * earn rate: least-squares slope of points earned on the amount paid,
      over member purchases that earned points (the intercept absorbs the
      rounding down of points to whole numbers);
    * point value: median of discount / points redeemed over purchases that
      redeemed points (the discount also holds promotions, but most
      redemptions come without one, so the median is the value of a point;
      a regression slope would be pulled by promotions that coincide with
      redemptions);
    * redemption unit: greatest common divisor of the redeemed amounts.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with amount, discount and points columns.  Not modified.

    Returns
    -------
    Series
        ``earn_points_per_cny``, ``point_value_yuan``, ``redeem_unit_points``,
        ``earning_share`` (share of purchases that earned points),
        ``redeeming_share`` (share that redeemed points).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": list("aaaa"),
    ...                    "timestamp": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]),
    ...                    "amount": [100.4, 250.7, 80.2, 120.9], "discount": [0.0, 3.0, 1.0, 0.0],
    ...                    "points_earned": [100, 250, 80, 120], "points_redeemed": [0, 300, 100, 0]})
    >>> infer_points_rules(tx).round(3).tolist()
    [0.998, 0.01, 100.0, 1.0, 0.5]
    """
    rows, _ = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                        amount_col=amount_col, numeric=[discount_col, earned_col, redeemed_col])
    if rows.empty:
        raise WorkbookInputError("No member purchases before the analysis date: no rules to read.",
                                 message_zh="分析日之前没有会员购买记录，无法反推积分规则。")

    def slope(x: np.ndarray, y: np.ndarray) -> float:
        if len(x) < 2 or np.ptp(x) == 0:
            return np.nan
        X = np.column_stack([np.ones(len(x)), x])
        return float(np.linalg.lstsq(X, y, rcond=None)[0][1])

    earning = rows[earned_col] > 0
    redeemed = rows[redeemed_col].to_numpy(dtype="int64")
    nonzero = redeemed[redeemed > 0]
    return pd.Series(
        {
            "earn_points_per_cny": slope(rows.loc[earning, amount_col].to_numpy(float),
                                         rows.loc[earning, earned_col].to_numpy(float)),
            "point_value_yuan": float(np.median(rows.loc[redeemed > 0, discount_col].to_numpy(float) / nonzero))
            if len(nonzero) else np.nan,
            "redeem_unit_points": float(np.gcd.reduce(nonzero)) if len(nonzero) else np.nan,
            "earning_share": float(earning.mean()),
            "redeeming_share": float((redeemed > 0).mean()),
        },
        dtype="float64",
    )
