"""pannet_core.stats.balance against hand formulas computed in R (make_reference.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.balance import smd, smd_table

HERE = Path(__file__).parent / "data" / "r_glm"
REF = json.loads((HERE / "reference.json").read_text())
LALONDE = pd.read_csv(HERE / "lalonde.csv")
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.mark.parametrize("key", ["one_to_one", "one_to_two", "replace_1to2"])
def test_smd_table_matches_r(key):
    """R (make_reference.R): the weights of
    ``matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde, method = "nearest",
    mahvars = ~ps, caliper = 0.1, std.caliper = TRUE, ...)`` (1:1 largest first, 1:2, 1:2 with replacement),
    then by hand ``abs(wmean(x1, w1) - wmean(x0, w0)) / sqrt((wvar(x1, w1) + wvar(x0, w0)) / 2)`` and
    ``wvar(x1, w1) / wvar(x0, w0)`` (``wvar`` the reliability-weights variance, ``var(x)`` for unit weights);
    a level of race by ``abs(p1 - p0) / sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)``."""
    b = REF["balance"][key]
    tab = smd_table(LALONDE, "treat", COVS, ["race"], weights=b["weights"])
    ref = pd.DataFrame(b["table"])
    assert tab["variable"].tolist() == ref["variable"].tolist()
    np.testing.assert_allclose(tab["smd_before"], ref["smd_before"], rtol=1e-12)
    np.testing.assert_allclose(tab["smd_after"], ref["smd_after"], rtol=1e-12)
    num = tab["level"].isna().to_numpy()
    np.testing.assert_allclose(tab.loc[num, "vr_before"], ref.loc[num, "vr_before"], rtol=1e-12)
    np.testing.assert_allclose(tab.loc[num, "vr_after"], ref.loc[num, "vr_after"], rtol=1e-12)
    assert tab.loc[~num, "vr_after"].isna().all()
    assert tab.loc[~num, "level"].tolist() == ["black", "hispan", "white"]
    assert tab.loc[num, "level"].map(lambda v: v is None).all()


def test_hand_formulas():
    a = np.array([1.0, 2.0, 3.0, np.nan])
    b = np.array([2.0, 4.0, 6.0])
    expected = abs(2 - 4) / np.sqrt((1.0 + 4.0) / 2)
    assert smd(a, b) == pytest.approx(expected, rel=1e-15)
    p1, p0 = 0.25, 0.5
    assert smd([1, 0, 0, 0], [1, 0], categorical=True) == pytest.approx(
        abs(p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2), rel=1e-15)
    assert smd([5, 5, 5], [5, 5]) == 0.0
    assert smd([1, 1], [1, 1, 1], categorical=True) == 0.0
    assert smd([5, 5], [6, 6]) == float("inf")


def test_levels_as_written_and_missing():
    f = pd.DataFrame({"t": [1, 1, 0, 0, 0], "size": ["<=20", "N/A", ">20", "<=20", None],
                      "ki67": [1.0, np.nan, 3.0, 5.0, 7.0], "grade": [1.0, 2.0, 2.0, 1.0, 1.0]})
    tab = smd_table(f, "t", ["size", "ki67", "grade"], ["size", "grade"])
    assert tab["variable"].tolist() == ["size=<=20", "size=>20", "size=N/A", "ki67", "grade=1", "grade=2"]
    assert tab["smd_after"].isna().all()
    # ki67: treated [1], control [3, 5, 7]; NaN ignored; treated variance of one value counts as 0
    assert tab.set_index("variable").loc["ki67", "smd_before"] == pytest.approx(4 / np.sqrt(4 / 2))
    # size=<=20 among non-missing: treated 1/2, control 1/2 -> 0
    assert tab.set_index("variable").loc["size=<=20", "smd_before"] == pytest.approx(0.0)


def test_after_uses_rows_with_positive_weight():
    f = pd.DataFrame({"t": [1, 1, 0, 0, 0], "x": [1.0, 3.0, 1.0, 3.0, 100.0]})
    tab = smd_table(f, "t", ["x"], weights=[1, 1, 1, 1, 0])
    assert tab["smd_after"].iloc[0] == 0.0
    assert tab["smd_before"].iloc[0] > 0.5
    assert tab["vr_after"].iloc[0] == pytest.approx(1.0)


def test_errors():
    f = pd.DataFrame({"t": [1, 0], "x": [1.0, 2.0]})
    with pytest.raises(PanNetError, match="not in the data"):
        smd_table(f, "t", ["y"])
    with pytest.raises(PanNetError, match="weights"):
        smd_table(f, "t", ["x"], weights=[1, 1, 1])
