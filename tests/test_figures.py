"""Figures contain what they should: traces, colours, risk table, threshold line, flow counts."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pannet_core import figures
from pannet_core.errors import PanNetError
from pannet_core.figures.style import fmt_p, pretty_variable
from pannet_core.stats.survival import kaplan_meier


# --------------------------------------------------------------------------- fixtures
def _comparison(seed: int = 1, n_t: int = 80, n_c: int = 110):
    rng = np.random.default_rng(seed)

    def arm(n, scale):
        t = rng.exponential(scale, n)
        c = rng.uniform(0.5, 12, n)
        return np.round(np.minimum(t, c), 3), (t <= c).astype(np.int64)

    tt, et = arm(n_t, 8.0)
    tc, ec = arm(n_c, 3.5)
    cox = SimpleNamespace(table=pd.DataFrame([{"term": "treated", "coef": -0.8, "se": 0.2, "robust_se": np.nan,
                                               "hr": 0.449, "lower": 0.303, "upper": 0.665, "z": -4.0,
                                               "p": 6.3e-5}]))
    return SimpleNamespace(label="matched", km_treated=kaplan_meier(tt, et), km_control=kaplan_meier(tc, ec),
                           logrank=SimpleNamespace(chisq=15.2, df=1, p=0.0123), cox=cox, summary=pd.DataFrame())


@pytest.fixture(scope="module")
def comp():
    return _comparison()


def _roles(fig, role):
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("role") == role]


BALANCE = pd.DataFrame({
    "variable": ["age", "size=<=20", "size=>50", "grade=G2"], "covariate": ["age", "size", "size", "grade"],
    "level": [None, "<=20", ">50", "G2"], "smd_before": [0.41, -0.2, 0.05, 0.3], "smd_after": [0.03, 0.01, 0.12, 0.02],
    "vr_before": [1.2, np.nan, np.nan, np.nan], "vr_after": [1.0, np.nan, np.nan, np.nan]})

FLOW = pd.DataFrame({"step": ["All patients", "Age 18 or older", "WHO grade G1/G2", "No other liver malignancy"],
                     "n_in": [3053, 3053, 3050, 3009], "n_excluded": [0, 3, 41, 27],
                     "n_out": [3053, 3050, 3009, 2982]})


def _scores(n=400, seed=3):
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.3
    score = np.clip(rng.beta(2, 5, n) + 0.2 * treated, 0.01, 0.99)
    matched = np.zeros(n, bool)
    matched[np.flatnonzero(treated)[:70]] = True
    matched[np.flatnonzero(~treated)[:70]] = True
    return pd.DataFrame({"patient_id": np.arange(n), "treated": treated, "score": score, "matched": matched})


# --------------------------------------------------------------------------- KM
def test_km_has_curves_bands_censor_marks_and_risk_rows(comp):
    fig = figures.km_figure(comp)
    assert len(_roles(fig, "km")) == 2
    assert len(_roles(fig, "ci")) == 4
    assert len(_roles(fig, "censor")) == 2
    assert len(_roles(fig, "risk")) == 2
    no_ci = figures.km_figure(comp, show_ci=False)
    assert _roles(no_ci, "ci") == []
    # one legend entry toggles every band
    shown = [t for t in _roles(fig, "ci") if t.showlegend]
    assert len(shown) == 1 and {t.legendgroup for t in _roles(fig, "ci")} == {"ci"}


def test_km_curves_start_at_100_percent_and_are_steps(comp):
    fig = figures.km_figure(comp)
    for t in _roles(fig, "km"):
        assert t.x[0] == 0 and t.y[0] == 100
        assert t.line.shape == "hv"
    assert fig.layout.yaxis.range == (0, 102)
    assert fig.layout.yaxis.title.text == "Overall survival (%)"
    pfs = figures.km_figure(comp, endpoint="Progression-free survival")
    assert pfs.layout.yaxis.title.text == "Progression-free survival (%)"


def test_censor_marks_sit_at_censoring_times(comp):
    fig = figures.km_figure(comp)
    for t in _roles(fig, "censor"):
        km = getattr(comp, f"km_{t.meta['group']}")
        cens = km.table.loc[km.table["n_censor"] > 0]
        assert list(t.x) == pytest.approx(cens["time"].tolist())
        assert list(t.y) == pytest.approx((cens["surv"] * 100).tolist())
        assert "cross" in t.marker.symbol


def test_risk_table_equals_n_at_risk_at_the_x_ticks(comp):
    fig = figures.km_figure(comp)
    ticks = list(fig.layout.xaxis.tickvals)
    assert ticks == list(fig.layout.xaxis2.tickvals)
    assert np.diff(ticks) == pytest.approx([ticks[1] - ticks[0]] * (len(ticks) - 1))
    assert ticks[1] - ticks[0] in (1.0, 2.0)
    for t in _roles(fig, "risk"):
        km = getattr(comp, f"km_{t.meta['group']}")
        assert list(t.x) == ticks
        assert [int(v) for v in t.text] == km.n_at_risk(ticks).tolist()
        assert t.xaxis == "x2"  # the risk row shares the x axis of the curves
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"


def test_risk_times_and_max_time_are_honoured(comp):
    fig = figures.km_figure(comp, risk_times=[0, 2.5, 5], max_time=6)
    assert list(fig.layout.xaxis.tickvals) == [0, 2.5, 5]
    assert fig.layout.xaxis.range[1] < 6.5
    risk = _roles(fig, "risk")[0]
    assert list(risk.x) == [0, 2.5, 5]


def test_km_prints_p_value_and_hazard_ratio(comp):
    fig = figures.km_figure(comp)
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "Log-rank P (matched groups) = 0.012" in text  # the test and what it compares
    assert "HR treated vs control 0.45 (95% CI 0.30–0.67)" in text  # the HR's direction
    labelled = figures.km_figure(comp, labels={"treated": "Resected", "control": "Not resected"})
    assert "HR resected vs not resected 0.45" in " ".join(a.text for a in labelled.layout.annotations)
    unmatched = figures.km_figure(SimpleNamespace(**{**vars(comp), "label": "unmatched"}))
    assert "Log-rank P (all patients) = 0.012" in " ".join(a.text for a in unmatched.layout.annotations)


def test_km_caption_explains_the_diamonds_and_the_median_lines(comp):
    key = next(a.text for a in figures.km_figure(comp, horizon_marks=(1, 5)).layout.annotations if a.name == "key")
    assert "survival at 1 year and 5 years with its 95% CI" in key and "median" in key
    bare = figures.km_figure(comp, show_median=False)
    assert not [a for a in bare.layout.annotations if a.name == "key"]  # nothing drawn, nothing explained


def test_horizon_marks_and_median_lines(comp):
    fig = figures.km_figure(comp, horizon_marks=(5,))
    marks = _roles(fig, "horizon")
    assert len(marks) == 2
    for t in marks:
        km = getattr(comp, f"km_{t.meta['group']}")
        assert t.y[0] == pytest.approx(km.survival_at([5])["surv"].iloc[0] * 100)
    est = comp.km_control.median()[0]
    assert any(s.x0 == pytest.approx(est) and s.y1 == 50 for s in fig.layout.shapes)


def test_km_rejects_a_non_comparison():
    with pytest.raises(PanNetError):
        figures.km_figure(object())


# --------------------------------------------------------------------------- colours
def test_each_group_has_one_colour_in_every_figure(comp):
    assert figures.COLORS == {"treated": "#0072B2", "control": "#D55E00"}
    km = figures.km_figure(comp)
    for t in _roles(km, "km"):
        assert t.line.color == figures.COLORS[t.meta["group"]]
    for t in _roles(km, "risk"):
        assert t.textfont.color == figures.COLORS[t.meta["group"]]
    ps = figures.ps_overlap(_scores())
    for t in _roles(ps, "ps"):
        assert t.marker.color == figures.COLORS[t.meta["group"]]
    con = figures.consort_figure(FLOW, 339, 2643, 120)
    colours = {s.name: s.line.color for s in con.layout.shapes if s.name in ("box_treated", "box_control")}
    assert colours == {"box_treated": figures.COLORS["treated"], "box_control": figures.COLORS["control"]}


# --------------------------------------------------------------------------- balance
def test_love_plot_has_threshold_line_and_absolute_sorted_smds():
    fig = figures.love_plot(BALANCE, threshold=0.1)
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == 0.1 and s.x1 == 0.1]
    assert len(lines) == 1 and lines[0].line.dash == "dash"
    before = next(t for t in fig.data if t.name == "Before matching")
    after = next(t for t in fig.data if t.name == "After matching")
    assert min(before.x) >= 0  # -0.2 is shown as 0.2
    assert list(before.x) == sorted(before.x)  # largest on top (last category is drawn at the top)
    assert before.y[-1] == "age" and "size: ≤20" in before.y
    assert dict(zip(after.y, after.x))["size: >50"] == pytest.approx(0.12)
    fig2 = figures.love_plot(BALANCE, threshold=0.2)
    assert any(s.x0 == 0.2 for s in fig2.layout.shapes)


def test_love_plot_rejects_bad_input():
    with pytest.raises(PanNetError):
        figures.love_plot(pd.DataFrame({"x": [1]}))
    with pytest.raises(PanNetError):
        figures.love_plot(BALANCE.iloc[:0])


def test_ps_overlap_mirrors_groups_before_and_after():
    data = _scores()
    fig = figures.ps_overlap(data)
    bars = _roles(fig, "ps")
    assert len(bars) == 4
    for t in bars:
        y = np.asarray(t.y)
        assert (y >= 0).all() if t.meta["group"] == "treated" else (y <= 0).all()
        total = int(np.abs(y).sum())
        mask = data["treated"] == (t.meta["group"] == "treated")
        if t.meta["panel"] == "after":
            mask &= data["matched"]
        assert total == int(mask.sum())
    with pytest.raises(PanNetError):
        figures.ps_overlap(data.drop(columns="score"))


# --------------------------------------------------------------------------- CONSORT
def test_consort_boxes_hold_the_flow_counts():
    fig = figures.consort_figure(FLOW, 339, 2643, 120)
    texts = [a.text for a in fig.layout.annotations if a.text]
    joined = " | ".join(texts)
    assert "n = 3053" in joined and "n = 2982" in joined
    excluded = [t for t in texts if "excluded n =" in t]
    assert len(excluded) == 3  # steps with n_excluded > 0 only
    for n in (3, 41, 27):
        assert any(f"excluded n = {n}<" in t or t.endswith(f"excluded n = {n}</b>") for t in excluded)
    assert "n = 339" in joined and "n = 2643" in joined
    assert "Matched</b> n = 120" in joined
    assert "not matched n = 219" in joined and "not matched n = 2523" in joined
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) >= 3 + 3  # exclusions + spine + split
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 2 + 3 + 2 + 2


def test_consort_needs_a_flow():
    with pytest.raises(PanNetError):
        figures.consort_figure(None, 1, 1)


# --------------------------------------------------------------------------- forest
def test_forest_plot_log_axis_and_reference_rows():
    tab = pd.DataFrame({"term": ["age", "grade=G2", "grade=G3"], "coef": [0.02, 0.5, 1.1], "hr": [1.02, 1.65, 3.0],
                        "lower": [1.0, 1.1, 1.7], "upper": [1.04, 2.5, 5.4], "p": [0.04, 0.02, 0.0002]})
    fig = figures.forest_plot(tab, reference={"grade": "G1"})
    assert fig.layout.xaxis.type == "log"
    hr = _roles(fig, "hr")[0]
    assert list(hr.x) == pytest.approx([1.02, 1.65, 3.0])
    assert list(hr.error_x.array) == pytest.approx([0.02, 0.85, 2.4])
    labels = list(fig.layout.yaxis.ticktext)
    assert any("G1 (reference)" in lab for lab in labels)
    ref = _roles(fig, "reference")[0]
    assert list(ref.x) == [1.0]
    assert any(s.x0 == 1 and s.type == "line" for s in fig.layout.shapes)
    assert any("1.65 (1.10–2.50)" in a.text for a in fig.layout.annotations)


def test_forest_plot_several_models():
    tab = pd.DataFrame({"model": ["univariable"] * 2 + ["multivariable"] * 2, "term": ["age", "sex=male"] * 2,
                        "hr": [1.1, 0.8, 1.05, 0.9], "lower": [1.0, 0.6, 0.95, 0.7], "upper": [1.2, 1.1, 1.15, 1.2],
                        "p": [0.05, 0.2, 0.3, 0.5]})
    fig = figures.forest_plot(tab)
    assert [t.meta["model"] for t in _roles(fig, "hr")] == ["univariable", "multivariable"]
    with pytest.raises(PanNetError):
        figures.forest_plot(pd.DataFrame({"term": []}))


# --------------------------------------------------------------------------- summary slide
def _fake_result(comp, synthetic=False):
    from pannet_core.settings import Settings

    s = Settings.from_dict({"name": "x", "study": {"comparison": "primary_resection", "endpoint": "os"},
                            "propensity": {"covariates": ["age"]}})
    data = _scores()
    data.attrs["synthetic"] = synthetic
    return SimpleNamespace(settings=s, matched=comp, unmatched=comp, balance=BALANCE, data=data, flow=FLOW,
                           n_sets=70, n_pairs=70, n_matched_treated=70, n_matched_control=70,
                           n_treated=int(data["treated"].sum()), n_control=int((~data["treated"]).sum()),
                           matching=SimpleNamespace(caliper_width=0.0123), warnings=(), cox_models=None)


def test_summary_slide_holds_the_key_numbers(comp):
    fig = figures.summary_slide(_fake_result(comp))
    assert figures.export_size(fig) == (1920, 1080)
    text = " ".join(a.text for a in fig.layout.annotations)
    assert "<b>0.45</b>" in text and "0.30–0.67" in text
    assert "HR primary tumour resected vs not resected, matched cohort" in text  # the HR's direction
    assert "Log-rank P (matched groups) = 0.012 (primary)" in text
    assert "secondary" not in text  # no stratified test in this result
    strat = figures.summary_slide(SimpleNamespace(**vars(_fake_result(comp)),
                                                  logrank_pair_stratified=SimpleNamespace(p=0.0061)))
    assert "stratified on matched sets P = 0.006 (secondary)" in " ".join(a.text for a in strat.layout.annotations)
    assert "Matched pairs: <b>70</b>" in text
    assert "Balance: 1 of 4 levels above 0.10 (largest 0.12, size >50)" in text
    assert "◆ with bars: survival at 5 years" in text and "median survival" in text
    assert "In 70 matched pairs, 5-year overall survival was" in fig.layout.title.text
    assert "residual confounding" in text and "Synthetic" not in text
    table = next(t for t in fig.data if t.type == "table")
    five = comp.km_treated.survival_at([5])["surv"].iloc[0]
    assert table.cells.values[3][0].startswith(f"{five * 100:.0f} (")
    assert list(table.cells.values[1]) == [str(comp.km_treated.n), str(comp.km_control.n)]
    assert len(_roles(fig, "risk")) == 2 and len(_roles(fig, "km")) == 2
    synth = figures.summary_slide(_fake_result(comp, synthetic=True))
    assert "Synthetic" in " ".join(a.text for a in synth.layout.annotations)
    assert [a.text for a in synth.layout.annotations if a.name == "synthetic"] == ["Synthetic demonstration data"]


# --------------------------------------------------------------------------- helpers
@pytest.mark.parametrize("p, text", [(0.0004, "P < 0.001"), (0.0123, "P = 0.012"), (0.4321, "P = 0.43"),
                                     (None, "P = n/a"), (float("nan"), "P = n/a")])
def test_p_value_format(p, text):
    assert fmt_p(p) == text


def test_pretty_variable_names():
    assert pretty_variable("age_group=>=70") == "age: ≥70"
    assert pretty_variable("liver_mets_group_001=>=10", sep=" ") == "liver metastases ≥10"
    assert pretty_variable("primary_size_cm") == "primary tumour size (cm)"
    assert pretty_variable("my_own_var=<=3") == "my own var: ≤3"


def test_tick_step_every_one_or_two_years():
    assert figures.tick_step(5) == 1 and figures.tick_step(15) == 2 and figures.tick_step(30) == 5


def test_forest_plot_reads_the_cox_models_table_with_reference_rows():
    tab = pd.DataFrame({"model": ["univariable"] * 4, "variable": ["treated", "grade", "grade", "age"],
                        "level": [None, "G1", "G2", None], "reference": [False, True, False, False],
                        "hr": [0.5, 1.0, 2.0, 1.01], "lower": [0.3, np.nan, 1.2, 0.99],
                        "upper": [0.8, np.nan, 3.3, 1.03], "p": [0.004, np.nan, 0.01, 0.3]})
    fig = figures.forest_plot(SimpleNamespace(table=tab))
    labels = list(fig.layout.yaxis.ticktext)
    assert any("G1 (reference)" in lab for lab in labels)
    assert any("Treated vs control" in lab for lab in labels)
    assert list(_roles(fig, "hr")[0].x) == pytest.approx([0.5, 2.0, 1.01])
def test_study_suffix_dropped():
    assert pretty_variable("who_grade_001=G2") == "WHO grade: G2"


def test_forest_reference_rows_only_for_variables_in_each_model():
    import pandas as pd

    from pannet_core.figures import forest_plot

    nan = float("nan")
    rows = [("univariable", "treated", None, False, 0.7, 0.5, 0.9, 0.01),
            ("univariable", "age_group", "<50", True, 1.0, nan, nan, nan),
            ("univariable", "age_group", "50-59", False, 1.5, 1.1, 2.0, 0.02),
            ("univariable", "sex", "female", True, 1.0, nan, nan, nan),
            ("univariable", "sex", "male", False, 1.1, 0.8, 1.5, 0.6),
            ("multivariable", "treated", None, False, 0.72, 0.5, 0.95, 0.02),
            ("multivariable", "age_group", "<50", True, 1.0, nan, nan, nan),
            ("multivariable", "age_group", "50-59", False, 1.4, 1.0, 1.9, 0.04)]
    table = pd.DataFrame(rows, columns=["model", "variable", "level", "reference", "hr", "lower", "upper", "p"])
    fig = forest_plot(table)
    refs = [a.text for a in fig.layout.annotations if a.text == "1 (reference)"]
    assert len(refs) == 3  # age and sex univariable, age multivariable; sex is not in the multivariable model


def test_apply_base_layout_is_update_layout_with_base_layout_byte_for_byte():
    """The template stored unvalidated (figures_style.apply_base_layout) gives the very same figure JSON."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from pannet_core.figures.style import apply_base_layout, base_layout

    def fig():
        f = make_subplots(rows=1, cols=2, subplot_titles=("a", "b"))
        f.add_trace(go.Bar(x=[1, 2], y=[3, 4]), row=1, col=1)
        f.add_shape(type="line", x0=0, x1=1, y0=0, y1=1)
        return f

    extra = dict(title=dict(text="t", x=0.01), margin=dict(l=10, t=20), barmode="overlay")
    for _ in range(2):  # the second call uses the once-validated template
        assert apply_base_layout(fig(), **extra).to_json() == fig().update_layout(**base_layout(**extra)).to_json()
    a, b = apply_base_layout(fig(), **extra), fig().update_layout(**base_layout(**extra))
    a.update_layout(font=dict(size=30))  # still an ordinary figure
    b.update_layout(font=dict(size=30))
    assert a.to_json() == b.to_json() and a.layout.template == b.layout.template
