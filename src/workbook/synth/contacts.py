"""Synthetic contact log: omnichannel messages, contact fatigue and online invitations.

The log covers the last 12 months of the scenario.  Two kinds of campaigns:

* **routine** messages (``CT001``...), one channel each, sent to a random share
  of the members reachable on that channel.  How often a member is contacted
  depends on the home store's CRM habits (a store-level intensity), not on the
  member's engagement, so the number of recent contacts varies for reasons
  unrelated to how keen the member is;
* **online invitations** (``IV01``...: short videos, social posts) sent through
  WeChat, with a **randomised holdout** (20%): held-out members get nothing,
  but their store visits are recorded, so the visits the invitation caused can
  be estimated.

The true response model, per delivered message (``k`` = messages the member
received in the previous 30 days, ``z`` = standardised log purchase rate)::

    logit P(open)          = open_logit[channel]  + 0.5 z - fatigue_open  * k
    logit P(respond|open)  = visit_logit[channel] + 0.4 z - fatigue_visit * k + boost[campaign_kind]
    P(visit)               = 1 - (1 - p0) (1 - P(open) P(respond|open) ... drawn per message)
    logit P(unsubscribe)   = unsub_logit[channel] + fatigue_unsub * k

where ``p0 = 1 - exp(-7 lambda)`` is the chance of a visit within 7 days anyway
(while the member is alive).  After an unsubscribe the member gets no more
messages on that channel.  Every parameter is written to ``contacts_truth``.

Randomness comes from its own stream (``np.random.default_rng([seed, 1501])``),
so the other tables are identical with or without the contact log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit, logit

from workbook.ids import take_fixed_width
from workbook.sorting import argsort_keys
from workbook.synth.scenario import Scenario
from workbook.synth.strings import take_strings

__all__ = ["CHANNELS", "INVITATION_KINDS", "VISIT_WINDOW_DAYS", "active_at", "background_visit_prob",
           "engagement_score", "generate_contacts"]

#: Contact channels: 公众号, APP 推送, 短信, 企业微信.
CHANNELS = ("wechat_official_account", "app_push", "sms", "wecom_group")
#: Online-invitation content kinds (线上邀约).
INVITATION_KINDS = ("short_video", "social_post")
#: A visit counts as a response when it falls within this many days of the message.
VISIT_WINDOW_DAYS = 7
#: Days back over which recent contacts are counted (the fatigue variable).
FATIGUE_WINDOW_DAYS = 30
_STREAM = 1501

# True parameters (probabilities at k = 0 and z = 0, as log-odds).
_REACH = np.array([0.70, 0.40, 1.00, 0.50])          # share of members reachable on each channel
_DELIVER = np.array([0.97, 0.80, 0.98, 0.99])
_OPEN = np.array([0.25, 0.08, 0.15, 0.45])
_RESPOND = np.array([0.10, 0.12, 0.08, 0.18])
_UNSUB = np.array([0.004, 0.010, 0.020, 0.008])
_BETA_OPEN, _BETA_RESPOND = 0.5, 0.4
FATIGUE_OPEN, FATIGUE_RESPOND, FATIGUE_UNSUB = 0.25, 0.15, 0.35
_BOOST = {"routine": 0.0, "short_video": 0.9, "social_post": 0.5}
_N_ROUTINE, _ROUTINE_SHARE, _HOLDOUT_SHARE = 30, 0.22, 0.2
_CHUNK = 200_000  # members per block of the schedule draws


def _recent_counts(member: np.ndarray, t: np.ndarray, sent_member: np.ndarray, sent_t: np.ndarray) -> np.ndarray:
    """Messages actually sent to the same member in ``[t - 30, t)`` days (vectorised by sorted keys)."""
    span = 10.0 * (float(max(t.max(initial=0), sent_t.max(initial=0))) + FATIGUE_WINDOW_DAYS + 1)
    keys = sent_member * span + sent_t
    if not (keys[1:] >= keys[:-1]).all():  # rows in (member, time) order give sorted keys: no sort needed
        keys.sort()
    query = member * span + t
    return (np.searchsorted(keys, query, "left")
            - np.searchsorted(keys, query - FATIGUE_WINDOW_DAYS, "left")).astype(np.int64)


def _recent_counts_in_order(member: np.ndarray, t: np.ndarray, sent: np.ndarray) -> np.ndarray:
    """``_recent_counts(member, t, member[sent], t[sent])`` for rows in (member, time) order, without searching.

    Rows in that order have non-decreasing keys ``member * span + t``, so the sent
    rows in ``[t - 30, t)`` of a row are among the rows just before it: each pass
    looks one row further back, for the rows whose previous look was still inside
    the window (a few passes over ever fewer rows instead of two binary searches
    of millions of keys).  The keys and comparisons are ``_recent_counts``'s, so
    the counts are identical; rows in another order go through it.
    """
    n = len(t)
    span = 10.0 * (float(max(t.max(initial=0), t[sent].max(initial=0))) + FATIGUE_WINDOW_DAYS + 1)
    query = member * span + t
    if n > 1 and not (query[1:] >= query[:-1]).all():
        return _recent_counts(member, t, member[sent], t[sent])
    low = query - FATIGUE_WINDOW_DAYS
    counts = np.zeros(n, dtype=np.int64)
    if n < 2:
        return counts
    # first look back (the row just before), on whole slices
    inside = query[:-1] >= low[1:]  # keys are sorted: once below the window, all earlier ones are too
    counts[1:] = inside & sent[:-1] & (query[:-1] < query[1:])
    inside[0] = False  # row 1 has no second row before it
    rows = np.flatnonzero(inside) + 1  # rows still looking back: row - lag is their next candidate
    lag = 2
    while len(rows):
        prev = rows - lag
        prev_key = query[prev]
        inside = prev_key >= low[rows]  # keys are sorted: once below the window, all earlier ones are too
        counts[rows] += inside & sent[prev] & (prev_key < query[rows])
        rows = rows[inside & (prev > 0)]
        lag += 1
    return counts


def _logistic(base: np.ndarray, slope: float, z: np.ndarray, fatigue: float, k: np.ndarray,
              boost: np.ndarray | None = None) -> np.ndarray:
    """``expit(base + slope * z - fatigue * k [+ boost])``, evaluated in that order, in place in ``base``.

    ``base`` (a fresh array) is overwritten; three million-row temporaries fewer per call.

    Examples
    --------
    >>> _logistic(np.array([0.0, 1.0]), 1.0, np.array([0.0, 1.0]), 2.0, np.array([0, 1])).tolist()
    [0.5, 0.5]
    """
    term = np.multiply(slope, z)
    base += term  # = base + slope * z (addition is commutative, also in floating point)
    np.multiply(fatigue, k, out=term)
    base -= term
    if boost is not None:
        base += boost
    return expit(base, out=base)


def _until_first_unsubscribe(pair: np.ndarray, unsub: np.ndarray) -> np.ndarray:
    """Rows kept: those with no unsubscribe at an earlier row of the same (member, channel) ``pair``.

    For rows in time order within each pair.  The first unsubscribing row of each
    pair is found among the few unsubscribes; a row is kept up to it (no sort).

    Examples
    --------
    >>> _until_first_unsubscribe(np.array([0, 1, 0, 0, 1]), np.array([False, True, True, False, False])).tolist()
    [True, True, True, False, False]
    """
    rows = np.flatnonzero(unsub)
    first = np.full(int(pair.max(initial=-1)) + 1, len(pair))  # per pair: its first unsubscribing row, or past the end
    np.minimum.at(first, pair[rows], rows)
    return np.arange(len(pair)) <= first[pair]


def _member_time_order(member: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``np.lexsort((t, member))`` for times ``t >= 0``, by one float key ``member * span + t``.

    ``span`` is a power of two above every time, so ``member * span`` is exact and
    rounding the sum is monotone in ``t``: the key's order is the lexsort's order
    wherever keys differ.  Equal keys (possible only for times closer than the
    key's precision) fall back to the lexsort, so the result is always identical.
    """
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    span = 2.0 ** np.ceil(np.log2(float(t.max()) + 1.0))
    order, ties = argsort_keys(member * span + t)
    return np.lexsort((t, member)) if ties else order


