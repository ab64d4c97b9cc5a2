"""Plotly figures of PanNET Board (one look everywhere; see ``figures_style``).

The functions live in small modules and are re-exported here:

* :func:`km_figure` - Kaplan-Meier curves with a numbers-at-risk table (``figures_km``)
* :func:`love_plot`, :func:`ps_overlap` - balance figures (``figures_balance``)
* :func:`consort_figure` - patient flow diagram (``figures_consort``)
* :func:`forest_plot` - hazard ratios of Cox models (``figures_forest``)
* :func:`summary_slide` - the one-slide tumour-board summary (``figures_slide``)
* :func:`mark_synthetic` - the "Synthetic demonstration data" footer of the demo cohort's figures
"""
from __future__ import annotations

from pannet_core.figures.balance import love_plot, ps_overlap
from pannet_core.figures.consort import consort_figure
from pannet_core.figures.forest import forest_plot
from pannet_core.figures.km import km_figure, risk_times_for, tick_step
from pannet_core.figures.slide import is_synthetic, mark_synthetic, summary_slide
from pannet_core.figures.style import (
                            BASE_FONT,
                            COLORS,
                            FONT_FAMILY,
                            endpoint_name,
                            export_size,
                            group_labels,
                            set_export_size,
)

__all__ = ["COLORS", "BASE_FONT", "FONT_FAMILY", "km_figure", "love_plot", "ps_overlap", "consort_figure",
           "forest_plot", "summary_slide", "group_labels", "endpoint_name", "export_size", "set_export_size",
           "risk_times_for", "tick_step", "is_synthetic", "mark_synthetic"]
