"""Tests for workbook.privacy: keyed pseudonyms and PII masking."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import subprocess
import sys
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.errors import WorkbookInputError
from workbook.privacy import (KeyFileWarning, Pseudonymiser, require_strong_key,
                              require_no_raw_ids, mask_pii)

# Fixed random keys (secrets.token_hex(32)): weak keys are refused.
KEY = "62edfcbc5a3d8615e69b2ce60ede082450760932856e6ecbbff7ff94c760ed69"
OTHER = "f322b1f03889eb7d17273ed49b9bcf08c7f1ec83787528e7eaa453be31452e1f"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch, tmp_path):
    """Tests must not pick up a developer's real key."""
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()


def test_pseudonym_is_the_published_hmac_sha256():
    """Check against the standard library's HMAC (RFC 2104 with SHA-256)."""
    ps = Pseudonymiser(key=KEY)
    expected = "M" + hmac.new(KEY.encode(), b"0001", hashlib.sha256).hexdigest()[:16]
    assert ps.pseudonymise_ids(pd.Series(["0001"])).iloc[0] == expected


def test_rfc4231_test_vector_through_the_digest():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    ps = Pseudonymiser(key=KEY, length=64)
    ps._key = b"Jefe"  # the RFC key is shorter than our minimum; test the primitive only
    assert ps._digest("what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_stable_across_runs_and_processes():
    ids = pd.Series(["0001", "0002", "0001", None, " 0002 "], index=[5, 6, 7, 8, 9], name="member_id")
    a = Pseudonymiser(key=KEY).pseudonymise_ids(ids)
    b = Pseudonymiser(key=KEY).pseudonymise_ids(ids)
    pd.testing.assert_series_equal(a, b)
    assert a.index.tolist() == [5, 6, 7, 8, 9] and a.name == "member_id"
    assert a[5] == a[7] and a[6] == a[9] and a[5] != a[6] and pd.isna(a[8])
    code = ("import pandas as pd; from workbook.privacy import Pseudonymiser; "
            f"print(Pseudonymiser(key={KEY!r}).pseudonymise_ids(pd.Series(['0001'])).iloc[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == a[5]


def test_different_key_gives_unlinkable_pseudonyms():
    ids = pd.Series([f"{i:04d}" for i in range(200)])
    a = Pseudonymiser(key=KEY).pseudonymise_ids(ids)
    b = Pseudonymiser(key=OTHER).pseudonymise_ids(ids)
    assert not set(a) & set(b)


def test_irreversible_without_the_key():
    """An attacker who knows the id space but not the key cannot match pseudonyms:
    neither plain hashes nor a hash under a guessed key reproduce them."""
    ids = pd.Series([f"{i:04d}" for i in range(1000)])
    pseudo = set(Pseudonymiser(key=KEY).pseudonymise_ids(ids))
    plain = {"M" + hashlib.sha256(i.encode()).hexdigest()[:16] for i in ids}
    guessed = set(Pseudonymiser(key=OTHER).pseudonymise_ids(ids))
    assert not pseudo & plain and not pseudo & guessed
    assert not pseudo & set(ids)
    assert KEY not in repr(Pseudonymiser(key=KEY))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()), min_size=1,
                max_size=40))
def test_property_injective_and_consistent(ids):
    s = pd.Series(ids)
    out = Pseudonymiser(key=KEY).pseudonymise_ids(s)
    key = s.str.strip()
    # same (stripped) id -> same pseudonym; different ids -> different pseudonyms
    assert out.groupby(key).nunique().eq(1).all()
    assert out.nunique() == key.nunique()
    require_no_raw_ids(out, s)


def test_numbers_and_text_ids_agree():
    ps = Pseudonymiser(key=KEY)
    assert ps.pseudonymise_ids(pd.Series([1001])).iloc[0] == \
        ps.pseudonymise_ids(pd.Series(["1001"])).iloc[0]


def test_key_from_env_and_file(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY", KEY)
    ids = pd.Series(["x"])
    from_env = Pseudonymiser.from_env().pseudonymise_ids(ids)
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY")
    keyfile = tmp_path / "outside" / "key"
    keyfile.parent.mkdir()
    keyfile.write_text(KEY + "\n")
    keyfile.chmod(0o600)
    assert Pseudonymiser(key_file=keyfile).pseudonymise_ids(ids).equals(from_env)
    monkeypatch.setenv("WORKBOOK_PSEUDO_KEY_FILE", str(keyfile))
    assert Pseudonymiser.from_env().pseudonymise_ids(ids).equals(from_env)
    monkeypatch.delenv("WORKBOOK_PSEUDO_KEY_FILE")
    (tmp_path / "home" / ".workbook_key").write_text(KEY)
    (tmp_path / "home" / ".workbook_key").chmod(0o600)
    ps = Pseudonymiser.from_env()
    assert ps.pseudonymise_ids(ids).equals(from_env)
    assert len(ps.key_id) == 8 and ps.key_id not in KEY


def test_refuses_without_key_with_instructions():
    with pytest.raises(WorkbookInputError,
                       match=r"No pseudonymisation key.*secrets\.token_hex\(32\).*workbook_key"):
        Pseudonymiser.from_env()


def test_refuses_short_key_and_key_file_in_git_repo(tmp_path):
    with pytest.raises(WorkbookInputError, match="has 5 characters; use at least 32"):
        Pseudonymiser(key="short")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "conf").mkdir()
    (repo / "conf" / "key.txt").write_text(KEY)
    with pytest.raises(WorkbookInputError, match=r"inside the git working tree .*repo"):
        Pseudonymiser(key_file=repo / "conf" / "key.txt")
    with pytest.raises(WorkbookInputError, match="does not exist"):
        Pseudonymiser(key_file=tmp_path / "missing.key")


