"""A figure's plotly template written into the figure itself, for the browser (not for exports).

Why: Streamlit hands Plotly a deep copy of a chart's figure right after mounting it, and
Plotly.react compares ``layout.template`` (valType "any") by identity: a copied template counts
as a change of every default, so each chart is calculated and drawn twice after every change.
A figure without a template has nothing that compares that way, and the copy costs nothing.

How: plotly.js uses a template value wherever the figure leaves an attribute unset (the template's
``layout.xaxis`` for every x axis, ``data.<type>[i % n]`` for the i-th trace of a type,
``layout.<name>defaults`` for every item of ``layout.<name>s``).  :func:`flatten` sets exactly
those values in the figure and drops the template, so Plotly computes the same full figure
(``bench/screen_figures_drawn.py`` compares plotly.js's full figures and the pixels).  Template parts
for subplot kinds the figure does not have (polar, ternary, 3-D scene, geo, colour axes) are left
out: Plotly never reads them there.
"""
from __future__ import annotations

import copy
import re
from collections import Counter

_AXIS = re.compile(r"^([xy])axis\d*$")
_UNUSED = {"polar", "ternary", "scene", "geo", "coloraxis", "map", "mapbox", "smith"}
_CARTESIAN = {"scatter", "bar", "histogram", "box", "violin", "scattergl", "heatmap", "contour", "candlestick",
              "ohlc", "waterfall", "funnel", "image", "histogram2d", "histogram2dcontour"}
_ITEMS = {"shapes": "shapedefaults", "annotations": "annotationdefaults", "images": "imagedefaults",
          "selections": "selectiondefaults", "sliders": "sliderdefaults", "updatemenus": "updatemenudefaults"}


def _unset(user: dict, defaults: dict) -> dict:
    """The parts of ``defaults`` that ``user`` leaves unset (nested dicts merged key by key)."""
    out = {}
    for k, v in defaults.items():
        mine = user.get(k)
        if mine is None:
            out[k] = copy.deepcopy(v)
        elif isinstance(v, dict) and isinstance(mine, dict):
            sub = _unset(mine, v)
            if sub:
                out[k] = sub
    return out


def _axis_names(fig: dict) -> set[str]:
    names = {k for k in fig["layout"] if _AXIS.match(k)}
    for trace in fig["data"]:
        if trace.get("type", "scatter") in _CARTESIAN:
            names.add("xaxis" + trace.get("xaxis", "x")[1:])
            names.add("yaxis" + trace.get("yaxis", "y")[1:])
    return names


def flatten(fig: dict) -> dict:
    """A figure dict (``to_plotly_json()``, not shared) with its template's values set in it and no template."""
    template = fig["layout"].pop("template", None) or {}
    t_layout, t_data = template.get("layout", {}), template.get("data", {})
    layout = fig["layout"]
    skip = _UNUSED | set(_ITEMS.values())
    _merge(layout, _unset(layout, {k: v for k, v in t_layout.items() if k not in skip and not _AXIS.match(k)}))
    for name in _axis_names(fig):
        adds = _unset(layout.get(name) or {}, t_layout.get(name[:5], {}))
        if adds:
            layout[name] = layout.get(name) or {}
            _merge(layout[name], adds)
    for items, key in _ITEMS.items():
        for item in layout.get(items) or () if t_layout.get(key) else ():
            _merge(item, _unset(item, t_layout[key]))
    seen: Counter = Counter()
    for trace in fig["data"]:
        kind = trace.get("type", "scatter")
        options = t_data.get(kind) or []
        if options:
            entry = {k: v for k, v in options[seen[kind] % len(options)].items() if k != "type"}
            _merge(trace, _unset(trace, entry))
        seen[kind] += 1
    return fig


def _merge(target: dict, adds: dict) -> None:
    for k, v in adds.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = v
