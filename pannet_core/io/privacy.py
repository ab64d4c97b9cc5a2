"""Spot columns that identify a person, so the user can drop them before analysis.

:func:`identity_columns` looks at headers and values for national identity
numbers (Swedish personnummer / samordningsnummer with the Luhn check,
Norwegian fødselsnummer, Danish CPR, Finnish henkilötunnus, US social security
numbers), e-mail addresses, phone numbers and people's names.  It only warns;
:func:`drop_columns` returns a copy without the chosen columns.
"""
from __future__ import annotations

import datetime as _dt
import re

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.schema import PROBLEMS_ATTR, canonical_column, normalise

_SAMPLE = 500          # values looked at per column
_SHARE = 0.5           # share of non-missing values that must match a pattern

_ID_HEADERS = {
    "personnummer": "personnummer", "personnr": "personnummer", "persnr": "personnummer", "pnr": "personnummer",
    "personnummer10": "personnummer", "personnummer12": "personnummer", "samordningsnummer": "samordningsnummer",
    "fodelsnummer": "national id (NO)", "fodselsnummer": "national id (NO)", "fnr": "national id (NO)",
    "personnumer": "personnummer", "cpr": "national id (DK)", "cprnummer": "national id (DK)",
    "cprnr": "national id (DK)", "henkilotunnus": "national id (FI)", "hetu": "national id (FI)",
    "ssn": "US SSN", "socialsecuritynumber": "US SSN", "nationalid": "national id", "personalnumber": "personnummer",
    "personalidentitynumber": "personnummer", "email": "e-mail", "epost": "e-mail", "emailaddress": "e-mail",
    "mail": "e-mail", "epostadress": "e-mail", "phone": "phone", "telephone": "phone", "telefon": "phone",
    "telefonnummer": "phone", "mobil": "phone", "mobile": "phone", "phonenumber": "phone", "tel": "phone",
    "address": "address", "adress": "address", "gatuadress": "address", "postadress": "address",
}
_NAME_HEADERS = {"name", "namn", "patientname", "patientnamn", "fornamn", "efternamn", "firstname", "lastname",
                 "surname", "givenname", "familyname", "fullname", "fulltnamn", "tilltalsnamn", "navn", "fornavn",
                 "etternavn", "nimi", "patientsname", "mellannamn", "middlename"}

_RX_SE = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{4})$")
_RX_NO = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{5})$")
_RX_DK = re.compile(r"^(\d{2})(\d{2})(\d{2})-?(\d{4})$")
_RX_FI = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+A-FU-Y])(\d{3})([0-9A-Y])$", re.I)
_RX_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_RX_EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")
_RX_PHONE = re.compile(r"^(\+|00|0)[\d\s\-/().]{6,}$")
_RX_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_RX_NAME = re.compile(r"^[A-ZÅÄÖÆØÜÉÈ][a-zåäöæøüéèáíóúñ'’\-]+(?:\s+(?:von|van|de|af|der)?\s*"
                      r"[A-ZÅÄÖÆØÜÉÈ][a-zåäöæøüéèáíóúñ'’\-]+){1,2}$")


_PLACE_WORDS = re.compile(r"\b(Hospital|University|Universitet\w*|Sjukhus\w*|Klinik\w*|Clinic|Center|Centre|"
                          r"Institute|Institut\w*|Health|Medical|Region)\b", re.I)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        _dt.date(year, month, day)
        return True
    except ValueError:
        return False


def swedish_kind(value: str) -> str | None:
    """``"personnummer"``, ``"samordningsnummer"`` or ``None`` for one value (Luhn-checked).

    >>> swedish_kind("19121212-1212")
    'personnummer'
    """
    m = _RX_SE.match(value.strip())
    if not m:
        return None
    cent, yy, mm, dd, tail = m.groups()
    if not _luhn_ok(yy + mm + dd + tail):
        return None
    day = int(dd)
    kind = "personnummer"
    if day > 60:
        day -= 60
        kind = "samordningsnummer"
    year = int((cent or "19") + yy)
    return kind if _date_ok(year, int(mm), day) else None


