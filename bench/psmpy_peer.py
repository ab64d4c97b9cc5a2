"""psmpy peer (runs inside .venv-bench): logistic propensity score + 1:1 nearest neighbour matching
with caliper on the same analysis cohort CSV.  psmpy has no survival analysis, so this peer does less
work than ours.  Usage: .venv-bench/bin/python bench/psmpy_peer.py cohort.csv cov1,cov2,...
"""
import sys
import warnings

import pandas as pd
from psmpy import PsmPy

warnings.filterwarnings("ignore")
d = pd.read_csv(sys.argv[1])
covs = sys.argv[2].split(",")
X = pd.get_dummies(d[covs].astype(str), drop_first=True).astype(float)
X["treated"] = d["treated"].astype(int)
X["pid"] = range(len(X))
psm = PsmPy(X, treatment="treated", indx="pid", exclude=[])
psm.logistic_ps(balance=False)
psm.kdtree_matched(matcher="propensity_score", replacement=False, caliper=0.1)
print(f"psmpy matched rows={len(psm.df_matched)}")
