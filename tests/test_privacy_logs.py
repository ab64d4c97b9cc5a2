"""No patient data in the logs.

A whole dashboard session (a good upload, every page, then a bad upload whose st.error names a
patient id) and a headless run are captured at DEBUG level: no log record and nothing on
stdout/stderr of the dashboard holds a patient id or a personnummer.  (The st.error text shown to
the user may name the offending id: that is the screen, not a log.)
"""
from __future__ import annotations

import logging

import pytest

pytest.importorskip("streamlit")

from test_app_privacy import PAGES, _with_personnummer, session_through_every_page  # noqa: E402

from board import fmt  # noqa: E402


def test_a_session_logs_no_patient_data(caplog, capfd):
    data, ids, pnr = _with_personnummer(prefix="LOGTEST5521")
    caplog.set_level(logging.DEBUG)
    at = session_through_every_page(data)
    at.switch_page(PAGES[0]).run()
    dup = data.replace(ids[1].encode(), ids[0].encode(), 1)            # a duplicate id: the error names it
    at.file_uploader(key="upload_table").set_value(("dup.csv", dup, "text/csv")).run()
    assert not at.exception
    assert any(fmt.md_text(ids[0]) in e.value for e in at.error)        # shown to the user (escaped) ...
    out, err = capfd.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records) + out + err
    leaked = [x for x in ids[:100] + pnr[:100] if x in logged]
    assert not leaked, f"patient data in the logs: {leaked[:5]}"        # ... but never logged
