"""From a validated table to the analysed cohort: eligibility, time zero, covariates."""
