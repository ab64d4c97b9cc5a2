"""One settings object for a whole analysis, and its JSON form.

The JSON keys of ``columns``, ``propensity``, ``matching`` and ``survival``
are fixed by ``shared/CONTRACT.md``; the Pan-NET blocks (``study``,
``eligibility``, ``cohort``, ``cox``, ``balance``) are documented in
``docs/settings.md``.  ``Settings.from_dict(s.to_dict()) == s`` always holds,
and every value is checked when it is read so that a bad file fails with a
message that names the key, the value and what is allowed.

Two kinds of settings exist:

* *generic*: a ``columns`` block names an id, treatment, time and event
  column of a table that already has one row per patient;
* *Pan-NET*: a ``study`` block says which comparison (primary tumour
  resection, or liver surgery / thermal ablation) to build from a registry
  with dates; ``eligibility`` and ``cohort`` then shape the cohort.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pannet_core.errors import SettingsError

TIME_UNITS = ("days", "months", "years")
CALIPER_SCALES = ("ps", "logit", "ps_absolute")
ORDERS = ("largest", "smallest", "data", "random")
CI_TYPES = ("plain", "log", "log-log")
COMPARISONS = ("primary_resection", "liver_surgery_tha")
ENDPOINTS = ("os", "pfs")
MISSING_RULES = ("level", "drop")
NUMERIC_SUMMARIES = ("median", "mean")  # Table 1: median (IQR) or mean (SD)
DAYS_PER_YEAR = 365.25


def _check(cond: bool, problem: str, fix: str) -> None:
    if not cond:
        raise SettingsError(problem, fix)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _str_tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    _check(isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value),
           f"Setting '{key}' must be a list of column names, got {value!r}.",
           f'Write it as a JSON list of strings, e.g. "{key.split(".")[-1]}": ["age", "sex"].')
    _check(len(set(value)) == len(value), f"Setting '{key}' names a column twice: {list(value)!r}.",
           "List each column once.")
    return tuple(value)


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    _check(value in allowed, f"Setting '{key}' is {value!r}, which is not one of {', '.join(allowed)}.",
           f"Use one of: {', '.join(allowed)}.")
    return value


def _bool(value: Any, key: str) -> bool:
    _check(isinstance(value, bool), f"Setting '{key}' must be true or false, got {value!r}.",
           "Write true or false without quotes.")
    return value


def _block(d: Any, cls, name: str, example: str) -> None:
    """Check that the settings block ``name`` is a JSON object with only ``cls``'s keys."""
    _check(isinstance(d, dict), f"The '{name}' block must be a JSON object.", example)
    _reject_unknown(d, {f.name for f in fields(cls)}, name)


def _reject_unknown(data: dict, known: set[str], block: str) -> None:
    unknown = sorted(set(data) - known)
    _check(not unknown, f"Unknown key(s) {unknown} in the '{block}' block of the settings.",
           f"Remove them or correct the spelling; known keys are {sorted(known)}.")


MAX_SETTINGS_BYTES = 1_000_000  # a saved settings file is a few kB
MAX_DEPTH = 20  # the deepest settings file nests 4 levels
CUTOFF_RANGE = ("1970-01-01", "2100-12-31")  # before 1970 no Pan-NET registry has diagnoses
MAX_CALIPER = 10.0  # in SDs of the score (ps, logit); ps_absolute is a probability difference, at most 1
MAX_YEARS = 100.0  # horizons and risk times
MAX_SEED = 2**63 - 1


