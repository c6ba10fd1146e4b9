"""Membership lifecycle stages at an analysis date, and transitions between two dates.

Every member gets exactly one stage (潜在/新客/活跃/忠诚/沉睡/流失/回流), decided
from the per-member facts of :func:`workbook.aggregate.member_summary` with the
thresholds of :class:`LifecycleRules` (all in whole days, as ``recency_days``):

============  ======  ===================================================================
stage         中文    rule (defaults)
============  ======  ===================================================================
potential     潜在    registered before the analysis date, never bought
new           新客    active, first purchase less than ``new_days`` (90) days ago
reactivated   回流    active, and the gap between the last two purchase *days* was at
                      least ``reactivation_gap_days`` (180): the member had lapsed and came
                      back (two receipts on the day of return count as one visit)
loyal         忠诚    active, at least ``loyal_min_purchases`` (4) purchases in the last
                      ``loyal_window_days`` (365) days
active        活跃    last purchase less than ``active_days`` (90) days ago, none of the above
sleeping      沉睡    last purchase ``active_days`` to ``sleeping_days`` - 1 (90-179) days ago
churned       流失    last purchase ``sleeping_days`` (180) or more days ago
============  ======  ===================================================================

Among active members the first matching row wins: new, then reactivated, then
loyal, then active.  :func:`stage_definitions` renders this table for any rules,
so the text shown to trainees always matches the thresholds used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from workbook.aggregate import member_summary
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.ids import increasing, order_keys, run_starts
from workbook.transactions import DAY
from workbook.validation import (
    format_rows,
    require_choice,
    require_columns,
    require_dataframe,
    require_datetime,
)

#: Stage codes in display order.
STAGES = ["potential", "new", "active", "loyal", "reactivated", "sleeping", "churned"]
_STAGE_ZH = {
    "potential": "潜在",
    "new": "新客",
    "active": "活跃",
    "loyal": "忠诚",
    "reactivated": "回流",
    "sleeping": "沉睡",
    "churned": "流失",
}
#: Row label in transition matrices for members who did not exist yet at the first date.
NOT_PRESENT = "not_present"
_NOT_PRESENT_ZH = "尚未出现"

STAGE_DTYPE = pd.CategoricalDtype(STAGES, ordered=True)
STAGE_ZH_DTYPE = pd.CategoricalDtype([_STAGE_ZH[s] for s in STAGES], ordered=True)

STAGE_COLUMNS = [
    "stage",
    "stage_zh",
    "recency_days",
    "tenure_days",
    "gap_days",
    "n_purchases",
    "n_purchases_window",
]


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the lifecycle stages, in whole days (see the module table).

    Parameters
    ----------
    new_days : int, default 90
        An active member whose first purchase is fewer days ago is *new*.
    active_days : int, default 90
        Last purchase fewer days ago: active (or new / loyal / reactivated).
    sleeping_days : int, default 180
        Last purchase ``active_days`` .. ``sleeping_days - 1`` days ago: sleeping;
        ``sleeping_days`` or more: churned.  Must exceed ``active_days``.
    loyal_min_purchases : int, default 4
        Purchases within ``loyal_window_days`` that make an active member loyal.
    loyal_window_days : int, default 365
        Window for ``loyal_min_purchases``.
    reactivation_gap_days : int, default 180
        An active member whose last two purchase days are at least this many
        days apart has come back after lapsing: reactivated.  Must be at least
        ``active_days`` (a shorter gap is ordinary activity).

    Examples
    --------
    >>> LifecycleRules(active_days=60, sleeping_days=120).sleeping_days
    120
    >>> LifecycleRules(active_days=200)
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: LifecycleRules: active_days (200) must be smaller than sleeping_days (180).
    """

    new_days: int = 90
    active_days: int = 90
    sleeping_days: int = 180
    loyal_min_purchases: int = 4
    loyal_window_days: int = 365
    reactivation_gap_days: int = 180

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise WorkbookInputError(
                    f"LifecycleRules: {name} must be a positive whole number, got {value!r}.",
                    message_zh=f"{name}（笔记本参数 {name.upper()}）必须是正整数天数，现在是 {value!r}。",
                )
        if self.active_days >= self.sleeping_days:
            raise WorkbookInputError(
                f"LifecycleRules: active_days ({self.active_days}) must be smaller than "
                f"sleeping_days ({self.sleeping_days}).",
                message_zh=f"ACTIVE_DAYS（活跃天数，现在 {self.active_days}）必须小于 SLEEPING_DAYS"
                f"（流失天数，现在 {self.sleeping_days}）：例如 ACTIVE_DAYS 在 30–{self.sleeping_days - 1} 之间。",
            )
        if self.reactivation_gap_days < self.active_days:
            raise WorkbookInputError(
                f"LifecycleRules: reactivation_gap_days ({self.reactivation_gap_days}) must be at "
                f"least active_days ({self.active_days}); a shorter gap is not a lapse."
            )
        if self.loyal_min_purchases < 2:
            raise WorkbookInputError(
                f"LifecycleRules: loyal_min_purchases must be at least 2, got {self.loyal_min_purchases}."
            )


