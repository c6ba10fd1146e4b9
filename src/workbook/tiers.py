"""Tier design: thresholds, promotion and demotion, benefit cost and break-even.

A tier programme (普通会员/银卡/金卡/白金卡, member/silver/gold/platinum) is described
by a frozen :class:`TierPolicy`.  The functions here replay the programme on
historical transactions:

``assign_tiers``
    the tier of every member at each review date (promotion and demotion applied);
``tier_summary`` / ``tier_transitions``
    members and spend per tier, and who moved between tiers;
``benefit_cost``
    what the benefits (tier discount, points with tier multiplier, birthday gift)
    would have cost on the observed spend;
``break_even``
    the incremental spend needed to pay for them;
``simulate_policy``
    all of the above in one tidy table, fast enough for a slider callback;
``points_ledger``
    re-exported from :mod:`workbook.points` (earned, redeemed, expired points);
``suggest_thresholds``
    thresholds that put a target share of members into each tier.

Definitions
-----------
* *Spend* is net spend: purchases minus returns, with the rules of
  :mod:`workbook.transactions` (returns are rows whose ``is_return`` is true,
  without that column rows with a negative amount; a return always reduces
  spend, ``-abs(amount)``, whichever sign the export used).  Walk-in sales (no
  member id) are ignored, as are transactions at or after the analysis date.
* At each *review date* ``r`` a member's *qualifying value* is the trailing spend
  (``basis="annual_spend"``, CNY) or the points earned (``basis="points"``,
  column ``points_earned``) in ``[r - qualification_months, r)``.  The member
  *qualifies* for the highest tier whose threshold is at most that value.
* Promotion is immediate: a member who qualifies for a higher tier gets it.
  Demotion is limited: a member who qualifies for a lower tier drops to the
  qualified tier but by at most ``max_demotion_steps`` tiers per review
  (``None`` = no limit, ``0`` = never demote).
* Members enter at the first review after their first transaction, starting
  from the base tier.  A tier holds from its review date until the next review.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.points import points_ledger  # re-exported: notebooks call tiers.points_ledger
from workbook.transactions import column_values, purchases
from workbook.validation import (
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    require_whole,
)

__all__ = [
    "TIER_NAMES",
    "TIER_LABELS_ZH",
    "TierPolicy",
    "assign_tiers",
    "tier_summary",
    "tier_transitions",
    "benefit_cost",
    "break_even",
    "simulate_policy",
    "points_ledger",
    "suggest_thresholds",
]

#: Tier names of the data contract, lowest first.
TIER_NAMES = ("member", "silver", "gold", "platinum")
#: Chinese labels of :data:`TIER_NAMES`.
TIER_LABELS_ZH = ("普通会员", "银卡", "金卡", "白金卡")

_BASES = ("annual_spend", "points")
_COST_COLUMNS = ["discount_cost", "points_cost", "gift_cost", "total_cost"]


def _as_tuple(values: object, field: str) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray | pd.Series):
        raise WorkbookInputError(f"TierPolicy.{field} must be a sequence, got {values!r}.")
    return tuple(values.tolist() if hasattr(values, "tolist") else values)


@dataclass(frozen=True)
class TierPolicy:
    """A tier programme: thresholds, benefits and the promotion/demotion rule.

    All per-tier fields are sequences with one entry per tier, lowest tier first.

    Parameters
    ----------
    names : sequence of str
        Tier names, lowest first (default ``member, silver, gold, platinum``).
    labels_zh : sequence of str
        Chinese labels for charts and tables (普通会员/银卡/金卡/白金卡).
    thresholds : sequence of float
        Minimum qualifying value of each tier (CNY of trailing spend, or points);
        the first must be 0 and they must be strictly increasing.
    discounts : sequence of float
        Price multiplier of each tier in (0, 1]: 0.9 is 9折 (10 % off), 1.0 no discount.
    points_multipliers : sequence of float
        Points earned per yuan paid are ``points_per_yuan * multiplier``.
    birthday_gift_cost : sequence of float
        Cost in CNY of the yearly birthday gift for one member of the tier.
    basis : {"annual_spend", "points"}
        What qualifies: trailing net spend or trailing points earned.
    points_per_yuan : float
        Base points earned per yuan paid.
    point_value_yuan : float
        Redemption value of one point in CNY (0.01: 100 积分抵 1 元).
    redemption_rate : float
        Expected share of earned points that will be redeemed (the rest expire).
    qualification_months : int
        Length of the trailing qualification window (12 = trailing 12 months).
    max_demotion_steps : int or None
        At most this many tiers down per review; ``None`` re-qualifies fully,
        ``0`` never demotes.

    Examples
    --------
    >>> p = TierPolicy.default()
    >>> p.thresholds
    (0.0, 1000.0, 3000.0, 8000.0)
    >>> p.replace(discounts=(1.0, 0.95, 0.9, 0.8)).discounts[-1]
    0.8
    >>> TierPolicy(thresholds=(0, 500, 400, 900))
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: TierPolicy.thresholds must be strictly increasing; got (0.0, 500.0, 400.0, 900.0): 400.0 (silver -> gold) is not above 500.0.
    """

    names: tuple[str, ...] = TIER_NAMES
    labels_zh: tuple[str, ...] = TIER_LABELS_ZH
    thresholds: tuple[float, ...] = (0.0, 1000.0, 3000.0, 8000.0)
    discounts: tuple[float, ...] = (1.0, 0.95, 0.9, 0.85)
    points_multipliers: tuple[float, ...] = (1.0, 1.2, 1.5, 2.0)
    birthday_gift_cost: tuple[float, ...] = (0.0, 30.0, 80.0, 200.0)
    basis: str = "annual_spend"
    points_per_yuan: float = 1.0
    point_value_yuan: float = 0.01
    redemption_rate: float = 0.5
    qualification_months: int = 12
    max_demotion_steps: int | None = 1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "names", tuple(str(n) for n in _as_tuple(self.names, "names")))
        set_(self, "labels_zh", tuple(str(n) for n in _as_tuple(self.labels_zh, "labels_zh")))
        n = len(self.names)
        if n < 2:
            raise WorkbookInputError(f"TierPolicy needs at least 2 tiers, got names={self.names}.")
        if len(set(self.names)) != n:
            raise WorkbookInputError(f"TierPolicy.names must be unique, got {self.names}.")
        for field in ("labels_zh", "thresholds", "discounts", "points_multipliers", "birthday_gift_cost"):
            values = _as_tuple(getattr(self, field), field)
            if field != "labels_zh":
                try:
                    values = tuple(float(v) for v in values)
                except (TypeError, ValueError) as exc:
                    raise WorkbookInputError(f"TierPolicy.{field} must be numbers, got {values}.") from exc
                if not np.all(np.isfinite(values)):
                    raise WorkbookInputError(f"TierPolicy.{field} must be finite numbers, got {values}.")
            if len(values) != n:
                raise WorkbookInputError(
                    f"TierPolicy.{field} has {len(values)} entries but there are {n} tiers {self.names}."
                )
            set_(self, field, values)
        t = self.thresholds
        if t[0] != 0:
            raise WorkbookInputError(
                f"TierPolicy.thresholds[0] (the base tier {self.names[0]!r}) must be 0, got {t[0]}."
            )
        for i in range(1, n):
            if not t[i] > t[i - 1]:
                raise WorkbookInputError(
                    f"TierPolicy.thresholds must be strictly increasing; got {t}: {t[i]} "
                    f"({self.names[i - 1]} -> {self.names[i]}) is not above {t[i - 1]}."
                )
        for name, d in zip(self.names, self.discounts, strict=True):
            if not 0 < d <= 1:
                raise WorkbookInputError(
                    f"TierPolicy.discounts must be price multipliers in (0, 1] (0.9 = 9折); "
                    f"tier {name!r} has {d}."
                )
        for name, m in zip(self.names, self.points_multipliers, strict=True):
            if m < 0:
                raise WorkbookInputError(f"TierPolicy.points_multipliers must be >= 0; tier {name!r} has {m}.")
        for name, g in zip(self.names, self.birthday_gift_cost, strict=True):
            if g < 0:
                raise WorkbookInputError(f"TierPolicy.birthday_gift_cost must be >= 0; tier {name!r} has {g}.")
        require_choice(self.basis, _BASES, "TierPolicy.basis")
        if not (np.isfinite(self.points_per_yuan) and self.points_per_yuan >= 0):
            raise WorkbookInputError(f"TierPolicy.points_per_yuan must be >= 0, got {self.points_per_yuan}.")
        if not (np.isfinite(self.point_value_yuan) and self.point_value_yuan >= 0):
            raise WorkbookInputError(f"TierPolicy.point_value_yuan must be >= 0, got {self.point_value_yuan}.")
        if not 0 <= self.redemption_rate <= 1:
            raise WorkbookInputError(f"TierPolicy.redemption_rate must be in [0, 1], got {self.redemption_rate}.")
        require_whole(self.qualification_months, "TierPolicy.qualification_months")
        require_whole(self.max_demotion_steps, "TierPolicy.max_demotion_steps", minimum=0, allow_none=True)

    @classmethod
    def default(cls) -> TierPolicy:
        """The course's starting policy: 1000/3000/8000 CNY a year, 95折/9折/85折.

        The synthetic data's ``members.tier`` column applies
        ``Scenario.tier_thresholds_cny`` to trailing 12-month net spend;
        ``TierPolicy.default().replace(thresholds=(0, *scenario.tier_thresholds_cny),
        max_demotion_steps=None)`` replays that rule.

        Examples
        --------
        >>> TierPolicy.default().labels_zh
        ('普通会员', '银卡', '金卡', '白金卡')
        """
        return cls()

    @property
    def n_tiers(self) -> int:
        """Number of tiers."""
        return len(self.names)

    def replace(self, **changes: object) -> TierPolicy:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_frame(self) -> pd.DataFrame:
        """The per-tier rules as a table (one row per tier).

        Examples
        --------
        >>> TierPolicy.default().to_frame()[["tier", "threshold", "discount"]]
               tier  threshold  discount
        0    member        0.0      1.00
        1    silver     1000.0      0.95
        2      gold     3000.0      0.90
        3  platinum     8000.0      0.85
        """
        return pd.DataFrame(
            {
                "tier": list(self.names),
                "tier_label_zh": list(self.labels_zh),
                "threshold": list(self.thresholds),
                "discount": list(self.discounts),
                "points_multiplier": list(self.points_multipliers),
                "birthday_gift_cost": list(self.birthday_gift_cost),
            }
        )

    def qualified_level(self, value: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """Tier level (0 = base) whose threshold is the highest at most ``value``.

        Examples
        --------
        >>> TierPolicy.default().qualified_level([0, 999.99, 1000, 20000, -50])
        array([0, 0, 1, 3, 0])
        """
        v = np.asarray(value, dtype="float64")
        level = np.searchsorted(np.asarray(self.thresholds), v, side="right") - 1
        return np.clip(level, 0, None).astype("int64")


# --------------------------------------------------------------------------- helpers


def _check_policy(policy: object) -> TierPolicy:
    if not isinstance(policy, TierPolicy):
        raise WorkbookInputError(
            f"policy must be a TierPolicy (e.g. TierPolicy.default()), got {type(policy).__name__}."
        )
    return policy


def _prepare_transactions(
    transactions: pd.DataFrame,
    *,
    member_col: str,
    time_col: str,
    amount_col: str,
    return_col: str | None,
    analysis_date: object | None,
    extra_numeric: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Validate; keep member rows before the analysis date, sorted by time.

    Returns a frame with columns ``member_id``, ``ts``, ``amount`` (net: returns
    negative, the sign rule of :mod:`workbook.transactions`) and the
    ``extra_numeric`` columns under their own names.
    """
    tx, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                         amount_col=amount_col, return_col=return_col, include_returns=True,
                         numeric=extra_numeric)
    tx = tx.drop(columns="is_return")
    tx = tx.sort_values("ts", kind="stable", ignore_index=True)
    return tx, date


