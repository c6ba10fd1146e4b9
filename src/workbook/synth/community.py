"""Synthetic private-domain community (私域社群) and emotional-marketing touches (情感营销).

**Community.**  A WeChat community opens in the middle of the period (the
launch, the first day of the month at the midpoint).  Members registered
before it may join during the first 90 days; who joins is *self-selected* on a
latent keenness::

    keenness     = z + 1.5 * active_at_launch + N(0, 1)
    P(join)      = expit(-2.2 + 0.5 * keenness)

(``z`` = standardised log purchase rate).  Joining has a true causal effect:
during the outcome window (from launch + 90 days to the end) a joiner who is
still an active buyer places extra *community group orders* at
``0.25 * lambda`` per day, each worth the member's mean spend on average.  The
outcome columns ``purchases_after`` / ``spend_after`` are the member's POS
purchases and net spend in the window (from ``transactions``) plus those
orders, so the transactions table is unchanged.  Keen members buy more anyway,
so the naive members-vs-non-members gap overstates the effect; the truth is in
``community_truth`` (``att_purchases``, ``att_spend``: the expected effect
averaged over the joiners).

**Emotional touches.**  In the last 12 months members get a birthday offer
(生日礼), a join-anniversary offer (入会周年礼) and, for gold and platinum
members, invitations to exclusive events (专属活动), each with a randomised
20% holdout.  A touch adds a response chance ``r[kind]`` (halved for members who
are no longer active) to the background chance of a visit within 14 days::

    P(visit) = 1 - (1 - p0) (1 - r[kind])

The expected effect per kind (averaged over everyone targeted) is
``emotional_true_lift`` in ``community_truth``.

Randomness comes from its own stream (``np.random.default_rng([seed, 1502])``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit

from workbook.ids import take_fixed_width
from workbook.sorting import argsort_keys
from workbook.synth.contacts import active_at, background_visit_prob, engagement_score
from workbook.synth.scenario import Scenario
from workbook.synth.strings import take_strings

__all__ = ["EMOTIONAL_KINDS", "JOIN_WINDOW_DAYS", "community_launch", "generate_community"]

EMOTIONAL_KINDS = ("birthday", "join_anniversary", "exclusive_event")
JOIN_WINDOW_DAYS = 90
TOUCH_WINDOW_DAYS = 14
_STREAM = 1502
_SELECT_INTERCEPT, _SELECT_SLOPE, _SELECT_ACTIVE, _SELECT_NOISE = -2.2, 0.5, 1.5, 1.0
COMMUNITY_EFFECT = 0.25  # extra group orders per day, as a share of the member's purchase rate
_RESPONSE = {"birthday": 0.12, "join_anniversary": 0.05, "exclusive_event": 0.20}
_LAPSED_FACTOR, _HOLDOUT_SHARE = 0.5, 0.2


def community_launch(sc: Scenario) -> pd.Timestamp:
    """The community's launch: the first day of the month at the middle of the period.

    Examples
    --------
    >>> from workbook.synth import Scenario
    >>> community_launch(Scenario.preset("retail_chain")).date()
    datetime.date(2024, 1, 1)
    """
    mid = (sc.start + (sc.end - sc.start) / 2).normalize()
    return mid if mid.day == 1 else (mid + pd.offsets.MonthBegin(1)).normalize()


def _by_day_then_row(when: np.ndarray, row: np.ndarray, n_rows: int) -> np.ndarray:
    """``np.lexsort((row, when))`` for whole-day times: one packed integer key ``day * n_rows + row``.

    Examples
    --------
    >>> when = np.array(["2024-01-02", "2024-01-01", "2024-01-02"], dtype="datetime64[us]")
    >>> _by_day_then_row(when, np.array([1, 5, 0]), 6).tolist()
    [1, 2, 0]
    """
    micros = when.view(np.int64)
    if len(when) == 0 or (micros % 86_400_000_000).any() or (row < 0).any() or (row >= n_rows).any():
        return np.lexsort((row, when))
    day = micros // 86_400_000_000
    return argsort_keys((day - day.min()) * n_rows + row)[0]  # stable: equal keys stay in row order, as lexsort


def _window_purchases(members: pd.DataFrame, transactions: pd.DataFrame, lo, hi,
                      member_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """POS purchases (non-return member rows) and net spend per member in ``[lo, hi)``.

    ``member_index``: the members row of each transaction (-1 for none), if known;
    otherwise it is looked up from the ids.
    """
    tx = transactions
    if member_index is None:
        found = pc.index_in(pa.array(tx["member_id"]), value_set=pa.array(members["member_id"]))
        member_index = pc.fill_null(found, -1).to_numpy()
    kind_ok = tx["kind"].ne("fee").to_numpy() if "kind" in tx else np.ones(len(tx), dtype=bool)
    ts = tx["timestamp"].to_numpy()
    in_win = (member_index >= 0) & (ts >= np.datetime64(lo)) & (ts < np.datetime64(hi)) & kind_ok
    n = len(members)
    purchase = in_win & ~tx["is_return"].to_numpy(dtype=bool)
    counts = np.bincount(member_index[purchase], minlength=n)
    spend = np.bincount(member_index[in_win], weights=tx["amount"].to_numpy(dtype=float)[in_win], minlength=n)
    return counts.astype(np.int64), spend


def generate_community(sc: Scenario, transactions: pd.DataFrame, members: pd.DataFrame, truth: pd.DataFrame,
                       random_state: int, *, member_index: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """Community membership, emotional touches and their truth for a generated data set.

    Parameters
    ----------
    sc : Scenario
    transactions, members, truth : DataFrame
        The generated tables (members and truth in the same row order).
    random_state : int
        The data set's seed; the stream is ``default_rng([random_state, 1502])``.
    member_index : ndarray of int, optional
        The members row of each transaction (-1 for walk-ins), if the caller has it
        (the generator does); otherwise looked up from the ids.

    Returns
    -------
    dict
        ``{"community": ..., "emotional_touches": ..., "community_truth": ...}``.

    Examples
    --------
    >>> from workbook.synth import Scenario, generate
    >>> data = generate(Scenario.preset("retail_chain", n_members=400, n_stores=3), random_state=2)
    >>> bool(data.community["joined_at"].dropna().ge(community_launch(data.scenario)).all())
    True
    """
    rng = np.random.default_rng([int(random_state), _STREAM])
    launch = community_launch(sc)
    window_start = launch + pd.Timedelta(days=JOIN_WINDOW_DAYS)
    window_end = sc.end.normalize() + pd.Timedelta(days=1)
    window_days = max(float((window_end - window_start) / pd.Timedelta(days=1)), 0.0)
    eligible = np.flatnonzero((members["join_date"] < launch).to_numpy())
    z = engagement_score(truth)
    active = active_at(truth, np.datetime64(launch, "us"), eligible)
    keen = z[eligible] + _SELECT_ACTIVE * active + _SELECT_NOISE * rng.standard_normal(len(eligible))
    p_join = expit(_SELECT_INTERCEPT + _SELECT_SLOPE * keen)
    joined = rng.random(len(eligible)) < p_join
    joined_at = np.full(len(eligible), np.datetime64("NaT"), dtype="datetime64[us]")
    offset = pd.to_timedelta(rng.uniform(0, JOIN_WINDOW_DAYS, len(eligible)), unit="D").to_numpy()
    joined_at[joined] = (np.datetime64(launch, "us") + offset[joined]).astype("datetime64[us]")

    # outcome: POS purchases in the window + the joiners' extra group orders while active
    pos_n, pos_spend = _window_purchases(members, transactions, window_start, window_end, member_index)
    lam = truth["purchase_rate_per_day"].to_numpy(dtype=float)[eligible]
    spend_mean = truth["spend_mean"].to_numpy(dtype=float)[eligible]
    first = truth["first_purchase"].to_numpy()[eligible]
    churn = truth["churn_time"].to_numpy()[eligible]
    lo = np.maximum(first, np.datetime64(window_start, "us"))
    hi = np.where(np.isnat(churn), np.datetime64(window_end, "us"), np.minimum(churn, np.datetime64(window_end, "us")))
    active_days = np.where(np.isnat(first), 0.0, np.maximum((hi - lo) / np.timedelta64(1, "D"), 0.0))
    expected_extra = COMMUNITY_EFFECT * lam * active_days
    extra = np.where(joined, rng.poisson(expected_extra), 0)
    shape = 4.0  # group-order amounts: Gamma with the member's mean spend
    extra_spend = np.where(extra > 0, rng.gamma(shape * np.maximum(extra, 1), spend_mean / shape), 0.0)
    community = pd.DataFrame({
        "member_id": pd.Series(members["member_id"].array.take(eligible)),
        "joined_at": joined_at,
        "purchases_after": (pos_n[eligible] + extra).astype(np.int64),
        "spend_after": np.round(pos_spend[eligible] + extra_spend, 2),
    })

    # emotional touches in the last 12 months
    touch_start = sc.end.normalize() - pd.Timedelta(days=364)
    horizon = sc.end.normalize() - pd.Timedelta(days=TOUCH_WINDOW_DAYS)  # a full 14-day window to observe
    years = np.arange(touch_start.year, horizon.year + 1)
    join = members["join_date"].to_numpy(dtype="datetime64[us]")
    parts = []  # (member rows, day sent, kind code) per batch of touches
    for code, col in ((0, "birth_date"), (1, "join_date")):  # birthday, join anniversary: each calendar year
        date = members[col].to_numpy(dtype="datetime64[D]")
        month = date.astype("datetime64[M]")
        month_no = month.astype(np.int64) % 12  # 0 = January
        day_no = (date - month).astype(np.int64)  # 0 = the first
        day_no = np.where((month_no == 1) & (day_no == 28), 27, day_no)  # 29 February -> the 28th
        for year in years:
            offset_years = year - (1970 + month.astype(np.int64) // 12)
            when = (np.datetime64(f"{year}-01", "M") + month_no).astype("datetime64[D]") + day_no
            ok = ((when >= np.datetime64(touch_start.date())) & (when <= np.datetime64(horizon.date()))
                  & (join < when.astype("datetime64[us]")))
            if code == 1:
                ok &= offset_years >= 1
            rows = np.flatnonzero(ok)
            parts.append((rows, when[rows].astype("datetime64[us]"), np.full(len(rows), code)))
    top = np.flatnonzero(members["tier"].isin(["gold", "platinum"]).to_numpy())
    for frac in (0.3, 0.7):
        day = (touch_start + frac * (horizon - touch_start)).normalize()
        invited = top[join[top] < np.datetime64(day)]
        parts.append((invited, np.full(len(invited), np.datetime64(day, "us")), np.full(len(invited), 2)))
    idx, when, kind_code = (np.concatenate(a) for a in zip(*parts))
    order = _by_day_then_row(when, idx, len(members))  # by time, then member row (as the batches' stable sort did)
    idx, when, kind_code = idx[order], when[order], kind_code[order]
    p0 = background_visit_prob(truth, idx, when, TOUCH_WINDOW_DAYS)
    response = np.array([_RESPONSE[k] for k in EMOTIONAL_KINDS])
    r = response[kind_code] * np.where(active_at(truth, when, idx), 1.0, _LAPSED_FACTOR)
    holdout = rng.random(len(idx)) < _HOLDOUT_SHARE
    p_visit = np.where(holdout, p0, 1 - (1 - p0) * (1 - r))
    emotional = pd.DataFrame({
        "member_id": pd.Series(take_fixed_width(pa.array(members["member_id"]), idx), dtype="str"),
        "sent_at": when,
        "kind": pd.Series(take_strings(list(EMOTIONAL_KINDS), kind_code), dtype="str"),
        "holdout": holdout,
        "visited": rng.random(len(idx)) < p_visit,
    })

    lift = (1 - p0) * r
    rows = [("join_window_days", "all", float(JOIN_WINDOW_DAYS)),
            ("outcome_window_days", "all", window_days),
            ("selection_intercept", "all", _SELECT_INTERCEPT), ("selection_slope_keenness", "all", _SELECT_SLOPE),
            ("selection_active_at_launch", "all", _SELECT_ACTIVE), ("selection_noise_sd", "all", _SELECT_NOISE),
            ("effect_rate_share", "all", COMMUNITY_EFFECT),
            ("att_purchases", "all", float(expected_extra[joined].mean()) if joined.any() else float("nan")),
            ("att_spend", "all", float((expected_extra * spend_mean)[joined].mean()) if joined.any() else float("nan")),
            ("ate_purchases", "all", float(expected_extra.mean()) if len(eligible) else float("nan")),
            ("emotional_window_days", "all", float(TOUCH_WINDOW_DAYS)),
            ("emotional_holdout_share", "all", _HOLDOUT_SHARE),
            ("emotional_lapsed_factor", "all", _LAPSED_FACTOR)]
    rows += [("emotional_response_prob", k, v) for k, v in _RESPONSE.items()]
    rows += [("emotional_true_lift", k, float(lift[kind_code == j].mean()) if (kind_code == j).any() else float("nan"))
             for j, k in enumerate(EMOTIONAL_KINDS)]
    community_truth = pd.DataFrame(rows, columns=["parameter", "key", "value"])
    community_truth[["parameter", "key"]] = community_truth[["parameter", "key"]].astype("str")
    community_truth["value"] = community_truth["value"].astype("float64")
    return {"community": community, "emotional_touches": emotional, "community_truth": community_truth}
