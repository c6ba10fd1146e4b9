"""Vectorised generator of members, stores, transactions and their ground truth.

The latent model (one "life" per member, plus new lives started by
reactivation campaigns):

1. A member registers at ``join_date`` via an acquisition channel; with the
   channel's ``never_buy_share`` they never buy, otherwise the first purchase
   follows after an exponential lag (``mean_lag_days`` of the channel).
2. From the first purchase on, purchases arrive as a Poisson process with the
   member's rate ``lambda ~ Gamma(r, alpha_days)`` per day, modulated by the
   daily calendar intensity ``s(t)`` (mean 1) and, for members of points
   programme stores after the launch, by ``1 + points_rate_lift``.
3. After every *repeat* purchase the member drops out for good with
   probability ``p ~ Beta(a, b)`` (``p * (1 - reduction)`` if treated).  The
   time of that purchase is the true churn time.
4. Each purchase amount is ``Gamma(gg_p, rate=nu)`` with ``nu ~ Gamma(gg_q, rate=gg_gamma)``.

Without seasonality this is exactly BG/NBD + Gamma-Gamma (Fader, Hardie & Lee
2005).  Seasonality is a deterministic time change: purchase times are drawn
in "calendar-intensity time" ``S(t) = integral of s`` and mapped back with
``S^-1``, which is equivalent to a Poisson process of intensity
``lambda * s(t)``.  Time of day is drawn by a monotone map of the position
inside the day onto the opening-hours profile, so the order of events (and the
counts in any whole-day interval) are unchanged.

Sampling a life without looping: with ``M ~ Poisson(lambda * L)`` Poisson
points in the window of length ``L`` and ``N ~ Geometric(p)`` purchases until
dropout, the member makes ``K = min(N, M)`` repeat purchases, at the first
``K`` order statistics of ``M`` uniforms, drawn as ``L * E_1..k / (E_1..k + G)``
with cumulative exponential sums ``E`` and ``G ~ Gamma(M + 1 - K)``.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.ids import take_fixed_width
from workbook.sorting import argsort_keys
from workbook.synth.data import SyntheticData
from workbook.synth.categories import category_series, preference_draws, preferences_frame, transaction_categories
from workbook.synth.memory import system_arrow_pool
from workbook.synth.holidays import SPRING_FESTIVAL, daily_intensity, hour_quantile
from workbook.synth.scenario import ACQUISITION_CHANNELS, TIERS, Scenario
from workbook.synth.schema import require_schema, coerce_frame
from workbook.synth.strings import fixed_width_ids as _ids, take_strings as _take

_US_PER_DAY = 86_400_000_000
_SIZES = np.array(["small", "medium", "large"])
_SIZE_WEIGHT = np.array([1.0, 2.0, 4.0])  # relative traffic of store sizes
_SIZE_CONVERSION = np.array([0.32, 0.26, 0.20])  # receipts / visitors
_CITIES_ZH = ["上海", "北京", "杭州", "南京", "苏州", "成都", "武汉", "深圳", "广州", "重庆", "西安", "宁波"]
_CITIES_EN = ["Shanghai", "Beijing", "Hangzhou", "Nanjing", "Suzhou", "Chengdu", "Wuhan", "Shenzhen",
              "Guangzhou", "Chongqing", "Xi'an", "Ningbo"]
_CITY_WEIGHT = np.array([6, 5, 4, 3, 3, 3, 2, 3, 3, 2, 2, 2], dtype=float)
_EMAIL_ZH = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
_ONLINE_MULT = {"store_walk_in": 0.5, "wechat_mini_program": 1.3, "app": 1.6, "ecommerce": 2.2,
                "referral": 1.0, "offline_event": 0.6}
#: Relative pause of the first reactivation campaign after the start (days).
_FIRST_REACTIVATION_DAYS = 240.0


#: The progress bar's steps, in the order :func:`generate` finishes them.
_STEPS = ("门店 (stores)", "会员 (members)", "购买时间 (purchase times)", "金额与积分 (amounts, points)",
          "退货与散客 (returns, walk-ins)", "交易表 (transactions table)", "客流、等级、真值 (traffic, tiers, truth)")


# --------------------------------------------------------------------------- helpers
def _advance(bar: tqdm) -> None:
    """Mark the current step done and name the next one."""
    bar.update()
    if bar.n < len(_STEPS):
        bar.set_postfix_str(_STEPS[bar.n])


class _Calendar:
    """Daily intensity ``s`` and its integral ``S`` on the day grid 0..W (raw days since start)."""

    def __init__(self, sc: Scenario):
        s = daily_intensity(sc.start, sc.end, sc.seasonality_profile, sc.seasonality).to_numpy()
        self.W = float(len(s))
        self.s = s
        self.days = np.arange(len(s) + 1, dtype=float)
        self.S = np.concatenate([[0.0], np.cumsum(s)])
        self.cdf, self.frac = hour_quantile(sc.seasonality_profile)

    def forward(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.days, self.S)

    def inverse(self, sigma: np.ndarray) -> np.ndarray:
        return np.interp(sigma, self.S, self.days)

    def warp(self, t: np.ndarray) -> np.ndarray:
        """Move each time inside its day onto the opening-hours profile (monotone)."""
        day = np.floor(t)
        frac = np.interp(t - day, self.cdf, self.frac)
        return day + np.minimum(frac, 86_399.0 / 86_400.0)


def _to_datetime(start: pd.Timestamp, t_days: np.ndarray) -> np.ndarray:
    """Raw days since ``start`` -> datetime64[us], floored to the second (NaN -> NaT)."""
    t = np.asarray(t_days, dtype=float)
    origin = np.datetime64(start.to_datetime64(), "us")
    ok = np.isfinite(t)
    if ok.all():
        return origin + (np.floor(t * 86_400.0).astype(np.int64) * 1_000_000).astype("timedelta64[us]")
    out = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[us]")
    seconds = np.floor(t[ok] * 86_400.0).astype(np.int64)
    out[ok] = origin + (seconds * 1_000_000).astype("timedelta64[us]")
    return out


def _str_series(values: pa.Array | np.ndarray | list) -> pd.Series:
    """A pandas ``str`` Series from pyarrow or numpy strings."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return pd.Series(values, dtype="str")
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _weighted_choice(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    """Indices drawn with probability proportional to ``weights`` (vectorised inverse CDF)."""
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n), side="right"), len(cdf) - 1)


