"""Random assignment of members to experiment arms, and a balance check.

Stratified assignment shuffles members *within* each stratum (e.g. RFM
segment, lifecycle stage or home store) and deals them out to the arms in the
requested proportions, so every stratum is split as evenly as possible: for
each stratum and arm, the arm size is ``floor`` or ``ceil`` of
``weight * stratum size``.  This removes chance imbalance on the stratum
variable and makes per-segment comparisons fairer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.validation import format_rows, require_columns, require_dataframe, require_no_missing

#: Absolute standardised mean difference below which a covariate counts as balanced.
SMD_THRESHOLD = 0.1


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def _normalised_weights(arms: Sequence[Hashable], weights: Sequence[float] | None) -> np.ndarray:
    if len(arms) < 2 or len(set(arms)) != len(arms):
        raise WorkbookInputError(f"arms={list(arms)!r} must name at least two different arms.")
    if weights is None:
        return np.full(len(arms), 1.0 / len(arms))
    w = np.asarray(weights, dtype="float64")
    if w.shape != (len(arms),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise WorkbookInputError(
            f"weights={list(weights)!r} must be {len(arms)} positive numbers, one per arm {list(arms)}."
        )
    return w / w.sum()


@renamed_arguments(seed="random_state", id_col="member_col")
def assign_arms(
    members: pd.DataFrame,
    arms: Sequence[Hashable] = ("control", "treatment"),
    weights: Sequence[float] | None = None,
    strata: str | Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = 0,
    *,
    member_col: str | None = "member_id",
    arm_col: str = "arm",
) -> pd.DataFrame:
    """Randomly assign members to arms, balanced within strata.

    Parameters
    ----------
    members : DataFrame
        One row per member.  Not modified.
    arms : sequence, default ("control", "treatment")
        Arm labels.
    weights : sequence of float, optional
        Relative arm sizes (e.g. ``[1, 4]`` for a 20% hold-out control);
        equal by default.
    strata : str or list of str, optional
        Column(s) to stratify on, e.g. ``"segment"``.  Missing values form a
        stratum of their own.
    random_state : int or numpy.random.Generator, default 0
        Same random_state and members -> same assignment.  With ``member_col`` the
        assignment does not depend on the row order either.
    member_col : str or None, default "member_id"
        Unique member id column; ``None`` to use the row order.
    arm_col : str, default "arm"
        Name of the new column.

    Returns
    -------
    DataFrame
        A copy of ``members`` (same row order) with ``arm_col``.  In every
        stratum each arm gets ``floor`` or ``ceil`` of ``weight * stratum size``
        members (for equal weights: arm sizes differ by at most one).

    Raises
    ------
    WorkbookInputError
        Duplicate or missing member ids, an existing ``arm_col``, bad weights.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"member_id": [f"m{i}" for i in range(8)],
    ...                   "segment": ["A"] * 4 + ["B"] * 4})
    >>> out = assign_arms(m, strata="segment", random_state=1)
    >>> out.groupby(["segment", "arm"]).size().tolist()
    [2, 2, 2, 2]
    """
    frame = require_dataframe(members, "members")
    strata_cols = _as_list(strata)
    require_columns(frame, strata_cols + ([member_col] if member_col is not None else []), "members")
    if arm_col in frame.columns:
        raise WorkbookInputError(
            f"members already has a column {arm_col!r}; drop it or pass arm_col='...' "
            "with another name."
        )
    arms = list(arms)
    cum_w = np.cumsum(_normalised_weights(arms, weights))
    rng = np.random.default_rng(random_state)
    n = len(frame)

    if member_col is not None:
        require_no_missing(frame, member_col, "members")
        dup = frame[member_col].duplicated(keep=False).to_numpy()
        if dup.any():
            raise WorkbookInputError(
                f"Column {member_col!r} of members has duplicated ids at "
                f"{format_rows(frame.index[dup])}, e.g. {frame[member_col].iloc[np.flatnonzero(dup)[0]]!r}; "
                "each member must be assigned exactly once."
            )
        order = frame[member_col].to_numpy().argsort(kind="stable")
    else:
        order = np.arange(n)
    key = np.empty(n)
    key[order] = rng.random(n)

    if strata_cols:
        codes = frame.groupby(strata_cols, sort=True, dropna=False).ngroup().to_numpy()
    else:
        codes = np.zeros(n, dtype="int64")
    sizes = np.bincount(codes)
    offset = rng.random(len(sizes))
    # Position of each member in a random order within its stratum.
    perm = np.lexsort((key, codes))
    starts = np.cumsum(sizes) - sizes
    pos = np.empty(n, dtype="int64")
    pos[perm] = np.arange(n) - starts[codes[perm]]
    # Equally spaced points with a random offset, cut at the cumulative weights:
    # each arm gets floor or ceil of weight * stratum size.
    point = (pos + offset[codes]) / sizes[codes]
    arm_idx = np.searchsorted(cum_w[:-1], point, side="right")

    out = frame.copy()
    labels = np.empty(len(arms), dtype=object)
    labels[:] = arms
    out[arm_col] = pd.Series(labels[arm_idx], index=frame.index).infer_objects()
    return out


def balance_table(
    df: pd.DataFrame,
    arm_col: str = "arm",
    covariates: Sequence[str] | None = None,
    *,
    control: Hashable | None = None,
    threshold: float = SMD_THRESHOLD,
) -> pd.DataFrame:
    """Arm sizes, covariate means per arm and standardised mean differences.

    Parameters
    ----------
    df : DataFrame
        Members with an arm column (e.g. from :func:`assign_arms`).
    arm_col : str, default "arm"
    covariates : list of str, optional
        Columns to compare.  Numeric and boolean columns are compared as they
        are; other columns (e.g. segment) are one-hot encoded as
        ``"column=value"`` shares.  Default: every numeric/boolean column.
        Missing values are left out of that covariate's mean.
    control : optional
        Reference arm; default ``"control"`` if present, else the first arm.
    threshold : float, default 0.1
        ``balanced`` is True when every ``|SMD|`` is below it (a common rule
        of thumb).

    Returns
    -------
    DataFrame
        Index: ``"n"`` (arm sizes) then one row per covariate (or level);
        columns: one per arm with its mean (its size on the ``"n"`` row),
        ``smd_<arm>`` for each other arm vs control — ``(mean_arm - mean_control)
        / sqrt((var_arm + var_control) / 2)`` —, ``max_abs_smd`` and ``balanced``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["control", "control", "treatment", "treatment"],
    ...                    "spend": [1.0, 3.0, 2.0, 4.0]})
    >>> balance_table(df)[["control", "treatment", "smd_treatment"]].round(3)
           control  treatment  smd_treatment
    n          2.0        2.0            NaN
    spend      2.0        3.0          0.707
    """
    frame = require_dataframe(df)
    require_columns(frame, [arm_col] + list(covariates or []))
    require_no_missing(frame, arm_col)
    if covariates is None:
        covariates = [
            c for c in frame.columns
            if c != arm_col and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
        ]
        if not covariates:
            raise WorkbookInputError(
                "No numeric covariates to compare; pass covariates=[...] explicitly."
            )
    parts = []
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype("float64").rename(c))
        else:
            dummies = pd.get_dummies(s, prefix=c, prefix_sep="=", dtype="float64")
            dummies[s.isna().to_numpy()] = np.nan
            parts.append(dummies)
    x = pd.concat(parts, axis=1)
    arms = frame[arm_col]
    order = (
        list(arms.cat.categories) if isinstance(arms.dtype, pd.CategoricalDtype)
        else sorted(pd.unique(arms), key=str)
    )
    if control is None:
        control = "control" if "control" in order else order[0]
    if control not in order:
        raise WorkbookInputError(f"control={control!r} is not an arm in {arm_col!r}; arms: {order}.")
    order = [control] + [a for a in order if a != control]
    g = x.groupby(arms.to_numpy(), sort=False)
    means = g.mean().T.reindex(columns=order)
    variances = g.var(ddof=1).T.reindex(columns=order)
    out = means.copy()
    others = order[1:]
    for a in others:
        denom = np.sqrt((variances[a] + variances[control]) / 2)
        diff = means[a] - means[control]
        out[f"smd_{a}"] = np.where(denom > 0, diff / denom.where(denom > 0, 1.0), np.where(diff == 0, 0.0, np.inf))
    smd_cols = [f"smd_{a}" for a in others]
    n_row = pd.DataFrame([arms.value_counts().reindex(order).astype("float64").to_numpy()],
                         columns=order, index=["n"])
    out = pd.concat([n_row, out])
    out["max_abs_smd"] = out[smd_cols].abs().max(axis=1, skipna=False)
    out["balanced"] = out["max_abs_smd"] < threshold
    out.loc["n", "balanced"] = True
    out.columns.name = None
    return out
