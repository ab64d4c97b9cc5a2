"""The demo's follow-up and PFS against seed 000's published figures.

``test_demo.py`` checks the exact counts, median OS and 5-year OS; this file adds the median
follow-up ("about 3.9 years") and the median PFS ("about 1.4 vs 1.6 years"), with the published
tolerances; ``test_demo_survival.py`` checks every published survival figure.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pannet_core.cohort.prepare import prepare_cohort
from pannet_core.demo import make_demo_cohort
from pannet_core.settings import load_preset
from pannet_core.stats.survival import kaplan_meier

PUB = json.loads((Path(__file__).parent / "data" / "seed000_published.json").read_text())


def _cohort(endpoint: str):
    s = load_preset("primary_tumour_resection").with_values("study", endpoint=endpoint)
    return prepare_cohort(make_demo_cohort(seed=0), s).analysis


def test_median_observed_follow_up_is_about_the_published():
    a = _cohort("os")
    median = float(np.median(a["time"]))
    assert abs(median - PUB["cohort"]["median_followup_years"]) <= 0.3, median   # 3.9 published
    assert abs(int(a["event"].sum()) - PUB["cohort"]["deaths"]) <= 3


def test_median_pfs_is_about_the_published():
    a = _cohort("pfs")
    tr = a["treated"].to_numpy()
    sg = kaplan_meier(a["time"][tr], a["event"][tr]).median()[0]
    non = kaplan_meier(a["time"][~tr], a["event"][~tr]).median()[0]
    pub = PUB["survival_unmatched"]
    assert abs(sg - pub["treated"]["median_pfs"]) <= 0.25, sg
    assert abs(non - pub["control"]["median_pfs"]) <= 0.25, non