def stage_definitions(rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Bilingual definition of every stage, with the thresholds of ``rules`` filled in.

    Parameters
    ----------
    rules : LifecycleRules, optional
        Default :class:`LifecycleRules()`.

    Returns
    -------
    DataFrame
        Columns ``stage``, ``stage_zh``, ``definition``, ``定义``, one row per
        stage in :data:`STAGES` order.

    Examples
    --------
    >>> stage_definitions().set_index("stage").loc["sleeping", "definition"]
    'last purchase 90 to 179 days ago'
    """
    r = rules or LifecycleRules()
    en = {
        "potential": "registered, never bought",
        "new": f"first purchase fewer than {r.new_days} days ago (and active)",
        "active": f"last purchase fewer than {r.active_days} days ago, not new, reactivated or loyal",
        "loyal": (
            f"active, at least {r.loyal_min_purchases} purchases in the last "
            f"{r.loyal_window_days} days"
        ),
        "reactivated": (
            f"active, and at least {r.reactivation_gap_days} days between the last two purchase days"
        ),
        "sleeping": f"last purchase {r.active_days} to {r.sleeping_days - 1} days ago",
        "churned": f"last purchase {r.sleeping_days} or more days ago",
    }
    zh = {
        "potential": "已注册，从未购买",
        "new": f"首次购买距今不足{r.new_days}天（且活跃）",
        "active": f"最近一次购买距今不足{r.active_days}天，且不属于新客、回流或忠诚",
        "loyal": f"活跃，且近{r.loyal_window_days}天内购买至少{r.loyal_min_purchases}次",
        "reactivated": f"活跃，且最近两个购买日间隔至少{r.reactivation_gap_days}天（流失后回来）",
        "sleeping": f"最近一次购买距今{r.active_days}至{r.sleeping_days - 1}天",
        "churned": f"最近一次购买距今{r.sleeping_days}天或更久",
    }
    return pd.DataFrame(
        {
            "stage": STAGES,
            "stage_zh": [_STAGE_ZH[s] for s in STAGES],
            "definition": [en[s] for s in STAGES],
            "定义": [zh[s] for s in STAGES],
        }
    )


#: Stage codes, Chinese labels and definitions under the default rules.
STAGE_LABELS = stage_definitions()


def _arrow_ids(values: object) -> object:
    """``values`` as one contiguous Arrow array (no copy for Arrow-backed pandas columns)."""
    import pyarrow as pa

    arr = pa.array(values)  # a ChunkedArray for Arrow-backed pandas columns
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _sorted_ids(ids: object) -> tuple[np.ndarray, object, np.ndarray]:
    """One stable Arrow sort of ``ids``: the order, the sorted ids and where each new value starts.

    Sorting string ids is several times cheaper than hashing them in Arrow
    (``unique``/``index_in``) and than pandas' ``duplicated``.
    """
    import pyarrow.compute as pc

    order = pc.sort_indices(ids).to_numpy()
    ordered = ids.take(order)
    return order, ordered, run_starts(ordered)


def _has_duplicates(ids: pd.Series) -> bool:
    """True if an id occurs twice (the rows are only looked up when there is something to report)."""
    import pyarrow as pa

    try:
        keys = order_keys(ids)
        if keys is not None:  # fixed-width ids: integers; a member table in id order needs no sort
            return not increasing(keys[0]) and len(np.unique(keys[0])) < len(ids)
        if increasing(ids):
            return False  # a member table in id order: no sort needed
        return not _sorted_ids(_arrow_ids(ids))[2].all()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return bool(ids.duplicated().any())


def _check_members(members: pd.DataFrame, member_col: str, join_col: str) -> None:
    require_dataframe(members, "members")
    require_columns(members, [member_col, join_col], "members")
    require_datetime(members, join_col, "members")
    ids = members[member_col]
    missing = ids.isna()
    if missing.any():
        raise WorkbookInputError(
            f"Column {member_col!r} of members has missing ids at {format_rows(members.index[missing])}."
        )
    if _has_duplicates(ids):
        dup = ids.duplicated(keep=False)
        raise WorkbookInputError(
            f"Column {member_col!r} of members has duplicate ids at {format_rows(members.index[dup])}, "
            f"e.g. {ids[dup].iloc[0]!r}; each member must appear once."
        )


def _sorted_union(buyers: pd.Index, registered: pd.Series | None) -> tuple[pd.Index, np.ndarray]:
    """Sorted union of buyer and registered member ids, and each buyer's position in it.

    Ids of one byte length are joined on their integer keys
    (:func:`workbook.ids.order_keys`): one ``searchsorted`` when the member
    table is in id order and holds every buyer, else one integer ``np.unique``.
    Other text ids: equal neighbours of one Arrow sort of all the ids are merged
    (see :func:`_sorted_ids`).  Ids Arrow cannot type fall back to one sorted
    factorisation.
    """
    import pyarrow as pa

    try:
        b = _arrow_ids(buyers)
        parts = [b] if registered is None or len(registered) == 0 else [b, _arrow_ids(registered).cast(b.type)]
        keys = order_keys(*parts)
        if keys is not None:  # fixed-width ids: integer keys instead of string comparisons
            if len(keys) == 2 and increasing(keys[1]):
                # the usual case: a member table in id order that holds every buyer
                at = np.searchsorted(keys[1], keys[0])
                if (at < len(keys[1])).all() and (keys[1][at] == keys[0]).all():
                    return pd.Index(parts[1].to_pandas(), name="member_id"), at
            _, first, position = np.unique(np.concatenate(keys), return_index=True, return_inverse=True)
            uniq = pa.concat_arrays(parts).take(pa.array(first))
            return pd.Index(uniq.to_pandas(), name="member_id"), position.reshape(-1)[: len(b)]
        ids = pa.concat_arrays(parts)
        order, ordered, is_first = _sorted_ids(ids)
        group = np.cumsum(is_first) - 1
        position = np.empty(len(ids), dtype=np.intp)
        position[order] = group
        uniq = ordered.filter(pa.array(is_first))
        return pd.Index(uniq.to_pandas(), name="member_id"), position[: len(b)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        ids = buyers.to_numpy()
        if registered is not None and len(registered):
            ids = np.concatenate([ids, registered.to_numpy()])
        codes, uniq = pd.factorize(pd.Series(ids), sort=True)
        return pd.Index(uniq, name="member_id"), codes[: len(buyers)]


def stages_from_summary(
    summary: pd.DataFrame,
    members: pd.DataFrame | None = None,
    rules: LifecycleRules | None = None,
    *,
    member_col: str = "member_id",
    join_col: str = "join_date",
) -> pd.DataFrame:
    """Lifecycle stages from an existing member summary.

    Use this to share one :func:`workbook.aggregate.member_summary` pass with
    RFM.  The summary must have been computed with
    ``window_days=rules.loyal_window_days`` (365 by default).

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`workbook.aggregate.member_summary`; its
        ``attrs["analysis_date"]`` is the analysis date.
    members, rules, member_col, join_col
        As in :func:`lifecycle_stages`.

    Returns
    -------
    DataFrame
        As :func:`lifecycle_stages`.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.aggregate import member_summary
    >>> tx = pd.DataFrame({"member_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-06-01"]), "amount": [10.0, 5.0]})
    >>> stages_from_summary(member_summary(tx))["stage"].tolist()
    ['sleeping', 'new']
    """
    rules = rules or LifecycleRules()
    if not isinstance(rules, LifecycleRules):
        raise WorkbookInputError(f"rules must be a LifecycleRules, got {type(rules).__name__}.")
    if not isinstance(summary, pd.DataFrame):
        raise WorkbookInputError(f"summary must be a pandas DataFrame, got {type(summary).__name__}.")
    require_columns(
        summary,
        ["first_purchase", "last_purchase", "prev_purchase_day", "n_purchases", "n_purchases_window",
         "recency_days", "tenure_days"],
        "summary",
    )  # fmt: skip
    date = summary.attrs.get("analysis_date")
    if date is None:
        raise WorkbookInputError(
            "summary has no attrs['analysis_date']; compute it with workbook.aggregate.member_summary."
        )
    registered = None
    if members is not None:
        _check_members(members, member_col, join_col)
        registered = members.loc[members[join_col] < date, member_col]
    if len(summary) == 0 and (registered is None or len(registered) == 0):
        raise WorkbookInputError(
            f"No member had registered or bought before the analysis date {date}; "
            "choose a later analysis_date."
        )
    uniq, pos = _sorted_union(summary.index, registered)
    n = len(uniq)

    def scatter(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n, fill, dtype="float64")
        out[pos] = values
        return out

    rec = scatter(summary["recency_days"].to_numpy(dtype="float64"), np.nan)
    ten = scatter(summary["tenure_days"].to_numpy(dtype="float64"), np.nan)
    # Days between the last two purchase *days* (calendar days, not receipts).
    gap_td = (summary["last_purchase"].dt.floor("D") - summary["prev_purchase_day"]) // DAY
    gap = scatter(gap_td.to_numpy(dtype="float64", na_value=np.nan), np.nan)
    n_all = scatter(summary["n_purchases"].to_numpy(dtype="float64"), 0.0).astype("int64")
    n_win = scatter(summary["n_purchases_window"].to_numpy(dtype="float64"), 0.0).astype("int64")

    never = np.isnan(rec)
    active = rec < rules.active_days  # NaN compares False
    conditions = [
        never,
        active & (ten < rules.new_days),
        active & (gap >= rules.reactivation_gap_days),
        active & (n_win >= rules.loyal_min_purchases),
        active,
        rec < rules.sleeping_days,
    ]
    choices = [STAGES.index(s) for s in ["potential", "new", "reactivated", "loyal", "active", "sleeping"]]
    stage_codes = np.select(conditions, choices, default=STAGES.index("churned"))

    def nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
        missing = np.isnan(values)
        return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)

    out = pd.DataFrame(
        {
            "stage": pd.Categorical.from_codes(stage_codes, dtype=STAGE_DTYPE),
            "stage_zh": pd.Categorical.from_codes(stage_codes, dtype=STAGE_ZH_DTYPE),
            "recency_days": nullable(rec),
            "tenure_days": nullable(ten),
            "gap_days": nullable(gap),
            "n_purchases": n_all,
            "n_purchases_window": n_win,
        },
        index=uniq,
    )
    out.attrs["analysis_date"] = date
    out.attrs["rules"] = rules
    return out[STAGE_COLUMNS]


@renamed_arguments(positional=("analysis_date", "rules",))
def lifecycle_stages(
    transactions: object,
    members: pd.DataFrame | None = None,
    *,
    analysis_date: object | None = None,
    rules: LifecycleRules | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    join_col: str = "join_date",
    engine: str | None = None,
) -> pd.DataFrame:
    """Lifecycle stage of every member at the analysis date.

    Parameters
    ----------
    transactions : DataFrame (or anything :func:`workbook.aggregate.member_summary` accepts)
        Tidy transactions.  Not modified.
    members : DataFrame, optional
        Member register with ``member_col`` and ``join_col``; members who
        registered before the analysis date and never bought are *potential*.
        Without it only buyers are classified.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    rules : LifecycleRules, optional
        Thresholds; default :class:`LifecycleRules()` (see the module table).
    member_col, time_col, amount_col, return_col, join_col : str
        Column names.
    engine : {None, "pandas", "duckdb", "spark"}
        Passed to :func:`workbook.aggregate.member_summary`.

    Returns
    -------
    DataFrame
        One row per member (index ``member_id``, sorted), columns ``stage``
        (ordered categorical, codes :data:`STAGES`), ``stage_zh`` (Chinese
        label), ``recency_days``, ``tenure_days``, ``gap_days`` (days between
        the last two purchase days), all nullable ``Int64`` (missing for potential
        members, or for ``gap_days`` members who bought on one day only),
        ``n_purchases`` and ``n_purchases_window``.
        ``attrs`` hold ``analysis_date`` and ``rules``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2023-01-05", "2024-05-20", "2024-03-01", "2023-06-01"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> members = pd.DataFrame({"member_id": ["a", "b", "c", "d"],
    ...     "join_date": pd.to_datetime(["2023-01-01", "2024-02-01", "2023-05-01", "2024-05-01"])})
    >>> st = lifecycle_stages(tx, members, analysis_date="2024-06-01")
    >>> st["stage"].tolist(), st["stage_zh"].tolist()
    (['reactivated', 'sleeping', 'churned', 'potential'], ['回流', '沉睡', '流失', '潜在'])
    """
    rules = rules or LifecycleRules()
    if not isinstance(rules, LifecycleRules):
        raise WorkbookInputError(f"rules must be a LifecycleRules, got {type(rules).__name__}.")
    summary = member_summary(
        transactions,
        analysis_date=analysis_date,
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        window_days=rules.loyal_window_days,
        engine=engine,
    )
    return stages_from_summary(summary, members, rules, member_col=member_col, join_col=join_col)


@renamed_arguments(date_to="analysis_date")
def stage_transitions(
    transactions: object,
    members: pd.DataFrame | None = None,
    *,
    date_from: object,
    analysis_date: object | None = None,
    rules: LifecycleRules | None = None,
    normalize: bool | str = False,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    join_col: str = "join_date",
    engine: str | None = None,
) -> pd.DataFrame:
    """How many members moved from each stage at ``date_from`` to each stage at ``analysis_date``.

    Parameters
    ----------
    transactions, members, rules, member_col, time_col, amount_col, return_col, join_col, engine
        As in :func:`lifecycle_stages`.
    date_from : date-like
        The earlier analysis date.
    analysis_date : date-like, optional
        The later analysis date (default: midnight after the last transaction
        day); formerly ``date_to``.
    normalize : {False, "index", "all"}
        ``False``: member counts; ``"index"`` (or ``True``): each row divided by
        its total (share of the stage-``date_from`` members who ended in each
        stage; NaN for empty rows); ``"all"``: divided by the grand total.

    Returns
    -------
    DataFrame
        Wide matrix: index ``stage_from`` (:data:`STAGES`, preceded by
        ``"not_present"`` for members who had neither registered nor bought
        by ``date_from``), columns ``stage_to`` (:data:`STAGES`); every stage
        appears even when empty.  ``attrs`` hold ``date_from`` and ``date_to``
        (the analysis date).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"member_id": ["a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-01-15", "2024-05-20"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> m = stage_transitions(tx, date_from="2024-02-01", analysis_date="2024-06-01")
    >>> int(m.loc["new", "sleeping"]), int(m.loc["new", "active"])
    (1, 1)
    """
    if normalize is True:
        normalize = "index"
    require_choice(normalize, [False, "index", "all"], "normalize")
    kwargs = dict(
        member_col=member_col,
        time_col=time_col,
        amount_col=amount_col,
        return_col=return_col,
        join_col=join_col,
        engine=engine,
    )
    after = lifecycle_stages(transactions, members, analysis_date=analysis_date, rules=rules, **kwargs)
    d_to = after.attrs["analysis_date"]
    try:
        d_from = pd.Timestamp(date_from)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"date_from={date_from!r} is not a date.") from exc
    if getattr(d_to, "tzinfo", None) is not None and d_from.tzinfo is None:
        d_from = d_from.tz_localize(d_to.tzinfo)
    if not d_from < d_to:
        raise WorkbookInputError(f"date_from ({d_from}) must be before date_to = analysis_date ({d_to}).")
    before = lifecycle_stages(transactions, members, analysis_date=d_from, rules=rules, **kwargs)
    frm = before["stage"].astype("str").reindex(after.index).fillna(NOT_PRESENT)
    rows = pd.CategoricalDtype([NOT_PRESENT, *STAGES], ordered=True)
    matrix = pd.crosstab(
        pd.Categorical(frm.to_numpy(), dtype=rows), after["stage"].to_numpy(), dropna=False
    )
    matrix = matrix.reindex(index=rows.categories, columns=STAGES, fill_value=0).astype("int64")
    if normalize == "index":
        totals = matrix.sum(axis=1)
        matrix = matrix.div(totals.where(totals > 0), axis=0)
    elif normalize == "all":
        matrix = matrix / matrix.to_numpy().sum()
    matrix.index = pd.Index(list(rows.categories), name="stage_from", dtype="str")
    matrix.columns = pd.Index(STAGES, name="stage_to", dtype="str")
    matrix.attrs["date_from"] = d_from
    matrix.attrs["date_to"] = d_to
    matrix.attrs["normalize"] = normalize
    return matrix


def stage_label(stage: str, language: str = "both") -> str:
    """Display label of a stage code: ``"活跃 active"`` (``language="both"``), ``"活跃"`` or ``"active"``.

    Examples
    --------
    >>> stage_label("sleeping")
    '沉睡 sleeping'
    """
    require_choice(language, ["both", "zh", "en"], "language")
    zh = _STAGE_ZH.get(stage, _NOT_PRESENT_ZH if stage == NOT_PRESENT else stage)
    en = stage.replace("_", " ")
    return {"both": f"{zh} {en}", "zh": zh, "en": en}[language]
