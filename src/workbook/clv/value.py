"""Predictive CLV: BG/NBD purchases x Gamma-Gamma spend x margin, discounted.

The expected discounted margin of member *i* over the next ``H`` months is approximated
month by month (the usual discrete approximation, as in the ``lifetimes`` package):

``CLV_i = margin_rate * E[spend_i] * sum_{k=1..H} (E[Y_i(t_k)] - E[Y_i(t_{k-1})]) / (1 + d)^(k/12)``

where ``t_k`` is the end of month ``k`` (months of 365.25/12 days, converted to the BG/NBD
model's time unit), ``E[Y_i(t)]`` the BG/NBD expected purchases by ``t`` and ``d`` the
annual discount rate.  Every purchase in month ``k`` is discounted as if made at the end
of that month, which slightly understates the value (by at most one month of discounting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.clv._validation import TIME_UNIT_DAYS, require_summary_time_unit, rfm_arrays
from workbook.clv.base import interval_quantiles
from workbook.clv.bgnbd import BetaGeoModel
from workbook.clv.gamma_gamma import GammaGammaModel
from workbook.errors import WorkbookInputError

#: Length of a month in days used for CLV horizons.
DAYS_PER_MONTH = 365.25 / 12

CLV_COLUMNS = [
    "probability_alive",
    "expected_purchases",
    "expected_average_spend",
    "clv",
]


def _discounted_value(bgnbd, spend, x, t_x, T, t, discount, margin_rate):
    """Per-member discounted margin and expected purchases for one parameter set."""
    cumulative = bgnbd.conditional_expected_purchases(t[None, :], x[:, None], t_x[:, None], T[:, None])
    return margin_rate * spend * (np.diff(cumulative, axis=1) @ discount), cumulative[:, -1]


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin_rate: float = 1.0,
    level: float | None = None,
    n_draws: int = 200,
    random_state=None,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    amount_col: str = "monetary_value",
) -> pd.DataFrame:
    """Expected discounted gross margin of each member over the next ``horizon_months``.

    Parameters
    ----------
    bgnbd : BetaGeoModel
        Fitted purchase model (its ``time_unit`` must match the summary's).
    gamma_gamma : GammaGammaModel
        Fitted spend model.
    summary : DataFrame
        BG/NBD summary with ``frequency``, ``recency``, ``T``, ``monetary_value``
        (see :func:`workbook.clv.data.bgnbd_summary`).
    horizon_months : int, default 12
        Number of months ahead, >= 1.
    annual_discount_rate : float, default 0.10
        Yearly cost of capital used to discount future margin (0 = no discounting).
    margin_rate : float, default 1.0
        Gross margin as a fraction of spend; 1.0 gives discounted revenue.
    level : float, optional
        If given (e.g. 0.9), adds ``clv_lower`` and ``clv_upper``: a ``level``
        interval of each member's CLV from the uncertainty of the two models'
        estimates, by parametric bootstrap (``n_draws`` parameter sets of each
        model from :meth:`~workbook.clv.base.MaximumLikelihoodModel.parameter_draws`,
        the two models drawn independently).  It says how far the *expected* value
        could move with another sample of members, not how much one member's actual
        spending will vary.  Needs models fitted with ``fit`` (not hand-set
        parameters).  Costs ``n_draws`` CLV computations.
    n_draws : int, default 200
    random_state : int or numpy Generator, optional
        Seed of the bootstrap draws.

    Returns
    -------
    DataFrame
        Indexed like ``summary``: ``probability_alive`` (now), ``expected_purchases``
        (over the horizon), ``expected_average_spend`` (per purchase) and ``clv``
        (discounted margin over the horizon, currency); with ``level``, also
        ``clv_lower`` and ``clv_upper``.

    Examples
    --------
    >>> import pandas as pd
    >>> bg = BetaGeoModel(time_unit="W")
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> gg = GammaGammaModel()
    >>> gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "gamma": 15.44})
    >>> s = pd.DataFrame({"frequency": [2, 0], "recency": [30.43, 0.0], "T": [38.86, 38.86],
    ...                   "monetary_value": [22.35, 0.0]})
    >>> clv = customer_lifetime_value(bg, gg, s, horizon_months=12, annual_discount_rate=0.0)
    >>> clv["clv"].round(2).tolist()
    [38.55, 8.9]

    With fitted models, an interval per member:

    >>> from workbook.clv import load_cdnow_summary
    >>> cdnow = load_cdnow_summary()
    >>> bg = BetaGeoModel().fit(cdnow)
    >>> gg = GammaGammaModel().fit(cdnow)
    >>> out = customer_lifetime_value(bg, gg, cdnow.head(3), level=0.9, n_draws=100, random_state=0)
    >>> list(out.columns)
    ['probability_alive', 'expected_purchases', 'expected_average_spend', 'clv', 'clv_lower', 'clv_upper']
    >>> bool(((out["clv_lower"] <= out["clv"]) & (out["clv"] <= out["clv_upper"])).all())
    True
    """
    if not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        raise WorkbookInputError(
            f"horizon_months must be a whole number of months >= 1, got {horizon_months!r}."
        )
    if not (np.isfinite(annual_discount_rate) and annual_discount_rate >= 0):
        raise WorkbookInputError(
            f"annual_discount_rate must be >= 0 (e.g. 0.1 for 10% a year), got {annual_discount_rate!r}."
        )
    if not (np.isfinite(margin_rate) and 0 <= margin_rate <= 1):
        raise WorkbookInputError(
            f"margin_rate must lie in [0, 1] (e.g. 0.35 for 35%), got {margin_rate!r}."
        )
    require_summary_time_unit(summary, bgnbd.time_unit)
    x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
    spend = gamma_gamma.expected_average_spend(
        summary, frequency_col=frequency_col, amount_col=amount_col
    ).to_numpy()
    months = np.arange(horizon_months + 1, dtype="float64")
    t = months * DAYS_PER_MONTH / TIME_UNIT_DAYS[bgnbd.time_unit]
    discount = (1.0 + annual_discount_rate) ** (-months[1:] / 12.0)
    clv, purchases = _discounted_value(bgnbd, spend, x, t_x, T, t, discount, margin_rate)
    out = pd.DataFrame(index=summary.index)
    out["probability_alive"] = bgnbd.probability_alive(
        summary, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col
    )
    out["expected_purchases"] = purchases
    out["expected_average_spend"] = spend
    out["clv"] = clv
    out.attrs = {
        "horizon_months": int(horizon_months),
        "annual_discount_rate": float(annual_discount_rate),
        "margin_rate": float(margin_rate),
    }
    columns = list(CLV_COLUMNS)
    if level is not None:
        rng = np.random.default_rng(random_state)
        bg_draws = bgnbd.parameter_draws(n_draws, random_state=rng).to_dict("records")
        gg_draws = gamma_gamma.parameter_draws(n_draws, random_state=rng).to_dict("records")
        draws = np.empty((n_draws, len(x)))
        for i, (bg_params, gg_params) in enumerate(zip(bg_draws, gg_draws)):  # per draw, not per member
            try:
                spend_i = gamma_gamma.with_params(gg_params).expected_average_spend(
                    summary, frequency_col=frequency_col, amount_col=amount_col).to_numpy()
            except WorkbookInputError:  # a draw with q <= 1: infinite mean spend, an unbounded value
                spend_i = np.full(len(x), np.inf)
            draws[i] = _discounted_value(bgnbd.with_params(bg_params), spend_i, x, t_x, T, t, discount,
                                         margin_rate)[0]
        out["clv_lower"], out["clv_upper"] = interval_quantiles(draws, level)
        columns += ["clv_lower", "clv_upper"]
    return out[columns]
