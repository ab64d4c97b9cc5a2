"""The statistics: propensity model, matching, balance, Table 1, Kaplan-Meier, log-rank, Cox."""