def _lexsort_by_time(time: np.ndarray, *ties: np.ndarray) -> np.ndarray:
    """``np.lexsort((*reversed(ties), time))`` for an integer ``time``: one argsort, then the few ties.

    Rows with equal times (a handful among millions of microsecond timestamps)
    are put in the lexsort's order among themselves; the rest is already there.
    """
    order = argsort_keys(time)[0]
    t_sorted = np.take(time, order)
    equal_next = t_sorted[1:] == t_sorted[:-1]
    tied = np.zeros(len(time), dtype=bool)  # every row of a group of equal times
    tied[:-1] |= equal_next
    tied[1:] |= equal_next
    pos = np.flatnonzero(tied)
    if len(pos):
        rows = np.sort(order[pos])  # the lexsort breaks full ties by row number
        order[pos] = rows[np.lexsort(tuple(key[rows] for key in reversed(ties)) + (time[rows],))]
    return order


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """``pd.factorize(values, sort=True)``'s codes and number of distinct values, for strings without nulls.

    Arrow's hash encoding and a sort of the few distinct values: ten times faster
    than factorizing a million pandas strings.
    """
    arr = pa.array(values)
    encoded = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).dictionary_encode()
    rank = np.empty(len(encoded.dictionary), dtype=np.int64)
    rank[np.argsort(encoded.dictionary.to_numpy(zero_copy_only=False).astype(str), kind="stable")] = np.arange(len(rank))
    return rank[encoded.indices.to_numpy()], len(rank)


