"""One vocabulary across the package, checked on every public signature (importlib + inspect).

* the analysis date is ``analysis_date``, keyword-only after the data arguments
  (not ``cutoff``, ``now``, ``review_date``, ``date_to``);
* data arguments come as ``(transactions, members)``;
* ``member_col`` (not ``id_col``), ``amount_col`` for money (not ``monetary_col``,
  ``spend_col``; a generic metric is ``outcome_col``, not ``value_col``),
  ``margin_rate`` (not ``margin``), ``language`` for zh/en/both (not ``label``),
  ``random_state`` for randomness (not ``seed``);
* ``check_`` names only exercise graders (:mod:`workbook.checks`).

Old spellings still work for one release through
:func:`workbook.deprecation.renamed_arguments` (tested at the bottom).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest

import workbook
from workbook.deprecation import renamed_arguments

#: Old name -> the vocabulary's name.
FORBIDDEN = {
    "cutoff": "analysis_date",
    "cutoffs": "analysis_dates",
    "now": "analysis_date",
    "review_date": "analysis_date",
    "date_to": "analysis_date",
    "id_col": "member_col",
    "monetary_col": "amount_col",
    "spend_col": "amount_col",
    "value_col": "amount_col (money) or outcome_col (a metric)",
    "margin": "margin_rate",
    "seed": "random_state",
}
LANGUAGE_VALUES = {"both", "zh", "en"}
#: Modules where ``check_`` is the exercise-grader prefix.
GRADER_MODULES = {"workbook.checks", "workbook.exercises"}

def _public_modules() -> list[str]:
    names = ["workbook"]
    for info in pkgutil.walk_packages(workbook.__path__, "workbook."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public_callables(module_name: str):
    """``(qualified name, callable)`` of every public function and method defined in a module."""
    module = importlib.import_module(module_name)
    out = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(obj) and obj.__module__ == module_name:
            out.append((f"{module_name}.{name}", obj))
        elif inspect.isclass(obj) and obj.__module__ == module_name:
            for attr, member in vars(obj).items():
                func = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                if inspect.isfunction(func) and (not attr.startswith("_") or attr == "__init__"):
                    out.append((f"{module_name}.{name}.{attr}", func))
    return out


def vocabulary_problems(qualname: str, func) -> list[str]:
    """What is wrong with one signature (empty when it speaks the vocabulary)."""
    problems = []
    short = qualname.rsplit(".", 1)[-1]
    if short.startswith("check_") and not any(qualname.startswith(m + ".") for m in GRADER_MODULES):
        problems.append("check_ prefix outside the exercise graders")
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return problems
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for p in params:
        if p.name in FORBIDDEN:
            problems.append(f"{p.name!r} -> {FORBIDDEN[p.name]}")
        if p.name == "label" and isinstance(p.default, str) and p.default in LANGUAGE_VALUES:
            problems.append("'label' means zh/en/both -> language")
        if p.name in ("analysis_date", "analysis_dates") and p.kind is not p.KEYWORD_ONLY:
            problems.append(f"{p.name} must be keyword-only")
    if "transactions" in positional and "members" in positional:
        if positional.index("members") < positional.index("transactions"):
            problems.append("data arguments must come as (transactions, members)")
    return problems


def all_problems() -> set[tuple[str, str]]:
    found = set()
    for module_name in _public_modules():
        for qualname, func in public_callables(module_name):
            found.update((qualname, problem) for problem in vocabulary_problems(qualname, func))
    return found


def test_every_public_signature_speaks_the_vocabulary():
    found = sorted(all_problems())
    assert not found, "signatures off the vocabulary:\n" + "\n".join(f"{q}: {p}" for q, p in found)


def test_the_vocabulary_check_can_fail():
    def bad(members, transactions, analysis_date=None, *, cutoff=None, id_col="member_id",
            margin=0.4, label="both", seed=0):
        """Every mistake at once."""

    def check_input(transactions, *, analysis_date=None):
        """A validator named like a grader."""

    def good(transactions, members=None, *, analysis_date=None, member_col="member_id",
             amount_col="amount", margin_rate=0.4, language="both", random_state=0, label="model"):
        """The vocabulary."""

    problems = vocabulary_problems("workbook.demo.bad", bad)
    assert set(problems) == {
        "'cutoff' -> analysis_date", "'id_col' -> member_col", "'margin' -> margin_rate",
        "'seed' -> random_state", "'label' means zh/en/both -> language",
        "analysis_date must be keyword-only", "data arguments must come as (transactions, members)",
    }
    assert vocabulary_problems("workbook.demo.check_input", check_input) == [
        "check_ prefix outside the exercise graders"
    ]
    assert vocabulary_problems("workbook.checks.check_input", check_input) == []
    assert vocabulary_problems("workbook.demo.good", good) == []
    # A decorated function is judged by its new signature.
    assert vocabulary_problems("workbook.demo.f", renamed_arguments(cutoff="analysis_date")(good)) == []


# --------------------------------------------------------------------------- old names, one release


def _tx():
    return pd.DataFrame({
        "member_id": ["a", "a", "b"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
        "amount": [10.0, 20.0, 5.0],
    })


def _members():
    return pd.DataFrame({
        "member_id": ["a", "b", "c"],
        "join_date": pd.to_datetime(["2023-12-30", "2024-01-02", "2024-01-03"]),
        "acquisition_channel": ["app", "referral", "app"],
    })


def test_positional_analysis_date_still_works_with_a_future_warning():
    from workbook.aggregate import member_summary

    with pytest.warns(FutureWarning, match="analysis_date=..."):
        old = member_summary(_tx(), "2024-01-11")
    pd.testing.assert_frame_equal(old, member_summary(_tx(), analysis_date="2024-01-11"))


def test_renamed_keywords_still_work_with_a_future_warning():
    from workbook.churn import ChurnModel, churn_labels
    from workbook.experiments import assign_arms, campaign_roi

    tx = _tx()
    with pytest.warns(FutureWarning, match="'cutoff' is now called 'analysis_date'"):
        old = churn_labels(tx, cutoff="2024-01-06", horizon_days=5)
    pd.testing.assert_frame_equal(old, churn_labels(tx, analysis_date="2024-01-06", horizon_days=5))
    with pytest.warns(FutureWarning, match="'seed' is now called 'random_state'"):
        model = ChurnModel("logistic", seed=3)
    assert model.get_params()["random_state"] == 3
    m = pd.DataFrame({"member_id": [f"m{i}" for i in range(20)], "segment": ["x", "y"] * 10})
    with pytest.warns(FutureWarning):
        old = assign_arms(m, strata="segment", seed=4, id_col="member_id")
    pd.testing.assert_frame_equal(old, assign_arms(m, strata="segment", random_state=4, member_col="member_id"))
    df = pd.DataFrame({"arm": ["control", "treatment"] * 50, "converted": np.tile([0, 1, 1, 0], 25),
                       "spend": np.linspace(0, 99, 100)})
    with pytest.warns(FutureWarning, match="'margin' is now called 'margin_rate'"):
        old = campaign_roi(df, coupon_cost=1, margin=0.4)
    pd.testing.assert_frame_equal(old, campaign_roi(df, coupon_cost=1, margin_rate=0.4))
    with pytest.raises(TypeError, match="both"):
        campaign_roi(df, coupon_cost=1, margin=0.4, margin_rate=0.4)


def test_old_argument_orders_still_work_with_a_future_warning():
    from workbook.acquisition import first_purchase_durations
    from workbook.churn import churn_features, time_split

    tx, members = _tx(), _members()
    new = first_purchase_durations(tx, members, analysis_date="2024-01-20")
    with pytest.warns(FutureWarning, match="argument order"):
        old = first_purchase_durations(members, tx, analysis_date="2024-01-20")
    pd.testing.assert_frame_equal(old, new)
    new = churn_features(tx, members, analysis_date="2024-01-09")
    with pytest.warns(FutureWarning, match="argument order"):
        old = churn_features(tx, "2024-01-09", members)
    pd.testing.assert_frame_equal(old, new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new spelling is silent
        split = time_split(tx, analysis_dates=("2024-01-02", "2024-01-06"), horizon_days=4)
    with pytest.warns(FutureWarning):
        old = time_split(tx, ("2024-01-02", "2024-01-06"), 4)
    pd.testing.assert_series_equal(old.y_test, split.y_test)


def test_transaction_column_defaults_come_from_the_contract():
    """Every function reading transactions names their columns as :class:`TransactionColumns` does.

    ``None`` is allowed: it switches an optional column off (e.g. ``discount_col`` of
    ``tiers.benefit_cost``).
    """
    import dataclasses

    from workbook.transactions import TransactionColumns

    defaults = {f.name: f.default for f in dataclasses.fields(TransactionColumns)}
    off = []
    for module_name in _public_modules():
        for qualname, func in public_callables(module_name):
            try:
                params = inspect.signature(func).parameters
            except (TypeError, ValueError):
                continue
            if "transactions" not in params:
                continue
            for name, p in params.items():
                if name in defaults and p.default not in (inspect.Parameter.empty, None, defaults[name]):
                    off.append(f"{qualname}: {name}={p.default!r}, contract {defaults[name]!r}")
    assert not off, "\n".join(off)
