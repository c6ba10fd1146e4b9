"""The engagement tables of the generator: contacts, community, emotional touches and their truth."""

import numpy as np
import pandas as pd
import pytest

import workbook.synth.community as community_mod
import workbook.synth.contacts as contacts_mod
from workbook.synth import Scenario, generate
from workbook.synth.community import community_launch

CORE = ("members", "transactions", "stores", "store_traffic", "campaigns", "truth")


@pytest.fixture(scope="module")
def data():
    return generate(Scenario.preset("retail_chain", n_members=3000, n_stores=6), random_state=11)


def test_core_tables_do_not_depend_on_the_engagement_streams(data, monkeypatch):
    # the engagement generators draw from their own streams: without them the core tables are identical
    monkeypatch.setattr(contacts_mod, "generate_contacts", lambda *a, **k: {})
    monkeypatch.setattr(community_mod, "generate_community", lambda *a, **k: {})
    bare = generate(data.scenario, random_state=11)
    assert bare.contacts is None and bare.community is None
    for name in CORE:
        pd.testing.assert_frame_equal(getattr(bare, name), getattr(data, name))


def test_contact_log_consistent(data):
    c = data.contacts
    assert c["member_id"].isin(data.members["member_id"]).all()
    assert not c.loc[c["holdout"], ["delivered", "opened", "unsubscribed"]].any().any()
    assert not (c["opened"] & ~c["delivered"]).any() and not (c["unsubscribed"] & ~c["delivered"]).any()
    assert set(c["channel"]) <= set(contacts_mod.CHANNELS)
    assert c["sent_at"].min() >= data.scenario.end.normalize() - pd.Timedelta(days=364)
    joined = c["member_id"].map(data.members.set_index("member_id")["join_date"])
    assert (c["sent_at"] > joined).all()
    # nothing is sent on a channel after the member unsubscribed from it
    first_unsub = c[c["unsubscribed"]].groupby(["member_id", "channel"])["sent_at"].min().rename("unsub_at")
    later = c.join(first_unsub, on=["member_id", "channel"])
    assert not (later["sent_at"] > later["unsub_at"]).any()
    assert c.loc[c["holdout"], "campaign_id"].str.startswith("IV").all()


def test_fatigue_is_visible_in_the_open_rate(data):
    c = data.contacts[~data.contacts["holdout"] & data.contacts["delivered"]].sort_values("sent_at")
    t = c["sent_at"].astype("int64") / 86_400e6
    # recent contacts by brute force on a small slice (independent of the vectorised helper)
    k = []
    for m, ts in zip(c["member_id"], t):
        prior = t[(c["member_id"] == m).to_numpy() & (t < ts).to_numpy() & (t >= ts - 30).to_numpy()]
        k.append(len(prior))
        if len(k) == 400:
            break
    sent = data.contacts[~data.contacts["holdout"]]
    ts_all = sent["sent_at"].astype("int64").to_numpy() / 86_400e6
    codes = pd.factorize(pd.concat([c["member_id"], sent["member_id"]]))[0]
    fast = contacts_mod._recent_counts(codes[:400], t.to_numpy()[:400], codes[len(c):], ts_all)
    assert fast.tolist() == k


def test_truth_lifts_are_probabilities(data):
    t = data.contacts_truth.set_index(["parameter", "key"])["value"]
    assert 0 < t[("invitation_true_lift", "all")] < 0.5
    assert t[("fatigue_open_logit_per_contact", "all")] < 0
    ct = data.community_truth.set_index(["parameter", "key"])["value"]
    assert ct[("att_purchases", "all")] > 0 and ct[("att_spend", "all")] > 0
    for kind in community_mod.EMOTIONAL_KINDS:
        assert 0 <= ct[("emotional_true_lift", kind)] < 0.3


def test_community_self_selection_and_outcome(data):
    cm = data.community
    launch = community_launch(data.scenario)
    j = cm["joined_at"].notna()
    assert 0.05 < j.mean() < 0.6
    assert cm.loc[j, "joined_at"].between(launch, launch + pd.Timedelta(days=90)).all()
    # non-joiners' outcome is exactly their POS purchases in the window
    start = launch + pd.Timedelta(days=90)
    tx = data.transactions
    win = tx[tx["member_id"].notna() & ~tx["is_return"] & (tx["timestamp"] >= start)]
    counts = win.groupby("member_id").size()
    non = cm[~j].set_index("member_id")["purchases_after"]
    np.testing.assert_array_equal(non.to_numpy(), counts.reindex(non.index, fill_value=0).to_numpy())
    # keen members join: joiners bought more before the launch too
    pre = tx[tx["member_id"].notna() & ~tx["is_return"] & (tx["timestamp"] < launch)].groupby("member_id").size()
    pre = pre.reindex(cm["member_id"], fill_value=0).to_numpy()
    assert pre[j.to_numpy()].mean() > 1.2 * pre[~j.to_numpy()].mean()


def test_emotional_touches(data):
    e = data.emotional_touches
    assert set(e["kind"]) <= set(community_mod.EMOTIONAL_KINDS)
    b = e[e["kind"] == "birthday"].merge(data.members[["member_id", "birth_date"]], on="member_id")
    assert (b["sent_at"].dt.month == b["birth_date"].dt.month).all()
    tiers = e[e["kind"] == "exclusive_event"]["member_id"].map(data.members.set_index("member_id")["tier"])
    assert tiers.isin(["gold", "platinum"]).all()
    assert 0.1 < e["holdout"].mean() < 0.3


@pytest.mark.parametrize("preset", ["ecommerce", "gym"])
def test_other_presets_and_tiny_data(preset):
    for n in (1, 40):
        d = generate(Scenario.preset(preset, n_members=n, n_stores=2), random_state=3)
        d.check()
        assert d.contacts is not None and d.community_truth is not None
