"""Synthetic demonstration cohort reproducing the flow and Table 1 of seed 000.

**Every row is invented.**  Ids are ``DEMO-000001`` ..., centres are
``Uppsala (synthetic)`` etc., the frame carries a ``synthetic`` column (all
True) and ``frame.attrs["synthetic"] = True``.

What one block (``n_scale=1``) reproduces exactly (seed 000, Fig. 1 / Table 1):

* 733 patients assessed: 335 Uppsala, 63 Gothenburg, 335 Boston;
* the 000 rule set leaves 194: 65 resected (SG), 129 not (non-SG); the 539
  exclusions are split over the rules in order (:data:`EXCLUSIONS`, invented -
  the seed's Fig. 1 is not in the text);
* every before-matching count of Table 1 in each group (age, sex,
  functioning, calendar period, Charlson, primary size incl. N/A, number of
  liver metastases incl. N/A, extra-abdominal metastases, WHO grade);
* resection types 15 / 48 / 1 / 1, Clavien-Dindo >= 2 in 19 (5 Whipple,
  14 distal), >= 3 in 14, three deaths within 90 days of resection
  (Clavien-Dindo 5);
* the 50 pairs of the ``primary_tumour_resection`` preset for the default
  seed 0 (about 50 for others).  Within each group the covariates are tied to
  a latent "typicality" (rank correlation :data:`RHO`) so that typical
  resected patients are young with few liver metastases, and typical
  non-resected ones old with many: that is what makes some propensity scores
  extreme and leaves about 50 pairs.

The published survival (seed 000's Results: deaths, median and 5-year OS
with the matched CIs, log-rank P before and after matching, median
follow-up, PFS, 90-day mortality, the sensitivity analysis without the
liver-resected pairs) is reached by construction, not by choosing a seed:
the pairs the preset forms are computed from the covariates first, then
the outcomes are built for them and for the rest
(:mod:`pannet_core.demo.survival`, whose tables at the top hold the
targets).  The follow-up design is :data:`FOLLOW_UP`.

The 001 variables (liver metastasis dates, liver resection / ablation dates,
first visit, CgA, albumin, Ki-67, size of the largest metastasis ...) are
filled in so that the ``liver_surgery_tha`` preset runs and gives a plausible
(not the published) result.

``n_scale=K`` (benchmarks) stacks K independently drawn blocks of this
structure (ids unique; flow and Table 1 exact in each).  The first block is
the demonstration cohort; the others get their outcomes in one layer (the
overall targets, with the shapes tuned on the first block), without pairs.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from pannet_core.demo.survival import EARLY_DAYS, EARLY_DEATHS, LIVER_RESECTED, construct, matched_pairs
from pannet_core.errors import PanNetError

N_BLOCK = 733
CENTRES = (("Uppsala (synthetic)", 335), ("Gothenburg (synthetic)", 63), ("Boston (synthetic)", 335))
CUTOFF = np.datetime64("2019-12-31", "D")
RHO = 0.95  # within-group rank correlation of covariates with "typicality" (tuned: ~50 pairs)

#: Exclusions per 000 rule, in order (invented split of the 539).
EXCLUSIONS = (("diagnosis_years", 180), ("grade", 120), ("sporadic", 45), ("no_resection_before_stage4", 90),
              ("not_inoperable", 60), ("no_other_liver_malignancy", 8), ("no_liver_transplant", 10),
              ("follow_up_available", 26))
N_SG, N_NON = 65, 129

# Table 1 of seed 000, before matching: (levels, SG counts, non-SG counts); "N/A" = missing.
TABLE1_000 = {
    "age_group": (("<50", "50-59", "60-69", ">=70"), (18, 21, 20, 6), (32, 39, 32, 26)),
    "sex": (("female", "male"), (26, 39), (50, 79)),
    "functioning": (("yes", "no"), (13, 52), (30, 99)),
    "calendar_period": (("2000-2009", "2010-2019"), (19, 46), (14, 115)),
    "charlson_group": (("0-1", "2-3", ">=4"), (53, 9, 3), (108, 13, 8)),
    "primary_size_group": (("<2", "2-5", ">5", "N/A"), (6, 34, 24, 1), (18, 72, 30, 9)),
    "liver_mets_group": (("1-3", "4-9", ">=10", "N/A"), (21, 20, 17, 7), (12, 40, 68, 9)),
    "extra_abdominal_mets": (("yes", "no"), (3, 62), (12, 117)),
    "who_grade": (("G1", "G2"), (25, 40), (38, 91)),
}
RESECTION_TYPES = (("pancreaticoduodenectomy", 15), ("distal", 48), ("central", 1), ("enucleation", 1))
GRADES = ("G1", "G2", "G3", "NEC", "unknown")
HEREDITARY = ("sporadic", "MEN1", "VHL", "suspected")
SYNDROMES = ("none", "insulinoma", "gastrinoma", "vipoma", "glucagonoma", "other")

# survival model (log hazard ratios per level, natural level order)
_B_AGE = np.array([0.0, 0.1, 0.25, 0.5])
_B_LM = np.array([0.0, 0.15, 0.3, 0.15])
_B_CH = np.array([0.0, 0.2, 0.4])
_B_G2 = 0.25
_B_EXTRA = 0.2
_B_PROG_SG = 0.8  # extra progression hazard after resection: median PFS 1.41 vs 1.59 y (seed: 1.4 vs 1.6)
#: Follow-up of the included (tuned to the published median follow-up and deaths): the stage IV year of
#: a patient diagnosed in 2010-2019 is first + floor(span * u ** power), u uniform; per group and arm.
FOLLOW_UP = {("matched", "resected"): (2010, 6, 1.0), ("matched", "not"): (2012, 5, 1.0),
             ("unmatched", "resected"): (2010, 10, 3.0), ("unmatched", "not"): (2010, 10, 1.6)}
_LOST = 0.05  # lost to follow-up (after 2 years) somewhere in the second half of their potential follow-up
_LAST_VISIT = 183  # days: the survivors' last visit comes within this long before the cut-off
_PFS_MEDIAN = 2.4  # years, progression hazard scale before the competing death


def _ranks(key: np.ndarray) -> np.ndarray:
    """Rank (0 = smallest) of each entry along axis 1."""
    order = np.argsort(key, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(key.shape[1])[None, :], axis=1)
    return ranks


def _assign_exact(rng, latent: np.ndarray, counts, typical_first: np.ndarray, na_count: int,
                  rho: float) -> np.ndarray:
    """Level codes with exactly ``counts`` per row (natural level order codes; -1 = N/A).

    Rows with a high ``latent`` get the levels listed first in
    ``typical_first`` (rank correlation about ``rho``); N/A rows are random.
    """
    k, n = latent.shape
    codes = np.empty((k, n), dtype=np.int64)
    template = np.concatenate([np.repeat(typical_first, np.asarray(counts)[typical_first]),
                               np.full(na_count, -1)])
    key = rho * latent + np.sqrt(1 - rho ** 2) * rng.standard_normal((k, n))
    if na_count:
        na = _ranks(rng.random((k, n))) < na_count
        key = np.where(na, -np.inf, key)
    order = np.argsort(-key, axis=1, kind="stable")
    np.put_along_axis(codes, order, np.broadcast_to(template, (k, n)), axis=1)
    return codes


def _to_dates(days: np.ndarray) -> np.ndarray:
    """Float days since 1970-01-01 (NaN = missing) -> datetime64[ns]."""
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(days)
    out[ok] = np.floor(days[ok]).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    return out


def _day(year, frac=None):
    base = (np.asarray(year, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return base + (0.0 if frac is None else frac * 365.0)


def _covariate_frame(codes: dict) -> pd.DataFrame:
    """The propensity covariates of :data:`TABLE1_000` from level codes (-1 = N/A), as the cohort derives
    them: ordered categoricals, yes/no with "no" first, "N/A" last."""
    out = {}
    for name, (levels, _, _) in TABLE1_000.items():
        c = codes[name]
        labels = np.array([lv for lv in levels if lv != "N/A"] + ["N/A"], dtype=object)
        order = ["no", "yes"] if levels[:2] == ("yes", "no") else [lv for lv in levels if lv != "N/A"]
        if (c < 0).any():
            order = order + ["N/A"]
        out[name] = pd.Categorical(labels[c], categories=order, ordered=True)
    return pd.DataFrame(out)


def make_demo_cohort(seed: int = 0, n_scale: int = 1) -> pd.DataFrame:
    """The synthetic demonstration registry in canonical columns.

    Parameters
    ----------
    seed : int
        Random seed (the cohort is a deterministic function of it).
    n_scale : int
        Number of blocks of 733 patients (each block reproduces seed 000).

    Returns
    -------
    DataFrame
        Canonical Pan-NET columns plus ``synthetic`` (True);
        ``attrs["synthetic"] = True``.
    """
    if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        raise PanNetError(f"The demo seed must be a whole number >= 0, got {seed!r}.", "Use e.g. --seed 0.")
    if not (isinstance(n_scale, (int, np.integer)) and not isinstance(n_scale, bool) and 1 <= n_scale <= 10_000):
        raise PanNetError(f"n_scale must be a whole number from 1 to 10000, got {n_scale!r}.", "Use e.g. --n-scale 1.")
    if n_scale == 1:  # the construction tunes its curves; callers get their own copy of one build
        frame = _one_block(int(seed))
        out = frame.copy()
        out.attrs = dict(frame.attrs)
        return out
    return _build(int(seed), int(n_scale))


@functools.lru_cache(maxsize=8)
def _one_block(seed: int) -> pd.DataFrame:
    return _build(seed, 1)


def _build(seed: int, n_scale: int) -> pd.DataFrame:
    """:func:`make_demo_cohort` for checked arguments."""
    rng = np.random.default_rng(seed)
    K, n = int(n_scale), N_BLOCK

    # ---- slot groups ---------------------------------------------------------
    group_sizes = [N_SG, N_NON] + [c for _, c in EXCLUSIONS]
    group = np.repeat(np.arange(len(group_sizes)), group_sizes)  # 0 SG, 1 non, 2.. exclusion steps
    assert len(group) == n
    G = np.broadcast_to(group, (K, n))
    inc = G <= 1
    sg, non = G == 0, G == 1

    def full(value, dtype=float):
        return np.full((K, n), value, dtype=dtype)

    # ---- defaults for everybody (overwritten for the included) ---------------
    female = rng.random((K, n)) < 0.42
    age = np.clip(rng.normal(60, 12, (K, n)), 25, 88)
    st4_year = rng.integers(2000, 2020, (K, n))
    st4_year = np.where(G == 2, rng.integers(1985, 2000, (K, n)), st4_year)
    # texts are carried as integer codes into GRADES / HEREDITARY / ... (fast at scale)
    grade = np.where(rng.random((K, n)) < 0.35, 0, 1)
    g_tmpl = np.array([2] * 50 + [3] * 30 + [4] * 40)
    hered = np.zeros((K, n), dtype=np.int64)
    h_tmpl = np.array([1] * 28 + [2] * 10 + [3] * 7)
    for gi, tmpl, arr in ((3, g_tmpl, grade), (4, h_tmpl, hered)):
        idx = np.flatnonzero(group == gi)
        perm = np.argsort(rng.random((K, len(idx))), axis=1)
        arr[:, idx] = tmpl[perm]
    functioning = rng.random((K, n)) < 0.22
    charlson = np.minimum(rng.poisson(1.8, (K, n)), 8).astype(float)
    size = np.round(rng.lognormal(np.log(3.5), 0.5, (K, n)), 1)
    size = np.where(rng.random((K, n)) < 0.05, np.nan, size)
    nmets = np.minimum(np.ceil(rng.lognormal(np.log(7), 1.0, (K, n))), 60).astype(float)
    nmets = np.where(rng.random((K, n)) < 0.07, np.nan, nmets)
    extra = rng.random((K, n)) < 0.08

    # ---- the included: exact Table 1 counts ----------------------------------
    lev_codes: dict[str, np.ndarray] = {}
    # latent typicality per included patient (one draw, shared by all covariates)
    latent = rng.standard_normal((K, N_SG + N_NON))
    for name, (levels, c_sg, c_non) in TABLE1_000.items():
        real = [i for i, lv in enumerate(levels) if lv != "N/A"]
        p_sg = np.array([c_sg[i] / N_SG for i in real])
        p_non = np.array([c_non[i] / N_NON for i in real])
        ratio = np.log((p_sg + 1e-9) / (p_non + 1e-9))
        typ_sg = np.array(real)[np.argsort(-ratio, kind="stable")]
        na_sg = c_sg[levels.index("N/A")] if "N/A" in levels else 0
        na_non = c_non[levels.index("N/A")] if "N/A" in levels else 0
        rho = RHO
        a = _assign_exact(rng, latent[:, :N_SG], c_sg, typ_sg, na_sg, rho)
        b = _assign_exact(rng, latent[:, N_SG:], c_non, typ_sg[::-1].copy(), na_non, rho)
        lev_codes[name] = np.concatenate([a, b], axis=1)
    L = lev_codes
    ii = np.flatnonzero(group <= 1)  # included slots, SG first (as in lev_codes)
    u = rng.random((K, len(ii)))
    age_lo = np.array([32.0, 50.0, 60.0, 70.0])[L["age_group"]]
    age_w = np.array([18.0, 10.0, 10.0, 14.0])[L["age_group"]]
    age[:, ii] = np.round(age_lo + 0.05 + u * (age_w - 0.1), 1)
    female[:, ii] = L["sex"] == 0
    functioning[:, ii] = L["functioning"] == 0
    # stage IV year: 2000-2009 uniform; 2010-2019 leaning to the early years
    y1 = rng.integers(2000, 2010, (K, len(ii)))
    u_year = rng.random((K, len(ii)))  # 2010-2019: the year is set once the pairs are known (follow-up)
    ch = L["charlson_group"]
    r = rng.random((K, len(ii)))
    charlson[:, ii] = np.select([ch == 0, ch == 1], [np.where(r < 0.65, 0.0, 1.0), np.where(r < 0.6, 2.0, 3.0)],
                                4.0 + np.floor(r * 3))
    sz = L["primary_size_group"]
    r = rng.random((K, len(ii)))
    size[:, ii] = np.select([sz == 0, sz == 1, sz == 2], [np.round(0.8 + r * 1.1, 1), np.round(2.0 + r * 3.0, 1),
                                                          np.round(5.1 + r ** 1.5 * 7, 1)], np.nan)
    lm = L["liver_mets_group"]
    r = rng.random((K, len(ii)))
    nmets[:, ii] = np.select([lm == 0, lm == 1, lm == 2], [1 + np.floor(r * 3), 4 + np.floor(r * 6),
                                                           10 + np.floor(r ** 2 * 30)], np.nan)
    extra[:, ii] = L["extra_abdominal_mets"] == 0
    grade[:, ii] = np.where(L["who_grade"] == 0, 0, 1)
    cols_ki = np.where(grade == 0, np.round(rng.uniform(0.5, 2.9, (K, n)), 1),
                       np.where(grade == 1, np.round(rng.uniform(3, 20, (K, n)), 1),
                                np.where((grade == 2) | (grade == 3),
                                         np.round(rng.uniform(21, 80, (K, n)), 1), np.nan)))

    # ---- file order (the matching breaks ties by it) --------------------------
    perm = np.argsort(rng.random((K, n)), axis=1)  # block row -> slot
    row_of = np.argsort(perm, axis=1)  # slot -> block row

    # ---- the preset's pairs: matching depends on the covariates only ---------
    n_inc = N_SG + N_NON
    treated_inc = np.arange(n_inc) < N_SG
    pair = np.full((K, n_inc), -1, dtype=np.int64)
    pair_slots = []  # per block: (resected slot, control slot) of each pair
    for b in range(1):  # the first block only: the others (--n-scale) are built without pairs
        rows = np.argsort(row_of[b, :n_inc], kind="stable")  # included slots in file order
        t_rows, c_rows = matched_pairs(_covariate_frame({k: v[b, rows] for k, v in L.items()}), treated_inc[rows])
        pair[b, rows[t_rows]] = pair[b, rows[c_rows]] = np.arange(len(t_rows))
        pair_slots.append((rows[t_rows], rows[c_rows]))
    matched_inc = pair >= 0

    # ---- dates ---------------------------------------------------------------
    # stage IV year: 2000-2009 uniform; 2010-2019 within the first ``span`` years, leaning to the early ones
    first, span, power = (np.select([matched_inc & treated_inc, matched_inc, treated_inc],
                                    [FOLLOW_UP[("matched", "resected")][i], FOLLOW_UP[("matched", "not")][i],
                                     FOLLOW_UP[("unmatched", "resected")][i]], FOLLOW_UP[("unmatched", "not")][i])
                          for i in range(3))
    y2 = first.astype(np.int64) + np.floor(span * u_year ** power).astype(np.int64)
    st4_year[:, ii] = np.where(L["calendar_period"] == 0, y1, y2)
    st4 = _day(st4_year, rng.random((K, n)))
    # primary resection: SG after stage IV (median 0.2 y, IQR 0.0-0.6); some excluded groups too
    delay = np.interp(rng.random((K, n)), [0, .25, .5, .75, 1], [0, 0.02, 0.2, 0.6, 2.5]) * 365.25
    res_p = np.select([G == 2, G == 3, G == 4, G == 7, G == 8, G == 9], [0.35, 0.4, 0.6, 0.2, 0.5, 0.2], 0.0)
    res_p = np.where(hered == 3, 0.0, res_p)  # 001's table has sporadic / MEN-1 / VHL only
    resected = sg | (rng.random((K, n)) < res_p)
    latest = (CUTOFF - np.datetime64("1970-01-01", "D")).astype(np.int64) - 183.0
    # every included patient (and every resection) at least half a year before the cut-off
    shift = np.where(resected, st4 + delay, st4) - latest
    st4 = np.where((resected | inc) & (shift > 0), st4 - shift, st4)
    res = np.where(resected, st4 + delay, np.nan)
    before = G == 5
    res = np.where(before, st4 - rng.uniform(0.5, 6.0, (K, n)) * 365.25, res)
    resected |= before
    baseline = np.where(sg, res, st4)

    # ---- SG: resection type, complications, three deaths within 90 days ------
    sgi = np.flatnonzero(group == 0)
    rtype = np.full((K, n), -1, dtype=np.int64)
    t_tmpl = np.repeat(np.arange(len(RESECTION_TYPES)), [c for _, c in RESECTION_TYPES])
    types_sg = t_tmpl[np.argsort(rng.random((K, N_SG)), axis=1)]
    rtype[:, sgi] = types_sg
    comp = np.zeros((K, N_SG), bool)
    for tname, ncomp in ((0, 5), (1, 14)):  # 5 Whipple, 14 distal
        is_t = types_sg == tname
        key = np.where(is_t, rng.random((K, N_SG)), np.inf)
        comp |= _ranks(key) < ncomp
    # the three Clavien-Dindo 5 deaths among the matched (the paper's 3 of 50 and 3 of 65)
    key = np.where(comp, rng.random((K, N_SG)) + ~matched_inc[:, :N_SG], np.inf)
    rk = _ranks(key)  # 0..18 among the complicated
    cd = np.where(rk < 3, 5.0, np.where(rk < 14, np.where(rng.random((K, N_SG)) < 0.7, 3.0, 4.0),
                                        np.where(rk < 19, 2.0, np.where(rng.random((K, N_SG)) < 0.8, 0.0, 1.0))))
    clav = full(np.nan)
    clav[:, sgi] = cd
    # other resected patients: mostly uncomplicated
    other_res = resected & ~sg
    clav = np.where(other_res, np.where(rng.random((K, n)) < 0.75, 0.0, rng.integers(1, 4, (K, n)).astype(float)),
                    clav)
    rtype = np.where(other_res, np.where(rng.random((K, n)) < 0.3, 0, 1), rtype)
    early = np.zeros((K, n_inc), dtype=bool)
    early[:, :N_SG] = rk < EARLY_DEATHS[0]
    early |= ~treated_inc & (_ranks(np.where(matched_inc & ~treated_inc, rng.random((K, n_inc)), np.inf))
                             < EARLY_DEATHS[1])
    early_day = np.where(early, rng.integers(*EARLY_DAYS, (K, n_inc)), 0)

    # ---- survival and progression of the included: constructed (demo_survival) ----
    cut = int((CUTOFF - np.datetime64("1970-01-01", "D")).astype(np.int64))
    base_day = np.floor(baseline)
    admin = cut - base_day  # potential follow-up (days)
    lost = (rng.random((K, n_inc)) < _LOST) & (admin[:, :n_inc] > 2 * 365.25)
    follow = np.where(lost, np.floor(admin[:, :n_inc] * rng.uniform(0.5, 1.0, (K, n_inc))),
                      admin[:, :n_inc] - np.floor(rng.uniform(0, _LAST_VISIT, (K, n_inc)))).astype(np.int64)
    # liver resections among the matched (15 resected, then 4 not, in distinct pairs), drawn with weights
    # growing with potential follow-up: a patient followed longer has more time to have one
    liver_inc = np.zeros((K, n_inc), dtype=bool)
    for b, (ts, cs) in enumerate(pair_slots):
        n_t, n_c = LIVER_RESECTED
        key = rng.random(len(ts)) ** (1 / follow[b, ts])
        first_t = np.argsort(-key, kind="stable")[:n_t]
        key = np.where(np.isin(np.arange(len(ts)), first_t), -1.0, rng.random(len(ts)) ** (1 / follow[b, cs]))
        liver_inc[b, ts[first_t]] = True
        liver_inc[b, cs[np.argsort(-key, kind="stable")[:n_c]]] = True
    risk = (_B_AGE[L["age_group"]] + _B_LM[np.where(L["liver_mets_group"] < 0, 3, L["liver_mets_group"])]
            + _B_CH[L["charlson_group"]] + _B_G2 * (L["who_grade"] == 1) + _B_EXTRA * (L["extra_abdominal_mets"] == 0))
    os_days = np.zeros((K, n_inc), dtype=np.int64)
    os_ev = np.zeros((K, n_inc), dtype=bool)
    prog_days = np.full((K, n_inc), -1, dtype=np.int64)
    thetas = None
    for b in range(K):  # the shapes tuned on the first block serve the others (--n-scale)
        os_days[b], ev, prog_days[b], thetas = construct(
            treated_inc, pair[b], liver_inc[b], early_day[b], follow[b], risk[b],
            np.random.default_rng([seed, b]), thetas)
        os_ev[b] = ev == 1

    # ---- survival of the excluded (from stage IV) ----------------------------
    med = np.where((grade == 2) | (grade == 3), 2.0, 6.0)
    t_exc = rng.exponential(1.0, (K, n)) * med / np.log(2)

    # liver surgery / ablation (for study 001) among resected patients with liver metastases
    liver_mets = np.where(inc | before, True, rng.random((K, n)) < 0.9)
    ls_p = np.where(sg, 0.4, np.where(before, 0.5, np.where(non, 0.06, 0.3)))
    liver_surg = resected & liver_mets & (rng.random((K, n)) < ls_p) | (non & (rng.random((K, n)) < 0.06))
    t_exc = np.where(liver_surg & ~inc, t_exc * 2.0, t_exc)
    # an excluded patient resected after stage IV lives at least until the resection
    t_exc = np.where(resected & ~before & ~inc, np.nan_to_num(res - st4) / 365.25 + t_exc, t_exc)
    cens_exc = (cut - st4) / 365.25
    dead = t_exc <= cens_exc
    start = np.where(inc, base_day, st4)
    end = start + np.maximum(np.round(np.minimum(t_exc, cens_exc) * 365.25), 1.0)
    # rounding to whole days must not put death or last follow-up before the resection (large --n-scale)
    end = np.where(resected & ~inc & np.isfinite(res), np.maximum(end, np.nan_to_num(res)), end)
    dead[:, :n_inc] = os_ev
    end[:, :n_inc] = base_day[:, :n_inc] + os_days
    death = np.where(dead, end, np.nan)
    last_fu = end.copy()
    nofu = G == 9
    death = np.where(nofu, np.nan, death)
    last_fu = np.where(nofu, np.nan, last_fu)

    # progression of the excluded: competing with death
    p_rate = np.log(2) / _PFS_MEDIAN * np.exp(_B_PROG_SG * resected)
    t_prog = rng.exponential(1.0, (K, n)) / p_rate
    has_prog = t_prog * 365.25 < (end - start) - 1
    prog = np.where(has_prog & ~nofu, start + np.maximum(np.round(t_prog * 365.25), 1.0), np.nan)
    prog[:, :n_inc] = np.where(prog_days >= 0, base_day[:, :n_inc] + prog_days, np.nan)

    # liver surgery dates: after the primary resection (or stage IV), before the end of follow-up
    room = end - np.where(resected, np.maximum(res, st4), st4)
    ls_day = np.where(resected, np.maximum(res, st4), st4) + np.where(
        rng.random((K, n)) < 0.5, 0.0, np.floor(np.clip(room - 2, 0, None) * rng.uniform(0, 0.3, (K, n))))
    ls_day = np.where(nofu, st4, ls_day)
    kind = rng.random((K, n))
    has_res = liver_surg & (kind < 0.7)
    has_res[:, :n_inc] = np.where(matched_inc, liver_inc, has_res[:, :n_inc])  # exactly 15 + 4 among the matched
    liver_res = np.where(has_res, ls_day, np.nan)
    liver_abl = np.where(liver_surg & (kind > 0.4), ls_day, np.nan)
    liver_mets_date = np.where(liver_mets, st4, np.nan)
    first_visit = st4 + np.floor(rng.uniform(-40, 60, (K, n)))
    first_visit = np.where(np.isfinite(last_fu), np.minimum(first_visit, np.fmax(st4, last_fu - 1)), first_visit)

    # ---- assemble, rows within each block in file order -----------------------
    flat = (np.arange(K)[:, None] * n + perm).reshape(-1)
    take = lambda a: np.asarray(a).reshape(-1)[flat]  # noqa: E731
    centre = np.argsort(rng.random((K, n)), axis=1).reshape(-1)
    centre = np.repeat(np.arange(len(CENTRES)), [k for _, k in CENTRES])[centre]
    N = K * n
    width = max(4, len(str(N)))
    ids = np.char.add("DEMO-", np.char.zfill(np.arange(1, N + 1).astype(str), width))
    birth = st4 - age * 365.25
    cga = np.round(rng.lognormal(np.log(1.8), 1.0, (K, n)), 2)
    cga = np.where(rng.random((K, n)) < 0.1, np.nan, cga)
    albumin = np.where(rng.random((K, n)) < 0.1, np.nan, np.round(rng.normal(38, 5, (K, n)), 0))
    # capped at the dictionary maximum (50 cm) so that large --n-scale files validate
    measured = liver_mets & (rng.random((K, n)) > 0.2)
    met_size = np.minimum(np.round(rng.lognormal(np.log(2.5), 0.9, (K, n)), 1), 50.0)
    met_max = np.where(measured, met_size, np.nan)
    synd = np.where(functioning, rng.integers(1, 6, (K, n)), 0)
    yes = lambda p: rng.random((K, n)) < p  # noqa: E731

    def boolcol(a):
        return pd.array(take(a).astype(bool), dtype="boolean")

    def strcol(codes, labels):
        """Integer codes (-1 = missing) -> pandas str array; permutes integers, not Python strings."""
        return pd.array(list(labels), dtype="str").take(take(codes), allow_fill=True)

    frame = pd.DataFrame({
        "patient_id": pd.array(ids, dtype="str"),
        "centre": pd.array(np.array([c for c, _ in CENTRES], dtype=object), dtype="str").take(centre),
        "sex": strcol(np.where(female, 0, 1), ("female", "male")),
        "birth_date": _to_dates(take(birth)),
        "age_at_diagnosis": take(np.round(age, 1)),
        "stage4_date": _to_dates(take(st4)),
        "who_grade": strcol(grade, GRADES),
        "ki67": take(cols_ki),
        "hereditary": strcol(hered, HEREDITARY),
        "functioning": boolcol(functioning),
        "functional_syndrome": strcol(synd, SYNDROMES),
        "charlson": take(charlson),
        "primary_size_cm": take(size),
        "liver_mets": boolcol(liver_mets),
        "liver_mets_n": take(np.where(liver_mets, nmets, 0.0)),
        "liver_met_max_cm": take(met_max),
        "liver_mets_date": _to_dates(take(liver_mets_date)),
        "extrahepatic_mets": boolcol(extra | yes(0.25)),
        "extra_abdominal_mets": boolcol(extra),
        "cga_uln": take(cga),
        "albumin": take(albumin),
        "primary_resection_date": _to_dates(take(res)),
        "primary_resection_type": strcol(np.where(resected, rtype, -1), [t for t, _ in RESECTION_TYPES]),
        "resection_before_stage4": boolcol(before),
        "inoperable": boolcol(G == 6),
        "liver_resection_date": _to_dates(take(liver_res)),
        "liver_ablation_date": _to_dates(take(liver_abl)),
        "liver_transplant": boolcol(G == 8),
        "other_liver_malignancy": boolcol(G == 7),
        "first_visit_date": _to_dates(take(first_visit)),
        "chemo_lines": take(rng.choice([0.0, 1.0, 2.0, 3.0], (K, n), p=[0.3, 0.35, 0.25, 0.1])),
        "ssa": boolcol(yes(0.5)),
        "prrt": boolcol(yes(0.25)),
        "interferon": boolcol(yes(0.2)),
        "everolimus": boolcol(yes(0.2)),
        "sunitinib": boolcol(yes(0.1)),
        "embolization": boolcol(yes(0.15)),
        "clavien_dindo": take(clav),
        "progression_date": _to_dates(take(prog)),
        "death_date": _to_dates(take(death)),
        "last_followup_date": _to_dates(take(last_fu)),
        "synthetic": np.ones(N, dtype=bool),
    })
    frame.attrs["synthetic"] = True
    frame.attrs["description"] = "Synthetic demonstration cohort (invented patients) reproducing seed 000."
    return frame
