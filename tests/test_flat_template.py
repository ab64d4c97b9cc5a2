"""board.flat_template: a figure's template written into the figure gives the values Plotly would use."""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from board.screen import flat_template


def _figure() -> dict:
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Bar(x=[1, 2], y=[3, 4], marker=dict(line=dict(width=0))), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1, 2], y=[3, 4]), row=1, col=2)
    fig.add_shape(type="line", x0=0, x1=1, y0=0, y1=1, line=dict(color="red"))
    fig.add_annotation(text="a", x=1, y=1, arrowhead=3)
    fig.update_layout(template="simple_white", xaxis=dict(ticks="inside"), font=dict(size=20))
    return fig.to_plotly_json()


def test_flatten_sets_what_the_figure_leaves_unset_and_drops_the_template():
    t = pio.templates["simple_white"].to_plotly_json()
    d = flat_template.flatten(_figure())
    lay = d["layout"]
    assert "template" not in lay
    # the figure's own values win; the template fills the rest, for every axis of the figure
    assert lay["xaxis"]["ticks"] == "inside" and lay["xaxis2"]["ticks"] == t["layout"]["xaxis"]["ticks"]
    for ax in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        assert lay[ax]["linecolor"] == t["layout"][ax[:5]]["linecolor"]
        assert lay[ax]["showline"] is True
    assert lay["font"]["size"] == 20 and lay["font"]["color"] == t["layout"]["font"]["color"]
    assert lay["hovermode"] == t["layout"]["hovermode"] and lay["colorway"] == t["layout"]["colorway"]
    # template parts Plotly does not read for this figure are not copied
    assert not {"polar", "ternary", "scene", "geo", "coloraxis", "shapedefaults"} & set(lay)
    # item defaults for every shape / annotation, the figure's values first
    assert lay["shapes"][0]["opacity"] == t["layout"]["shapedefaults"]["opacity"]
    assert lay["shapes"][0]["line"] == {"color": "red", "width": 0}
    assert lay["annotations"][0]["arrowhead"] == 3 and lay["annotations"][0]["arrowwidth"] == 1
    # trace defaults of each trace's type
    bar, scatter = d["data"]
    assert bar["marker"]["line"] == {"width": 0, "color": t["data"]["bar"][0]["marker"]["line"]["color"]}
    assert bar["marker"]["pattern"] == t["data"]["bar"][0]["marker"]["pattern"] and bar["type"] == "bar"
    assert scatter["fillpattern"] == t["data"]["scatter"][0]["fillpattern"] and scatter["type"] == "scatter"


def test_flatten_without_a_template_changes_nothing():
    d = go.Figure(go.Scatter(x=[1], y=[2]), layout=dict(template=None)).to_plotly_json()
    d["layout"].pop("template", None)
    before = repr(d)
    assert repr(flat_template.flatten(d)) == before
