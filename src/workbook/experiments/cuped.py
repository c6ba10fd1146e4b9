"""CUPED: variance reduction with a pre-period covariate.

Members who spent a lot before the experiment tend to spend a lot during it.
CUPED (Deng, Xu, Kohavi & Walker, 2013) subtracts the part of the outcome that
the pre-period value predicts::

    y_cuped = y - theta * (x - mean(x)),    theta = cov(y, x) / var(x)

Because ``x`` was measured before randomisation it is independent of the arm,
so the expected treatment-control difference is unchanged while the variance
shrinks by the factor ``1 - corr(y, x)**2``: the same experiment detects
smaller effects, or the same effect with fewer members.

The side-by-side :func:`~workbook.experiments.tests.cuped_comparison` (raw vs
adjusted test) lives with the tests it runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.experiments._validation import frame_with, numeric_values
from workbook.validation import require_no_missing


def cuped_values(
    y: np.ndarray, x: np.ndarray, groups: np.ndarray | None, covariate: str
) -> tuple[np.ndarray, float]:
    """CUPED-adjusted outcome values and theta; theta is pooled over arms (within-arm slope).

    The arithmetic shared by :func:`cuped` and
    :func:`workbook.experiments.tests.mean_test`; ``covariate`` names ``x`` in
    error messages.

    Examples
    --------
    >>> import numpy as np
    >>> y, theta = cuped_values(np.array([2.0, 4.0, 6.5]), np.array([1.0, 2.0, 3.0]), None, "pre")
    >>> round(theta, 2), y.round(2).tolist()
    (2.25, [4.25, 4.0, 4.25])
    """
    if groups is None:
        xc, yc = x - x.mean(), y - y.mean()
    else:
        codes, _ = pd.factorize(groups)
        n_groups = codes.max() + 1
        counts = np.bincount(codes, minlength=n_groups)
        xc = x - (np.bincount(codes, weights=x, minlength=n_groups) / counts)[codes]
        yc = y - (np.bincount(codes, weights=y, minlength=n_groups) / counts)[codes]
    sxx = float(xc @ xc)
    if sxx <= 0:
        raise WorkbookInputError(
            f"Covariate {covariate!r} does not vary (within arms), so it cannot explain "
            "any variance; choose another pre-period column."
        )
    theta = float(xc @ yc) / sxx
    return y - theta * (x - x.mean()), theta


@renamed_arguments(value_col="outcome_col")
def cuped(
    df: pd.DataFrame,
    outcome_col: str = "spend",
    pre_col: str = "pre_spend",
    group_col: str | None = None,
    *,
    suffix: str = "_cuped",
) -> pd.DataFrame:
    """Add a CUPED-adjusted copy of ``outcome_col``.

    Parameters
    ----------
    df : DataFrame
        One row per member.  Not modified.
    outcome_col : str, default "spend"
        Outcome measured during the experiment.
    pre_col : str, default "pre_spend"
        The same metric measured before the experiment started (must not be
        affected by the treatment).
    group_col : str, optional
        Arm column.  When given, ``theta`` is the slope pooled *within* arms
        (so a treatment effect on the outcome does not leak into theta);
        otherwise it is computed over all rows.
    suffix : str, default "_cuped"
        The new column is ``outcome_col + suffix``.

    Returns
    -------
    DataFrame
        A copy of ``df`` with the adjusted column.  ``attrs["cuped_theta"]``
        holds theta and ``attrs["cuped_variance_ratio"]`` the variance of the
        adjusted values divided by that of the raw values (within arms when
        ``group_col`` is given); ``1 - ratio`` is the variance reduction.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"spend": [3.0, 5.0, 7.0, 9.0], "pre_spend": [1.0, 2.0, 3.0, 4.0]})
    >>> out = cuped(df)
    >>> out["spend_cuped"].tolist(), out.attrs["cuped_theta"]
    ([6.0, 6.0, 6.0, 6.0], 2.0)
    """
    cols = [outcome_col, pre_col] + ([group_col] if group_col is not None else [])
    frame = frame_with(df, cols)
    y = numeric_values(frame, outcome_col)
    x = numeric_values(frame, pre_col)
    groups = None
    if group_col is not None:
        require_no_missing(frame, group_col)
        groups = frame[group_col].to_numpy()
    adjusted, theta = cuped_values(y, x, groups, pre_col)
    out = frame.copy()
    out[outcome_col + suffix] = adjusted
    out.attrs["cuped_theta"] = theta
    out.attrs["cuped_variance_ratio"] = _within_var(adjusted, groups) / _within_var(y, groups)
    return out


def _within_var(y: np.ndarray, groups: np.ndarray | None) -> float:
    if groups is None:
        return float(np.var(y, ddof=1)) if len(y) > 1 else np.nan
    codes, _ = pd.factorize(groups)
    n_groups = codes.max() + 1
    counts = np.bincount(codes, minlength=n_groups)
    resid = y - (np.bincount(codes, weights=y, minlength=n_groups) / counts)[codes]
    return float(resid @ resid / max(len(y) - n_groups, 1))
