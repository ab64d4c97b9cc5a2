"""Identity columns are spotted; drop_columns returns a copy."""
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.io.privacy import drop_columns, identity_columns, swedish_kind
from pannet_core.io.reading import read_table


def kinds(frame):
    return {c: k for c, k, _ in identity_columns(frame)}


@pytest.mark.parametrize("values,kind", [
    (["19121212-1212", "121212-1212", "191212121212"], "personnummer"),
    (["19121272-1219", "121272-1219", "19121272-1219"], "samordningsnummer"),
    (["15076500565", "15076500565"], "national id (NO)"),
    (["131052-308T", "131052-308T"], "national id (FI)"),
    (["311245-1234", "150550-4321"], "national id (DK)"),
    (["123-45-6789", "234-56-7890"], "US SSN"),
    (["anna@example.se", "b.c@uu.se"], "e-mail"),
    (["070-123 45 67", "+46 70 123 45 67", "018-611 00 00"], "phone"),
    (["Anna Svensson", "Erik Johansson", "Karin Lindqvist"], "name"),
])
def test_value_patterns(values, kind):
    frame = pd.DataFrame({"col": pd.array(values, dtype="str")})
    assert kinds(frame) == {"col": kind}


def test_luhn_rejects_wrong_check_digit():
    assert swedish_kind("19121212-1212") == "personnummer"
    assert swedish_kind("19121212-1213") is None
    assert kinds(pd.DataFrame({"c": pd.array(["19121212-1213", "19121212-1214"], dtype="str")})) == {}


@pytest.mark.parametrize("header,kind", [("Personnummer", "personnummer"), ("Namn", "name"),
                                         ("Förnamn", "name"), ("Efternamn", "name"), ("Patient name", "name"),
                                         ("E-post", "e-mail"), ("Telefon", "phone")])
def test_headers(header, kind):
    frame = pd.DataFrame({header: pd.array([None, None], dtype="str")})
    assert kinds(frame) == {header: kind}


def test_hospital_names_are_not_people():
    frame = pd.DataFrame({"site": pd.array(["Uppsala University", "Karolinska Universitetssjukhuset",
                                            "Brigham Hospital"], dtype="str")})
    assert identity_columns(frame) == []


def test_clinical_columns_are_not_flagged():
    res = read_table(b"patient_id,centre,stage4_date,ki67,note\n1,Uppsala University Hospital,2010-01-01,3,stabil\n"
                     b"2,Uppsala University Hospital,2011-02-03,4,Progress\n3,Sahlgrenska,20120101,5,ok\n", "a.csv")
    assert identity_columns(res.frame) == []
    assert identity_columns(res.raw) == []


def test_numeric_personnummer_column_is_flagged():
    frame = pd.DataFrame({"x": [191212121212, 191212121212]})
    assert kinds(frame) == {"x": "personnummer"}


def test_drop_columns_returns_copy():
    frame = pd.DataFrame({"a": [1], "Personnummer": ["19121212-1212"]})
    out = drop_columns(frame, ["Personnummer"])
    assert list(out.columns) == ["a"] and list(frame.columns) == ["a", "Personnummer"]
    with pytest.raises(PanNetError, match="not in the table"):
        drop_columns(frame, ["nope"])


def test_reasons_are_words():
    (col, kind, reason), = identity_columns(pd.DataFrame({"Personnummer": ["x"]}))
    assert "Personnummer" in reason
