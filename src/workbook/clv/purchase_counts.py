"""The distribution of purchases, not only the mean: ``P(X(t) = n)`` under BG/NBD and Pareto/NBD.

"How many members will buy 0, 1, 2, 3+ times next quarter?" needs the whole
distribution of the number of purchases in a period.  For a new member (just made the
first purchase) it is

* BG/NBD: Fader, Hardie and Lee (2005), eq. 8, a mixture of a negative binomial
  (still active) and the negative-binomial tail (dropped out after the ``n``-th purchase);
* Pareto/NBD: ``P(X(t)=n) = NB(n; r, alpha, t) (beta/(beta+t))^s +
  int_0^t NB(n; r, alpha, tau) s beta^s (beta+tau)^-(s+1) dtau`` (active throughout, or
  dropping out at ``tau``), integrated by Gauss-Legendre quadrature.

For a member with history ``(x, t_x, T)``: with probability ``1 - P(alive)`` they have
already left and buy nothing; otherwise they behave like a new member whose parameters
are updated by the history (``r+x, alpha+T`` and ``a, b+x`` for BG/NBD or ``s, beta+T``
for Pareto/NBD), because both processes are memoryless.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, logsumexp, xlogy
from scipy.stats import nbinom

from workbook.clv._validation import require_summary_time_unit, rfm_arrays
from workbook.clv.bgnbd import BetaGeoModel
from workbook.clv.pareto_nbd import ParetoNBDModel
from workbook.errors import WorkbookInputError
from workbook.validation import require_fitted

#: Gauss-Legendre rule for the Pareto/NBD dropout integral.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
#: Members per block in the Pareto/NBD quadrature (bounds memory).
_CHUNK = 20_000


def _bgnbd_pmf(r, alpha, a, b, t, n):
    """New-member BG/NBD P(X(t) = n); parameters are arrays of shape (members, 1)."""
    p = alpha / (alpha + t)
    log_bab = betaln(a, b)
    active = np.exp(betaln(a, b + n) - log_bab) * nbinom.pmf(n, r, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        dropped = np.exp(betaln(a + 1, b + n - 1) - log_bab) * nbinom.sf(n - 1, r, p)
    return active + np.where(n > 0, dropped, 0.0)


def _log_nb(n, r, alpha, tau):
    """log of the NBD probability of n purchases in tau: Gamma(r, alpha) mixture of Poisson."""
    return (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * (np.log(alpha) - np.log(alpha + tau))
            + xlogy(n, tau) - n * np.log(alpha + tau))


def _pnbd_pmf(r, alpha, s, beta, t, n):
    """New-member Pareto/NBD P(X(t) = n); parameters (members, 1) or scalar s, n (1, k)."""
    out = np.empty(np.broadcast_shapes(r.shape, n.shape))
    for start in range(0, r.shape[0], _CHUNK):  # blocks of members, not single members
        sl = slice(start, start + _CHUNK)
        rr, aa, bb = r[sl, :, None], alpha[sl, :, None], beta[sl, :, None]
        nn = n[:, :, None]  # (1, k, 1): members x counts x nodes
        c = np.minimum(aa, bb)
        # tau = c (e^u - 1) moves the integrand's singularities (tau = -alpha, -beta) far
        # from [0, t], so 64 Gauss-Legendre nodes give close to machine precision.
        u_max = np.log1p(t / c)
        u = u_max / 2 * (_NODES + 1)
        tau = c * np.expm1(u)
        log_integrand = (_log_nb(nn, rr, aa, tau) + np.log(s) + s * np.log(bb)
                         - (s + 1) * np.log(bb + tau) + np.log(c + tau))
        log_w = np.log(_WEIGHTS * u_max / 2)
        log_dropped = logsumexp(log_integrand + log_w, axis=-1)
        log_active = _log_nb(nn[..., 0], rr[..., 0], aa[..., 0], t) + s * (
            np.log(bb[..., 0]) - np.log(bb[..., 0] + t)
        )
        out[sl] = np.exp(np.logaddexp(log_active, log_dropped))
    return out


def _require_model(model) -> tuple[str, tuple[float, ...]]:
    """The model's kind and fitted parameters (in ``param_names`` order)."""
    kinds = {BetaGeoModel: "bgnbd", ParetoNBDModel: "pnbd"}
    kind = next((v for k, v in kinds.items() if isinstance(model, k)), None)
    if kind is not None:
        require_fitted(model, "params_")
        return kind, tuple(float(model.params_[k]) for k in model.param_names)
    raise WorkbookInputError(
        f"model must be a fitted BetaGeoModel or ParetoNBDModel, got {type(model).__name__}.",
        message_zh="model 必须是已拟合的 BetaGeoModel 或 ParetoNBDModel。",
    )


