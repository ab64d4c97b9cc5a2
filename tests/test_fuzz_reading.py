"""Fuzz: random bytes and random small tables through read_table + coerce + validate.

The only outcomes allowed are a result or a PanNetError.
"""
import datetime as dt
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pannet_core.errors import PanNetError
from pannet_core.io.reading import coerce_to_schema, read_table
from pannet_core.io.schema import CANONICAL_COLUMNS
from pannet_core.io.validation import is_usable, validate, validation_report

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(data: bytes, name: str) -> None:
    try:
        res = read_table(data, name)
    except PanNetError as exc:
        assert exc.problem and exc.fix
        return
    typed, problems = coerce_to_schema(res.frame)
    assert len(typed) == len(res.frame)
    probs = validate(res.frame, today=dt.date(2024, 1, 1))
    assert isinstance(is_usable(probs), bool)
    assert len(validation_report(probs)) == len(probs)


@FAST
@given(st.binary(max_size=400), st.sampled_from(["f.csv", "f.xlsx", "f.txt", "upload"]))
def test_random_bytes(data, name):
    run(data, name)


@FAST
@given(st.lists(st.sampled_from(list(",;\t|\"\n\r .-/0123456789aAåÖxyz:") + ["NA", "ja", "2019-01-01", "G1"]),
                max_size=80))
def test_random_text(tokens):
    text = "patient_id;stage4_date;ki67\n" + "".join(tokens)
    for enc in ("utf-8", "cp1252"):
        run(text.encode(enc, errors="replace"), "t.csv")


CELL = st.one_of(
    st.none(), st.integers(-10**6, 10**9), st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=12), st.booleans(),
    st.dates(dt.date(1800, 1, 1), dt.date(2200, 1, 1)),
    st.sampled_from(["2019-05-31", "31/05/2019", "31.05.2019", "20190531", "43616", "ja", "nej", "G2", "Whipple",
                     "okänd", "NA", "-", "IIIb", "3,5", "1e400", "k", "NET G1"]),
)
HEADERS = st.sampled_from(list(CANONICAL_COLUMNS) + ["Kön", "Ki67", "note", "Dödsdatum", "x", "Personnummer"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HEADERS, min_size=1, max_size=6, unique=True), st.lists(st.lists(CELL, min_size=6, max_size=6),
                                                                         min_size=0, max_size=6),
       st.sampled_from([",", ";", "\t"]), st.booleans())
def test_random_tables(headers, rows, sep, as_xlsx):
    frame = pd.DataFrame([r[:len(headers)] for r in rows], columns=headers, dtype=object)
    if as_xlsx:
        buf = io.BytesIO()
        frame.to_excel(buf, index=False)
        run(buf.getvalue(), "t.xlsx")
    else:
        run(frame.to_csv(index=False, sep=sep).encode("utf-8"), "t.csv")
