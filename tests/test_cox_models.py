"""Univariable/multivariable Cox models (seed 001 style) against R on survival::veteran.

R: see tests/data/r_cox_models/make_reference.R (coxph ties="efron", summary()$logtest
for the crude P, cox.zph(transform="km"), truncation where 1/3 remain at risk).
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.stats.cox_models import cox_models, truncate_at_risk

HERE = Path(__file__).parent / "data" / "r_cox_models"
REF = json.loads((HERE / "reference.json").read_text())
R_LEVELS = ["squamous", "smallcell", "adeno", "large"]  # R's factor order for celltype


@pytest.fixture(scope="module")
def veteran():
    d = pd.read_csv(HERE / "veteran_full.csv")
    d["celltype"] = pd.Categorical(d["celltype"], categories=R_LEVELS)
    d["prior"] = d["prior"].astype(str)
    return d


@pytest.fixture(scope="module")
def models(veteran):
    return cox_models(veteran, ["celltype", "karno", "age", "prior", "diagtime"], ["celltype", "prior"], p_enter=0.10)


def _r_term(row):
    if row["level"] is None or (isinstance(row["level"], float) and np.isnan(row["level"])):
        return row["variable"]
    return f"{row['variable']}{row['level']}"


def test_selection_follows_crude_lr_p(models):
    assert list(models.entered) == REF["entered"]
    uni = models.table[models.table["model"] == "univariable"]
    for var, p in REF["lr_p"].items():
        assert uni.loc[uni["variable"] == var, "p_variable"].iloc[0] == pytest.approx(p, rel=1e-8)


@pytest.mark.parametrize("model", ["univariable", "multivariable"])
def test_hazard_ratios_equal_r(models, model):
    """R: coxph(Surv(time, status) ~ <terms>, data = veteran, ties = "efron") univariable and multivariable."""
    ref = {r["term"]: r for r in REF["rows"] if r["model"] == model}
    ours = models.table[(models.table["model"] == model) & ~models.table["reference"]]
    assert len(ours) == len(ref)
    for _, row in ours.iterrows():
        r = ref[_r_term(row)]
        for k in ("hr", "lower", "upper", "p"):
            assert row[k] == pytest.approx(r[k], rel=1e-8), (row["variable"], row["level"], k)


def test_reference_level_is_the_first_category(models):
    ref_rows = models.table[models.table["reference"]]
    cell = ref_rows[ref_rows["variable"] == "celltype"]
    assert cell["level"].tolist() == ["squamous", "squamous"]  # univariable and multivariable
    assert (cell["hr"] == 1.0).all()


def test_proportional_hazards_check_equals_cox_zph(models):
    """R: cox.zph(fm, transform = "km")$table of the multivariable model."""
    ours = models.ph_test.set_index("term")
    for r in REF["zph"]:
        assert ours.loc[r["term"], "chisq"] == pytest.approx(r["chisq"], rel=1e-7)
        assert ours.loc[r["term"], "df"] == r["df"]


def test_truncation_at_one_third_at_risk(veteran):
    t, e, t_star = truncate_at_risk(veteran["time"].to_numpy(), veteran["event"].to_numpy(), 1 / 3)
    assert t_star == pytest.approx(REF["truncated_at"], rel=1e-15)
    assert t.max() == t_star and e[veteran["time"].to_numpy() > t_star].sum() == 0
    m = cox_models(veteran, [], [], truncate_fraction=1 / 3)
    r = next(r for r in REF["rows"] if r["model"] == "truncated")
    row = m.table[(m.table["model"] == "multivariable")].iloc[0]
    assert row["hr"] == pytest.approx(r["hr"], rel=1e-8) and row["p"] == pytest.approx(r["p"], rel=1e-8)
    assert m.truncated_at == pytest.approx(REF["truncated_at"])


def test_inestimable_covariate_is_reported_not_fatal(veteran):
    d = veteran.copy()
    # a level whose patients have no event: infinite coefficient in its univariable model
    d["rare"] = np.where(d["event"] == 0, "yes", "no")
    m = cox_models(d, ["rare", "karno"], ["rare"])
    assert "rare" not in m.entered and "karno" in m.entered
    assert any("rare" in w for w in m.warnings)