# --------------------------------------------------------------------------- lives
def _simulate_lives(
    rng: np.random.Generator,
    cal: _Calendar,
    t_start: np.ndarray,
    lam: np.ndarray,
    p: np.ndarray,
    lift: np.ndarray,
    sigma_launch: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Repeat purchases of lives starting with a purchase at ``t_start`` (raw days).

    Returns ``(life index per repeat purchase, raw time per repeat purchase,
    died, death time)`` where ``death time`` is NaN for lives alive at the end.
    """
    n = len(t_start)

    def to_tau(sigma: np.ndarray, lift_: np.ndarray) -> np.ndarray:
        return sigma + lift_ * np.maximum(sigma - sigma_launch, 0.0)

    tau0 = to_tau(cal.forward(t_start), lift)
    tau_end = to_tau(np.full(n, cal.S[-1]), lift)
    length = np.maximum(tau_end - tau0, 0.0)
    m = rng.poisson(lam * length)
    safe_p = np.clip(p, 1e-12, 1.0)
    n_until_dropout = rng.geometric(safe_p)
    n_until_dropout = np.where(p > 0, n_until_dropout, m + 1)
    k = np.minimum(n_until_dropout, m)
    died = n_until_dropout <= m
    total = int(k.sum())
    life = np.repeat(np.arange(n), k)
    cs = np.cumsum(rng.exponential(size=total))
    ends = np.cumsum(k)
    starts = ends - k
    has = k > 0
    before = np.zeros(n)
    before[has & (starts > 0)] = cs[starts[has & (starts > 0)] - 1]
    last = np.zeros(n)
    last[has] = cs[ends[has] - 1] - before[has]
    g = np.zeros(n)
    g[has] = rng.gamma(shape=(m[has] + 1 - k[has]).astype(float))
    scale = np.zeros(n)
    scale[has] = length[has] / (last[has] + g[has])
    tau = np.take(tau0, life) + (cs - np.take(before, life)) * np.take(scale, life)
    # tau -> sigma (undo the lift after the launch) -> raw time
    if np.isfinite(sigma_launch):
        lf = np.take(lift, life)
        sigma = np.where(tau > sigma_launch, sigma_launch + (tau - sigma_launch) / (1.0 + lf), tau)
    else:
        sigma = tau
    t = np.minimum(cal.inverse(sigma), np.nextafter(cal.W, 0))
    death = np.full(n, np.nan)
    died_idx = np.flatnonzero(died & has)
    death[died_idx] = t[ends[died_idx] - 1]
    return life, t, died & has, death


# --------------------------------------------------------------------------- main
@renamed_arguments(seed="random_state")
@system_arrow_pool()
def generate(
    scenario: Scenario | None = None, random_state: int = 0, progress: bool | None = None,
    on_table: Callable[[str, pd.DataFrame], None] | None = None,
) -> SyntheticData:
    """Generate a synthetic membership data set with its ground truth.

    Parameters
    ----------
    scenario : Scenario, optional
        Configuration; default ``Scenario.preset("retail_chain")``.
    random_state : int, default 0
        Seed of all randomness: the same ``(scenario, random_state)`` gives
        identical frames (``seed=`` is the former name).
    progress : bool, optional
        Show a tqdm progress bar; default: only for 200,000 members or more.
    on_table : callable, optional
        Called as ``on_table(name, frame)`` as soon as a table of the result is
        final (the transactions first, while the engagement tables are still being
        generated); the frame must not be modified.  ``workbook generate`` passes a
        :class:`~workbook.synth.io.EarlyWriter` to write files meanwhile.

    Returns
    -------
    SyntheticData
        ``members``, ``transactions``, ``stores``, ``store_traffic``,
        ``campaigns``, ``truth`` and the ``scenario``.

    Examples
    --------
    >>> from workbook.synth import Scenario, generate
    >>> data = generate(Scenario.preset("retail_chain", n_members=300, n_stores=4), random_state=1)
    >>> data.transactions.columns[:4].tolist()
    ['transaction_id', 'member_id', 'store_id', 'timestamp']
    >>> bool(data.transactions["member_id"].dropna().isin(data.members["member_id"]).all())
    True
    """
    sc = Scenario.preset("retail_chain") if scenario is None else scenario
    if not isinstance(sc, Scenario):
        raise WorkbookInputError(f"scenario must be a Scenario, got {type(sc).__name__}.")
    seed = random_state
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise WorkbookInputError(f"random_state must be a non-negative integer seed, got seed={seed!r}.")
    if progress is None:
        progress = sc.n_members >= 200_000
    for year in {sc.start.year, sc.end.year}:
        if sc.seasonality and year not in SPRING_FESTIVAL:
            raise WorkbookInputError(
                f"seasonality needs Spring Festival dates; {year} is outside 2020-2030. "
                "Choose start/end inside 2020-2030 or seasonality=False."
            )
    bar = tqdm(total=len(_STEPS), desc=f"生成数据 (generating) {sc.name}", disable=not progress, unit="step")
    bar.set_postfix_str(_STEPS[0])
    rng_store, rng_member, rng_life, rng_react, rng_tx, rng_walk, rng_traffic, rng_pii = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)
    )
    cal = _Calendar(sc)
    W = cal.W
    eff = sc.effects

    # ------------------------------------------------------------------ stores
    n_s = sc.n_stores
    size_code = rng_store.choice(3, size=n_s, p=[0.4, 0.4, 0.2])
    store_weight = _SIZE_WEIGHT[size_code]
    city_idx = _weighted_choice(rng_store, n_s, _CITY_WEIGHT)
    log_mult = sc.store_rate_sd * (rng_store.standard_normal(n_s) + (size_code == 2))
    store_mult = np.exp(log_mult)
    store_mult /= np.sum(store_weight * store_mult) / store_weight.sum()
    conversion = np.clip(_SIZE_CONVERSION[size_code] * np.exp(0.1 * rng_store.standard_normal(n_s)), 0.05, 0.95)
    if sc.business == "gym":
        conversion = np.clip(0.85 + 0.03 * rng_store.standard_normal(n_s), 0.5, 0.98)
    in_programme = np.zeros(n_s, dtype=bool)
    if eff.points_launch is not None:
        k_prog = int(round(eff.points_store_share * n_s))
        order = np.lexsort((-store_mult, -size_code))  # largest, then best-performing first
        in_programme[order[:k_prog]] = True
    sigma_launch = np.inf
    if eff.points_launch is not None:
        t_launch = (eff.points_launch - sc.start) / pd.Timedelta(days=1)
        sigma_launch = float(cal.forward(np.array([t_launch]))[0])
    store_width = max(2, len(str(n_s)))
    store_ids = _ids("S", np.arange(1, n_s + 1), store_width)
    _advance(bar)

    # ----------------------------------------------------------------- members
    n = sc.n_members
    mix = np.array([sc.channel_mix.get(c, 0.0) for c in ACQUISITION_CHANNELS], dtype=float)
    channel = _weighted_choice(rng_member, n, mix)
    wave = rng_member.random(n) < sc.launch_wave_share
    u = rng_member.random(n)
    m_w = sc.launch_wave_days
    t_wave = -m_w * np.log1p(-u * (1 - math.exp(-W / m_w)))
    t_seasonal = cal.inverse(u * cal.S[-1])
    join = np.minimum(np.where(wave, t_wave, t_seasonal), np.nextafter(W, 0))
    home = _weighted_choice(rng_member, n, store_weight)
    never_p = np.array([sc.never_buy_share.get(c, 0.0) for c in ACQUISITION_CHANNELS])[channel]
    never = rng_member.random(n) < never_p
    lag_mean = np.array([sc.mean_lag_days.get(c, 1.0) for c in ACQUISITION_CHANNELS])[channel]
    lag = rng_member.exponential(lag_mean)
    t0 = join + lag
    starts = ~never & (t0 < W)
    lam = rng_member.gamma(sc.r, 1.0 / sc.alpha_days, size=n) * store_mult[home]
    p_base = rng_member.beta(sc.a, sc.b, size=n)
    nu = rng_member.gamma(sc.gg_q, 1.0 / sc.gg_gamma, size=n)
    spend_mean = sc.gg_p / nu
    online_mean = np.clip(sc.online_share * np.array([_ONLINE_MULT[c] for c in ACQUISITION_CHANNELS])[channel],
                          1e-3, 1 - 1e-3)
    conc = 2.0
    online_pref = rng_member.beta(online_mean * conc, (1 - online_mean) * conc) if sc.online_share > 0 else np.zeros(n)
    treated = np.zeros(n, dtype=bool)
    if eff.retention_treatment is not None:
        t_ret = ((eff.retention_start or sc.start) - sc.start) / pd.Timedelta(days=1)
        treated = (join >= t_ret) & (rng_member.random(n) < eff.retention_share)
    p = p_base * np.where(treated, 1.0 - eff.retention_dropout_reduction, 1.0)
    member_programme = in_programme[home]
    lift = np.where(member_programme, eff.points_rate_lift, 0.0) if eff.points_launch is not None else np.zeros(n)
    # Worker threads build what has its own random stream or needs no draws while this thread draws
    # the purchases: the member table (names, phones, e-mails: Arrow string work), later the contact
    # log, the transaction ids and the categories.  NumPy and Arrow release the GIL, so on two cores
    # this overlaps instead of adding up.
    worker = ThreadPoolExecutor(max_workers=3)
    member_ids = _ids("M", np.arange(1, n + 1), _member_width(n))
    members_job = worker.submit(_members_frame, sc, rng_pii, n, channel, join, home, store_ids, member_ids)
    # the categories' own stream starts with the members' preferences (1.2M Dirichlet rows, the
    # categories' largest draw): drawn now, beside the lives, instead of during the transaction table
    # (their table is made later: built now, its 0.4 GB would add to the peak)
    preferences_job = worker.submit(preference_draws, seed, sc.business, n)
    _advance(bar)

    # ------------------------------------------------------------------- lives
    first_idx = np.flatnonzero(starts)
    life_member = [first_idx]
    life_start = [t0[first_idx]]
    life_no, rep_t, died_l, death_l = _simulate_lives(
        rng_life, cal, t0[first_idx], lam[first_idx], p[first_idx], lift[first_idx], sigma_launch
    )
    rep_member = [first_idx[life_no]]
    rep_time = [rep_t]
    dead = np.zeros(n, dtype=bool)
    death = np.full(n, np.nan)
    dead[first_idx] = died_l
    death[first_idx] = death_l
    reactivated_at = np.full(n, np.nan)
    life_end = [np.where(died_l, death_l, W)]
    campaigns: list[tuple[str, str, float, float, str]] = []
    if sc.reactivation:
        c = _FIRST_REACTIVATION_DAYS
        while c + sc.reactivation_window_days < W:
            cand = np.flatnonzero(dead & (death < c))
            chosen = cand[rng_react.random(len(cand)) < sc.reactivation_prob]
            t_new = c + rng_react.random(len(chosen)) * sc.reactivation_window_days
            life_no, rep_t, died_l, death_l = _simulate_lives(
                rng_react, cal, t_new, lam[chosen], p[chosen], lift[chosen], sigma_launch
            )
            life_member.append(chosen)
            life_start.append(t_new)
            rep_member.append(chosen[life_no])
            rep_time.append(rep_t)
            life_end.append(np.where(died_l, death_l, W))
            dead[chosen] = died_l
            death[chosen] = death_l
            reactivated_at[chosen] = t_new
            campaigns.append(("reactivation", "reactivation", c, c + sc.reactivation_window_days - 1, "churned"))
            c += sc.reactivation_every_days
    all_life_member = np.concatenate(life_member)
    all_life_start = np.concatenate(life_start)
    all_life_end = np.concatenate(life_end)
    pur_member = np.concatenate([all_life_member] + rep_member)
    pur_time = np.concatenate([all_life_start] + rep_time)
    del rep_member, rep_time, life_no, rep_t  # peak memory: only the concatenations are used from here on
    # The lives fix each member's first purchase and churn time, all the contact log needs (with the
    # member table): it is drawn (own random stream) in the second thread while this one makes the
    # transactions.
    first_purchase = _to_datetime(sc.start, cal.warp(np.where(starts, t0, np.nan)))
    churn_time = _to_datetime(sc.start, cal.warp(np.where(dead, death, np.nan)))
    contacts_job = worker.submit(_contact_log, sc, members_job, lam, first_purchase, churn_time, int(seed))
    _advance(bar)

    # ------------------------------------------------------------ transactions
    n_pur = len(pur_member)
    online = rng_tx.random(n_pur) < np.take(online_pref, pur_member)
    away = rng_tx.random(n_pur) >= sc.home_store_share
    other_store = _weighted_choice(rng_tx, n_pur, store_weight)
    pur_store = np.where(~online & away, other_store, np.take(home, pur_member))
    promo_windows = _holiday_promos(sc) if sc.seasonality else []
    campaigns += promo_windows
    in_promo = np.zeros(n_pur, dtype=bool)
    for _, _, a_, b_, _ in promo_windows:
        in_promo |= (pur_time >= a_) & (pur_time < b_ + 1)
    pop_mean = sc.gg_p * sc.gg_gamma / (sc.gg_q - 1)
    item_price = pop_mean / 3.0

    if sc.business == "gym":
        kind = np.full(n_pur, 1, dtype=np.int8)  # visit
        amount = np.zeros(n_pur)
        items = np.zeros(n_pur, dtype=np.int64)
        discount = np.zeros(n_pur)
        online[:] = False
        pur_store = np.where(away, other_store, np.take(home, pur_member))
        # monthly fees: at each billing date of every life, while alive and inside the period
        n_fee = np.floor((np.minimum(all_life_end, np.nextafter(W, 0)) - all_life_start) / sc.billing_cycle_days
                         ).astype(np.int64) + 1
        fee_life = np.repeat(np.arange(len(all_life_start)), n_fee)
        fee_k = np.arange(len(fee_life)) - np.repeat(np.cumsum(n_fee) - n_fee, n_fee)
        fee_member = all_life_member[fee_life]
        fee_time = all_life_start[fee_life] + fee_k * sc.billing_cycle_days
        nf = len(fee_member)
        pur_member = np.concatenate([pur_member, fee_member])
        pur_time = np.concatenate([pur_time, fee_time])
        pur_store = np.concatenate([pur_store, home[fee_member]])
        online = np.concatenate([online, np.ones(nf, dtype=bool)])
        kind = np.concatenate([kind, np.full(nf, 2, dtype=np.int8)])
        amount = np.concatenate([amount, np.full(nf, sc.monthly_fee_cny)])
        items = np.concatenate([items, np.ones(nf, dtype=np.int64)])
        discount = np.concatenate([discount, np.zeros(nf)])
        in_promo = np.concatenate([in_promo, np.zeros(nf, dtype=bool)])
    else:
        kind = np.zeros(n_pur, dtype=np.int8)  # purchase
        # the same arithmetic in place (ten-million-row temporaries are fresh pages the kernel zeroes)
        scale = np.take(nu, pur_member)
        np.divide(1.0, scale, out=scale)
        amount = rng_tx.gamma(sc.gg_p, scale)
        np.round(amount, 2, out=amount)
        np.maximum(amount, 0.01, out=amount)
        np.divide(amount, item_price, out=scale)
        scale -= 1.0
        np.maximum(scale, 0.0, out=scale)
        items = rng_tx.poisson(scale)
        items += 1
        del scale
        share = np.where(in_promo, sc.promo_discount_share, sc.promo_discount_share / 4)
        has_disc = rng_tx.random(n_pur) < share
        rate = rng_tx.uniform(0.05, 0.25, n_pur)
        discount = amount * rate
        np.subtract(1, rate, out=rate)
        discount /= rate
        np.round(discount, 2, out=discount)
        np.copyto(discount, 0.0, where=~has_disc)
        del share, has_disc, rate
    del in_promo, away, other_store
    n_rows = len(pur_member)

    # points: earned where the programme applies; redemptions never exceed the balance
    points_earned = np.zeros(n_rows, dtype=np.int64)
    points_redeemed = np.zeros(n_rows, dtype=np.int64)
    if sc.points_per_cny > 0 and sc.business != "gym" and n_rows > 0:  # n_rows == 0: nobody bought
        eligible = np.ones(n_rows, dtype=bool)
        if eff.points_launch is not None:
            t_launch = (eff.points_launch - sc.start) / pd.Timedelta(days=1)
            eligible = (pur_time >= t_launch) & in_programme[pur_store]
        points_earned = np.where(eligible, np.floor(amount * sc.points_per_cny), 0).astype(np.int64)
        points_redeemed = _redemptions(rng_tx, pur_member, pur_time, W, points_earned, eligible, sc.redeem_prob)
        del eligible
        discount = np.round(discount + points_redeemed / 100.0, 2)
    _advance(bar)

    # returns (never after the member's final churn time, never after the period)
    if sc.return_rate > 0 and sc.business != "gym":
        is_ret_src = rng_tx.random(n_rows) < sc.return_rate
        src = np.flatnonzero(is_ret_src)
        r_time = pur_time[src] + 0.02 + rng_tx.exponential(6.0, len(src))
        full = rng_tx.random(len(src)) < 0.7
        frac = np.where(full, 1.0, rng_tx.uniform(0.2, 0.8, len(src)))
        limit = np.where(dead[pur_member[src]], death[pur_member[src]], W)
        keep = r_time < np.minimum(limit, W)
        src, r_time, frac = src[keep], r_time[keep], frac[keep]
        ret_amount = -np.maximum(np.round(amount[src] * frac, 2), 0.01)
        ret_items = -np.clip(np.round(items[src] * frac), 1, items[src]).astype(np.int64)
        ret_points = -np.floor(points_earned[src] * frac).astype(np.int64)
        del is_ret_src, full, frac, limit, keep
    else:
        src = np.array([], dtype=np.int64)
        r_time = ret_amount = np.array([], dtype=float)
        ret_items = ret_points = np.array([], dtype=np.int64)
    n_ret = len(src)

    # non-member walk-in sales: a share of offline receipts, following the calendar
    n_off = int((~online & (kind != 2)).sum())
    n_walk = int(rng_walk.poisson(n_off * sc.walk_in_share / (1 - sc.walk_in_share))) if n_off else 0
    walk_time = cal.inverse(rng_walk.random(n_walk) * cal.S[-1])
    walk_store = _weighted_choice(rng_walk, n_walk, store_weight)
    if sc.business == "gym":
        walk_amount = np.full(n_walk, sc.day_pass_cny)
        walk_items = np.ones(n_walk, dtype=np.int64)
        walk_kind = np.full(n_walk, 1, dtype=np.int8)
    else:
        walk_amount = np.maximum(np.round(rng_walk.gamma(sc.gg_p, 0.8 * pop_mean / sc.gg_p, n_walk), 2), 0.01)
        walk_items = 1 + rng_walk.poisson(np.maximum(walk_amount / item_price - 1.0, 0.0))
        walk_kind = np.zeros(n_walk, dtype=np.int8)
    n_tx = n_rows + n_ret + n_walk
    id_width = max(9, len(str(n_tx)))
    transaction_ids = worker.submit(_ids, "T", np.arange(1, n_tx + 1), id_width)
    # product categories (issue 15): own random stream, so the other columns are unchanged
    categories_job = worker.submit(_categories, seed, sc.business, n, pur_member, kind, src, n_walk, member_ids,
                                   preferences_job)
    _advance(bar)

    # ------------------------------------------------------------ assemble tx
    # Receipts in time order.  Each column is concatenated and put in that order once, and
    # the unordered inputs are freed right away (peak memory at 10M rows).
    # The columns are independent gathers and Arrow takes (NumPy and Arrow release the GIL):
    # two more threads build them while this one orders the packed key below.
    assembly = ThreadPoolExecutor(max_workers=2)
    raw_time = np.concatenate([pur_time, r_time, walk_time])
    del pur_time, r_time, walk_time
    warped = np.empty_like(raw_time)

    def warp_block(lo: int, hi: int) -> None:  # element-wise: blocks in threads give the same values
        warped[lo:hi] = cal.warp(raw_time[lo:hi])

    edges = np.linspace(0, len(raw_time), 5).astype(np.int64)
    for job in [assembly.submit(warp_block, lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]:
        job.result()
    del raw_time
    order, ties = argsort_keys(warped)  # packed sort, 1.5x faster than np.argsort
    if ties:  # rows at equal times: in np.argsort's order, as the data set always had them
        order = np.argsort(warped)
    warped = np.take(warped, order)

    def in_order(parts: list[np.ndarray]) -> np.ndarray:
        whole = np.concatenate(parts)
        parts.clear()  # the only references left (peak memory)
        return np.take(whole, order)

    jobs = {
        "timestamp": assembly.submit(_to_datetime, sc.start, warped),
        "amount": assembly.submit(in_order, [amount, ret_amount, walk_amount]),
        "items": assembly.submit(in_order, [items, ret_items, walk_items]),
        "discount": assembly.submit(in_order, [discount, np.zeros(n_ret + n_walk)]),
        "points_earned": assembly.submit(in_order, [points_earned, ret_points, np.zeros(n_walk, dtype=np.int64)]),
        "points_redeemed": assembly.submit(in_order, [points_redeemed, np.zeros(n_ret + n_walk, dtype=np.int64)]),
        "category": assembly.submit(lambda: category_series(sc.business, np.take(categories_job.result()[0], order))),
    }
    del amount, items, discount, points_earned, points_redeemed, ret_amount, ret_items, ret_points
    del walk_amount, walk_items
    # Member, store, kind and channel share one int64 while they are put in time order: one
    # random gather instead of four (a gather of 10M rows costs a cache miss per row).
    # Built in place, part by part (purchases, returns, walk-ins): no 10M-row concatenations.
    store_bits = max(int(n_s).bit_length(), 1)
    key = np.empty(n_tx, dtype=np.int64)
    purchases, returns, walk_ins = slice(0, n_rows), slice(n_rows, n_rows + n_ret), slice(n_rows + n_ret, n_tx)
    key[purchases] = pur_member
    key[returns] = pur_member[src]
    key[walk_ins] = -1
    key += 1
    for width, of_purchase, of_walk_in in ((store_bits, pur_store, walk_store), (2, kind, walk_kind), (1, online, False)):
        key <<= width
        key[purchases] |= of_purchase
        key[returns] |= of_purchase[src]
        key[walk_ins] |= of_walk_in
    del pur_member, pur_store, online, kind, walk_store, walk_kind
    key = np.take(key, order)
    mem_o = np.right_shift(key, 3 + store_bits)  # in-place steps: one 10M-row temporary per column
    mem_o -= 1
    store_o = np.right_shift(key, 3)
    store_o &= (1 << store_bits) - 1
    bits = np.right_shift(key, 1)
    bits &= 3
    kind_o = bits.astype(np.int8)
    np.bitwise_and(key, 1, out=bits)
    online_o = bits.astype(bool)
    del key, bits
    jobs["member_id"] = assembly.submit(lambda: _str_series(take_fixed_width(member_ids, mem_o)))
    jobs["store_id"] = assembly.submit(lambda: _str_series(pc.take(store_ids, pa.array(store_o))))
    jobs["channel"] = assembly.submit(lambda: _str_series(_take(["offline", "online"], online_o)))
    jobs["kind"] = assembly.submit(lambda: _str_series(_take(["purchase", "visit", "fee"], kind_o)))
    ret_o = (order >= n_rows) & (order < n_rows + n_ret)  # rows n_rows.. are the returns
    columns = {name: job.result() for name, job in jobs.items()}
    assembly.shutdown()
    category_preferences = categories_job.result()[1]
    del order, jobs, preferences_job  # the preferences (74 MB at 1.16M members) are in their table now
    transactions = pd.DataFrame(
        {
            "transaction_id": _str_series(transaction_ids.result()),
            "member_id": columns["member_id"],
            "store_id": columns["store_id"],
            "timestamp": columns["timestamp"],
            "amount": columns["amount"],
            "items": columns["items"],
            "discount": columns["discount"],
            "points_earned": columns["points_earned"],
            "points_redeemed": columns["points_redeemed"],
            "channel": columns["channel"],
            "is_return": ret_o,
            "kind": columns["kind"],
            "category": columns["category"],
        },
        copy=False,
    )
    # the futures keep their results alive: the ids' 32-bit offsets (the frame holds 64-bit ones), the codes
    del columns, transaction_ids, categories_job
    if on_table is not None:
        on_table("transactions", transactions)
    _advance(bar)

    # ------------------------------------------------------------ traffic, tiers
    day_all = np.floor(warped).astype(np.int64)
    offline_receipt = ~online_o & ~ret_o
    n_days = int(W)
    receipts = np.bincount(store_o[offline_receipt] * n_days + day_all[offline_receipt], minlength=n_s * n_days)
    conv = np.repeat(conversion, n_days)
    others = rng_traffic.poisson(np.maximum(receipts, 1.0) * (1 - conv) / conv)
    store_traffic = pd.DataFrame(
        {
            "store_id": _str_series(pc.take(store_ids, pa.array(np.repeat(np.arange(n_s), n_days)))),
            "date": np.tile(pd.date_range(sc.start, sc.end, freq="D").to_numpy().astype("datetime64[us]"), n_s),
            "visitors": (receipts + others).astype(np.int64),
        },
        copy=False,
    )
    member_rows = mem_o >= 0
    recent = member_rows & (warped >= W - 365.0)
    spend_12m = np.bincount(mem_o[recent], weights=transactions["amount"].to_numpy()[recent], minlength=n)
    tier_code = np.searchsorted(np.asarray(sc.tier_thresholds_cny), spend_12m, side="right")
    n_purchases = np.bincount(mem_o[member_rows & ~ret_o & (kind_o != 2)], minlength=n)
    # only the member rows are needed from here on (peak memory: the engagement tables come next)
    del warped, store_o, online_o, kind_o, ret_o, day_all, offline_receipt, member_rows, recent

    # a new frame (not a column added in place): the contacts thread may still read the member table
    members = members_job.result().assign(tier=_str_series(_take(list(TIERS), tier_code)))
    truth = pd.DataFrame(
        {
            "member_id": members["member_id"],
            "purchase_rate_per_day": lam,
            "dropout_prob": p,
            "spend_mean": np.full(n, sc.monthly_fee_cny) if sc.business == "gym" else spend_mean,
            "first_purchase_lag_days": np.where(never, np.nan, lag),
            "first_purchase": first_purchase,
            "churn_time": churn_time,
            "alive_at_end": starts & ~dead,
            "reactivated_at": _to_datetime(sc.start, cal.warp(reactivated_at)),
            "n_purchases": n_purchases.astype(np.int64),
            "points_programme": member_programme if eff.points_launch is not None else np.zeros(n, dtype=bool),
            "retention_treated": treated,
        },
        copy=False,
    )
    stores = pd.DataFrame(
        {
            "store_id": _str_series(store_ids),
            "city": _str_series(np.array(_CITIES_ZH if sc.locale == "zh_CN" else _CITIES_EN)[city_idx]),
            "size": _str_series(_SIZES[size_code]),
            "points_programme": in_programme,
        }
    )
    campaigns_df = _campaigns_frame(sc, campaigns)
    _advance(bar)
    bar.close()
    data = SyntheticData(
        members=members,
        transactions=transactions,
        stores=stores,
        store_traffic=store_traffic,
        campaigns=coerce_frame(campaigns_df, "campaigns"),
        truth=truth,
        category_preferences=category_preferences,  # issue 15
        scenario=sc,
        random_state=int(seed),
    )
    if on_table is not None:  # largest first
        for name, df in sorted(data.tables().items(), key=lambda item: -len(item[1])):
            if name != "transactions":
                on_table(name, df)
    # engagement tables (contacts, community): own RNG streams, the tables above are unchanged
    from workbook.synth.community import generate_community

    from workbook.synth.feedback import generate_surveys, points_rules

    # community and surveys first: the contact log (worker thread) may still be running
    community = generate_community(sc, transactions, members, truth, int(seed), member_index=mem_o)
    # issue 15 (feedback): surveys and points rules from their own stream; the tables above are unchanged
    surveys = generate_surveys(transactions, members, truth, sc.end, int(seed), member_index=mem_o)
    for name, df in {**contacts_job.result(), **community}.items():
        setattr(data, name, df)
    worker.shutdown()
    for name, df in data.tables().items():
        require_schema(df, name)
    data.surveys = surveys
    data.points_rules = points_rules(sc)
    return data


def _redemptions(rng: np.random.Generator, member: np.ndarray, t: np.ndarray, W: float, earned: np.ndarray,
                 eligible: np.ndarray, redeem_prob: float) -> np.ndarray:
    """Points redeemed per purchase: a flagged purchase redeems the whole hundreds earned since the last one.

    In a function of its own so that its ten-million-row intermediates are freed on return.
    Only the flagged purchases (``redeem_prob`` of the eligible ones) need their balance
    and the previous flagged purchase's level, so after the flags everything works on them.
    """
    # by member, then time; the rows are a few runs already in that order (first purchases, then
    # each batch of lives), which a stable sort (timsort) merges several times faster than quicksort
    order = np.argsort(member * (W + 1.0) + t, kind="stable")
    m_sorted = np.take(member, order)
    e_sorted = np.take(earned, order)
    flag = np.take(eligible, order)
    flag &= rng.random(len(order)) < redeem_prob
    pos = np.flatnonzero(flag)  # flagged purchases, in (member, time) order
    del flag
    # points earned by the member before each flagged purchase: the running total, less the
    # total at the end of the member's previous purchases (their first row: a search in the sorted members)
    cum = np.cumsum(e_sorted)
    m_pos = m_sorted[pos]
    first = np.searchsorted(m_sorted, m_pos, side="left")
    del m_sorted
    earned_before = cum[pos] - e_sorted[pos] - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0)
    del cum, e_sorted
    level = (earned_before // 100) * 100
    # the previous flagged purchase's level, if it is the same member's
    same = np.zeros(len(pos), dtype=bool)
    same[1:] = m_pos[1:] == m_pos[:-1]
    prev_level = np.zeros(len(pos), dtype=level.dtype)
    prev_level[1:] = np.where(same[1:], level[:-1], 0)
    redeemed = np.zeros(len(order), dtype=np.int64)
    redeemed[order[pos]] = level - prev_level
    return redeemed


def _contact_log(sc: Scenario, members_job: Future, lam: np.ndarray, first_purchase: np.ndarray,
                 churn_time: np.ndarray, seed: int) -> dict[str, pd.DataFrame]:
    """:func:`~workbook.synth.contacts.generate_contacts` from the parts of members and truth it reads."""
    from workbook.synth.contacts import generate_contacts

    members = members_job.result()[["member_id", "join_date", "home_store_id"]]
    truth = pd.DataFrame({"purchase_rate_per_day": lam, "first_purchase": first_purchase, "churn_time": churn_time},
                         copy=False)
    return generate_contacts(sc, members, truth, seed)


def _categories(seed: int, business: str, n: int, member: np.ndarray, kind: np.ndarray, return_source: np.ndarray,
                n_walk: int, member_ids: pa.Array, preferences_job: Future) -> tuple[np.ndarray, pd.DataFrame]:
    """Category codes of the rows (pre-sort layout) and the true preferences table (issue 15).

    ``preferences_job``: :func:`~workbook.synth.categories.preference_draws` (the stream continues from it).
    """
    preferences = preferences_job.result()
    codes, theta = transaction_categories(seed, business, n, member, kind, return_source, n_walk,
                                          preferences=preferences)
    return codes, preferences_frame(_str_series(member_ids), theta, business)


def _member_width(n: int) -> int:
    return max(7, len(str(n)))


def _holiday_promos(sc: Scenario) -> list[tuple[str, str, float, float, str]]:
    """Holiday promotion windows inside the period as (kind, name, first, last raw day, target)."""
    out = []
    for year in range(sc.start.year, sc.end.year + 1):
        sf = pd.Timestamp(SPRING_FESTIVAL[year])
        windows = [
            (f"spring_festival_{year}", sf - pd.Timedelta(days=14), sf - pd.Timedelta(days=1)),
            (f"618_{year}", pd.Timestamp(f"{year}-06-01"), pd.Timestamp(f"{year}-06-18")),
            (f"double_11_{year}", pd.Timestamp(f"{year}-11-01"), pd.Timestamp(f"{year}-11-11")),
        ]
        for name, a, b in windows:
            a, b = max(a, sc.start), min(b, sc.end)
            if a <= b:
                out.append(("holiday_promo", name, (a - sc.start).days, (b - sc.start).days, "all"))
    return out


def _campaigns_frame(sc: Scenario, rows: list[tuple[str, str, float, float, str]]) -> pd.DataFrame:
    eff = sc.effects
    start_us = np.datetime64(sc.start.to_datetime64(), "D")
    recs = [(k, nm, start_us + np.timedelta64(int(a), "D"), start_us + np.timedelta64(int(b), "D"), tg)
            for k, nm, a, b, tg in rows]
    recs = [(k, f"{nm}_{str(a)}" if k == "reactivation" else nm, a, b, tg) for k, nm, a, b, tg in recs]
    if eff.points_launch is not None:
        recs.append(("points_programme", "points_programme_launch", eff.points_launch.to_datetime64(),
                     sc.end.to_datetime64(), "programme_stores"))
    if eff.retention_treatment is not None:
        recs.append(("experiment", eff.retention_treatment, (eff.retention_start or sc.start).to_datetime64(),
                     sc.end.to_datetime64(), "randomised_new_members"))
    df = pd.DataFrame(recs, columns=["kind", "name", "start", "end", "target_segment"])
    df["start"] = pd.to_datetime(df["start"]).astype("datetime64[us]")
    df["end"] = pd.to_datetime(df["end"]).astype("datetime64[us]")
    df = df.sort_values(["start", "kind", "name"], kind="stable").reset_index(drop=True)
    df.insert(0, "campaign_id", [f"C{i:03d}" for i in range(1, len(df) + 1)])
    return df


def _members_frame(
    sc: Scenario,
    rng: np.random.Generator,
    n: int,
    channel: np.ndarray,
    join: np.ndarray,
    home: np.ndarray,
    store_ids: pa.Array,
    member_ids: pa.Array,
) -> pd.DataFrame:
    """Member table with fictitious personal data drawn from Faker's word lists (vectorised).

    All columns but ``tier``, which needs the transactions (added last by :func:`generate`).
    """
    female_share = 0.45 if sc.business == "gym" else 0.62
    female = rng.random(n) < female_share
    age_mean, age_sd = (31.0, 7.0) if sc.business == "gym" else (35.0, 10.0)
    age_years = np.clip(rng.normal(age_mean, age_sd, n), 18.0, 75.0)
    join_day = np.floor(join)
    birth_days = np.floor(join_day - age_years * 365.25)
    name, email = _names_and_emails(sc.locale, rng, female)
    phone = _phones(sc.locale, rng, n)
    return pd.DataFrame(
        {
            "member_id": _str_series(member_ids),
            "name": _str_series(name),
            "phone": _str_series(phone),
            "email": _str_series(email),
            "gender": _str_series(_take(["M", "F"], female)),
            "birth_date": _to_datetime(sc.start, birth_days),
            "join_date": _to_datetime(sc.start, _Calendar_warp(sc, join)),
            "acquisition_channel": _str_series(_take(list(ACQUISITION_CHANNELS), channel)),
            "home_store_id": _str_series(pc.take(store_ids, pa.array(home))),
        },
        copy=False,
    )


def _Calendar_warp(sc: Scenario, t: np.ndarray) -> np.ndarray:  # noqa: N802 - small helper
    cdf, frac = hour_quantile(sc.seasonality_profile)
    day = np.floor(t)
    return day + np.minimum(np.interp(t - day, cdf, frac), 86_399.0 / 86_400.0)


def _weighted_vocab(mapping: object) -> tuple[list[str], np.ndarray]:
    if hasattr(mapping, "items"):
        words = list(mapping.keys())  # type: ignore[union-attr]
        weights = np.array(list(mapping.values()), dtype=float)  # type: ignore[union-attr]
    else:
        words = list(mapping)  # type: ignore[arg-type]
        weights = np.ones(len(words))
    return words, weights


def _names_and_emails(locale: str, rng: np.random.Generator, female: np.ndarray) -> tuple[pa.Array, pa.Array]:
    n = len(female)
    if locale == "zh_CN":
        from faker.providers.person.zh_CN import Provider as P

        last, lw = _weighted_vocab(P.last_names)
        fm, _ = _weighted_vocab(P.first_names_male)
        ff, _ = _weighted_vocab(P.first_names_female)
        surname = _take(last, _weighted_choice(rng, n, lw))
        g1 = np.where(female, rng.integers(0, len(ff), n) + len(fm), rng.integers(0, len(fm), n))
        g2 = np.where(female, rng.integers(0, len(ff), n) + len(fm), rng.integers(0, len(fm), n))
        given_vocab = fm + ff
        two = rng.random(n) < 0.6
        given = _join(_take(given_vocab, g1), pc.if_else(pa.array(two), _take(given_vocab, g2), pa.array([""] * n)))
        name = _join(surname, given)
        rl, _ = _weighted_vocab(P.last_romanized_names)
        rf, _ = _weighted_vocab(P.first_romanized_names)
        user = pc.utf8_lower(_join(_take(rf, rng.integers(0, len(rf), n)), _take(rl, rng.integers(0, len(rl), n))))
        domains = _EMAIL_ZH
    else:
        from faker.providers.internet.en_US import Provider as I
        from faker.providers.person.en_US import Provider as P

        fm, fmw = _weighted_vocab(P.first_names_male)
        ff, ffw = _weighted_vocab(P.first_names_female)
        last, lw = _weighted_vocab(P.last_names)
        first_code = np.where(female, _weighted_choice(rng, n, ffw) + len(fm), _weighted_choice(rng, n, fmw))
        first = _take(fm + ff, first_code)
        surname = _take(last, _weighted_choice(rng, n, lw))
        name = _join(first, " ", surname)
        user = pc.utf8_lower(_join(first, ".", surname))
        domains = list(I.free_email_domains)
    digits = pc.cast(pa.array(rng.integers(1, 9999, n)), pa.string())  # Arrow formats 10x faster than astype(str)
    email = _join(user, digits, "@", _take(domains, rng.integers(0, len(domains), n)))
    return name, email


def _phones(locale: str, rng: np.random.Generator, n: int) -> pa.Array:
    if locale == "zh_CN":
        from faker.providers.phone_number.zh_CN import Provider as PP

        prefixes = np.asarray(PP.phonenumber_prefixes, dtype=np.int64)
        number = prefixes[rng.integers(0, len(prefixes), n)] * 100_000_000 + rng.integers(0, 100_000_000, n)
        return _ids("", number, 11)
    area = _ids("", rng.integers(201, 990, n), 3)
    exch = _ids("", rng.integers(200, 1000, n), 3)
    line = _ids("", rng.integers(0, 10_000, n), 4)
    return _join(area, "-", exch, "-", line)
