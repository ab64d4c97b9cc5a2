"""The synthetic demonstration cohort: seed 000's flow, Table 1, pairs and survival, no real patient.

It sits above ``stats``: its outcomes are built for the pairs the preset's own matching forms.
"""
from pannet_core.demo.cohort import make_demo_cohort

__all__ = ["make_demo_cohort"]
