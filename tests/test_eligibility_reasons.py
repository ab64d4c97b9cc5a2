"""eligibility rules give (codes, texts): per row -1 (passes) or the index of its reason text."""
import numpy as np
import pandas as pd

from pannet_core.cohort.eligibility import _SPECS, _reasons, _Rows


def test_reasons_with_one_text():
    codes, texts = _reasons(np.array([True, False, True]), "deemed inoperable")
    assert codes.tolist() == [0, -1, 0] and texts == ["deemed inoperable"]


def test_level_rule_on_a_view_of_some_rows_equals_the_rule_on_those_rows():
    col = pd.array(["G1", "G3", None, "ünknown", "NEC", "G2", "G3", None], dtype="str")
    frame = pd.DataFrame({"who_grade": col})
    rows = np.array([1, 2, 5, 7])
    spec = _SPECS["grade"]
    got_codes, got_texts = spec.func(_Rows(frame, rows), {"allowed": ["G1", "G2"]})
    want_codes, want_texts = spec.func(frame.iloc[rows], {"allowed": ["G1", "G2"]})
    got = [got_texts[c] if c >= 0 else "" for c in got_codes]
    assert got == [want_texts[c] if c >= 0 else "" for c in want_codes]
    assert got == ["WHO grade G3", "WHO grade unknown", "", "WHO grade unknown"]