def _review_dates(
    review_dates: Sequence | pd.DatetimeIndex | None,
    freq: str,
    first: pd.Timestamp,
    date: pd.Timestamp,
) -> pd.DatetimeIndex:
    if review_dates is None:
        try:
            dates = pd.date_range(first.normalize(), date, freq=freq)
        except (TypeError, ValueError) as exc:
            raise WorkbookInputError(
                f"freq={freq!r} is not a pandas frequency; use e.g. 'QS' (quarter starts) or 'YS' (year starts)."
            ) from exc
        dates = dates[dates > first]
        if len(dates) == 0:
            raise WorkbookInputError(
                f"No review date with freq={freq!r} falls between the first transaction ({first}) "
                f"and the analysis date ({date}); pass review_dates or a shorter freq."
            )
        return dates
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(list(review_dates)))
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"review_dates must be dates, got {review_dates!r}.") from exc
    if len(dates) == 0:
        raise WorkbookInputError("review_dates is empty; pass at least one date or use freq.")
    if not dates.is_monotonic_increasing or dates.has_duplicates:
        raise WorkbookInputError(f"review_dates must be strictly increasing, got {list(dates.astype(str))}.")
    if dates[-1] > date:
        raise WorkbookInputError(
            f"review date {dates[-1].date()} is after the analysis date {date}; spend after the "
            "analysis date is not observed."
        )
    return dates


