"""The one column-spec table of the synthetic data set.

:data:`COLUMNS` drives the dtype checks (:func:`require_schema`), the dtype
restoration when loading (:func:`coerce_frame`) and the data dictionary
written to ``datasets/README.md`` (:func:`data_dictionary_markdown`), so the
documentation and the code cannot disagree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError


class Column(NamedTuple):
    """One column: table, name, dtype (pandas), unit, nullable, meaning."""

    table: str
    name: str
    dtype: str
    unit: str
    nullable: bool
    meaning: str


TABLES = ("members", "transactions", "stores", "store_traffic", "campaigns", "truth")

TABLE_DESCRIPTIONS = {
    "members": "One row per registered member (some never buy).",
    "transactions": "One row per receipt: member purchases, returns, non-member walk-in sales "
    "(and for the gym preset, visits and monthly fees).  Sorted by timestamp.",
    "stores": "One row per physical store (club for the gym preset).",
    "store_traffic": "Door counter: visitors per store and calendar day (conversion = receipts / visitors).",
    "campaigns": "Marketing calendar: holiday promotions, reactivation campaigns, programme launches, experiments.",
    "truth": "Ground truth of the generator, one row per member: the latent parameters an analyst tries to estimate. "
    "Not available in real data.",
}

_T = "datetime64[us]"

COLUMNS: tuple[Column, ...] = (
    # members
    Column("members", "member_id", "str", "", False, "Member identifier, e.g. M0000001."),
    Column("members", "name", "str", "", False, "Full name (Faker, fictitious)."),
    Column("members", "phone", "str", "", False, "Mobile phone number (fictitious)."),
    Column("members", "email", "str", "", False, "E-mail address (fictitious)."),
    Column("members", "gender", "str", "", False, "'F' or 'M'."),
    Column("members", "birth_date", _T, "date", False, "Date of birth."),
    Column("members", "join_date", _T, "timestamp", False, "Registration time; before the first purchase."),
    Column("members", "acquisition_channel", "str", "", False,
           "store_walk_in, wechat_mini_program, app, ecommerce, referral or offline_event."),
    Column("members", "home_store_id", "str", "", False, "Store the member registered with (stores.store_id)."),
    Column("members", "tier", "str", "", False,
           "Tier at the end of the period from trailing 12-month net spend: member, silver, gold, platinum "
           "(普通/银卡/金卡/白金卡)."),
    # transactions
    Column("transactions", "transaction_id", "str", "", False, "Receipt identifier in time order, e.g. T000000001."),
    Column("transactions", "member_id", "str", "", True, "Member (members.member_id); missing for non-member walk-in sales."),
    Column("transactions", "store_id", "str", "", False,
           "Store (stores.store_id); online orders are attributed to the member's home store (fulfilment)."),
    Column("transactions", "timestamp", _T, "local time", False, "Time of the receipt, no time zone."),
    Column("transactions", "amount", "float64", "CNY", False,
           "Amount actually paid after discounts; negative for returns; 0 for gym visits."),
    Column("transactions", "items", "int64", "items", False, "Number of items (negative for returns, 0 for gym visits)."),
    Column("transactions", "discount", "float64", "CNY", False,
           "Discount granted: promotion plus redeemed points (100 points = 1 CNY)."),
    Column("transactions", "points_earned", "int64", "points", False,
           "Points earned (negative clawback on returns)."),
    Column("transactions", "points_redeemed", "int64", "points", False, "Points redeemed."),
    Column("transactions", "channel", "str", "", False, "'offline' or 'online'."),
    Column("transactions", "is_return", "bool", "", False, "True for a return of an earlier purchase."),
    Column("transactions", "kind", "str", "", False,
           "'purchase' (retail, e-commerce), 'visit' or 'fee' (gym: check-ins and monthly fees)."),
    # stores
    Column("stores", "store_id", "str", "", False, "Store identifier, e.g. S01."),
    Column("stores", "city", "str", "", False, "City."),
    Column("stores", "size", "str", "", False, "'small', 'medium' or 'large'."),
    Column("stores", "points_programme", "bool", "", False,
           "True if the store is in the points programme (retail_chain case study)."),
    # store_traffic
    Column("store_traffic", "store_id", "str", "", False, "Store (stores.store_id)."),
    Column("store_traffic", "date", _T, "date", False, "Calendar day."),
    Column("store_traffic", "visitors", "int64", "people", False,
           "Door count: visitors entering the store that day (>= offline receipts)."),
    # campaigns
    Column("campaigns", "campaign_id", "str", "", False, "Campaign identifier, e.g. C001."),
    Column("campaigns", "kind", "str", "", False,
           "holiday_promo, reactivation, points_programme or experiment."),
    Column("campaigns", "name", "str", "", False, "Human-readable name, e.g. double_11_2024."),
    Column("campaigns", "start", _T, "date", False, "First day (included)."),
    Column("campaigns", "end", _T, "date", False, "Last day (included)."),
    Column("campaigns", "target_segment", "str", "", False,
           "all, churned, programme_stores or randomised_new_members."),
    # truth
    Column("truth", "member_id", "str", "", False, "Member (members.member_id)."),
    Column("truth", "purchase_rate_per_day", "float64", "1/day", False,
           "Latent purchase rate lambda while alive (average over the calendar; includes the store multiplier, "
           "excludes planted effects)."),
    Column("truth", "dropout_prob", "float64", "probability", False,
           "Latent probability of dropping out after each repeat purchase (after any treatment effect)."),
    Column("truth", "spend_mean", "float64", "CNY", False,
           "Latent mean amount per purchase (Gamma-Gamma: gg_p / nu); the monthly fee for the gym."),
    Column("truth", "first_purchase_lag_days", "float64", "days", True,
           "Delay from registration to first purchase; missing for members who never buy."),
    Column("truth", "first_purchase", _T, "timestamp", True,
           "Time of the first purchase; missing if never or after the period."),
    Column("truth", "churn_time", _T, "timestamp", True,
           "Time of the purchase after which the member dropped out for good (no transaction after it); "
           "missing if alive at the end or never started."),
    Column("truth", "alive_at_end", "bool", "", False,
           "Made a first purchase and had not dropped out at the end of the period."),
    Column("truth", "reactivated_at", _T, "timestamp", True,
           "First purchase of the last new life started by a reactivation campaign; missing if never reactivated."),
    Column("truth", "n_purchases", "int64", "purchases", False,
           "Purchases (non-return transactions) generated in the period, first purchase included."),
    Column("truth", "points_programme", "bool", "", False, "Home store is in the points programme."),
    Column("truth", "retention_treated", "bool", "", False,
           "Randomly assigned to the retention treatment (recommendations / coach follow-up)."),
)


def columns_of(table: str) -> list[Column]:
    """Column specs of one table, in order.

    Examples
    --------
    >>> [c.name for c in columns_of("stores")]
    ['store_id', 'city', 'size', 'points_programme']
    """
    if table not in TABLES:
        raise WorkbookInputError(f"table={table!r} is unknown; choose one of {list(TABLES)}.")
    return [c for c in COLUMNS if c.table == table]


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    if dtype == "str":
        return isinstance(series.dtype, pd.StringDtype)
    return str(series.dtype) == dtype


def require_schema(df: pd.DataFrame, table: str) -> None:
    """Raise :class:`WorkbookInputError` unless ``df`` has exactly the spec's columns and dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> require_schema(pd.DataFrame({"store_id": ["S01"]}), "stores")
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: stores has columns ['store_id'], expected ['store_id', 'city', 'size', 'points_programme'].
    """
    specs = columns_of(table)
    expected = [c.name for c in specs]
    if list(df.columns) != expected:
        raise WorkbookInputError(f"{table} has columns {list(df.columns)}, expected {expected}.")
    for c in specs:
        if not _dtype_ok(df[c.name], c.dtype):
            raise WorkbookInputError(f"Column {c.name!r} of {table} has dtype {df[c.name].dtype}, expected {c.dtype}.")
        if not c.nullable and df[c.name].isna().any():
            rows = list(df.index[df[c.name].isna()][:5])
            raise WorkbookInputError(f"Column {c.name!r} of {table} has missing values at rows {rows}.")


def coerce_frame(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``df`` restricted to the spec's columns, cast to the spec's dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"store_id": ["S01"], "city": ["上海"], "size": ["large"], "points_programme": [1]})
    >>> coerce_frame(df, "stores").dtypes["points_programme"]
    dtype('bool')
    """
    specs = columns_of(table)
    missing = [c.name for c in specs if c.name not in df.columns]
    if missing:
        raise WorkbookInputError(f"{table} is missing column(s) {missing}; it has {list(df.columns)}.")
    out = {}
    for c in specs:
        s = df[c.name]
        if c.dtype == "str":
            out[c.name] = s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")
        elif c.dtype.startswith("datetime64"):
            out[c.name] = pd.to_datetime(s).astype(c.dtype)
        else:
            out[c.name] = s.astype(c.dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def data_dictionary_markdown() -> str:
    """The data dictionary (Markdown tables, one per table) generated from :data:`COLUMNS`."""
    lines: list[str] = []
    for table in TABLES:
        lines += [f"### `{table}`", "", TABLE_DESCRIPTIONS[table], ""]
        lines += ["| column | type | unit | may be missing | meaning |", "|---|---|---|---|---|"]
        for c in columns_of(table):
            lines.append(
                f"| `{c.name}` | {c.dtype} | {c.unit or '-'} | {'yes' if c.nullable else 'no'} | {c.meaning} |"
            )
        lines.append("")
    return "\n".join(lines)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the spec's columns and dtypes."""
    data = {}
    for c in columns_of(table):
        data[c.name] = pd.Series(np.array([], dtype=object), dtype=c.dtype) if c.dtype == "str" else pd.Series(
            [], dtype=c.dtype
        )
    return pd.DataFrame(data)