def _require_t(t) -> float:
    t = float(t)
    if not np.isfinite(t) or t <= 0:
        raise WorkbookInputError(f"The horizon t must be positive, got {t}.",
                                 message_zh="预测期 t 必须大于 0。")
    return t


def _pmf_table(model, t, ns, summary, frequency_col, recency_col, T_col) -> np.ndarray:
    """P(X = n) for each member (rows) and each n in ``ns`` (columns)."""
    kind, params = _require_model(model)
    t = _require_t(t)
    n = np.asarray(ns, dtype="float64")[None, :]
    if summary is None:
        x = t_x = T = np.zeros(1)
        p_alive = np.ones(1)
    else:
        require_summary_time_unit(summary, model.time_unit)
        x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
        p_alive = model.probability_alive(
            summary, frequency_col=frequency_col, recency_col=recency_col, T_col=T_col
        ).to_numpy()
    # An active member's future depends on (x, T) only: compute once per distinct pair.
    pairs, inverse = np.unique(np.stack([x, T], axis=1), axis=0, return_inverse=True)
    px, pT = pairs[:, :1], pairs[:, 1:]
    if kind == "bgnbd":
        r, alpha, a, b = params
        pmf = _bgnbd_pmf(r + px, alpha + pT, a, b + px, t, n)
    else:
        r, alpha, s, beta = params
        pmf = _pnbd_pmf(r + px, alpha + pT, s, beta + pT, t, n)
    pmf = pmf[inverse.reshape(-1)]
    # Members who have already left buy nothing.
    return p_alive[:, None] * pmf + (1 - p_alive[:, None]) * (n == 0)


def probability_of_n_purchases(
    model: BetaGeoModel | ParetoNBDModel,
    t: float,
    n: int,
    summary: pd.DataFrame | None = None,
    *,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
) -> float | pd.Series:
    """Probability of exactly ``n`` purchases in the next ``t`` time units.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        A fitted model; ``t`` is in its ``time_unit``.
    t : float
        Horizon (e.g. 13 weeks for a quarter).
    n : int
        Number of purchases.
    summary : DataFrame, optional
        Members' history (frequency, recency, T).  Without it, the answer is for a new
        member in their first ``t`` time units (repeat purchases only, as
        ``lifetimes``' ``probability_of_n_purchases_up_to_time``).

    Returns
    -------
    float or Series
        A probability for a new member, or a Series named ``probability`` indexed like
        ``summary``.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> round(probability_of_n_purchases(m, 39, 0), 4)
    0.5738
    >>> one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    >>> probability_of_n_purchases(m, 13, 0, one).round(3).tolist()
    [0.677]
    """
    if int(n) != n or n < 0:
        raise WorkbookInputError(f"n must be a whole number >= 0, got {n!r}.",
                                 message_zh="n 必须是不小于 0 的整数。")
    probs = _pmf_table(model, t, [n], summary, frequency_col, recency_col, T_col)[:, 0]
    if summary is None:
        return float(probs[0])
    return pd.Series(probs, index=summary.index, name="probability")