def _level_names(policy: TierPolicy, levels: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(levels, categories=list(policy.names), ordered=True)


# --------------------------------------------------------------------------- assignment


TIER_COLUMNS = [
    "member_id",
    "review_date",
    "valid_until",
    "trailing_spend",
    "qualifying_value",
    "qualified_tier",
    "previous_tier",
    "tier",
    "tier_level",
    "tier_label_zh",
    "change",
]


def assign_tiers(
    transactions: pd.DataFrame,
    policy: TierPolicy | None = None,
    review_dates: Sequence | pd.DatetimeIndex | None = None,
    *,
    freq: str = "QS",
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    points_col: str = "points_earned",
) -> pd.DataFrame:
    """Tier of every member at each review date, with promotion and demotion applied.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    policy : TierPolicy, optional
        Defaults to :meth:`TierPolicy.default`.
    review_dates : sequence of dates, optional
        Review dates, strictly increasing, none after the analysis date.  By
        default every ``freq`` date after the first transaction up to and
        including the analysis date.
    freq : str, default "QS"
        pandas frequency of the default review dates ("QS" quarter starts,
        "YS" year starts, "MS" month starts).
    analysis_date : date-like, optional
        Transactions at or after it are ignored (default: midnight after the
        last transaction day).
    member_col, time_col, amount_col, return_col : str
        Column names (see the data contract).
    points_col : str
        Points column used when ``policy.basis == "points"``.

    Returns
    -------
    DataFrame
        One row per member and review date, for members with a transaction
        before that review date, sorted by review date and member.  Columns
        :data:`TIER_COLUMNS`: ``valid_until`` (next review date, ``NaT`` for
        the last), ``trailing_spend`` (net CNY in the qualification window),
        ``qualifying_value`` (that spend, or the points earned, rounded to
        cents/points), ``qualified_tier``, ``previous_tier`` (NaN when the
        member enters), ``tier`` (ordered categoricals), ``tier_level``
        (0 = base), ``tier_label_zh`` and ``change`` (``"new"``,
        ``"promotion"``, ``"demotion"`` or ``"stay"``).
        ``attrs["analysis_date"]`` holds the analysis date.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "b", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-05-01"]),
    ...     "amount": [2500.0, 100.0, 5000.0]})
    >>> t = assign_tiers(tx, review_dates=["2024-04-01", "2024-07-01"], analysis_date="2024-07-01")
    >>> t[["member_id", "review_date", "qualifying_value", "tier", "change"]]
      member_id review_date  qualifying_value    tier     change
    0         a  2024-04-01            2500.0  silver        new
    1         b  2024-04-01             100.0  member        new
    2         a  2024-07-01            7500.0    gold  promotion
    3         b  2024-07-01             100.0  member       stay
    """
    policy = _check_policy(policy if policy is not None else TierPolicy.default())
    use_points = policy.basis == "points"
    tx, date = _prepare_transactions(
        transactions,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        analysis_date=analysis_date,
        extra_numeric=(points_col,) if use_points else (),
    )
    if tx.empty:
        raise WorkbookInputError(
            f"transactions has no member transactions (non-missing {member_col!r}) before {date}."
        )
    dates = _review_dates(review_dates, freq, tx["ts"].iloc[0], date)
    codes, uniques = pd.factorize(tx["member_id"], sort=True)
    n = len(uniques)
    ts = tx["ts"].to_numpy()
    spend = tx["amount"].to_numpy()
    value = tx[points_col].to_numpy() if use_points else spend
    # Rows are sorted by time, so the first row of each member is its first transaction.
    first_row = np.unique(codes, return_index=True)[1]
    first_seen = ts[first_row]
    window = pd.DateOffset(months=policy.qualification_months)
    steps = policy.max_demotion_steps

    prev = np.full(n, -1, dtype="int64")  # -1: not yet a member at the previous review
    parts = []
    for i, r in enumerate(dates):
        lo = np.searchsorted(ts, np.datetime64(r - window), side="left")
        hi = np.searchsorted(ts, np.datetime64(r), side="left")
        trailing = np.round(np.bincount(codes[lo:hi], weights=spend[lo:hi], minlength=n), 2)
        q = trailing
        if use_points:
            q = np.round(np.bincount(codes[lo:hi], weights=value[lo:hi], minlength=n), 2)
        qualified = policy.qualified_level(q)
        new = qualified.copy()
        down = (prev >= 0) & (qualified < prev)
        if steps is not None:
            new[down] = np.maximum(qualified[down], prev[down] - steps)
        present = np.flatnonzero(first_seen < np.datetime64(r))
        p = prev[present]
        change = np.select(
            [p < 0, new[present] > p, new[present] < p], ["new", "promotion", "demotion"], "stay"
        )
        parts.append(
            pd.DataFrame(
                {
                    "member_id": uniques[present],
                    "review_date": r,
                    "valid_until": dates[i + 1] if i + 1 < len(dates) else pd.NaT,
                    "trailing_spend": trailing[present],
                    "qualifying_value": q[present],
                    "qualified_level": qualified[present],
                    "previous_level": p,
                    "tier_level": new[present],
                    "change": change,
                }
            )
        )
        prev = np.where(first_seen < np.datetime64(r), new, -1)
    out = pd.concat(parts, ignore_index=True)
    out["review_date"] = pd.to_datetime(out["review_date"])
    out["valid_until"] = pd.to_datetime(out["valid_until"])
    out["qualified_tier"] = _level_names(policy, out.pop("qualified_level").to_numpy())
    out["previous_tier"] = _level_names(policy, out.pop("previous_level").to_numpy())
    levels = out["tier_level"].to_numpy()
    out["tier"] = _level_names(policy, levels)
    out["tier_label_zh"] = np.asarray(policy.labels_zh, dtype=object)[levels]
    out["tier_label_zh"] = out["tier_label_zh"].astype("str")
    out = out[TIER_COLUMNS]
    out.attrs["analysis_date"] = date
    return out


def _check_tiers(tiers: object, policy: TierPolicy | None = None) -> pd.DataFrame:
    require_dataframe(tiers, "tiers")
    require_columns(tiers, ["member_id", "review_date", "valid_until", "tier_level", "trailing_spend"], "tiers")
    require_datetime(tiers, "review_date", "tiers")
    if policy is not None:
        lv = tiers["tier_level"].to_numpy()
        bad = (lv < 0) | (lv >= policy.n_tiers)
        if bad.any():
            raise WorkbookInputError(
                f"tiers has tier_level values outside the policy's {policy.n_tiers} tiers, e.g. "
                f"{lv[bad][0]}; were the tiers assigned with another policy?"
            )
    return tiers


@renamed_arguments(positional=("analysis_date",), review_date="analysis_date")
def tier_summary(
    tiers: pd.DataFrame,
    policy: TierPolicy | None = None,
    *,
    analysis_date: object | None = None,
    all_reviews: bool = False,
) -> pd.DataFrame:
    """Members and trailing spend per tier at a review date.

    Parameters
    ----------
    tiers : DataFrame
        Output of :func:`assign_tiers`.
    policy : TierPolicy, optional
        The policy used (default: :meth:`TierPolicy.default`), for names and labels.
    analysis_date : date-like, optional
        The review date to summarise (default the last one); formerly
        ``review_date``.
    all_reviews : bool, default False
        One block of rows per review date instead.

    Returns
    -------
    DataFrame
        One row per tier (every tier, also empty ones): ``review_date``,
        ``tier``, ``tier_label_zh``, ``members``, ``member_share``,
        ``trailing_spend`` (sum of trailing net spend, CNY), ``spend_share``,
        ``spend_per_member``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-01"]),
    ...     "amount": [2500.0, 100.0, 400.0]})
    >>> s = tier_summary(assign_tiers(tx, review_dates=["2024-04-01"], analysis_date="2024-04-01"))
    >>> s[["tier", "members", "member_share", "trailing_spend", "spend_share"]]
           tier  members  member_share  trailing_spend  spend_share
    0    member        2      0.666667           500.0     0.166667
    1    silver        1      0.333333          2500.0     0.833333
    2      gold        0      0.000000             0.0     0.000000
    3  platinum        0      0.000000             0.0     0.000000
    """
    policy = _check_policy(policy if policy is not None else TierPolicy.default())
    tiers = _check_tiers(tiers, policy)
    t = tiers
    if not all_reviews:
        if analysis_date is None:
            r = t["review_date"].max()
        else:
            r = pd.Timestamp(analysis_date)
            if not (t["review_date"] == r).any():
                raise WorkbookInputError(
                    f"analysis_date {r.date()} is not one of the review dates "
                    f"{sorted(t['review_date'].dt.date.astype(str).unique())}."
                )
        t = t.loc[t["review_date"] == r]
    grid = pd.MultiIndex.from_product(
        [np.sort(t["review_date"].unique()), range(policy.n_tiers)], names=["review_date", "tier_level"]
    )
    g = (
        t.groupby(["review_date", "tier_level"])
        .agg(members=("member_id", "size"), trailing_spend=("trailing_spend", "sum"))
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    g["members"] = g["members"].astype("int64")
    g["trailing_spend"] = g["trailing_spend"].astype("float64")
    by_review = g.groupby("review_date")
    g["member_share"] = g["members"] / by_review["members"].transform("sum")
    total_spend = by_review["trailing_spend"].transform("sum")
    g["spend_share"] = (g["trailing_spend"] / total_spend.where(total_spend != 0)).fillna(0.0)
    g["spend_per_member"] = g["trailing_spend"] / g["members"].where(g["members"] > 0)
    levels = g["tier_level"].to_numpy()
    g["tier"] = _level_names(policy, levels)
    g["tier_label_zh"] = pd.array(np.asarray(policy.labels_zh, dtype=object)[levels], dtype="str")
    return g[
        [
            "review_date",
            "tier",
            "tier_label_zh",
            "members",
            "member_share",
            "trailing_spend",
            "spend_share",
            "spend_per_member",
        ]
    ]


def tier_transitions(
    tiers: pd.DataFrame,
    policy: TierPolicy | None = None,
    from_review: object | None = None,
    to_review: object | None = None,
    *,
    normalize: bool = False,
) -> pd.DataFrame:
    """Members moving between tiers from one review to another.

    Parameters
    ----------
    tiers : DataFrame
        Output of :func:`assign_tiers`.
    policy : TierPolicy, optional
        For tier names (default :meth:`TierPolicy.default`).
    from_review, to_review : date-like, optional
        Default: the last two review dates.
    normalize : bool, default False
        Row shares (share of each "from" tier going to each "to" tier) instead of counts.

    Returns
    -------
    DataFrame
        Rows: tier at ``from_review``; columns: tier at ``to_review``; only members
        present at both reviews.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01"]),
    ...     "amount": [2500.0, 5000.0]})
    >>> t = assign_tiers(tx, review_dates=["2024-04-01", "2024-07-01"], analysis_date="2024-07-01")
    >>> m = tier_transitions(t)
    >>> int(m.loc["silver", "gold"])
    1
    """
    policy = _check_policy(policy if policy is not None else TierPolicy.default())
    tiers = _check_tiers(tiers, policy)
    dates = np.sort(tiers["review_date"].unique())
    if from_review is None or to_review is None:
        if len(dates) < 2:
            raise WorkbookInputError("tiers has a single review date; transitions need two.")
        from_review = dates[-2] if from_review is None else from_review
        to_review = dates[-1] if to_review is None else to_review
    a = tiers.loc[tiers["review_date"] == pd.Timestamp(from_review), ["member_id", "tier_level"]]
    b = tiers.loc[tiers["review_date"] == pd.Timestamp(to_review), ["member_id", "tier_level"]]
    for when, part in (("from_review", a), ("to_review", b)):
        if part.empty:
            raise WorkbookInputError(
                f"{when} has no rows in tiers; review dates are {list(pd.DatetimeIndex(dates).date)}."
            )
    m = a.merge(b, on="member_id", suffixes=("_from", "_to"))
    counts = np.zeros((policy.n_tiers, policy.n_tiers), dtype="int64")
    np.add.at(counts, (m["tier_level_from"].to_numpy(), m["tier_level_to"].to_numpy()), 1)
    out = pd.DataFrame(
        counts,
        index=pd.Index(policy.names, name="from_tier"),
        columns=pd.Index(policy.names, name="to_tier"),
    )
    if normalize:
        out = out.div(out.sum(axis=1).where(lambda s: s > 0), axis=0)
    return out


# --------------------------------------------------------------------------- cost


def _tier_at_transactions(tx: pd.DataFrame, tiers: pd.DataFrame) -> np.ndarray:
    """Tier level in force at each transaction (0 before the member's first review)."""
    reviews = pd.DatetimeIndex(np.sort(tiers["review_date"].unique()))
    m_codes, members = pd.factorize(
        np.concatenate([tiers["member_id"].to_numpy(dtype=object), tx["member_id"].to_numpy(dtype=object)])
    )
    n_t = len(tiers)
    matrix = np.zeros((len(members), len(reviews)), dtype="int64")
    r_idx = reviews.get_indexer(tiers["review_date"])
    matrix[m_codes[:n_t], r_idx] = tiers["tier_level"].to_numpy()
    tx_r = np.searchsorted(reviews.to_numpy(), tx["ts"].to_numpy(), side="right") - 1
    level = np.zeros(len(tx), dtype="int64")
    has = tx_r >= 0
    level[has] = matrix[m_codes[n_t:][has], tx_r[has]]
    return level


def benefit_cost(
    transactions: pd.DataFrame,
    tiers: pd.DataFrame,
    policy: TierPolicy | None = None,
    *,
    start: object | None = None,
    end: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    discount_col: str | None = None,
) -> pd.DataFrame:
    """Cost of the tier benefits on the spend observed in ``[start, end)``.

    Each member transaction gets the tier in force at its time (the member's
    tier at the latest review on or before it; the base tier before the first).
    The observed spend is taken as the list-price value of the baskets:

    * ``discount_cost = spend * (1 - discount)`` (revenue given away);
    * ``paid = spend * discount``; points earned ``= paid * points_per_yuan *
      points_multiplier``; ``points_cost = points * point_value_yuan *
      redemption_rate`` (expected redemption value; every tier, base included);
    * ``gift_cost = member_years * birthday_gift_cost`` where ``member_years``
      is the time members held the tier inside the window (days / 365).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    tiers : DataFrame
        Output of :func:`assign_tiers` with the same policy.
    policy : TierPolicy, optional
        Default :meth:`TierPolicy.default`.
    start, end : date-like, optional
        Cost window; default from the first review date to the analysis date
        of ``tiers`` (``tiers.attrs["analysis_date"]``, else the last transaction day + 1).
    discount_col : str, optional
        If given, spend is ``amount + discount_col`` (the pre-discount basket
        value) instead of ``amount``.

    Returns
    -------
    DataFrame
        One row per tier and a final ``"total"`` row: ``tier``,
        ``tier_label_zh``, ``members`` (distinct members with a transaction in
        the tier in the window), ``member_years``, ``spend``, ``paid``,
        ``points``, ``discount_cost``, ``points_cost``, ``gift_cost``,
        ``total_cost``, ``cost_pct_of_spend`` (total cost / spend * 100).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01"]),
    ...     "amount": [2500.0, 1000.0]})
    >>> p = TierPolicy.default()
    >>> t = assign_tiers(tx, p, review_dates=["2024-04-01"], analysis_date="2024-07-01")
    >>> c = benefit_cost(tx, t, p)
    >>> c.loc[c["tier"] == "silver", ["spend", "discount_cost", "points_cost"]].round(2)
        spend  discount_cost  points_cost
    1  1000.0           50.0          5.7
    """
    policy = _check_policy(policy if policy is not None else TierPolicy.default())
    tiers = _check_tiers(tiers, policy)
    tx, date = _prepare_transactions(
        transactions,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        analysis_date=tiers.attrs.get("analysis_date"),
        extra_numeric=(discount_col,) if discount_col else (),
    )
    start = pd.Timestamp(start) if start is not None else tiers["review_date"].min()
    end = pd.Timestamp(end) if end is not None else date
    if not end > start:
        raise WorkbookInputError(f"The cost window is empty: start {start} is not before end {end}.")
    tx = tx.loc[(tx["ts"] >= start) & (tx["ts"] < end)]
    level = _tier_at_transactions(tx, tiers)
    spend = tx["amount"].to_numpy()
    if discount_col:
        spend = spend + np.sign(spend) * np.abs(tx[discount_col].to_numpy())
    k = policy.n_tiers
    disc = np.asarray(policy.discounts)[level]
    mult = np.asarray(policy.points_multipliers)[level]
    paid = spend * disc
    points = paid * policy.points_per_yuan * mult
    out = pd.DataFrame(
        {
            "spend": np.bincount(level, weights=spend, minlength=k),
            "paid": np.bincount(level, weights=paid, minlength=k),
            "points": np.bincount(level, weights=points, minlength=k),
        }
    )
    pairs = pd.DataFrame({"member_id": column_values(tx["member_id"]), "level": level}).drop_duplicates()
    out["members"] = np.bincount(pairs["level"].to_numpy(), minlength=k)
    # Time each member held each tier inside [start, end), in years of 365 days.
    vf = tiers["review_date"].clip(lower=start)
    vu = tiers["valid_until"].fillna(end).clip(upper=end)
    held_days = ((vu - vf) / pd.Timedelta(days=1)).clip(lower=0).to_numpy(dtype="float64")
    out["member_years"] = np.bincount(tiers["tier_level"].to_numpy(), weights=held_days / 365.0, minlength=k)
    out["discount_cost"] = out["spend"] - out["paid"]
    out["points_cost"] = out["points"] * policy.point_value_yuan * policy.redemption_rate
    out["gift_cost"] = out["member_years"] * np.asarray(policy.birthday_gift_cost)
    out["total_cost"] = out[["discount_cost", "points_cost", "gift_cost"]].sum(axis=1)
    out.insert(0, "tier", list(policy.names))
    out.insert(1, "tier_label_zh", list(policy.labels_zh))
    total = out.drop(columns=["tier", "tier_label_zh"]).sum().to_frame().T
    total["members"] = pairs["member_id"].nunique()
    total.insert(0, "tier", "total")
    total.insert(1, "tier_label_zh", "合计")
    out = pd.concat([out, total], ignore_index=True)
    out["members"] = out["members"].astype("int64")
    out["cost_pct_of_spend"] = 100 * out["total_cost"] / out["spend"].where(out["spend"] != 0)
    out = out[
        [
            "tier",
            "tier_label_zh",
            "members",
            "member_years",
            "spend",
            "paid",
            "points",
            *_COST_COLUMNS,
            "cost_pct_of_spend",
        ]
    ]
    out.attrs["start"], out.attrs["end"] = start, end
    return out


def break_even(
    cost: pd.DataFrame,
    margin_rate: float,
    *,
    cost_col: str = "total_cost",
    amount_col: str = "spend",
) -> pd.DataFrame:
    """Incremental spend needed to pay for the benefits: ``cost / margin_rate``.

    Parameters
    ----------
    cost : DataFrame
        A cost table, e.g. from :func:`benefit_cost`.  Not modified.
    margin_rate : float
        Gross margin rate in (0, 1] earned on incremental spend (after benefits).
    cost_col, amount_col : str
        Columns holding the cost and the current spend (CNY).

    Returns
    -------
    DataFrame
        ``cost`` with ``break_even_incremental_spend`` (CNY) and
        ``break_even_uplift_pct`` (that spend as a % of the current spend) added.

    Examples
    --------
    >>> import pandas as pd
    >>> break_even(pd.DataFrame({"spend": [10000.0], "total_cost": [600.0]}), 0.4)
         spend  total_cost  break_even_incremental_spend  break_even_uplift_pct
    0  10000.0       600.0                        1500.0                   15.0
    """
    require_dataframe(cost, "cost")
    require_columns(cost, [cost_col, amount_col], "cost")
    require_numeric(cost, cost_col, "cost")
    require_numeric(cost, amount_col, "cost")
    try:
        margin_rate = float(margin_rate)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"margin_rate must be a number in (0, 1], got {margin_rate!r}.") from exc
    if not 0 < margin_rate <= 1:
        raise WorkbookInputError(
            f"margin_rate must be a gross margin rate in (0, 1] (0.4 = 40 %), got {margin_rate}."
        )
    out = cost.copy()
    out["break_even_incremental_spend"] = out[cost_col] / margin_rate
    spend = out[amount_col].where(out[amount_col] > 0)
    out["break_even_uplift_pct"] = 100 * out["break_even_incremental_spend"] / spend
    return out


def simulate_policy(
    transactions: pd.DataFrame,
    policy: TierPolicy | None = None,
    margin_rate: float = 0.4,
    uplift_by_tier: Mapping[str, float] | None = None,
    *,
    review_dates: Sequence | None = None,
    freq: str = "QS",
    evaluation_months: int = 12,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    points_col: str = "points_earned",
) -> pd.DataFrame:
    """Replay a tier policy on the data: members, spend, cost and break-even per tier.

    Tiers are assigned at each review date (:func:`assign_tiers`); costs are
    counted on the last ``evaluation_months`` before the analysis date
    (:func:`benefit_cost`) and turned into break-even spend (:func:`break_even`).

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    policy : TierPolicy, optional
        Default :meth:`TierPolicy.default`.
    margin_rate : float, default 0.4
        Gross margin rate on incremental spend.
    uplift_by_tier : mapping, optional
        Assumed relative spend uplift per tier name caused by the programme,
        e.g. ``{"gold": 0.05, "platinum": 0.08}``; tiers not named get 0.
    review_dates, freq, analysis_date
        As in :func:`assign_tiers`.
    evaluation_months : int, default 12
        Length of the cost window ending at the analysis date (cut at the
        first review date if the data is shorter).

    Returns
    -------
    DataFrame
        One row per tier and a ``"total"`` row: the policy's rules
        (``threshold``, ``discount``, ``points_multiplier``,
        ``birthday_gift_cost``), ``members`` and ``member_share`` at the last
        review, ``spend`` and ``spend_share`` in the cost window, the cost
        columns of :func:`benefit_cost`, ``cost_pct_of_spend``,
        ``break_even_incremental_spend``, ``break_even_uplift_pct``,
        ``uplift_pct``, ``incremental_spend`` (spend * uplift),
        ``incremental_margin`` (incremental spend * margin_rate) and
        ``net_effect`` (incremental margin - total cost; >= 0 exactly when the
        incremental spend reaches the break-even spend).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-05-01", "2024-05-02"]),
    ...     "amount": [2500.0, 1000.0, 300.0]})
    >>> r = simulate_policy(tx, margin_rate=0.5, review_dates=["2024-04-01"], analysis_date="2024-07-01")
    >>> r[["tier", "members", "spend", "total_cost", "break_even_incremental_spend"]].round(2)
           tier  members   spend  total_cost  break_even_incremental_spend
    0    member        0   300.0        1.50                          3.00
    1    silver        1  1000.0       63.18                        126.36
    2      gold        0     0.0        0.00                          0.00
    3  platinum        0     0.0        0.00                          0.00
    4     total        1  1300.0       64.68                        129.36
    """
    policy = _check_policy(policy if policy is not None else TierPolicy.default())
    require_whole(evaluation_months, "evaluation_months")
    uplift = np.zeros(policy.n_tiers)
    for name, u in (uplift_by_tier or {}).items():
        if name not in policy.names:
            raise WorkbookInputError(f"uplift_by_tier names tier {name!r}; the policy's tiers are {policy.names}.")
        if not (np.isfinite(u) and u >= -1):
            raise WorkbookInputError(f"uplift_by_tier[{name!r}] must be a relative change >= -1, got {u}.")
        uplift[policy.names.index(name)] = u
    tiers = assign_tiers(
        transactions,
        policy,
        review_dates,
        freq=freq,
        analysis_date=analysis_date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        points_col=points_col,
    )
    date = tiers.attrs["analysis_date"]
    start = max(date - pd.DateOffset(months=evaluation_months), tiers["review_date"].min())
    cost = benefit_cost(
        transactions,
        tiers,
        policy,
        start=start,
        end=date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
    )
    summary = tier_summary(tiers, policy)
    out = policy.to_frame()
    out["members"] = summary["members"].to_numpy()
    out["member_share"] = summary["member_share"].to_numpy()
    out = pd.concat(
        [
            out,
            pd.DataFrame(
                {"tier": ["total"], "tier_label_zh": ["合计"], "members": [out["members"].sum()], "member_share": [1.0]}
            ),
        ],
        ignore_index=True,
    )
    body = cost.drop(columns=["tier", "tier_label_zh", "members"])
    out = pd.concat([out, body], axis=1)
    total_spend = out["spend"].iloc[-1]
    out["spend_share"] = out["spend"] / total_spend if total_spend != 0 else np.nan
    out = break_even(out, margin_rate)
    u = np.append(uplift, np.nan)
    out["incremental_spend"] = out["spend"] * u
    out.loc[out.index[-1], "incremental_spend"] = out["incremental_spend"].iloc[:-1].sum()
    out["uplift_pct"] = 100 * out["incremental_spend"] / out["spend"].where(out["spend"] != 0)
    out["incremental_margin"] = out["incremental_spend"] * margin_rate
    out["net_effect"] = out["incremental_margin"] - out["total_cost"]
    out.attrs.update(analysis_date=date, start=start, end=date, margin_rate=margin_rate)
    return out


# --------------------------------------------------------------------------- design


def suggest_thresholds(
    transactions: pd.DataFrame,
    member_shares: Sequence[float] = (0.70, 0.20, 0.08, 0.02),
    *,
    qualification_months: int = 12,
    analysis_date: object | None = None,
    round_to: float = 100.0,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
) -> tuple[float, ...]:
    """Spend thresholds that put about ``member_shares`` of active members in each tier.

    Active members are those with a transaction in the trailing
    ``qualification_months`` before the analysis date; the threshold of tier
    ``k`` is the quantile of their trailing net spend at the cumulative share of
    the lower tiers, rounded to ``round_to`` CNY.

    Returns
    -------
    tuple of float
        Thresholds for :class:`TierPolicy` (first is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": list("abcdefghij"),
    ...     "timestamp": pd.to_datetime(["2024-03-01"] * 10),
    ...     "amount": [100.0, 200, 300, 400, 500, 600, 700, 800, 900, 1000]})
    >>> suggest_thresholds(tx, (0.5, 0.3, 0.2), round_to=10)
    (0.0, 550.0, 820.0)
    """
    shares = np.asarray(member_shares, dtype="float64")
    if shares.ndim != 1 or len(shares) < 2 or np.any(shares <= 0) or not np.isclose(shares.sum(), 1.0):
        raise WorkbookInputError(
            f"member_shares must be at least two positive shares summing to 1, got {tuple(member_shares)}."
        )
    if not round_to > 0:
        raise WorkbookInputError(f"round_to must be positive, got {round_to}.")
    tx, date = _prepare_transactions(
        transactions,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        analysis_date=analysis_date,
    )
    tx = tx.loc[tx["ts"] >= date - pd.DateOffset(months=qualification_months)]
    if tx.empty:
        raise WorkbookInputError(
            f"No member transactions in the {qualification_months} months before {date}."
        )
    spend = tx.groupby("member_id")["amount"].sum().to_numpy()
    q = np.quantile(spend, np.cumsum(shares)[:-1])
    t = np.round(q / round_to) * round_to
    thresholds = (0.0, *(float(v) for v in t))
    if not all(b > a for a, b in zip(thresholds, thresholds[1:], strict=False)):
        raise WorkbookInputError(
            f"The suggested thresholds {thresholds} are not strictly increasing (too few members or "
            f"round_to={round_to} too coarse); use a smaller round_to or other shares."
        )
    return thresholds
