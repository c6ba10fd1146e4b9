"""Small helpers for the three case-study notebooks (points programme, recommendations, gym).

Each case study asks "did the intervention work, and by how much?".  The
helpers here turn the tidy tables into the shape the estimators in
:mod:`workbook.causal`, :mod:`workbook.experiments` and :mod:`workbook.survival`
need, and compute the *true* effect of a synthetic data set so that a
notebook can check an estimate against it:

* :func:`without_effects` gives the same scenario with every planted effect
  switched off.  Generated with the same seed it is a "parallel world": the
  same stores, the same members with the same latent parameters and the same
  treatment assignment, only the behaviour after the intervention differs.
* :func:`true_effect` compares an outcome of the treated units after the
  change between the real data and the parallel world.  Member lives are
  random in both worlds, so this truth carries some simulation noise of its
  own (it is exact only in expectation).
* :func:`repeat_purchase_panel` builds the store x month panel for
  difference-in-differences, :func:`early_life_outcomes` the one-row-per-member
  outcomes of a randomised experiment on new members, :func:`fee_memberships`
  the membership durations of a fee-paying business and
  :func:`expected_fee_revenue` the fees a retention curve implies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbook.causal import repurchase_rate_by_period
from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.ids import ids_in, run_starts
from workbook.transactions import DAY, purchases
from workbook.validation import (
    format_rows,
    require_columns,
    require_dataframe,
    require_datetime,
    require_numeric,
    require_whole,
)

__all__ = [
    "early_life_outcomes",
    "expected_fee_revenue",
    "fee_memberships",
    "new_member_experiment",
    "repeat_purchase_panel",
    "true_effect",
    "without_effects",
]



def without_effects(scenario):
    """The same scenario with every planted causal effect switched off (:meth:`Scenario.without_effects`).

    Treatment assignment is kept (who is "treated" does not change), only the
    effect sizes become zero: ``points_rate_lift = 0`` and
    ``retention_dropout_reduction = 0``.  Generating it with the same seed
    gives a parallel world without the intervention.

    Parameters
    ----------
    scenario : workbook.synth.Scenario

    Returns
    -------
    workbook.synth.Scenario

    Examples
    --------
    >>> from workbook.synth import Scenario
    >>> s = without_effects(Scenario.preset("gym"))
    >>> s.effects.retention_treatment, s.effects.retention_dropout_reduction
    ('coach_follow_up', 0.0)
    >>> s.monthly_fee_cny == Scenario.preset("gym").monthly_fee_cny
    True
    """
    # Duck-typed, so this module does not import the generator.
    if not callable(getattr(scenario, "without_effects", None)):
        raise WorkbookInputError(f"scenario must be a workbook.synth.Scenario, got {type(scenario).__name__}.")
    return scenario.without_effects()


@renamed_arguments(positional=("analysis_date",))
def repeat_purchase_panel(
    transactions: pd.DataFrame,
    stores: pd.DataFrame,
    programme_col: str = "points_programme",
    freq: str = "M",
    *,
    analysis_date: object | None = None,
    store_col: str = "store_id",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    transaction_col: str = "transaction_id",
) -> pd.DataFrame:
    """Store x period panel of purchases and repeat purchases for difference-in-differences.

    A *repeat purchase* (复购) is any member purchase except the member's very
    first one in the data (ties on the timestamp are broken by
    ``transaction_col``).  With a real export that does not reach back to the
    start of the programme, early "first" purchases may be repeats; start the
    analysis a few months after the export begins.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    stores : DataFrame
        One row per store with ``store_col`` and the 0/1 ``programme_col``
        (store is in the programme).
    programme_col : str, default "points_programme"
    freq : {"M", "W"}
        Calendar months or weeks.
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.  Incomplete periods
        are dropped.

    Returns
    -------
    DataFrame
        One row per store and period: ``store_col``, ``period``, ``treated``
        (0/1), ``n_buyers``, ``repurchase_rate`` (share of buyers who bought
        on two or more days of the period, see
        :func:`workbook.causal.repurchase_rate_by_period`), ``n_purchases``,
        ``n_repeat_purchases``, ``log_repeat_purchases`` (natural log; a
        difference of 0.1 is about +10.5 %) and ``sales``.  Store-periods
        without any repeat purchase get ``log_repeat_purchases = NaN``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "transaction_id": ["t1", "t2", "t3", "t4"],
    ...     "member_id": ["a", "a", "b", "a"],
    ...     "store_id": ["s1", "s1", "s2", "s2"],
    ...     "timestamp": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-01-05", "2024-02-10"]),
    ...     "amount": [10.0, 12.0, 5.0, 6.0]})
    >>> stores = pd.DataFrame({"store_id": ["s1", "s2"], "points_programme": [True, False]})
    >>> repeat_purchase_panel(tx, stores, analysis_date="2024-03-01")[
    ...     ["store_id", "period", "treated", "n_purchases", "n_repeat_purchases"]]
      store_id     period  treated  n_purchases  n_repeat_purchases
    0       s1 2024-01-01        1            2                   1
    1       s2 2024-01-01        0            1                   0
    2       s2 2024-02-01        0            1                   1
    """
    require_dataframe(transactions, "transactions")
    require_dataframe(stores, "stores")
    require_columns(transactions, [transaction_col, member_col, store_col, time_col, amount_col], "transactions")
    require_columns(stores, [store_col, programme_col], "stores")
    require_datetime(transactions, time_col, "transactions")
    require_numeric(transactions, amount_col, "transactions")
    prog = stores[programme_col]
    bad = prog.isna() | ~prog.isin([0, 1])
    if bad.any():
        raise WorkbookInputError(
            f"Column {programme_col!r} of stores must be True/False (or 1/0); bad values at "
            f"{format_rows(stores.index[bad])}."
        )
    if stores[store_col].duplicated().any():
        dup = stores.index[stores[store_col].duplicated(keep=False)]
        raise WorkbookInputError(f"Column {store_col!r} of stores has duplicated stores at {format_rows(dup)}.")
    kw = dict(member_col=member_col, time_col=time_col, amount_col=amount_col, return_col=return_col)
    base = repurchase_rate_by_period(transactions, store_col, freq, analysis_date=analysis_date, **kw)
    date = base.attrs["analysis_date"]
    # Positional labels, so the purchase rows can pick the caller's rows back.
    tx = transactions.reset_index(drop=True)
    rows, _ = purchases(tx, analysis_date=date, columns=[transaction_col], **kw)
    order = rows.sort_values(["member_id", "ts", transaction_col], kind="stable").index
    first = pd.Series(False, index=rows.index)
    first.loc[order] = ~rows.loc[order, "member_id"].duplicated().to_numpy()
    repeats = tx.loc[rows.index[~first.to_numpy()], [transaction_col, member_col, store_col, time_col, amount_col]]
    if repeats.empty:
        counts = base[[store_col, "period"]].assign(n_repeat_purchases=0)
    else:
        counts = repurchase_rate_by_period(repeats, store_col, freq, analysis_date=date, **kw)
        counts = counts[[store_col, "period", "n_purchases"]].rename(columns={"n_purchases": "n_repeat_purchases"})
    out = base.merge(counts, on=[store_col, "period"], how="left")
    out["n_repeat_purchases"] = out["n_repeat_purchases"].fillna(0).astype("int64")
    treated = stores.set_index(store_col)[programme_col].astype("int64")
    out["treated"] = out[store_col].map(treated)
    missing = out["treated"].isna()
    if missing.any():
        unknown = sorted(out.loc[missing, store_col].unique().tolist())[:5]
        raise WorkbookInputError(f"transactions have store(s) not in stores: {unknown}.")
    out["treated"] = out["treated"].astype("int64")
    with np.errstate(divide="ignore"):
        out["log_repeat_purchases"] = np.log(out["n_repeat_purchases"].where(out["n_repeat_purchases"] > 0))
    cols = [store_col, "period", "treated", "n_buyers", "repurchase_rate", "n_purchases",
            "n_repeat_purchases", "log_repeat_purchases", "sales"]
    out = out[cols]
    out.attrs.update(analysis_date=date, freq=freq)
    return out


def true_effect(
    actual: pd.DataFrame,
    counterfactual: pd.DataFrame,
    outcome_col: str,
    treated_col: str = "treated",
    change_date: object | None = None,
    *,
    time_col: str = "period",
    log_scale: bool = False,
) -> pd.DataFrame:
    """The effect on the treated: their outcome with the intervention minus without it.

    Compares the mean outcome of the treated rows (after ``change_date``, if
    given) in the real data with the same rows of a parallel world generated
    without the effect (:func:`without_effects`, same seed).  This is the
    number an estimator of the effect on the treated (difference-in-
    differences, an A/B test) tries to recover.

    Parameters
    ----------
    actual, counterfactual : DataFrame
        The same kind of table (e.g. from :func:`repeat_purchase_panel` or
        :func:`early_life_outcomes`) for the real data and the parallel world.
    outcome_col : str
        Numeric or 0/1 outcome.
    treated_col : str, default "treated"
        0/1 column; only rows with 1 are compared.
    change_date : date-like, optional
        Only rows with ``time_col >= change_date`` are compared.
    time_col : str, default "period"
    log_scale : bool, default False
        The outcome is a natural log; ``relative_effect`` is then
        ``exp(effect) - 1`` instead of ``effect / counterfactual_mean``.

    Returns
    -------
    DataFrame
        One row: ``actual_mean``, ``counterfactual_mean``, ``effect``
        (difference), ``relative_effect``, ``n_actual``, ``n_counterfactual``.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"treated": [1, 1, 0], "y": [0.30, 0.40, 0.20]})
    >>> c = pd.DataFrame({"treated": [1, 1, 0], "y": [0.25, 0.35, 0.20]})
    >>> true_effect(a, c, "y").round(3)[["actual_mean", "counterfactual_mean", "effect", "relative_effect"]]
       actual_mean  counterfactual_mean  effect  relative_effect
    0         0.35                  0.3    0.05            0.167
    """
    means, sizes = [], []
    for name, df in (("actual", actual), ("counterfactual", counterfactual)):
        require_dataframe(df, name)
        require_columns(df, [outcome_col, treated_col] + ([time_col] if change_date is not None else []), name)
        t = df[treated_col]
        bad = t.isna() | ~t.isin([0, 1])
        if bad.any():
            raise WorkbookInputError(
                f"Column {treated_col!r} of {name} must be True/False (or 1/0); bad values at "
                f"{format_rows(df.index[bad])}."
            )
        keep = t.astype(bool)
        if change_date is not None:
            keep &= df[time_col] >= pd.Timestamp(change_date)
        y = df.loc[keep, outcome_col]
        if pd.api.types.is_bool_dtype(y):
            y = y.astype("int64")
        if len(y) == 0:
            after = f" after {pd.Timestamp(change_date).date()}" if change_date is not None else ""
            raise WorkbookInputError(f"{name} has no treated rows{after}; nothing to compare.")
        require_numeric(pd.DataFrame({outcome_col: y}), outcome_col, name)
        means.append(float(y.mean()))
        sizes.append(int(len(y)))
    effect = means[0] - means[1]
    if log_scale:
        relative = float(np.expm1(effect))
    else:
        relative = effect / means[1] if means[1] else np.nan
    return pd.DataFrame([{
        "actual_mean": means[0], "counterfactual_mean": means[1], "effect": effect,
        "relative_effect": relative, "n_actual": sizes[0], "n_counterfactual": sizes[1],
    }])


def _first_purchases(buys: pd.DataFrame, transaction_col: str) -> pd.DataFrame:
    """Each member's first purchase (earliest time, then smallest transaction id), indexed by member, sorted.

    One Arrow sort by (member, time, transaction id) and a comparison of neighbours: with
    string ids, pandas' ``sort_values`` + ``drop_duplicates`` hashed every id twice (3 s for
    the 460 000 rows of case study 10; Arrow 0.3 s).  Ids Arrow cannot type go through pandas.
    """
    try:
        keys = pa.table({"m": pa.array(buys["member_id"].array), "ts": pa.array(buys["ts"].array),
                         "t": pa.array(buys[transaction_col].array)})
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        ordered = buys.sort_values(["member_id", "ts", transaction_col], kind="stable")
        return ordered.drop_duplicates("member_id").set_index("member_id")
    order = pc.sort_indices(keys, sort_keys=[("m", "ascending"), ("ts", "ascending"), ("t", "ascending")]).to_numpy()
    first = run_starts(keys.column("m").take(order))
    return buys.iloc[order[first]].set_index("member_id")


@renamed_arguments(positional=("analysis_date",))
def early_life_outcomes(
    transactions: pd.DataFrame,
    horizon_days: int = 180,
    active_from_days: int = 91,
    *,
    analysis_date: object | None = None,
    member_col: str = "member_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    return_col: str | None = "is_return",
    transaction_col: str = "transaction_id",
) -> pd.DataFrame:
    """What each member did in the first ``horizon_days`` after their first purchase.

    The outcomes of an experiment on new members, measured over the same
    follow-up for everyone.  The first purchase (and its amount) happens
    before the member could have been influenced by anything that starts
    afterwards, so ``first_amount`` can serve as the pre-period covariate of
    CUPED.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    horizon_days : int, default 180
        Follow-up length after the first purchase.
    active_from_days : int, default 91
        ``retained`` means at least one purchase in days
        ``[active_from_days, horizon_days)`` after the first purchase ("still
        buying in months 4-6").
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.

    Returns
    -------
    DataFrame
        Indexed by member: ``first_purchase``, ``first_amount``,
        ``repeat_purchases`` and ``repeat_spend`` (after the first purchase,
        within the horizon; spend net of returns in that window),
        ``repurchased`` (any repeat purchase in the horizon), ``retained``
        and ``complete`` (the whole horizon lies before the analysis date;
        analyse only complete rows).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "transaction_id": ["t1", "t2", "t3", "t4"],
    ...     "member_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-05-01", "2024-01-05"]),
    ...     "amount": [50.0, 20.0, 30.0, 80.0]})
    >>> early_life_outcomes(tx, analysis_date="2024-12-31")[
    ...     ["first_amount", "repeat_purchases", "repeat_spend", "retained", "complete"]]
    ... # doctest: +NORMALIZE_WHITESPACE
               first_amount  repeat_purchases  repeat_spend  retained  complete
    member_id
    a                  50.0                 2          50.0      True      True
    b                  80.0                 0           0.0     False      True
    """
    horizon_days = require_whole(horizon_days, "horizon_days")
    active_from_days = require_whole(active_from_days, "active_from_days")
    if active_from_days >= horizon_days:
        raise WorkbookInputError(
            f"active_from_days={active_from_days} must be smaller than horizon_days={horizon_days}."
        )
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=amount_col, return_col=return_col, include_returns=True,
                           columns=[transaction_col])
    tx = rows.reset_index(drop=True).assign(purchase=~rows["is_return"].to_numpy())
    if not tx["purchase"].any():
        raise WorkbookInputError("transactions have no member purchases before the analysis date.")
    firsts = _first_purchases(tx.loc[tx["purchase"]], transaction_col)
    first_time = tx["member_id"].map(firsts["ts"])
    elapsed = tx["ts"] - first_time
    in_horizon = first_time.notna() & (elapsed < horizon_days * DAY) & ~ids_in(tx[transaction_col], firsts[transaction_col]) & (
        elapsed >= pd.Timedelta(0))
    window = tx.loc[in_horizon]
    rep = window.loc[window["purchase"]]
    late = rep.loc[(rep["ts"] - first_time[rep.index]) >= active_from_days * DAY]
    out = pd.DataFrame(index=firsts.index)
    out["first_purchase"] = firsts["ts"]
    out["first_amount"] = firsts["amount"].astype("float64")
    out["repeat_purchases"] = rep.groupby("member_id").size().reindex(out.index, fill_value=0).astype("int64")
    out["repeat_spend"] = (
        window.groupby("member_id")["amount"].sum().reindex(out.index, fill_value=0.0).astype("float64")
    )
    out["repurchased"] = out["repeat_purchases"] > 0
    out["retained"] = ids_in(out.index, late["member_id"])
    out["complete"] = (out["first_purchase"] + horizon_days * DAY <= date).to_numpy()
    out.index.name = member_col
    out.attrs.update(analysis_date=date, horizon_days=horizon_days, active_from_days=active_from_days)
    return out


@renamed_arguments(positional=("analysis_date",))
def new_member_experiment(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    assignment: pd.DataFrame,
    start: object,
    horizon_days: int = 180,
    active_from_days: int = 91,
    *,
    analysis_date: object | None = None,
    treated_col: str = "retention_treated",
    member_col: str = "member_id",
    join_col: str = "join_date",
    segment_cols: tuple[str, ...] = ("acquisition_channel",),
    **kwargs,
) -> pd.DataFrame:
    """One row per member of a randomised experiment on new members, with outcomes and arm.

    Members who joined on or after ``start`` were randomised (``assignment``);
    their outcomes come from :func:`early_life_outcomes`.  Only members whose
    whole follow-up lies before the analysis date are kept, so every member
    is measured over the same ``horizon_days``.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions.  Not modified.
    members : DataFrame
        ``member_col``, ``join_col`` and the ``segment_cols``.
    assignment : DataFrame
        ``member_col`` and the True/False ``treated_col`` (the assignment log).
    start : date-like
        Start of the experiment.
    horizon_days, active_from_days, analysis_date
        As in :func:`early_life_outcomes`.
    **kwargs
        Column names passed on to :func:`early_life_outcomes`.

    Returns
    -------
    DataFrame
        The columns of :func:`early_life_outcomes` (complete rows only) plus
        ``join_col``, the ``segment_cols``, ``treated`` (0/1) and ``arm``
        (``"treatment"``/``"control"``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "transaction_id": ["t1", "t2", "t3", "t4"],
    ...     "member_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-05-01", "2024-01-05", "2023-12-01"]),
    ...     "amount": [50.0, 20.0, 80.0, 10.0]})
    >>> members = pd.DataFrame({"member_id": ["a", "b", "c"],
    ...     "join_date": pd.to_datetime(["2024-01-01", "2024-01-03", "2023-11-30"]),
    ...     "acquisition_channel": ["app", "app", "referral"]})
    >>> arms = pd.DataFrame({"member_id": ["a", "b", "c"], "retention_treated": [True, False, False]})
    >>> new_member_experiment(tx, members, arms, "2024-01-01", analysis_date="2024-12-31")[
    ...     ["arm", "retained"]]  # doctest: +NORMALIZE_WHITESPACE
                     arm  retained
    member_id
    a          treatment      True
    b            control     False
    """
    require_dataframe(members, "members")
    require_dataframe(assignment, "assignment")
    segment_cols = list(segment_cols)
    require_columns(members, [member_col, join_col] + segment_cols, "members")
    require_datetime(members, join_col, "members")
    require_columns(assignment, [member_col, treated_col], "assignment")
    t = assignment[treated_col]
    bad = t.isna() | ~t.isin([0, 1])
    if bad.any():
        raise WorkbookInputError(
            f"Column {treated_col!r} of assignment must be True/False; bad values at "
            f"{format_rows(assignment.index[bad])}."
        )
    for name, df in (("members", members), ("assignment", assignment)):
        dup = df[member_col].duplicated(keep=False)
        if dup.any():
            raise WorkbookInputError(f"Column {member_col!r} of {name} has duplicates at {format_rows(df.index[dup])}.")
    try:
        start_ts = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise WorkbookInputError(f"start={start!r} is not a date.") from exc
    outcomes = early_life_outcomes(
        transactions, horizon_days, active_from_days, analysis_date=analysis_date, member_col=member_col, **kwargs
    )
    info = members.set_index(member_col)[[join_col] + segment_cols]
    arm = assignment.set_index(member_col)[treated_col].astype(bool)
    out = outcomes.loc[outcomes["complete"]].join(info, how="inner")
    out = out.loc[out[join_col] >= start_ts]
    treated = arm.reindex(out.index)
    if treated.isna().any():
        raise WorkbookInputError(
            f"assignment has no arm for {int(treated.isna().sum())} experiment member(s), e.g. "
            f"{treated.index[treated.isna()][:3].tolist()}."
        )
    if out.empty:
        raise WorkbookInputError(
            f"No member joined on or after {start_ts.date()} with {horizon_days} days of follow-up "
            "before the analysis date."
        )
    out["treated"] = treated.astype("int64").to_numpy()
    out["arm"] = np.where(out["treated"] == 1, "treatment", "control")
    out.attrs.update(outcomes.attrs)
    return out


@renamed_arguments(positional=("analysis_date",))
def fee_memberships(
    transactions: pd.DataFrame,
    billing_cycle_days: int = 30,
    *,
    analysis_date: object | None = None,
    kind_col: str = "kind",
    fee_value: str = "fee",
    member_col: str = "member_id",
    time_col: str = "timestamp",
    grace_days: int = 5,
) -> pd.DataFrame:
    """First membership of each member of a fee-paying business (gym), from fee payments.

    Fees are paid every ``billing_cycle_days``.  A membership starts with the
    first fee and lasts while fees keep coming; it ends at the first billing
    date that was not paid (last fee + one cycle).  A later fee after a gap
    starts a *new* membership (a reactivation); only the first one is
    returned, so every member counts once.  A membership whose next billing
    date is after the analysis date is still running (censored at the
    analysis date).  One whose billing date has passed but whose grace
    period has not is undecided: the member may still pay late, so it is
    censored at the billing date (``in_grace``), not counted as churned.

    Parameters
    ----------
    transactions : DataFrame
        Tidy transactions with a ``kind_col`` column; rows equal to
        ``fee_value`` are fee payments.  Not modified.
    billing_cycle_days : int, default 30
    analysis_date : date-like, optional
        Default: midnight after the last transaction day.
    grace_days : int, default 5
        A fee paid up to this many days late still continues the membership.

    Returns
    -------
    DataFrame
        Indexed by member: ``start``, ``last_fee``, ``n_fees``, ``end``
        (first unpaid billing date, ``NaT`` while running), ``duration_days``
        (whole days from start to end, to the passed billing date while in
        grace, or to the analysis date), ``event`` (True = the membership
        ended), ``in_grace`` (billing date passed, grace period still open:
        censored) and ``reactivated`` (a later membership exists).  Ready for
        :func:`workbook.survival.km_curves`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "member_id": ["a", "a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-06-01",
    ...                                  "2024-05-01", "2024-05-31"]),
    ...     "kind": ["fee"] * 5})
    >>> fee_memberships(tx, analysis_date="2024-07-03")[
    ...     ["n_fees", "duration_days", "event", "in_grace", "reactivated"]]  # doctest: +NORMALIZE_WHITESPACE
               n_fees  duration_days  event  in_grace  reactivated
    member_id
    a               2             60   True     False         True
    b               2             60  False      True        False
    """
    cycle = require_whole(billing_cycle_days, "billing_cycle_days")
    require_whole(grace_days, "grace_days", minimum=0)
    rows, date = purchases(transactions, analysis_date=analysis_date, member_col=member_col, time_col=time_col,
                           amount_col=None, columns=[kind_col])
    is_fee = rows[kind_col] == fee_value
    if not is_fee.any():
        raise WorkbookInputError(
            f"No fee payments: no row of column {kind_col!r} equals {fee_value!r} (with a member) "
            "before the analysis date."
        )
    fees = rows.loc[is_fee, ["member_id", "ts"]].sort_values(["member_id", "ts"], kind="stable")
    member = fees["member_id"].to_numpy()
    t = fees["ts"]
    new_member = np.r_[True, member[1:] != member[:-1]]
    gap = t.diff()
    new_spell = new_member | (gap > (cycle + grace_days) * DAY).to_numpy()
    spell = np.cumsum(new_spell)
    spell_of_member = spell - np.maximum.accumulate(np.where(new_member, spell - 1, 0))
    frame = pd.DataFrame({"member": member, "t": t.to_numpy(), "spell": spell_of_member})
    firsts = frame.loc[frame["spell"] == 1].groupby("member", sort=True)["t"].agg(["min", "max", "size"])
    reactivated = frame.groupby("member", sort=True)["spell"].max().reindex(firsts.index) > 1
    out = pd.DataFrame(index=firsts.index)
    out["start"] = firsts["min"]
    out["last_fee"] = firsts["max"]
    out["n_fees"] = firsts["size"].astype("int64")
    next_due = out["last_fee"] + cycle * DAY
    # A late fee up to grace_days after the due date continues the membership, so it has
    # ended only once that window closed before the analysis date (or a later spell began).
    ended = (next_due + grace_days * DAY < date) | reactivated
    in_grace = ~ended & (next_due <= date)
    out["end"] = next_due.where(ended)
    # In the grace window the member is known to have been paid up to the due date and
    # nothing after: censored there (not churned at it, not running to the analysis date).
    stop = next_due.where(ended | in_grace, date)
    out["duration_days"] = ((stop - out["start"]) // DAY).astype("int64")
    out["event"] = ended.to_numpy()
    out["in_grace"] = in_grace.to_numpy()
    out["reactivated"] = reactivated.to_numpy()
    out.index.name = member_col
    out.attrs.update(analysis_date=date, billing_cycle_days=cycle)
    return out


def expected_fee_revenue(
    retention: pd.DataFrame,
    monthly_fee_cny: float,
    horizon_days: int = 365,
    billing_cycle_days: int = 30,
) -> pd.DataFrame:
    """Fees a new member pays in the first ``horizon_days``, from a retention curve.

    A member pays the fee due at day ``k * billing_cycle_days`` if still a
    member then, so the expected number of fees is the sum of the retention
    curve at the billing dates ``0, 30, 60, ...`` before the horizon.

    Parameters
    ----------
    retention : DataFrame
        Kaplan-Meier curves from :func:`workbook.survival.km_curves` (columns
        ``group``, ``time``, ``survival``), durations in days.
    monthly_fee_cny : float
        Fee per billing cycle.
    horizon_days : int, default 365
    billing_cycle_days : int, default 30

    Returns
    -------
    DataFrame
        Index ``group``: ``expected_fees`` (payments per member) and
        ``revenue_per_member_cny``.  ``NaN`` if the curve does not reach the
        last billing date before the horizon.

    Examples
    --------
    >>> import pandas as pd
    >>> curves = pd.DataFrame({"group": ["all"] * 3, "time": [0.0, 30.0, 60.0],
    ...                        "survival": [1.0, 0.8, 0.5]})
    >>> expected_fee_revenue(curves, 100.0, horizon_days=90)  # doctest: +NORMALIZE_WHITESPACE
           expected_fees  revenue_per_member_cny
    group
    all              2.3                   230.0
    """
    from workbook.survival import retention_at

    horizon_days = require_whole(horizon_days, "horizon_days")
    cycle = require_whole(billing_cycle_days, "billing_cycle_days")
    fee = float(monthly_fee_cny)
    if not np.isfinite(fee) or fee < 0:
        raise WorkbookInputError(f"monthly_fee_cny={monthly_fee_cny!r} must be a non-negative amount in CNY.")
    billing_days = np.arange(0, horizon_days, cycle)
    table = retention_at(retention, days=billing_days)
    fees = table.sum(axis=1, min_count=len(billing_days)).where(table.notna().all(axis=1))
    out = pd.DataFrame({"expected_fees": fees, "revenue_per_member_cny": fees * fee})
    out.index.name = "group"
    return out