def _norwegian(value: str) -> bool:
    m = _RX_NO.match(value)
    if not m:
        return False
    d = [int(c) for c in value]
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    k1 = 11 - sum(a * b for a, b in zip(w1, d)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(a * b for a, b in zip(w2, d)) % 11
    k2 = 0 if k2 == 11 else k2
    day = int(value[:2]) - (40 if int(value[:2]) > 40 else 0)
    return k1 == d[9] and k2 == d[10] and _date_ok(1900 + int(value[4:6]), int(value[2:4]), day)


def _danish(value: str) -> bool:
    m = _RX_DK.match(value)
    return bool(m) and _date_ok(1900 + int(m.group(3)), int(m.group(2)), int(m.group(1)))


def _finnish(value: str) -> bool:
    m = _RX_FI.match(value)
    if not m:
        return False
    dd, mm, yy, _sep, num, check = m.groups()
    chars = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    return chars[int(dd + mm + yy + num) % 31] == check.upper() and _date_ok(1900 + int(yy), int(mm), int(dd))


_VALUE_TESTS = (
    ("personnummer", lambda v: swedish_kind(v) == "personnummer", "look like Swedish personal identity numbers "
                                                                   "(personnummer, Luhn check passes)"),
    ("samordningsnummer", lambda v: swedish_kind(v) == "samordningsnummer",
     "look like Swedish co-ordination numbers (samordningsnummer)"),
    ("national id (NO)", _norwegian, "look like Norwegian national identity numbers (fødselsnummer)"),
    ("national id (FI)", _finnish, "look like Finnish personal identity codes (henkilötunnus)"),
    ("national id (DK)", _danish, "look like Danish CPR numbers"),
    ("US SSN", lambda v: bool(_RX_SSN.match(v)), "look like US social security numbers"),
    ("e-mail", lambda v: bool(_RX_EMAIL.match(v)), "are e-mail addresses"),
    ("phone", lambda v: bool(_RX_PHONE.match(v)) and not _RX_DATE.match(v)
     and sum(c.isdigit() for c in v) >= 7, "look like phone numbers"),
)


def _sample_text(s: pd.Series) -> list[str]:
    present = s.dropna()
    if present.empty:
        return []
    present = present.iloc[:_SAMPLE]
    if pd.api.types.is_bool_dtype(present) or pd.api.types.is_datetime64_any_dtype(present):
        return []
    if pd.api.types.is_float_dtype(present):
        arr = present.to_numpy(dtype=float)
        if not np.all(np.floor(arr) == arr):
            return []
        return [str(int(v)) for v in arr]
    return [str(v).strip() for v in present if str(v).strip()]


def identity_columns(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Columns that look like they identify a person.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table (typically :func:`~pannet_core.io.reading.read_table`'s frame).

    Returns
    -------
    list of (column, kind, reason)
        ``kind`` is e.g. ``"personnummer"``, ``"national id (NO)"``,
        ``"US SSN"``, ``"e-mail"``, ``"phone"``, ``"name"``; ``reason`` says
        why, in plain words.  A column is listed once (first kind found).
    """
    if not isinstance(frame, pd.DataFrame):
        raise PanNetError(f"Expected a table, got a {type(frame).__name__}.", "Read the file with read_table first.")
    found: list[tuple[str, str, str]] = []
    for col in frame.columns:
        key = normalise(col)
        if key in _ID_HEADERS:
            found.append((col, _ID_HEADERS[key], f"the header {col!r} names a {_ID_HEADERS[key]} column"))
            continue
        if key in _NAME_HEADERS:
            found.append((col, "name", f"the header {col!r} names a person's name"))
            continue
        values = _sample_text(frame[col])
        if not values:
            continue
        hit = None
        for kind, test, why in _VALUE_TESTS:
            n = sum(1 for v in values if test(v))
            if n >= max(1, _SHARE * len(values)):
                hit = (col, kind, f"{n} of {len(values)} values checked {why}")
                break
        if hit is None and not pd.api.types.is_numeric_dtype(frame[col]) and canonical_column(col) is None:
            names = [v for v in values if _RX_NAME.match(v) and not _PLACE_WORDS.search(v)]
            n = len(names)
            if n >= max(2, 0.6 * len(values)) and len(set(names)) >= 0.8 * n:
                hit = (col, "name", f"{n} of {len(values)} values look like people's names "
                                    "(two or three capitalised words, mostly different)")
        if hit:
            found.append(hit)
    return found


def drop_columns(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy of ``frame`` without ``columns`` (the input is not changed).

    Raises
    ------
    PanNetError
        A named column is not in the table.
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise PanNetError(f"Cannot remove column(s) {missing}: they are not in the table.",
                          f"Choose among: {', '.join(map(str, list(frame.columns)[:30]))}.")
    out = frame.drop(columns=cols).copy()
    if PROBLEMS_ATTR in frame.attrs:  # read problems of removed columns no longer apply
        out.attrs[PROBLEMS_ATTR] = [p for p in frame.attrs[PROBLEMS_ATTR] if p.column not in cols]
    return out
