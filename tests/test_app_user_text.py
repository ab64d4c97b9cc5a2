"""User text (ids, headers, category values, file names) reaches the page escaped, never as markdown or HTML."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from board import fmt  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOSTILE = ['X<img src="http://host/p.png">', "![x](http://host/p.png)", "[click](http://host)", ":red[big]",
           "**bold** _it_ `code`", "a\\b", "www.host.example"]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_leaves_no_markdown_or_html_to_interpret(text):
    out = fmt.md_text(text)
    unescaped = re.sub(r"\\(.)", "", out)  # what is left once every escaped character is taken out
    assert not re.search(r"[<>\[\]()!*_`:]", unescaped)
    assert re.sub(r"\\(.)", r"\1", out) == text  # and the reader still sees the text as written


def _markdown_of(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [s.value for s in at.sidebar.markdown]
    return "\n".join(parts)


def test_a_hostile_file_name_and_header_are_shown_escaped():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    bad_name = '![x](http://host/p.png).csv'
    data = b'patient_id,![h](http://host/h.png),stage4_date\nP1,1,2019-01-01\n'
    at.file_uploader(key="upload_table").set_value((bad_name, data, "text/csv")).run()
    assert not at.exception
    shown = _markdown_of(at)
    assert "](http://host" not in shown  # every such bracket and parenthesis arrives escaped
    labels = [s.label for s in at.selectbox]
    assert all("](http" not in label for label in labels)
