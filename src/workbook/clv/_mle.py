"""Maximum-likelihood fitting on the log-parameter scale, shared by the CLV models.

Both BG/NBD and Gamma-Gamma have positive parameters; optimising their logs
with L-BFGS-B and an analytic gradient is stable.  Convergence is judged by the
gradient (L-BFGS-B may stop with a line-search warning right at the optimum),
and an estimate running off to a bound means the data do not identify the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeResult, minimize
from threadpoolctl import threadpool_limits

from workbook.errors import ConvergenceError

#: |log parameter| beyond which an estimate counts as having run off to a boundary.
LOG_BOUND = 12.0
#: Largest absolute gradient (per member) accepted as converged.
GRADIENT_TOLERANCE = 1e-5


def central_difference_objective(
    value: Callable[[np.ndarray], float], n_params: int, step: float = 1e-6
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``value`` with a central-difference gradient, for likelihoods without an analytic one.

    The gradient costs ``2 n_params`` evaluations (a few parameters, never a loop
    over members); a non-finite gradient becomes 0 where the value is finite, so
    L-BFGS-B backs off instead of failing.
    """

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f = value(theta)
        grad = np.empty(n_params)
        for i in range(n_params):
            e = np.zeros(n_params)
            e[i] = step
            grad[i] = (value(theta + e) - value(theta - e)) / (2 * step)
        return f, (np.nan_to_num(grad) if np.isfinite(f) else np.zeros(n_params))

    return objective


def _minimize_from(objective, starts, bounds, options) -> list[OptimizeResult]:
    """L-BFGS-B from each start until one converges; the finite results."""
    results = []
    for start in starts:
        res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        if not np.isfinite(res.fun):
            continue
        res.gradient_norm = float(np.max(np.abs(objective(res.x)[1])))
        results.append(res)
        if res.gradient_norm <= GRADIENT_TOLERANCE:
            break  # the other starts are fallbacks
    return results


def fit_log_params(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    starts: Sequence[np.ndarray],
    param_names: Sequence[str],
    *,
    model: str,
    not_finite_hint: str,
    not_converged_hint: str,
    boundary_hint: str,
    options: dict | None = None,
) -> OptimizeResult:
    """Minimise ``objective`` (value and gradient) from each start until one converges.

    ``options`` overrides the L-BFGS-B options (tolerances).  Returns the best
    result; raises :class:`ConvergenceError` with the model's hint when no start
    gives a finite value, the best fit has not converged, or an estimate lies at
    the boundary.
    """
    bounds = [(-LOG_BOUND - 3, LOG_BOUND + 3)] * len(param_names)
    options = {"ftol": 1e-14, "gtol": 1e-9, "maxiter": 2000, **(options or {})}
    # One BLAS thread: L-BFGS-B's small matrix products gain nothing from threads and
    # stall for milliseconds per step when the cores are busy (7x slower on a loaded machine).
    with threadpool_limits(limits=1, user_api="blas"):
        results = _minimize_from(objective, starts, bounds, options)
        if results and min(r.gradient_norm for r in results) > GRADIENT_TOLERANCE:
            # L-BFGS-B can stop on a flat stretch (relative reduction of f) short of the
            # gradient tolerance; a fresh start from its best point usually finishes the job.
            best_so_far = min(results, key=lambda res: res.fun)
            results += _minimize_from(objective, [best_so_far.x], bounds, options)
    if not results:
        raise ConvergenceError(
            f"{model} fit failed: the log-likelihood is not finite at any starting point."
            + (f" {not_finite_hint}" if not_finite_hint else "")
        )
    best = min(results, key=lambda res: res.fun)
    if best.gradient_norm > GRADIENT_TOLERANCE:
        raise ConvergenceError(
            f"{model} fit did not converge ({best.message}; largest gradient "
            f"{best.gradient_norm:.2g}){not_converged_hint}"
        )
    if np.any(np.abs(best.x) > LOG_BOUND):
        est = {k: float(f"{v:.4g}") for k, v in zip(param_names, np.exp(best.x))}
        raise ConvergenceError(f"{model} estimates ran off to a boundary ({est}): {boundary_hint}")
    return best


def log_scale_covariance(
    log_params: np.ndarray,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
    value: Callable[[np.ndarray], float] | None = None,
) -> np.ndarray:
    """Covariance of the log-parameters: the inverse Hessian of the total negative log-likelihood.

    With ``gradient`` (analytic, total over members) the Hessian is its
    central-difference Jacobian; with ``value`` only, second differences of the
    value (:func:`statsmodels.tools.numdiff.approx_hess3`).  All NaN where the
    Hessian is not invertible or not positive definite (no interior optimum).
    """
    from statsmodels.tools.numdiff import approx_fprime, approx_hess3

    with threadpool_limits(limits=1, user_api="blas"):
        if gradient is not None:
            hess = approx_fprime(log_params, gradient, centered=True)
        else:
            hess = approx_hess3(log_params, value)
    hess = (hess + hess.T) / 2
    nan = np.full((len(log_params), len(log_params)), np.nan)
    if not np.isfinite(hess).all():
        return nan
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return nan
    # A negative variance means no interior maximum: report "unknown", not a made-up number.
    return cov if (np.diag(cov) > 0).all() else nan


def collapse_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Identical rows of ``columns`` once, with their counts as weights.

    Summaries built on a daily grid repeat the same ``(x, t_x, T)`` many times;
    a hash group-by (not a sort) keeps this cheap for millions of members.
    """
    frame = pd.DataFrame({i: c for i, c in enumerate(columns)})
    counts = frame.groupby(list(frame.columns), sort=False).size()
    unique = tuple(counts.index.get_level_values(i).to_numpy(dtype="float64") for i in range(len(columns)))
    return unique, counts.to_numpy(dtype="float64")