def purchase_count_probabilities(
    model: BetaGeoModel | ParetoNBDModel,
    t: float,
    summary: pd.DataFrame | None = None,
    *,
    max_purchases: int = 3,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
) -> pd.DataFrame:
    """Probabilities of 0, 1, ..., ``max_purchases - 1`` and ``max_purchases``-or-more purchases.

    Parameters
    ----------
    model, t, summary
        As in :func:`probability_of_n_purchases`.
    max_purchases : int, default 3
        The last column pools this many purchases or more (label ``"3+"``).

    Returns
    -------
    DataFrame
        One row per member (or one row ``"new member"``), columns ``"0"``, ``"1"``, ...,
        ``"3+"``; each row sums to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> purchase_count_probabilities(m, 13).round(3)
                    0      1      2     3+
    new member  0.716  0.168  0.059  0.057
    """
    if int(max_purchases) != max_purchases or max_purchases < 1:
        raise WorkbookInputError(f"max_purchases must be a whole number >= 1, got {max_purchases!r}.",
                                 message_zh="max_purchases 必须是不小于 1 的整数。")
    ns = np.arange(int(max_purchases))
    probs = _pmf_table(model, t, ns, summary, frequency_col, recency_col, T_col)
    rest = np.clip(1.0 - probs.sum(axis=1), 0.0, 1.0)
    columns = [str(k) for k in ns] + [f"{int(max_purchases)}+"]
    index = pd.Index(["new member"]) if summary is None else summary.index
    return pd.DataFrame(np.column_stack([probs, rest]), index=index, columns=columns)


def purchase_count_forecast(
    model: BetaGeoModel | ParetoNBDModel,
    summary: pd.DataFrame,
    t: float,
    *,
    max_purchases: int = 3,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
) -> pd.DataFrame:
    """How many members will buy 0, 1, 2, 3+ times in the next ``t`` time units.

    Sums each member's probabilities from :func:`purchase_count_probabilities`, so
    the expected number of members in each class accounts for who is likely to have
    left already.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted model.
    summary : DataFrame
        Current members' frequency, recency and T (in the model's ``time_unit``).
    t : float
        Horizon, e.g. 13 (weeks) for the next quarter.
    max_purchases : int, default 3
        Pool this many purchases or more in the last row.

    Returns
    -------
    DataFrame
        Columns ``purchases`` ("0", "1", "2", "3+"), ``expected_members`` and
        ``share`` (of all members); one row per class.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbook.clv import BetaGeoModel
    >>> m = BetaGeoModel()
    >>> m.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> members = pd.DataFrame({"frequency": [0, 2, 7], "recency": [0.0, 30.4, 38.0],
    ...                         "T": [38.9, 38.9, 38.9]})
    >>> table = purchase_count_forecast(m, members, 13)
    >>> table["purchases"].tolist()
    ['0', '1', '2', '3+']
    >>> round(float(table["expected_members"].sum()), 6)
    3.0
    """
    if summary is None:
        raise WorkbookInputError("purchase_count_forecast needs the members' summary.",
                                 message_zh="purchase_count_forecast 需要会员汇总表（summary）。")
    require_summary_time_unit(summary, model.time_unit)
    x, t_x, T = rfm_arrays(summary, frequency_col, recency_col, T_col)
    # Members with the same history have the same probabilities: compute each once.
    distinct = (
        pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
        .value_counts(sort=False)
        .rename("n_members")
        .reset_index()
    )
    distinct.attrs = {"time_unit": model.time_unit}
    probs = purchase_count_probabilities(model, t, distinct, max_purchases=max_purchases)
    expected = probs.mul(distinct["n_members"], axis=0).sum(axis=0)
    return pd.DataFrame(
        {"purchases": list(probs.columns), "expected_members": expected.to_numpy(),
         "share": (expected / len(x)).to_numpy()}
    )
