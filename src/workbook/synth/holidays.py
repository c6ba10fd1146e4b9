"""Calendar of the synthetic data: day-of-week, Chinese holidays, hours of the day.

The generator modulates its Poisson processes by a daily intensity
``s(day) = weekday multiplier * holiday multiplier`` normalised to mean 1 over
the period, so the latent ``purchase_rate_per_day`` keeps its meaning as the
*average* daily rate.  Events used:

* Spring Festival (春节): New-Year shopping (年货) in the two weeks before, quiet
  holiday week after; dates from :data:`SPRING_FESTIVAL` (2020-2030).
* 618 (June 1-18 sales festival, peak on the 18th).
* National Day golden week (October 1-7).
* Double 11 (双十一, November 1-11, peak on the 11th) and Double 12.
* Gym: New Year's resolutions in January, summer slump.

Time of day follows a per-profile hourly profile (opening hours).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: First day of the lunar new year (正月初一), 2020-2030.
SPRING_FESTIVAL = {
    2020: "2020-01-25",
    2021: "2021-02-12",
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
}

#: Relative intensity Monday..Sunday (before normalisation).
WEEKDAY = {
    "retail": (0.85, 0.85, 0.90, 0.95, 1.10, 1.35, 1.25),
    "ecommerce": (1.00, 1.00, 1.00, 1.00, 0.95, 1.05, 1.10),
    "gym": (1.20, 1.15, 1.10, 1.05, 0.80, 0.85, 0.85),
}

#: Event multipliers per profile: (pre-Spring-Festival, Spring-Festival week,
#: 618 ramp peak, National Day, Double 11 peak, Double 12, December, January, summer).
EVENTS = {
    "retail": dict(pre_sf=1.6, sf_week=0.6, d618=1.3, national_day=1.3, d11=1.5, d12=1.1,
                   december=1.1, january=1.0, summer=1.0),
    "ecommerce": dict(pre_sf=1.3, sf_week=0.5, d618=3.0, national_day=1.0, d11=4.0, d12=1.5,
                      december=1.1, january=1.0, summer=1.0),
    "gym": dict(pre_sf=0.8, sf_week=0.4, d618=1.0, national_day=0.7, d11=1.0, d12=1.0,
                december=0.9, january=1.35, summer=0.85),
}

#: Relative intensity per hour 0..23 (0 = closed).
HOURS = {
    "retail": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 7, 6, 5, 5, 6, 8, 10, 10, 8, 5, 2, 0),
    "ecommerce": (2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 5, 6, 7, 9, 10, 9, 5),
    "gym": (0, 0, 0, 0, 0, 0, 4, 7, 6, 3, 3, 3, 5, 4, 2, 2, 3, 5, 9, 10, 8, 6, 3, 0),
}


def spring_festival(year: int) -> pd.Timestamp:
    """Date of the Spring Festival (lunar new year's day) of ``year``.

    Examples
    --------
    >>> spring_festival(2024).date().isoformat()
    '2024-02-10'
    """
    try:
        return pd.Timestamp(SPRING_FESTIVAL[int(year)])
    except KeyError:
        from workbook.errors import WorkbookInputError

        raise WorkbookInputError(
            f"Spring Festival date for {year} is not in the table (2020-2030); "
            "choose a scenario period inside 2020-2030 or set seasonality=False."
        ) from None


def _ramp(days: np.ndarray, end: np.datetime64, length_days: int, peak: float) -> np.ndarray:
    """Multiplier rising linearly from 1 to ``peak`` over ``length_days`` ending on ``end``."""
    k = (days - end).astype("timedelta64[D]").astype(np.int64)  # <= 0 inside the ramp
    inside = (k <= 0) & (k > -length_days)
    out = np.ones(days.shape)
    frac = (length_days + k[inside]) / length_days
    out[inside] = 1.0 + (peak - 1.0) * frac**2
    return out


def daily_intensity(start: object, end: object, profile: str = "retail", seasonality: bool = True) -> pd.Series:
    """Relative daily intensity over ``start..end`` (both included), mean 1.

    Parameters
    ----------
    start, end : date-like
        First and last day.
    profile : {"retail", "ecommerce", "gym"}
        Calendar of multipliers.
    seasonality : bool
        ``False`` returns all ones.

    Returns
    -------
    Series
        Indexed by day (datetime64), float multipliers with mean exactly 1.

    Examples
    --------
    >>> s = daily_intensity("2024-01-01", "2024-12-31", "ecommerce")
    >>> float(round(s.mean(), 12))
    1.0
    >>> s.idxmax().date().isoformat()  # Double 11
    '2024-11-11'
    """
    days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
    if not seasonality:
        return pd.Series(np.ones(len(days)), index=days, name="intensity")
    for year in (days.year.min(), days.year.max()):
        spring_festival(year)  # raises a clear error outside the table
    ev = EVENTS[profile]
    d = days.to_numpy().astype("datetime64[D]")
    mult = np.asarray(WEEKDAY[profile])[days.day_of_week.to_numpy()]
    month = days.month.to_numpy()
    dom = days.day.to_numpy()
    mult = mult * np.where(month == 12, ev["december"], 1.0)
    mult = mult * np.where(month == 1, ev["january"], 1.0)
    mult = mult * np.where((month == 7) | (month == 8), ev["summer"], 1.0)
    for year in range(days.year.min() - 1, days.year.max() + 2):
        if year not in SPRING_FESTIVAL:
            continue
        sf = np.datetime64(SPRING_FESTIVAL[year], "D")
        k = (d - sf).astype(np.int64)
        mult = mult * np.where((k >= -14) & (k < 0), ev["pre_sf"], 1.0)
        mult = mult * np.where((k >= 0) & (k < 7), ev["sf_week"], 1.0)
        mult = mult * _ramp(d, np.datetime64(f"{year}-06-18", "D"), 18, ev["d618"])
        mult = mult * _ramp(d, np.datetime64(f"{year}-11-11", "D"), 11, ev["d11"])
        mult = mult * _ramp(d, np.datetime64(f"{year}-12-12", "D"), 3, ev["d12"])
    mult = mult * np.where((month == 10) & (dom <= 7), ev["national_day"], 1.0)
    return pd.Series(mult / mult.mean(), index=days, name="intensity")


def hour_quantile(profile: str = "retail") -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(cdf, day_fraction)`` of the time-of-day distribution.

    ``np.interp(u, cdf, day_fraction)`` maps a uniform ``u`` in [0, 1) to a
    fraction of the day, monotonically, so the order of events within a day
    is kept.  Closed hours get a negligible weight (1e-9) to keep the knots
    strictly increasing.

    Examples
    --------
    >>> cdf, frac = hour_quantile("retail")
    >>> float(np.interp(0.5, cdf, frac) * 24) > 10  # median purchase after 10:00
    True
    """
    w = np.asarray(HOURS[profile], dtype=float)
    w = np.where(w > 0, w, 1e-9)
    cdf = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    return cdf, np.arange(25) / 24.0