def decode_settings_bytes(data: bytes) -> str:
    """The text of a settings file: UTF-8 (with or without BOM) or UTF-16/UTF-32 with a BOM.

    The CLI (:meth:`Settings.load`) and the dashboard's upload both decode here, so a
    file is accepted by one exactly when it is accepted by the other.

    Raises
    ------
    SettingsError
        Too large, or not text in one of these encodings.
    """
    import codecs

    _check(len(data) <= MAX_SETTINGS_BYTES,
           f"The settings file has {len(data):,} bytes; a settings file is a few kilobytes.",
           "Choose the .json file saved by PanNET Board (Save current settings) or a preset.")
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE starts like UTF-16 LE
    encoding = next((enc for bom, enc in boms if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise SettingsError(f"The settings file is not text in UTF-8 or UTF-16 (decoding as {encoding} failed).",
                            "Choose the .json file saved by PanNET Board (Save current settings), or save it "
                            "again as UTF-8 in a text editor.") from None


def _depth(obj: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_DEPTH:
            break
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return deepest


def _scalar(value: Any, key: str) -> Any:
    _check(value is None or isinstance(value, (str, bool)) or _is_number(value),
           f"Setting '{key}' is {value!r}; it must be one value (text, a number, true/false or null).",
           f'Write e.g. "{key.split(".")[-1]}": 1, or remove it.')
    return value


class _Block:
    """Mixin: dict round trip for a flat frozen dataclass of JSON-able values."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class ColumnsSettings(_Block):
    """Generic cohort: one row per patient with a duration and an event."""

    id: str
    treatment: str
    time: str
    event: str
    time_unit: str = "days"
    treated_value: Any = None  # which treatment value is "treated"; None = 1/yes/true
    event_value: Any = None    # which event value is "event"; None = 1/yes/true/dead
    exposure_time: str | None = None  # time from the time origin to treatment (time_unit); empty = never treated

    @classmethod
    def from_dict(cls, d: Any) -> "ColumnsSettings":
        _block(d, cls, "columns",
               'Write it as {"id": ..., "treatment": ..., "time": ..., "event": ..., "time_unit": "days"}.')
        for key in ("id", "treatment", "time", "event"):
            _check(isinstance(d.get(key), str) and d.get(key),
                   f"The 'columns' block needs '{key}': the name of the {key} column.",
                   f'Add "{key}": "<column name>" to the columns block.')
        names = [d[k] for k in ("id", "treatment", "time", "event")]
        _check(len(set(names)) == 4, f"The 'columns' block uses one column for two roles: {names}.",
               "Give id, treatment, time and event four different columns.")
        exposure = d.get("exposure_time")
        _check(exposure is None or (isinstance(exposure, str) and exposure and exposure not in names),
               f"columns.exposure_time is {exposure!r}; it must name a column other than id, treatment, time "
               "and event, or be null.",
               'Write e.g. "exposure_time": "months_to_surgery", or remove it.')
        return cls(id=d["id"], treatment=d["treatment"], time=d["time"], event=d["event"],
                   time_unit=_choice(d.get("time_unit", "days"), TIME_UNITS, "columns.time_unit"),
                   treated_value=_scalar(d.get("treated_value"), "columns.treated_value"),
                   event_value=_scalar(d.get("event_value"), "columns.event_value"), exposure_time=exposure)

    @property
    def years_per_unit(self) -> float:
        # one month is 365.25/12 days, i.e. exactly 1/12 year
        return {"days": 1 / DAYS_PER_YEAR, "months": 1 / 12, "years": 1.0}[self.time_unit]


@dataclass(frozen=True)
class PropensitySettings(_Block):
    covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    missing: str = "level"  # missing categories as an "N/A" level, or drop (complete cases / unmatched)

    @classmethod
    def from_dict(cls, d: Any) -> "PropensitySettings":
        _block(d, cls, "propensity", 'Write it as {"covariates": [...], "categorical": [...]}.')
        cov = _str_tuple(d.get("covariates"), "propensity.covariates")
        _check(len(cov) > 0, "The propensity model has no covariates.",
               'List at least one column in "propensity": {"covariates": [...]}.')
        cat = _str_tuple(d.get("categorical"), "propensity.categorical")
        stray = [c for c in cat if c not in cov]
        _check(not stray, f"propensity.categorical names {stray}, which are not in propensity.covariates.",
               "Every categorical column must also be listed as a covariate.")
        return cls(covariates=cov, categorical=cat,
                   missing=_choice(d.get("missing", "level"), MISSING_RULES, "propensity.missing"))


DEFAULT_CALIPER = 0.1  # SD of the score: the seeds' choice (Austin 2011 recommends 0.2 of the logit)


@dataclass(frozen=True)
class MatchingSettings(_Block):
    ratio: int = 1
    caliper: float | None = DEFAULT_CALIPER   # None = no caliper
    caliper_scale: str = "ps"
    replace: bool = False
    order: str = "largest"
    seed: int = 0
    exact: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Any) -> "MatchingSettings":
        _block(d, cls, "matching", 'Write it as {"ratio": 1, "caliper": 0.1, "caliper_scale": "ps", ...}.')
        ratio = d.get("ratio", 1)
        _check(isinstance(ratio, int) and not isinstance(ratio, bool) and 1 <= ratio <= 10,
               f"matching.ratio is {ratio!r}; it must be a whole number from 1 to 10.",
               "Use 1 for 1:1 matching, 2 for 1:2 and so on.")
        scale = _choice(d.get("caliper_scale", "ps"), CALIPER_SCALES, "matching.caliper_scale")
        top = 1.0 if scale == "ps_absolute" else MAX_CALIPER
        caliper = d.get("caliper", DEFAULT_CALIPER)
        _check(caliper is None or (_is_number(caliper) and 0 < caliper <= top),
               f"matching.caliper is {caliper!r}; with caliper_scale {scale!r} it must be a number above 0 and "
               f"at most {top:g} (or null for no caliper).",
               "A usual choice is 0.1 or 0.2 (standard deviations of the score).")
        seed = d.get("seed", 0)
        _check(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED,
               f"matching.seed is {seed!r}; it must be a whole number from 0 to {MAX_SEED}.", "Use e.g. 0.")
        return cls(ratio=ratio, caliper=None if caliper is None else float(caliper), caliper_scale=scale,
                   replace=_bool(d.get("replace", False), "matching.replace"),
                   order=_choice(d.get("order", "largest"), ORDERS, "matching.order"),
                   seed=seed, exact=_str_tuple(d.get("exact"), "matching.exact"))


@dataclass(frozen=True)
class SurvivalSettings(_Block):
    ci: str = "log-log"
    horizons: tuple[float, ...] = (1.0, 3.0, 5.0)      # years
    risk_times: tuple[float, ...] = ()                  # years; () = every year up to the last time
    conf_level: float = 0.95
    truncate_at_risk: float | None = None               # e.g. 1/3: cut KM and Cox where this fraction remains at risk
    rmst_horizon: float = 5.0                           # years: restricted mean survival time up to here
    landmark: float = 0.5                               # years: landmark analysis of the immortal-time panel

    @classmethod
    def from_dict(cls, d: Any) -> "SurvivalSettings":
        _block(d, cls, "survival", 'Write it as {"ci": "log-log", "horizons": [1, 3, 5]}.')
        out = {}
        for key, default in (("horizons", (1.0, 3.0, 5.0)), ("risk_times", ())):
            v = d.get(key, list(default))
            low = 0 if key == "risk_times" else 1e-9  # a survival probability at 0 years says nothing
            _check(isinstance(v, (list, tuple)) and len(v) <= 50
                   and all(_is_number(x) and low <= x <= MAX_YEARS for x in v),
                   f"survival.{key} is {v!r}; it must be a list of at most 50 numbers of years, "
                   f"{'from 0' if low == 0 else 'above 0'} to {MAX_YEARS:g}.",
                   f'Write e.g. "{key}": [1, 3, 5].')
            out[key] = tuple(float(x) for x in v)
        cl = d.get("conf_level", 0.95)
        _check(_is_number(cl) and 0.5 <= cl <= 0.999,
               f"survival.conf_level is {cl!r}; it must be between 0.5 and 0.999.",
               "Use 0.95 for 95 % confidence intervals.")
        tr = d.get("truncate_at_risk")
        _check(tr is None or (_is_number(tr) and 0 < tr < 1),
               f"survival.truncate_at_risk is {tr!r}; it must be a fraction between 0 and 1, or null.",
               "Use e.g. 0.333 to stop where one third of the cohort remains at risk.")
        for key, default, low in (("rmst_horizon", 5.0, 1e-9), ("landmark", 0.5, 0.0)):
            v = d.get(key, default)
            _check(_is_number(v) and low <= v <= MAX_YEARS,
                   f"survival.{key} is {v!r}; it must be a number of years, {'from 0' if low == 0 else 'above 0'} "
                   f"to {MAX_YEARS:g}.", f'Write e.g. "{key}": {default:g}.')
            out[key] = float(v)
        return cls(ci=_choice(d.get("ci", "log-log"), CI_TYPES, "survival.ci"), conf_level=float(cl),
                   truncate_at_risk=None if tr is None else float(tr), **out)


DEFAULT_CALIPERS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, None)
MAX_RANDOM_ORDERS = 100


@dataclass(frozen=True)
class RobustnessSettings(_Block):
    """Specification panel: the matched analysis re-run over calipers x matching orders.

    ``calipers`` are on the configured ``matching.caliper_scale`` (None = no caliper);
    ``random_orders`` random orders use seeds 1..random_orders.
    """

    calipers: tuple[float | None, ...] = DEFAULT_CALIPERS
    random_orders: int = 10

    @classmethod
    def from_dict(cls, d: Any) -> "RobustnessSettings":
        _block(d, cls, "robustness", 'Write it as {"calipers": [0.05, 0.1, 0.2, null], "random_orders": 10}.')
        cal = d.get("calipers", list(DEFAULT_CALIPERS))
        _check(isinstance(cal, (list, tuple)) and 0 < len(cal) <= 20
               and all(c is None or (_is_number(c) and 0 < c <= MAX_CALIPER) for c in cal)
               and len(set(cal)) == len(cal),
               f"robustness.calipers is {cal!r}; it must be a list of 1 to 20 different calipers above 0 and at "
               f"most {MAX_CALIPER:g}, null meaning no caliper.",
               'Write e.g. "calipers": [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, null].')
        k = d.get("random_orders", 10)
        _check(isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= MAX_RANDOM_ORDERS,
               f"robustness.random_orders is {k!r}; it must be a whole number from 0 to {MAX_RANDOM_ORDERS}.",
               "Use 10 (seeds 1 to 10), or 0 for the deterministic orders only.")
        return cls(calipers=tuple(None if c is None else float(c) for c in cal), random_orders=k)


@dataclass(frozen=True)
class Rule:
    """One eligibility criterion: a named rule, switched on or off, with parameters."""

    name: str
    enabled: bool = True
    params: dict = field(default_factory=dict, hash=False, compare=True)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "enabled": self.enabled, **self.params}

    @classmethod
    def from_dict(cls, d: Any) -> "Rule":
        _check(isinstance(d, dict) and isinstance(d.get("name"), str),
               f"An eligibility rule must be an object with a 'name', got {d!r}.",
               'Write e.g. {"name": "grade", "enabled": true, "allowed": ["G1", "G2"]}.')
        params = {k: v for k, v in d.items() if k not in ("name", "enabled")}
        return cls(name=d["name"], enabled=_bool(d.get("enabled", True), f"eligibility rule {d['name']}.enabled"),
                   params=params)


@dataclass(frozen=True)
class StudySettings(_Block):
    """Pan-NET registry: which comparison, endpoint and cut-off."""

    comparison: str = "primary_resection"
    endpoint: str = "os"
    cutoff_date: str | None = None  # ISO date; follow-up is censored there

    @classmethod
    def from_dict(cls, d: Any) -> "StudySettings":
        _block(d, cls, "study", 'Write it as {"comparison": "primary_resection", "endpoint": "os"}.')
        cut = d.get("cutoff_date")
        if cut is not None:
            import datetime as _dt
            import re

            ok = isinstance(cut, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", cut) is not None
            try:
                ok = ok and _dt.date.fromisoformat(cut) is not None
            except ValueError:
                ok = False
            _check(ok, f"study.cutoff_date is {cut!r}, which is not a date.",
                   'Write it as "YYYY-MM-DD", e.g. "2019-12-31", or null.')
            _check(CUTOFF_RANGE[0] <= cut <= CUTOFF_RANGE[1],
                   f"study.cutoff_date is {cut}, outside {CUTOFF_RANGE[0]} to {CUTOFF_RANGE[1]}: follow-up would "
                   "end before any diagnosis in a Pan-NET registry (or in the far future).",
                   'Write the date the registry\'s follow-up was last updated, e.g. "2019-12-31", or null.')
        return cls(comparison=_choice(d.get("comparison", "primary_resection"), COMPARISONS, "study.comparison"),
                   endpoint=_choice(d.get("endpoint", "os"), ENDPOINTS, "study.endpoint"), cutoff_date=cut)


@dataclass(frozen=True)
class CoxSettings(_Block):
    """Univariable / multivariable Cox models (study 001)."""

    covariates: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    p_enter: float = 0.10  # multivariable model keeps covariates with crude P below this

    @classmethod
    def from_dict(cls, d: Any) -> "CoxSettings":
        _block(d, cls, "cox", 'Write it as {"covariates": [...], "p_enter": 0.1}.')
        p = d.get("p_enter", 0.10)
        _check(_is_number(p) and 0 < p <= 1, f"cox.p_enter is {p!r}; it must be between 0 and 1.", "Use 0.10.")
        return cls(covariates=_str_tuple(d.get("covariates"), "cox.covariates"),
                   categorical=_str_tuple(d.get("categorical"), "cox.categorical"), p_enter=float(p))


@dataclass(frozen=True)
class BalanceSettings(_Block):
    """Balance and Table 1.

    Attributes
    ----------
    threshold : float
        An absolute SMD at or above this is flagged (Table 1, love plot).
    numeric_summary : {"median", "mean"}
        How Table 1 describes a numeric covariate: median (IQR) with the
        Mann-Whitney test, or mean (SD) with Welch's t-test.
    """

    threshold: float = 0.10  # SMD at or above this is flagged
    numeric_summary: str = "median"

    @classmethod
    def from_dict(cls, d: Any) -> "BalanceSettings":
        _block(d, cls, "balance", 'Write it as {"threshold": 0.1, "numeric_summary": "median"}.')
        t = d.get("threshold", 0.10)
        _check(_is_number(t) and 0 < t < 2, f"balance.threshold is {t!r}; it must be a positive fraction such as 0.1.",
               "Use 0.1 for the usual 10 % rule.")
        ns = d.get("numeric_summary", "median")
        _check(ns in NUMERIC_SUMMARIES,
               f"balance.numeric_summary is {ns!r}; Table 1 can describe a numeric covariate as "
               "\"median\" (median and IQR, Mann-Whitney test) or \"mean\" (mean and SD, Welch's t-test).",
               'Write "numeric_summary": "median" or "numeric_summary": "mean".')
        return cls(threshold=float(t), numeric_summary=ns)


@dataclass(frozen=True)
class Settings:
    """A whole analysis.  Exactly one of ``columns`` (generic) or ``study`` (Pan-NET) is set."""

    propensity: PropensitySettings
    columns: ColumnsSettings | None = None
    study: StudySettings | None = None
    eligibility: tuple[Rule, ...] = ()
    matching: MatchingSettings = MatchingSettings()
    survival: SurvivalSettings = SurvivalSettings()
    cox: CoxSettings = CoxSettings()
    balance: BalanceSettings = BalanceSettings()
    robustness: RobustnessSettings = RobustnessSettings()
    column_map: dict = field(default_factory=dict, hash=False)  # file header -> dictionary name
    name: str = ""  # preset or user label

    @property
    def is_pannet(self) -> bool:
        return self.study is not None

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Columns read as text whatever they hold: the generic id column (Pan-NET ids are text by the dictionary)."""
        return (self.columns.id,) if self.columns is not None else ()

    # -- JSON round trip -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.columns is not None:
            out["columns"] = self.columns.to_dict()
        if self.study is not None:
            out["study"] = self.study.to_dict()
            out["eligibility"] = [r.to_dict() for r in self.eligibility]
        out["propensity"] = self.propensity.to_dict()
        out["matching"] = self.matching.to_dict()
        out["survival"] = self.survival.to_dict()
        out["cox"] = self.cox.to_dict()
        out["balance"] = self.balance.to_dict()
        out["robustness"] = self.robustness.to_dict()
        if self.column_map:
            out["column_map"] = dict(self.column_map)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Any) -> "Settings":
        _check(isinstance(d, dict), "The settings must be a JSON object.",
               "Start from a preset in pannet_core/presets/ or save settings from the dashboard.")
        known = {"name", "columns", "study", "eligibility", "propensity", "matching", "survival", "cox",
                 "balance", "robustness", "column_map"}
        _reject_unknown(d, known, "top level")
        _check(("columns" in d) != ("study" in d),
               "The settings need exactly one of a 'columns' block (one row per patient with time and event) "
               "or a 'study' block (Pan-NET registry with dates).",
               "Add a 'columns' block naming id, treatment, time and event, or start from a preset.")
        _check("propensity" in d, "The settings have no 'propensity' block.",
               'Add "propensity": {"covariates": [...]} listing the columns to match on.')
        elig = d.get("eligibility", [])
        _check(isinstance(elig, list), "The 'eligibility' block must be a list of rules.",
               'Write it as [{"name": "grade", "allowed": ["G1", "G2"]}, ...].')
        cmap = d.get("column_map", {})
        _check(isinstance(cmap, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in cmap.items()),
               "The 'column_map' block must map file headers to dictionary names.",
               'Write it as {"Födelsedatum": "birth_date", ...}.')
        name = d.get("name", "")
        _check(isinstance(name, str) and len(name) <= 200 and name.isprintable(),
               "The settings 'name' must be one line of text of at most 200 characters.",
               'Write e.g. "name": "my analysis".')
        out = cls(
            name=name,
            columns=ColumnsSettings.from_dict(d["columns"]) if "columns" in d else None,
            study=StudySettings.from_dict(d["study"]) if "study" in d else None,
            eligibility=tuple(Rule.from_dict(r) for r in elig),
            propensity=PropensitySettings.from_dict(d["propensity"]),
            matching=MatchingSettings.from_dict(d.get("matching", {})),
            survival=SurvivalSettings.from_dict(d.get("survival", {})),
            cox=CoxSettings.from_dict(d.get("cox", {})),
            balance=BalanceSettings.from_dict(d.get("balance", {})),
            robustness=RobustnessSettings.from_dict(d.get("robustness", {})),
            column_map=dict(cmap),
        )
        out._check_cutoff_after_diagnoses()
        if out.matching.caliper_scale == "ps_absolute":
            wide = [c for c in out.robustness.calipers if c is not None and c > 1]
            _check(not wide, f"robustness.calipers has {wide} with caliper_scale 'ps_absolute', where a caliper is "
                   "a difference in probability, at most 1.", "Use calipers from 0.01 to 1, or null.")
        return out

    def _check_cutoff_after_diagnoses(self) -> None:
        """The cut-off may not come before the first diagnosis year the eligibility rules admit."""
        if self.study is None or self.study.cutoff_date is None:
            return
        for r in self.eligibility:
            start = r.params.get("start") if r.name == "diagnosis_years" and r.enabled else None
            if isinstance(start, int) and not isinstance(start, bool):
                _check(int(self.study.cutoff_date[:4]) >= start,
                       f"study.cutoff_date is {self.study.cutoff_date}, before the first diagnosis year "
                       f"{start} admitted by the 'diagnosis_years' rule: nobody would have any follow-up.",
                       "Set the cut-off to the date the registry's follow-up was last updated.")

    @classmethod
    def from_json(cls, text: str | bytes) -> "Settings":
        """Settings from JSON text, or from a file's bytes (decoded by :func:`decode_settings_bytes`)."""
        if isinstance(text, (bytes, bytearray)):
            text = decode_settings_bytes(bytes(text))
        text = text.removeprefix("\ufeff")
        _check(len(text) <= MAX_SETTINGS_BYTES, f"The settings text has {len(text):,} characters; settings are "
               "a few thousand.", "Choose the .json file saved by PanNET Board (Save current settings).")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            detail = f"nested more than {MAX_DEPTH} levels deep" if isinstance(exc, RecursionError) else str(exc)
            raise SettingsError(f"The settings file is not valid JSON ({detail}).",
                                "Open it in a text editor and correct it, or save the settings again "
                                "from the dashboard.") from None
        _check(_depth(data) <= MAX_DEPTH,
               f"The settings file is nested more than {MAX_DEPTH} levels deep; settings nest at most 4.",
               "Save the settings again from the dashboard, or start from a preset.")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "Settings":
        p = Path(path)
        try:
            text = p.read_bytes()
        except OSError as exc:
            raise SettingsError(f"Cannot read the settings file {p} ({exc.strerror}).",
                                "Check the path and that the file exists.") from None
        return cls.from_json(text)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some top-level sections replaced."""
        return dataclasses.replace(self, **changes)

    def with_values(self, section: str, **changes: Any) -> "Settings":
        """A copy with fields of one section changed, e.g. ``s.with_values("matching", caliper=0.2)``."""
        return dataclasses.replace(self, **{section: dataclasses.replace(getattr(self, section), **changes)})


def load_preset(name: str) -> Settings:
    """A preset from ``pannet_core/presets`` by file stem, e.g. ``primary_tumour_resection``."""
    path = Path(__file__).parent / "presets" / f"{name}.json"
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.json"))
        raise SettingsError(f"There is no preset called {name!r}.", f"Choose one of {available}.")
    return Settings.load(path)


def preset_names() -> list[str]:
    return sorted(p.stem for p in (Path(__file__).parent / "presets").glob("*.json"))
