"""Trainee-friendly answer checks for the exercise notebooks.

Every exercise task ends with a *check cell* that calls one ``check_*``
function.  A check recomputes the reference with the package itself (never a
hard-coded number), compares it with the trainee's answer *and with the
intermediate objects the answer comes from*, and returns a
:class:`~workbook.checks.engine.CheckResult` that shows itself as

* ``✓ 通过 (passed)``;
* ``✗ 不对 (wrong)`` with what is wrong (column, row, the trainee's value) and a
  hint about the method, never the expected value;
* ``未作答 (not answered)`` while the answer is still ``None`` or ``...``, or
  "先完成上一题" when an earlier task's result is missing.

A check never shows a traceback (see :mod:`workbook.checks.engine`); :func:`setup`
(the first call of an exercise notebook) also turns a ``NameError`` from cells run out
of order into a short "run the cells above first" note.

Modules: :mod:`~workbook.checks.engine` (results, the decorator, generic
:func:`check_frame`, :func:`check_number`, :func:`check_choice`) and one
module per exercise: :mod:`~workbook.checks.rfm_segments`,
:mod:`~workbook.checks.lifecycle_stages`, :mod:`~workbook.checks.cohort_retention`,
:mod:`~workbook.checks.ab_test_power`, :mod:`~workbook.checks.tier_budget`,
:mod:`~workbook.checks.churn_evaluation`, :mod:`~workbook.checks.points_liability`,
:mod:`~workbook.checks.next_best_category`, :mod:`~workbook.checks.contact_fatigue`.
"""

from workbook.checks.ab_test_power import check_ab_decision, check_ab_result, check_sample_size
from workbook.checks.churn_evaluation import check_best_model, check_churn_evaluation, check_train_cutoff
from workbook.checks.cohort_retention import check_cohort_matrix, check_retention_matrix
from workbook.checks.contact_fatigue import check_fatigue_curve, check_frequency_cap, check_recent_contacts
from workbook.checks.engine import (
    METADATA_KEY,
    NOT_ANSWERED,
    CheckResult,
    ExerciseCheckError,
    check_choice,
    check_frame,
    check_number,
    exercise_check,
)
from workbook.checks.lifecycle_stages import check_lifecycle_stages, check_stage_share
from workbook.checks.next_best_category import (  # exercise 9 (issue 15)
    check_category_history,
    check_conditional_probabilities,
    check_holdout_hit_rate,
    check_recommendations,
)
from workbook.checks.points_liability import check_breakage_rate, check_points_summary, check_rule_change
from workbook.checks.rfm_segments import check_rfm_scores, check_rfm_segments, check_top_segment
from workbook.checks.session import setup
from workbook.checks.tier_budget import check_tier_policy, check_tier_simulation

__all__ = [
    "METADATA_KEY",
    "NOT_ANSWERED",
    "CheckResult",
    "ExerciseCheckError",
    "check_ab_decision",
    "check_ab_result",
    "check_breakage_rate",
    "check_best_model",
    "check_category_history",
    "check_choice",
    "check_churn_evaluation",
    "check_cohort_matrix",
    "check_conditional_probabilities",
    "check_fatigue_curve",
    "check_frame",
    "check_frequency_cap",
    "check_holdout_hit_rate",
    "check_lifecycle_stages",
    "check_number",
    "check_points_summary",
    "check_recent_contacts",
    "check_recommendations",
    "check_retention_matrix",
    "check_rfm_scores",
    "check_rfm_segments",
    "check_rule_change",
    "check_sample_size",
    "check_stage_share",
    "check_tier_policy",
    "check_tier_simulation",
    "check_top_segment",
    "check_train_cutoff",
    "exercise_check",
    "setup",
]
