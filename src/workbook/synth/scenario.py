"""Scenario: every knob of the synthetic data generator, with named presets.

A :class:`Scenario` is a frozen dataclass, so a data set is fully described by
``(scenario, seed)``.  Parameters carry their unit in the name
(``alpha_days``, ``mean_lag_days``, ``monthly_fee_cny``) and are validated
when the object is created: a bad value raises
:class:`~workbook.errors.WorkbookInputError` naming the field and the value.

The latent behaviour model (see :mod:`workbook.synth.generator`):

* purchase rate per member ``lambda ~ Gamma(shape=r, rate=alpha_days)`` (per day),
* dropout probability after each repeat purchase ``p ~ Beta(a, b)``,
* spend per transaction ``z ~ Gamma(gg_p, rate=nu)`` with ``nu ~ Gamma(gg_q, rate=gg_gamma)``
  (the Gamma-Gamma model; the mean basket of a member is ``gg_p / nu`` CNY).

With ``seasonality=False``, ``reactivation=False`` and no effects this is exactly
the BG/NBD + Gamma-Gamma model of Fader, Hardie and Lee (2005).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import parse_date

#: Acquisition channels of the data contract, in a fixed order.
ACQUISITION_CHANNELS = (
    "store_walk_in",
    "wechat_mini_program",
    "app",
    "ecommerce",
    "referral",
    "offline_event",
)

#: Tier names from lowest to highest (普通/银卡/金卡/白金卡).
TIERS = ("member", "silver", "gold", "platinum")

#: Names accepted by :meth:`Scenario.preset`.
PRESETS = ("retail_chain", "ecommerce", "gym")

#: Seasonality profiles (see :mod:`workbook.synth.holidays`).
SEASONALITY_PROFILES = ("retail", "ecommerce", "gym")


def _to_timestamp(value: object, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = parse_date(value, name)
    if ts.tzinfo is not None:
        raise WorkbookInputError(f"{name}={value!r} must be a local date without time zone.")
    return ts


def _date_in_period(start: pd.Timestamp, end: pd.Timestamp, fraction: float) -> pd.Timestamp | None:
    """First day of the month on or after ``start + fraction * (end - start)``, clipped to the period."""
    if end <= start:
        return None  # the Scenario check reports the bad period
    day = (start + fraction * (end - start)).normalize()
    first = day if day.day == 1 else (day + pd.offsets.MonthBegin(1))
    return min(max(first, start), end)


def _require_probability(value: float, name: str) -> None:
    if not (isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0):
        raise WorkbookInputError(f"{name}={value!r} must be a probability in [0, 1].")


def _require_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value >= 0 if allow_zero else value > 0
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise WorkbookInputError(f"{name}={value!r} must be a finite number {bound}.")


def _require_mapping_over(
    mapping: dict[str, float], keys: tuple[str, ...], name: str
) -> None:
    unknown = sorted(set(mapping) - set(keys))
    if unknown:
        raise WorkbookInputError(f"{name} has unknown key(s) {unknown}; valid keys are {list(keys)}.")


@dataclass(frozen=True)
class Effects:
    """Causal effects planted in the data for the case studies (the truth to recover).

    Parameters
    ----------
    points_launch : date-like or None
        Launch date of the points programme.  ``None``: points (if
        ``Scenario.points_per_cny > 0``) are earned in every store from the start.
        Otherwise no points before the launch, and afterwards only in the
        programme stores.
    points_store_share : float
        Share of stores in the programme.  Roll-out is *not* random: the largest
        stores go first (selection bias for the naive comparison).
    points_rate_lift : float
        True relative lift of the purchase rate of members whose home store is in
        the programme, after the launch (0.10 = +10 %).
    retention_treatment : str or None
        Name of a retention treatment (e.g. ``"personalised_recommendations"``,
        ``"coach_follow_up"``) randomly assigned to members who join on or after
        ``retention_start``.
    retention_start : date-like or None
        Start of the randomised experiment (default: the scenario start).
    retention_share : float
        Share of eligible members assigned to the treatment.
    retention_dropout_reduction : float
        True relative reduction of the dropout probability of treated members
        (0.2: ``p`` becomes ``0.8 p``).
    """

    points_launch: pd.Timestamp | None = None
    points_store_share: float = 0.5
    points_rate_lift: float = 0.0
    retention_treatment: str | None = None
    retention_start: pd.Timestamp | None = None
    retention_share: float = 0.5
    retention_dropout_reduction: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "points_launch", _to_timestamp(self.points_launch, "effects.points_launch"))
        object.__setattr__(
            self, "retention_start", _to_timestamp(self.retention_start, "effects.retention_start")
        )
        _require_probability(self.points_store_share, "effects.points_store_share")
        _require_probability(self.retention_share, "effects.retention_share")
        _require_probability(self.retention_dropout_reduction, "effects.retention_dropout_reduction")
        if not (isinstance(self.points_rate_lift, (int, float)) and self.points_rate_lift > -1):
            raise WorkbookInputError(
                f"effects.points_rate_lift={self.points_rate_lift!r} must be a number > -1 "
                "(a relative change of the purchase rate)."
            )

    @property
    def any(self) -> bool:
        """True if any effect changes behaviour."""
        return (self.points_launch is not None and self.points_rate_lift != 0) or (
            self.retention_treatment is not None and self.retention_dropout_reduction != 0
        )


@dataclass(frozen=True)
class Scenario:
    """Configuration of a synthetic membership data set.

    Use :meth:`preset` for the named scenarios; every field can be overridden.
    All money is in CNY, all durations in days unless the name says otherwise.

    Parameters
    ----------
    name : str
        Label stored with the data.
    n_members : int
        Number of registered members (some never buy).
    n_stores : int
        Number of physical stores (clubs for the gym).
    start, end : date-like
        First and last calendar day of the observation period (both included).
    locale : {"zh_CN", "en_US"}
        Faker locale for names, phone numbers and e-mails.
    r, alpha_days : float
        Purchase rate heterogeneity: ``lambda ~ Gamma(shape=r, rate=alpha_days)``,
        purchases per day; mean rate ``r / alpha_days``.
    a, b : float
        Dropout heterogeneity: after each repeat purchase a member drops out
        with probability ``p ~ Beta(a, b)``.
    gg_p, gg_q, gg_gamma : float
        Gamma-Gamma spend model; mean basket of the population
        ``gg_p * gg_gamma / (gg_q - 1)`` CNY (needs ``gg_q > 1``).
    never_buy_share : dict
        Per acquisition channel, the share of members who register but never buy.
    mean_lag_days : dict
        Per acquisition channel, mean of the exponential delay between
        registration and first purchase.
    channel_mix : dict
        Shares of acquisition channels (normalised to 1).
    launch_wave_share, launch_wave_days : float
        Share of members who register in a wave at the programme start
        (exponential with mean ``launch_wave_days``); the rest register at a
        rate following the seasonal calendar.
    walk_in_share : float
        Share of offline receipts that are non-member walk-in sales.
    online_share : float
        Average share of member transactions made online.
    home_store_share : float
        Probability that an offline member purchase is in the home store.
    return_rate : float
        Probability that a purchase is (partly) returned later.
    promo_discount_share : float
        Share of transactions with a promotional discount in campaign periods
        (a quarter of that outside).
    points_per_cny : float
        Points earned per CNY paid (where points apply); 100 points = 1 CNY.
    redeem_prob : float
        Probability that a member redeems points at a transaction (if any).
    tier_thresholds_cny : tuple
        Trailing 12-month net spend for silver, gold and platinum.
    seasonality : bool
        Modulate purchase and registration intensity by day of week and
        Chinese holidays (Spring Festival, 618, National Day, Double 11).
    seasonality_profile : {"retail", "ecommerce", "gym"}
        Which calendar of multipliers to use.
    reactivation : bool
        Run reactivation campaigns that bring back churned members.
    reactivation_every_days, reactivation_window_days, reactivation_prob : float
        Campaign spacing, duration, and the probability that a churned member
        comes back (first purchase of a new life uniform inside the window).
    store_rate_sd : float
        Log-sd of a store-level multiplier of members' purchase rates (large
        stores get ``+store_rate_sd`` extra log-rate).  0 keeps the pure
        BG/NBD heterogeneity.
    business : {"retail", "gym"}
        ``"gym"``: transactions are visits (amount 0) plus monthly fee payments.
    monthly_fee_cny, billing_cycle_days, day_pass_cny : float
        Gym fee, billing cycle and non-member day pass price.
    effects : Effects
        Planted causal effects.

    Examples
    --------
    >>> s = Scenario.preset("retail_chain", n_members=1000)
    >>> s.n_members, s.start.date().isoformat()
    (1000, '2023-01-01')
    >>> round(s.r / s.alpha_days, 4)  # mean purchases per day
    0.0375
    >>> Scenario(n_members=-5)
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: n_members=-5 must be a positive integer.
    """

    name: str = "retail_chain"
    n_members: int = 20_000
    n_stores: int = 24
    start: pd.Timestamp = "2023-01-01"  # type: ignore[assignment]
    end: pd.Timestamp = "2024-12-31"  # type: ignore[assignment]
    locale: str = "zh_CN"
    # BG/NBD
    r: float = 0.3
    alpha_days: float = 8.0
    a: float = 1.3
    b: float = 12.0
    # Gamma-Gamma
    gg_p: float = 5.0
    gg_q: float = 3.5
    gg_gamma: float = 60.0
    # acquisition
    channel_mix: dict = field(
        default_factory=lambda: {
            "store_walk_in": 0.40,
            "wechat_mini_program": 0.25,
            "app": 0.10,
            "ecommerce": 0.08,
            "referral": 0.07,
            "offline_event": 0.10,
        }
    )
    never_buy_share: dict = field(
        default_factory=lambda: {
            "store_walk_in": 0.0,
            "wechat_mini_program": 0.25,
            "app": 0.15,
            "ecommerce": 0.0,
            "referral": 0.20,
            "offline_event": 0.35,
        }
    )
    mean_lag_days: dict = field(
        default_factory=lambda: {
            "store_walk_in": 0.004,
            "wechat_mini_program": 12.0,
            "app": 7.0,
            "ecommerce": 0.004,
            "referral": 5.0,
            "offline_event": 20.0,
        }
    )
    launch_wave_share: float = 0.35
    launch_wave_days: float = 45.0
    # transactions
    walk_in_share: float = 0.30
    online_share: float = 0.20
    home_store_share: float = 0.85
    return_rate: float = 0.03
    promo_discount_share: float = 0.4
    points_per_cny: float = 1.0
    redeem_prob: float = 0.15
    tier_thresholds_cny: tuple = (1000.0, 3000.0, 8000.0)
    # dynamics
    seasonality: bool = True
    seasonality_profile: str = "retail"
    reactivation: bool = True
    reactivation_every_days: float = 180.0
    reactivation_window_days: float = 14.0
    reactivation_prob: float = 0.08
    store_rate_sd: float = 0.15
    # business model
    business: str = "retail"
    monthly_fee_cny: float = 0.0
    billing_cycle_days: float = 30.0
    day_pass_cny: float = 0.0
    effects: Effects = field(
        default_factory=lambda: Effects(
            points_launch="2024-04-01", points_store_share=0.5, points_rate_lift=0.10
        )
    )

    # ------------------------------------------------------------------ checks
    def __post_init__(self) -> None:
        start = _to_timestamp(self.start, "start")
        end = _to_timestamp(self.end, "end")
        object.__setattr__(self, "start", start.normalize())
        object.__setattr__(self, "end", end.normalize())
        if self.end <= self.start:
            raise WorkbookInputError(
                f"start={self.start.date()} must be before end={self.end.date()}."
            )
        for name in ("n_members", "n_stores"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WorkbookInputError(f"{name}={value!r} must be a positive integer.")
        if self.locale not in ("zh_CN", "en_US"):
            raise WorkbookInputError(f"locale={self.locale!r} is not supported; choose 'zh_CN' or 'en_US'.")
        for name in ("r", "alpha_days", "a", "b", "gg_p", "gg_gamma", "launch_wave_days",
                     "reactivation_every_days", "reactivation_window_days", "billing_cycle_days"):
            _require_positive(getattr(self, name), name)
        if not (isinstance(self.gg_q, (int, float)) and self.gg_q > 1):
            raise WorkbookInputError(
                f"gg_q={self.gg_q!r} must be > 1 so that the mean spend gg_p*gg_gamma/(gg_q-1) is finite."
            )
        for name in ("store_rate_sd", "points_per_cny", "monthly_fee_cny", "day_pass_cny"):
            _require_positive(getattr(self, name), name, allow_zero=True)
        for name in ("launch_wave_share", "walk_in_share", "online_share", "home_store_share",
                     "return_rate", "promo_discount_share", "redeem_prob", "reactivation_prob"):
            _require_probability(getattr(self, name), name)
        if self.walk_in_share >= 1:
            raise WorkbookInputError("walk_in_share=1 leaves no member sales; use a value below 1.")
        for name in ("channel_mix", "never_buy_share", "mean_lag_days"):
            mapping = dict(getattr(self, name))
            _require_mapping_over(mapping, ACQUISITION_CHANNELS, name)
            object.__setattr__(self, name, mapping)
        for ch in ACQUISITION_CHANNELS:
            _require_positive(self.channel_mix.get(ch, 0.0), f"channel_mix[{ch!r}]", allow_zero=True)
            _require_probability(self.never_buy_share.get(ch, 0.0), f"never_buy_share[{ch!r}]")
            _require_positive(self.mean_lag_days.get(ch, 1.0), f"mean_lag_days[{ch!r}]")
        if sum(self.channel_mix.values()) <= 0:
            raise WorkbookInputError("channel_mix must give a positive share to at least one channel.")
        thresholds = tuple(float(x) for x in self.tier_thresholds_cny)
        if len(thresholds) != 3 or not (0 < thresholds[0] < thresholds[1] < thresholds[2]):
            raise WorkbookInputError(
                f"tier_thresholds_cny={self.tier_thresholds_cny!r} must be three increasing "
                "positive amounts (silver, gold, platinum)."
            )
        object.__setattr__(self, "tier_thresholds_cny", thresholds)
        if self.seasonality_profile not in SEASONALITY_PROFILES:
            raise WorkbookInputError(
                f"seasonality_profile={self.seasonality_profile!r} is not valid; "
                f"choose one of {list(SEASONALITY_PROFILES)}."
            )
        if self.business not in ("retail", "gym"):
            raise WorkbookInputError(f"business={self.business!r} is not valid; choose 'retail' or 'gym'.")
        if self.business == "gym" and self.monthly_fee_cny <= 0:
            raise WorkbookInputError("business='gym' needs monthly_fee_cny > 0.")
        if isinstance(self.effects, dict):
            object.__setattr__(self, "effects", Effects(**self.effects))
        if not isinstance(self.effects, Effects):
            raise WorkbookInputError(f"effects must be an Effects instance, got {type(self.effects).__name__}.")
        for name in ("points_launch", "retention_start"):
            ts = getattr(self.effects, name)
            if ts is not None and not (self.start <= ts <= self.end):
                raise WorkbookInputError(
                    f"effects.{name}={ts.date()} must lie inside the period "
                    f"{self.start.date()} .. {self.end.date()}."
                )

    # ---------------------------------------------------------------- helpers
    @property
    def period_days(self) -> int:
        """Number of calendar days observed (``end`` included)."""
        return int((self.end - self.start).days) + 1

    @property
    def is_pure_bgnbd(self) -> bool:
        """True if purchases follow the plain BG/NBD model (no seasonality, reactivation, effects)."""
        return (
            not self.seasonality
            and not self.reactivation
            and not self.effects.any
            and self.store_rate_sd == 0
            and self.business == "retail"
        )

    def without_effects(self) -> Scenario:
        """The same scenario with every planted causal effect switched off.

        Treatment assignment is kept (who is "treated" does not change), only
        the effect sizes become zero: ``points_rate_lift = 0`` and
        ``retention_dropout_reduction = 0``.  Generated with the same seed it is
        a parallel world without the intervention.

        Examples
        --------
        >>> s = Scenario.preset("gym").without_effects()
        >>> s.effects.retention_treatment, s.effects.retention_dropout_reduction
        ('coach_follow_up', 0.0)
        """
        effects = dataclasses.replace(self.effects, points_rate_lift=0.0, retention_dropout_reduction=0.0)
        return self.replace(effects=effects)

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def preset(cls, name: str = "retail_chain", **overrides: Any) -> Scenario:
        """Return a named scenario, optionally with fields overridden.

        Parameters
        ----------
        name : {"retail_chain", "ecommerce", "gym"}
            ``retail_chain``: a chain of stores in several cities launching a
            points programme on 2024-04-01 in its largest stores (true lift of the
            purchase rate +10 %).  ``ecommerce``: mostly online sales, a
            randomised personalised-recommendation test that truly lowers the
            dropout probability by 20 %.  ``gym``: monthly fees and visits, a
            randomised coach follow-up that lowers dropout by 25 %.
        **overrides
            Any :class:`Scenario` field; ``effects`` may be a dict.

        Examples
        --------
        >>> Scenario.preset("gym").business
        'gym'
        >>> Scenario.preset("pub")
        Traceback (most recent call last):
        ...
        workbook.errors.WorkbookInputError: preset 'pub' is unknown; choose one of ['retail_chain', 'ecommerce', 'gym'].
        """
        if name not in PRESETS:
            raise WorkbookInputError(f"preset {name!r} is unknown; choose one of {list(PRESETS)}.")
        values: dict[str, Any] = {"name": name}
        start = _to_timestamp(overrides.get("start", "2023-01-01"), "start")
        end = _to_timestamp(overrides.get("end", "2024-12-31"), "end")
        launch = _date_in_period(start, end, 0.62)  # 2024-04-01 for the default period
        experiment = _date_in_period(start, end, 0.245)  # 2023-07-01 for the default period
        if name == "retail_chain":
            values["effects"] = Effects(points_launch=launch, points_store_share=0.5, points_rate_lift=0.10)
        elif name == "ecommerce":
            values.update(
                n_stores=4,
                r=0.35,
                alpha_days=12.0,
                a=1.2,
                b=10.0,
                gg_p=4.0,
                gg_q=3.0,
                gg_gamma=110.0,
                channel_mix={
                    "store_walk_in": 0.05,
                    "wechat_mini_program": 0.30,
                    "app": 0.25,
                    "ecommerce": 0.30,
                    "referral": 0.08,
                    "offline_event": 0.02,
                },
                walk_in_share=0.10,
                online_share=0.90,
                tier_thresholds_cny=(1500.0, 5000.0, 12000.0),
                home_store_share=0.9,
                return_rate=0.10,
                seasonality_profile="ecommerce",
                store_rate_sd=0.0,
                effects=Effects(
                    retention_treatment="personalised_recommendations",
                    retention_start=experiment,
                    retention_share=0.5,
                    retention_dropout_reduction=0.20,
                ),
            )
        elif name == "gym":
            values.update(
                n_members=3000,
                n_stores=6,
                r=4.0,
                alpha_days=25.0,
                a=1.5,
                b=40.0,
                channel_mix={
                    "store_walk_in": 0.45,
                    "wechat_mini_program": 0.25,
                    "app": 0.10,
                    "ecommerce": 0.05,
                    "referral": 0.10,
                    "offline_event": 0.05,
                },
                never_buy_share={ch: 0.0 for ch in ACQUISITION_CHANNELS},
                mean_lag_days={ch: 0.004 for ch in ACQUISITION_CHANNELS},
                launch_wave_share=0.2,
                walk_in_share=0.08,
                online_share=0.0,
                home_store_share=0.95,
                return_rate=0.0,
                promo_discount_share=0.0,
                points_per_cny=0.0,
                redeem_prob=0.0,
                tier_thresholds_cny=(1200.0, 2400.0, 3500.0),
                seasonality_profile="gym",
                reactivation_prob=0.05,
                store_rate_sd=0.0,
                business="gym",
                monthly_fee_cny=299.0,
                day_pass_cny=59.0,
                effects=Effects(
                    retention_treatment="coach_follow_up",
                    retention_start=experiment,
                    retention_share=0.5,
                    retention_dropout_reduction=0.25,
                ),
            )
        values.update(overrides)
        if isinstance(values.get("effects"), dict):
            values["effects"] = Effects(**values["effects"])
        return cls(**values)

    @classmethod
    def pure_bgnbd(cls, **overrides: Any) -> Scenario:
        """A scenario whose purchases follow the plain BG/NBD + Gamma-Gamma model.

        No seasonality, no reactivation, no effects, no store multiplier, no
        launch wave; convenient for checking that estimators recover ``r``,
        ``alpha_days``, ``a``, ``b`` and the Gamma-Gamma parameters.

        Examples
        --------
        >>> Scenario.pure_bgnbd(n_members=500).is_pure_bgnbd
        True
        """
        values: dict[str, Any] = dict(
            name="pure_bgnbd",
            seasonality=False,
            reactivation=False,
            store_rate_sd=0.0,
            launch_wave_share=0.0,
            effects=Effects(),
        )
        values.update(overrides)
        return cls(**values)

    # ------------------------------------------------------------ serialising
    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (dates as ISO strings)."""

        def conv(v: Any) -> Any:
            if isinstance(v, pd.Timestamp):
                return v.date().isoformat()
            if isinstance(v, tuple):
                return list(v)
            return v

        out = {f.name: conv(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "effects"}
        out["effects"] = {f.name: conv(getattr(self.effects, f.name)) for f in dataclasses.fields(Effects)}
        return out

    def to_json(self) -> str:
        """The scenario as an indented JSON string."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> s = Scenario.preset("ecommerce", n_members=10)
        >>> Scenario.from_dict(s.to_dict()) == s
        True
        """
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise WorkbookInputError(f"unknown Scenario field(s) {unknown}.")
        if isinstance(values.get("effects"), dict):
            values["effects"] = Effects(**values["effects"])
        if "tier_thresholds_cny" in values:
            values["tier_thresholds_cny"] = tuple(values["tier_thresholds_cny"])
        return cls(**values)
