import numpy as np
import pandas as pd
import pytest

from workbook.anonymity import anonymity_report, class_sizes, column_roles, generalise, suppress_small_classes
from workbook.errors import WorkbookInputError


def _export():
    return pd.DataFrame({
        "gender": ["F", "F", "F", "M", "M", None, None],
        "birth_date": pd.to_datetime(["1990-01-05", "1990-06-01", "1985-02-02", "1990-03-03", "1991-03-03",
                                      None, "1979-12-31"]),
        "home_store_id": ["S1", "S1", "S1", "S2", "S2", "S1", "S1"],
        "spend": [120.0, 180.0, 250.0, 99.0, np.nan, 300.0, 10.0],
    })


def test_class_sizes_count_missing_values_as_a_value():
    df = _export()
    assert class_sizes(df, ["gender", "home_store_id"]).tolist() == [3, 3, 3, 2, 2, 2, 2]
    assert class_sizes(df, "gender").tolist() == [3, 3, 3, 2, 2, 2, 2]


def test_report_by_hand():
    df = _export()
    r = anonymity_report(df, ["gender", "home_store_id", "birth_date"], k=2)
    # Every birth date differs: seven groups of one.
    assert r["rows"] == 7 and r["classes"] == 7 and r["k_anonymity"] == 1
    assert r["unique_share"] == 1.0 and r["below_k_share"] == 1.0
    coarse = generalise(df, {"birth_date": "decade"})
    r = anonymity_report(coarse, ["gender", "home_store_id", "birth_date"], k=2)
    # (F,S1,1990) x2, (F,S1,1980), (M,S2,1990) x2, (NA,S1,NA), (NA,S1,1970)
    assert r["classes"] == 5 and r["k_anonymity"] == 1
    assert r["unique_share"] == pytest.approx(3 / 7)
    assert r["below_k_share"] == pytest.approx(3 / 7)


def test_generalise_dates_and_bands_keeps_missing_and_does_not_modify_input():
    df = _export()
    before = df.copy()
    out = generalise(df, {"birth_date": "year", "spend": 100})
    pd.testing.assert_frame_equal(df, before)
    assert out["birth_date"].tolist()[:2] == ["1990", "1990"] and pd.isna(out["birth_date"][5])
    assert out["spend"].tolist()[:3] == ["100-200", "100-200", "200-300"] and pd.isna(out["spend"][4])
    assert generalise(df, {"birth_date": "month"})["birth_date"][0] == "1990-01"
    assert "gender" not in generalise(df, {"gender": "drop"}).columns


@pytest.mark.parametrize(("rules", "match"), [({"gender": "year"}, "gender"), ({"birth_date": 10}, "birth_date"),
                                              ({"spend": "weekly"}, "weekly"), ({"spend": 0}, "spend"),
                                              ({"postcode": "drop"}, "postcode")])
def test_bad_rules_name_the_column(rules, match):
    with pytest.raises(WorkbookInputError, match=match):
        generalise(_export(), rules)


def test_suppression_leaves_a_k_anonymous_export():
    df = generalise(_export(), {"birth_date": "decade"})
    qi = ["gender", "home_store_id", "birth_date"]
    kept = suppress_small_classes(df, qi, k=2)
    assert len(kept) == 4
    assert anonymity_report(kept, qi, k=2)["k_anonymity"] >= 2


def test_bad_arguments_are_refused():
    with pytest.raises(WorkbookInputError):
        anonymity_report(_export(), [], k=2)
    with pytest.raises(WorkbookInputError, match="postcode"):
        anonymity_report(_export(), ["postcode"])
    with pytest.raises(WorkbookInputError, match="k"):
        anonymity_report(_export(), ["gender"], k=0)


def test_column_roles_flag_direct_identifiers():
    roles = column_roles(pd.DataFrame(columns=["member_id", "phone", "tier", "amount"])).set_index("column")["role"]
    assert roles.to_dict() == {"member_id": "direct", "phone": "direct", "tier": "quasi", "amount": "other"}


def test_coarser_quasi_identifiers_are_less_identifying_on_the_default_members():
    from workbook.synth import load_dataset

    members = load_dataset().members
    qi = ["gender", "birth_date", "home_store_id", "join_date"]
    fine = anonymity_report(members, qi)
    coarse = anonymity_report(generalise(members, {"birth_date": "decade", "join_date": "year"}), qi)
    assert fine["unique_share"] > 0.9
    assert coarse["unique_share"] < fine["unique_share"]
    assert coarse["below_k_share"] < fine["below_k_share"]