def test_mask_pii():
    df = pd.DataFrame({
        "member_id": ["1", "2", "3", "4"],
        "name": ["张伟", "欧阳娜娜", None, "Li"],
        "phone": ["13800131234", "+86 139-1234-5678", "12345", None],
        "email": ["wei.zhang@example.com", "x@qq.com", "no-at-sign", None],
    })
    before = df.copy()
    out = mask_pii(df)
    assert out["name"].tolist()[:2] == ["张**", "欧**"] and pd.isna(out["name"][2])
    assert out["phone"].tolist()[:3] == ["138****1234", "139****5678", "****"]
    assert out["email"].tolist()[:3] == ["w***@example.com", "x***@qq.com", "***"]
    assert pd.isna(out["phone"][3]) and pd.isna(out["email"][3])
    pd.testing.assert_frame_equal(df, before)
    assert list(mask_pii(df, how="drop").columns) == ["member_id"]
    with pytest.raises(WorkbookInputError, match=r"column\(s\) \['mobile'\] not in the frame"):
        mask_pii(df, columns=["mobile"])


def test_pseudonymise_frame_joins_and_copies():
    ps = Pseudonymiser(key=KEY)
    members = pd.DataFrame({"member_id": ["0001", "0002"], "phone": ["13800131234", None]})
    tx = pd.DataFrame({"member_id": ["0002", "0001", None], "amount": [1.0, 2.0, 3.0]})
    pm, pt = ps.pseudonymise_frame(members), ps.pseudonymise_frame(tx, pii_columns=())
    assert members["member_id"].tolist() == ["0001", "0002"]  # not modified
    joined = pt.merge(pm, on="member_id", how="left")
    assert pd.isna(joined["phone"][0]) and joined["phone"][1] == "138****1234"
    assert pd.isna(joined["member_id"][2])  # walk-in stays missing
    with pytest.raises(WorkbookInputError, match=r"id column\(s\) \['card'\] not in the frame"):
        ps.pseudonymise_frame(tx, id_columns=("card",))


def test_require_no_raw_ids_detects_leak():
    with pytest.raises(WorkbookInputError, match=r"Raw ids remain .*row 1 \(1 in total\)"):
        require_no_raw_ids(pd.Series(["Mabc", "0002"]), pd.Series(["0001", "0002"]))


@pytest.mark.parametrize("weak, rule", [
    ("a" * 32, "only 1 different character"),
    ("ab" * 16, "only 2 different character"),
    ("5eed" * 16, "only 3 different character"),
    ("c0ffee" * 11, "only 4 different character"),
    ("0123456789abcdef" * 4, "block of 8 characters occurs twice"),
    ("test-key-" + "0123456789abcdef" * 3, "block of 8 characters occurs twice"),
    ("password" + "x" * 20 + "12345678", "block of 8 characters occurs twice"),
    ("aaaaaaab" "aaaaaaac" "aaaaaaad" "aaaaaaae" "fghijklm", "estimated strength is"),
    ("abcdefghijklmnopqrstuvwxyz01234", "has 31 characters"),
])
def test_weak_keys_are_refused_bilingually_without_echoing_the_key(weak, rule):
    with pytest.raises(WorkbookInputError, match=rule) as err:
        Pseudonymiser(key=weak)
    assert weak not in err.value.bilingual()
    assert err.value.message_zh.startswith("化名密钥太弱")
    assert "secrets.token_hex(32)" in str(err.value)


def test_random_keys_pass_the_strength_rule():
    for _ in range(2000):
        require_strong_key(secrets.token_hex(32))
    for _ in range(2000):
        require_strong_key(secrets.token_urlsafe(32))
    # a 128-bit hex key passes too (the estimate is not a proof of randomness)
    for _ in range(2000):
        require_strong_key(secrets.token_hex(16))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_key_file_readable_by_others_warns(tmp_path):
    keyfile = tmp_path / "outside" / "key"
    keyfile.parent.mkdir()
    keyfile.write_text(KEY)
    keyfile.chmod(0o644)
    with pytest.warns(KeyFileWarning, match=r"其他用户也能读取.*\n.*readable by group or others.*chmod 600"):
        Pseudonymiser(key_file=keyfile)
    keyfile.chmod(0o640)
    with pytest.warns(KeyFileWarning):
        Pseudonymiser(key_file=keyfile)
    keyfile.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pseudonymiser(key_file=keyfile)


def test_key_id_is_keyed_not_a_plain_hash():
    """key_id = HMAC-SHA256(key, fixed label)[:8]; not a plain hash of the key."""
    ps = Pseudonymiser(key=KEY)
    assert ps.key_id == hmac.new(KEY.encode(), b"workbook key_id v1", hashlib.sha256).hexdigest()[:8]
    assert ps.key_id not in {hashlib.sha256(KEY.encode()).hexdigest()[:8],
                             hashlib.sha256(b"workbook-key-id:" + KEY.encode()).hexdigest()[:8]}
    assert Pseudonymiser(key=OTHER).key_id != ps.key_id
    assert ps.key_id in repr(ps) and KEY not in repr(ps)