def _add_days(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """``(start + pd.to_timedelta(days, unit="D")).astype("datetime64[us]")`` for days >= 0, in NumPy.

    The same arithmetic as pandas (whole days and the fraction rounded to 13
    digits, converted to nanoseconds separately; truncated to microseconds), ten
    times faster.
    """
    whole = days.astype(np.int64)
    ns_per_day = 86_400_000_000_000
    fraction = days - whole
    np.round(fraction, 13, out=fraction)
    fraction *= ns_per_day
    whole *= ns_per_day  # in place, in the same order: whole days, their fractions, the start
    whole += fraction.astype(np.int64)
    whole += np.datetime64(start.as_unit("ns").to_datetime64()).astype(np.int64)
    return whole.view("datetime64[ns]").astype("datetime64[us]")


def active_at(truth: pd.DataFrame, when: pd.Series | np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Whether each member (rows ``idx`` of truth) was an active buyer at ``when``."""
    first = truth["first_purchase"].to_numpy()[idx]
    churn = truth["churn_time"].to_numpy()[idx]
    when = np.asarray(when, dtype="datetime64[us]")
    started = ~np.isnat(first) & (first <= when)
    return started & (np.isnat(churn) | (churn > when))


def background_visit_prob(truth: pd.DataFrame, idx: np.ndarray, when, days: float) -> np.ndarray:
    """P(a store visit within ``days`` without any message): ``1 - exp(-lambda days)`` while alive."""
    p = truth["purchase_rate_per_day"].to_numpy()[idx]
    if not p.flags.owndata:  # a view of the truth (idx a slice): the arithmetic below is in place
        p = p.copy()
    np.negative(p, out=p)
    p *= days
    np.exp(p, out=p)
    np.subtract(1.0, p, out=p)
    np.copyto(p, 0.0, where=~active_at(truth, when, idx))
    return p


def engagement_score(truth: pd.DataFrame) -> np.ndarray:
    """Standardised log purchase rate ``z`` (the latent keenness both modules use)."""
    log_lam = np.log(np.maximum(truth["purchase_rate_per_day"].to_numpy(dtype=float), 1e-6))
    sd = log_lam.std()
    return (log_lam - log_lam.mean()) / (sd if sd > 0 else 1.0)


def generate_contacts(sc: Scenario, members: pd.DataFrame, truth: pd.DataFrame,
                      random_state: int) -> dict[str, pd.DataFrame]:
    """The contact log and its truth for a generated data set.

    Parameters
    ----------
    sc : Scenario
        The scenario (period).
    members, truth : DataFrame
        The generated members and truth tables (same row order).
    random_state : int
        The data set's seed; the stream is ``default_rng([random_state, 1501])``.

    Returns
    -------
    dict
        ``{"contacts": DataFrame, "contacts_truth": DataFrame}``.

    Examples
    --------
    >>> from workbook.synth import Scenario, generate
    >>> data = generate(Scenario.preset("retail_chain", n_members=400, n_stores=3), random_state=2)
    >>> sorted(data.contacts["channel"].unique())[:2]
    ['app_push', 'sms']
    >>> bool(data.contacts.loc[data.contacts["holdout"], "delivered"].any())
    False
    """
    rng = np.random.default_rng([int(random_state), _STREAM])
    n = len(members)
    start = sc.end.normalize() - pd.Timedelta(days=364)
    span_days = float((sc.end.normalize() + pd.Timedelta(days=1) - start) / pd.Timedelta(days=1))
    join_days = ((members["join_date"] - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    store_index, n_home_stores = _sorted_codes(members["home_store_id"])
    intensity = np.exp(0.5 * rng.standard_normal(n_home_stores))[store_index]  # CRM habits of the home store
    reach = rng.random((n, len(CHANNELS))) < _REACH
    z = engagement_score(truth)

    # schedule: routine campaigns (channel rotates), then online invitations with a holdout
    send_day = np.sort(rng.uniform(0, span_days - 1, _N_ROUTINE))
    ch_of = np.arange(_N_ROUTINE) % len(CHANNELS)
    p_pick = np.minimum(_ROUTINE_SHARE * intensity, 0.9)
    mem, camp = [], []
    draws = np.empty((min(_CHUNK, n), _N_ROUTINE))  # one buffer for every block (48 MB of fresh pages each)
    for lo in range(0, n, _CHUNK):  # row blocks: the same draws as one (n, campaigns) matrix, less memory
        hi = min(lo + _CHUNK, n)
        pick = ((rng.random(out=draws[: hi - lo]) < p_pick[lo:hi, None]) & reach[lo:hi, ch_of]
                & (join_days[lo:hi, None] < send_day[None, :]))
        rows, cols = np.nonzero(pick)
        mem.append(rows + lo)
        camp.append(cols)
    mem, camp = np.concatenate(mem), np.concatenate(camp)
    t = send_day[camp] + rng.uniform(0, 0.5, len(camp))  # sent over the first half day
    channel = ch_of[camp]
    kind = np.zeros(len(camp), dtype=np.int64)  # 0 routine, 1 short video, 2 social post
    inv_day = span_days * np.array([0.2, 0.45, 0.65, 0.85])
    inv_kind = np.array([1, 2, 1, 2])
    inv_channel = np.array([3, 0, 0, 3])  # WeCom groups and the official account
    inv_share = 0.12
    target = (rng.random((n, len(inv_day))) < inv_share) & (join_days[:, None] < inv_day[None, :])
    imem, icamp = np.nonzero(target)
    holdout = np.concatenate([np.zeros(len(mem), dtype=bool), rng.random(len(imem)) < _HOLDOUT_SHARE])
    mem = np.concatenate([mem, imem])
    t = np.concatenate([t, inv_day[icamp] + rng.uniform(0, 0.5, len(icamp))])
    channel = np.concatenate([channel, inv_channel[icamp]])
    kind = np.concatenate([kind, inv_kind[icamp]])
    camp_ids = np.concatenate([camp, _N_ROUTINE + icamp])  # codes in the names' sort order (CT001... < IV01...)
    names = [f"CT{i + 1:03d}" for i in range(_N_ROUTINE)] + [f"IV{i + 1:02d}" for i in range(len(inv_day))]
    # small integer types: millions of rows, a few dozen arrays of them alive at once
    mem, channel = mem.astype(np.int32), channel.astype(np.int8)
    kind, camp_ids = kind.astype(np.int8), camp_ids.astype(np.int8)
    order = _member_time_order(mem, t)
    mem, t, channel, kind, camp_ids, holdout = (np.take(a, order) for a in (mem, t, channel, kind, camp_ids, holdout))

    # unsubscribes end a channel: draw them with the scheduled fatigue, drop what follows
    sent = ~holdout
    k_sched = _recent_counts_in_order(mem, t, sent)
    unsub = sent & (rng.random(len(mem)) < expit(logit(_UNSUB)[channel] + FATIGUE_UNSUB * k_sched))
    keep = _until_first_unsubscribe(mem * len(CHANNELS) + channel, unsub)
    mem, t, channel, kind, camp_ids, holdout, unsub = (a[keep] for a in (mem, t, channel, kind, camp_ids, holdout, unsub))
    # peak memory (this runs in a thread beside the transaction table): free the pair bookkeeping
    del k_sched, keep

    # responses with the realised fatigue
    sent = ~holdout
    k = _recent_counts_in_order(mem, t, sent)
    sent_at = _add_days(start, t)
    delivered = sent & (rng.random(len(mem)) < _DELIVER[channel])
    p_open = _logistic(logit(_OPEN)[channel], _BETA_OPEN, z[mem], FATIGUE_OPEN, k)
    opened = delivered & (rng.random(len(mem)) < p_open)
    boost = np.array([_BOOST["routine"], _BOOST["short_video"], _BOOST["social_post"]])[kind]
    p_respond = _logistic(logit(_RESPOND)[channel], _BETA_RESPOND, z[mem], FATIGUE_RESPOND, k, boost)
    p0 = background_visit_prob(truth, mem, sent_at, VISIT_WINDOW_DAYS)
    responded = opened & (rng.random(len(mem)) < p_respond)
    visited = responded | (rng.random(len(mem)) < p0)
    unsub = unsub & delivered
    del k, boost, responded, sent

    # rows sorted by time, member id, campaign id (integer keys in the ids' order: no string sorting)
    ids = pa.array(members["member_id"])
    # generated ids are sorted: checked in Arrow (pandas' is_monotonic_increasing makes a million Python strings)
    in_order = len(ids) < 2 or pc.all(pc.less_equal(ids[:-1], ids[1:])).as_py()
    id_rank = np.arange(n) if in_order else np.argsort(np.argsort(members["member_id"].to_numpy(dtype=str)))
    order = _lexsort_by_time(sent_at.view(np.int64), id_rank[mem], camp_ids)

    def vocab(values, codes):  # string column from a small vocabulary, without object arrays
        return pd.Series(take_strings(list(values), np.take(codes, order)), dtype="str")

    contacts = pd.DataFrame({
        "member_id": pd.Series(take_fixed_width(ids, np.take(mem, order)), dtype="str"),
        "sent_at": np.take(sent_at, order),
        "channel": vocab(CHANNELS, channel),
        "campaign_id": vocab(names, camp_ids),
        "campaign_kind": vocab(["routine", *INVITATION_KINDS], kind),
        "holdout": holdout[order],
        "delivered": delivered[order],
        "opened": opened[order],
        "visited": visited[order],
        "unsubscribed": unsub[order],
    })

    # truth: the model, plus the expected invitation lifts (treated vs not contacted, over everyone targeted)
    rows = [("visit_window_days", "all", float(VISIT_WINDOW_DAYS)),
            ("fatigue_window_days", "all", float(FATIGUE_WINDOW_DAYS)),
            ("fatigue_open_logit_per_contact", "all", -FATIGUE_OPEN),
            ("fatigue_respond_logit_per_contact", "all", -FATIGUE_RESPOND),
            ("fatigue_unsubscribe_logit_per_contact", "all", FATIGUE_UNSUB),
            ("engagement_open_logit", "all", _BETA_OPEN),
            ("engagement_respond_logit", "all", _BETA_RESPOND),
            ("holdout_share", "all", _HOLDOUT_SHARE)]
    for j, ch in enumerate(CHANNELS):
        rows += [("reach_share", ch, _REACH[j]), ("deliver_prob", ch, _DELIVER[j]), ("open_prob_k0", ch, _OPEN[j]),
                 ("respond_prob_k0", ch, _RESPOND[j]), ("unsubscribe_prob_k0", ch, _UNSUB[j])]
    for name in INVITATION_KINDS:
        rows.append(("invitation_respond_logit_boost", name, _BOOST[name]))
    # exact expected lift: P(visit | sent) - P(visit | not sent) = (1 - p0) P(delivered) P(open) P(respond)
    lift = (1 - p0) * _DELIVER[channel] * p_open * p_respond
    inv = kind > 0
    by_camp = pd.Series(lift[inv]).groupby(camp_ids[inv]).mean()
    rows += [("invitation_true_lift", names[c], float(v)) for c, v in by_camp.items()]
    rows.append(("invitation_true_lift", "all", float(lift[inv].mean()) if inv.any() else float("nan")))
    contacts_truth = pd.DataFrame(rows, columns=["parameter", "key", "value"])
    contacts_truth[["parameter", "key"]] = contacts_truth[["parameter", "key"]].astype("str")
    contacts_truth["value"] = contacts_truth["value"].astype("float64")
    return {"contacts": contacts, "contacts_truth": contacts_truth}
