"""Matched samples for the R references of tests/test_weights_reference.py, made by OUR pipeline.

Run from the worktree root after ``Rscript make_reference.R data`` (which writes colon.csv and
veteran.csv from R's survival package):

    PYTHONPATH=$PWD python tests/data/r_weights/make_sets.py

For each case in CASES it runs the whole analysis (generic ``columns`` settings) and writes
``sets_<case>.csv``: one row per set membership, ``set, id, treated, weight, time, event`` with
time in years as the pipeline analyses it (17 significant digits).  make_reference.R then lets R
compute the weighted, clustered analyses of those sets.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pannet_core.pipeline import run_analysis
from pannet_core.report.results import matched_sets_frame
from pannet_core.settings import Settings

HERE = Path(__file__).resolve().parent
COLON = {"id": "id", "treatment": "treated", "time": "time", "event": "status", "time_unit": "days"}
VETERAN = {"id": "id", "treatment": "treated", "time": "time", "event": "status", "time_unit": "days"}
COLON_PS = {"covariates": ["age", "sex", "obstruct", "nodes", "extent", "surg"], "categorical": ["extent"]}
VETERAN_PS = {"covariates": ["celltype", "karno", "age", "diagtime", "prior"], "categorical": ["celltype"]}
#: name -> (data file, columns, propensity, matching); ci and horizons are the same for all
CASES = {
    "colon_k2": ("colon.csv", COLON, COLON_PS, {"ratio": 2, "caliper": 0.2, "caliper_scale": "ps",
                                                 "replace": False, "order": "largest"}),
    "colon_k3": ("colon.csv", COLON, COLON_PS, {"ratio": 3, "caliper": 0.2, "caliper_scale": "ps",
                                                 "replace": False, "order": "largest"}),
    "veteran_k3": ("veteran.csv", VETERAN, VETERAN_PS, {"ratio": 3, "caliper": None, "caliper_scale": "ps",
                                                         "replace": False, "order": "data"}),
    "veteran_r1": ("veteran.csv", VETERAN, VETERAN_PS, {"ratio": 1, "caliper": 0.1, "caliper_scale": "ps_absolute",
                                                         "replace": True, "order": "random", "seed": 3}),
    "colon_r2": ("colon.csv", COLON, COLON_PS, {"ratio": 2, "caliper": 0.1, "caliper_scale": "logit",
                                                 "replace": True, "order": "smallest"}),
}
SURVIVAL = {"ci": "log", "horizons": [0.5, 1, 3]}


def settings_for(case: str) -> Settings:
    _, columns, ps, matching = CASES[case]
    return Settings.from_dict({"columns": columns, "propensity": ps, "matching": matching, "survival": SURVIVAL})


def main() -> None:
    for case, (file, *_rest) in CASES.items():
        result = run_analysis(settings_for(case), pd.read_csv(HERE / file))
        sets = matched_sets_frame(result)
        d = result.data.set_index("patient_id")
        out = pd.DataFrame({"set": sets["set"], "id": sets["patient_id"], "treated": sets["treated"],
                            "weight": d.loc[sets["patient_id"], "weight"].to_numpy(),
                            "time": d.loc[sets["patient_id"], "time"].to_numpy(),
                            "event": d.loc[sets["patient_id"], "event"].to_numpy()})
        out.to_csv(HERE / f"sets_{case}.csv", index=False, float_format="%.17g")
        print(case, json.dumps({"sets": result.n_sets, "pairs": result.n_pairs,
                                "patients": result.n_matched_patients}))


if __name__ == "__main__":
    main()
