"""workbook.contacts and workbook.community against hand computations and library references."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from workbook.community import community_effect, community_frame
from workbook.contacts import channel_response, fatigue_curve, fatigue_slope, holdout_lift, recent_contact_counts
from workbook.errors import WorkbookInputError
from workbook.synth import load_dataset


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()  # the committed default data (datasets/)


def _log():
    return pd.DataFrame({
        "member_id": ["a", "a", "a", "b", "b", "c"],
        "sent_at": pd.to_datetime(["2024-03-01", "2024-03-10", "2024-04-20", "2024-03-05", "2024-03-06",
                                   "2024-03-01"]),
        "channel": ["sms", "sms", "app_push", "sms", "app_push", "sms"],
        "delivered": [True, True, True, True, False, True],
        "opened": [True, False, True, False, False, True],
        "visited": [True, False, False, False, False, True],
        "unsubscribed": [False, False, False, True, False, False],
        "holdout": [False] * 6,
    })


def test_channel_response_by_hand():
    out = channel_response(_log())
    sms = out.loc["sms"]
    assert sms["sent"] == 4 and sms["delivered"] == 4
    assert sms["opened_rate"] == pytest.approx(2 / 4) and sms["visited_rate"] == pytest.approx(2 / 4)
    assert sms["unsubscribed_rate"] == pytest.approx(1 / 4)
    low, high = proportion_confint(2, 4, alpha=0.05, method="wilson")
    assert (sms["opened_ci_low"], sms["opened_ci_high"]) == pytest.approx((low, high))
    push = out.loc["app_push"]
    assert push["delivered_rate"] == pytest.approx(0.5) and push["opened_rate"] == pytest.approx(1.0)
    assert out.index[0] == "sms"  # sorted by visit rate


def test_recent_counts_window_and_holdout():
    log = _log()
    assert recent_contact_counts(log).tolist() == [0, 1, 0, 0, 1, 0]  # 2024-04-20 is 41 days after 03-10
    assert recent_contact_counts(log, window_days=60).tolist() == [0, 1, 2, 0, 1, 0]
    log.loc[0, "holdout"] = True  # a held-out row was not sent: it does not tire the member
    assert recent_contact_counts(log).tolist() == [0, 0, 0, 0, 1, 0]
    with pytest.raises(WorkbookInputError):
        recent_contact_counts(log.assign(sent_at="2024-01-01"))


def test_fatigue_curve_pools_the_tail_and_matches_counts():
    rng = np.random.default_rng(1)
    n = 2000
    log = pd.DataFrame({"member_id": rng.integers(0, 100, n).astype(str),
                        "sent_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 90, n), unit="D"),
                        "delivered": rng.random(n) < 0.9, "opened": rng.random(n) < 0.3})
    curve = fatigue_curve(log, max_contacts=3)
    assert curve["recent_contacts"].tolist() == [0, 1, 2, 3]
    k = np.minimum(recent_contact_counts(log), 3)[log["delivered"]]
    assert curve["messages"].tolist() == k.value_counts().sort_index().tolist()
    assert curve["rate"].tolist() == pytest.approx(
        log.loc[log["delivered"], "opened"].groupby(k).mean().tolist())
    with pytest.raises(WorkbookInputError, match="outcome"):
        fatigue_curve(log, "clicked")


def test_fatigue_slope_matches_statsmodels_and_recovers_truth():
    rng = np.random.default_rng(2)
    n = 6000
    log = pd.DataFrame({"member_id": rng.integers(0, 600, n).astype(str),
                        "sent_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 180, n), unit="D"),
                        "channel": rng.choice(["sms", "wecom_group"], n), "delivered": True})
    k = recent_contact_counts(log).to_numpy()
    eta = np.where(log["channel"] == "sms", -1.5, -0.5) - 0.25 * k
    log["opened"] = rng.random(n) < 1 / (1 + np.exp(-eta))
    out = fatigue_slope(log).iloc[0]
    ref = sm.Logit(log["opened"].astype(float), sm.add_constant(np.column_stack(
        [(log["channel"] == "wecom_group").astype(float), k]))).fit(disp=0)
    assert out["slope"] == pytest.approx(ref.params.iloc[2], rel=1e-6)
    assert out["ci_low"] < -0.25 < out["ci_high"]


def test_holdout_lift_equals_proportion_test_and_needs_a_holdout():
    log = pd.DataFrame({"campaign_id": ["IV01"] * 10 + ["CT01"] * 3,
                        "holdout": [False] * 6 + [True] * 4 + [False] * 3,
                        "opened": [True, True, False, False, False, False] + [False] * 7,
                        "visited": [True, True, True, False, False, False, True, False, False, False,
                                    True, True, True]})
    out = holdout_lift(log)
    assert out.index.tolist() == ["IV01"]  # CT01 has no holdout: not estimable
    row = out.loc["IV01"]
    assert row["rate_sent"] == pytest.approx(3 / 6) and row["rate_holdout"] == pytest.approx(1 / 4)
    assert row["abs_lift"] == pytest.approx(0.25) and row["incremental_visits"] == pytest.approx(1.5)
    assert row["naive_attributed"] == 2
    with pytest.raises(WorkbookInputError, match="holdout"):
        holdout_lift(log[log["campaign_id"] == "CT01"])


def test_community_effect_regression_matches_ols_and_naive_by_hand():
    rng = np.random.default_rng(3)
    n = 800
    x = rng.normal(size=n)
    joined = rng.random(n) < 1 / (1 + np.exp(-1.5 * x))  # keen members join
    y = 2 + 3 * x + 1.0 * joined + rng.normal(size=n)  # true effect 1
    frame = pd.DataFrame({"joined": joined, "x": x, "y": y})
    out = community_effect(frame, "y", covariates=["x"])
    assert out.loc["naive", "estimate"] == pytest.approx(y[joined].mean() - y[~joined].mean())
    ref = sm.OLS(y, sm.add_constant(np.column_stack([joined.astype(float), x]))).fit(cov_type="HC1")
    assert out.loc["regression", "estimate"] == pytest.approx(ref.params[1])
    assert out.loc["naive", "estimate"] > 2  # confounded
    for m in ("regression", "matched"):
        assert out.loc[m, "ci_low"] < 1.0 < out.loc[m, "ci_high"]


def test_community_frame_on_synthetic_data_and_errors(dataset):
    f = community_frame(dataset.community, dataset.transactions, dataset.members)
    assert f.attrs["launch"] == pd.Timestamp("2024-01-01")
    assert len(f) == len(dataset.community) and f["joined"].any()
    assert (f["pre_purchases_90d"] <= f["pre_purchases"]).all()
    est = community_effect(f)
    truth = dataset.community_truth.set_index("parameter")["value"]["att_purchases"]
    assert est.loc["naive", "estimate"] > 1.5 * truth  # confounding shows
    assert abs(est.loc["regression", "estimate"] - truth) < abs(est.loc["naive", "estimate"] - truth) / 2
    with pytest.raises(WorkbookInputError):
        community_effect(f.assign(joined=False))
    with pytest.raises(WorkbookInputError):
        community_frame(dataset.community.drop(columns="joined_at"), dataset.transactions)


def test_invitation_lift_covers_the_truth(dataset):
    out = holdout_lift(dataset.contacts)
    truth = dataset.contacts_truth.query("parameter == 'invitation_true_lift'").set_index("key")["value"]
    covered = (out["ci_low"] <= truth.reindex(out.index)) & (truth.reindex(out.index) <= out["ci_high"])
    assert covered.sum() >= 3  # 95% intervals: most of the four campaigns
    assert (out["naive_attributed"] >= 0).all()
