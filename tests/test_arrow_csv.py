"""pannet_core.io.arrow_csv: bytes checks equal to the text checks, and the CLI's prefetch is only a cache."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pannet_core.io import arrow_csv
from pannet_core.io.reading import read_table

_PIECES = ["a", "b", ",", ";", "\n", "\r\n", "\r", '"', " ", "å", "ä", "\u00a0", "\u3000", "1", "x\ny", "\n\n",
           "\n\r\n", "é"]


@pytest.mark.parametrize("seed", range(20))
def test_regular_bytes_is_regular_text_on_the_encoded_text(seed):
    rng = random.Random(seed)
    for _ in range(300):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12)))
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                data = text.encode(enc)
            except UnicodeEncodeError:
                continue
            assert arrow_csv.regular_bytes(data) == arrow_csv.regular_text(text), (text, enc)


def test_regular_bytes_examples():
    assert arrow_csv.regular_bytes(b"a,b\n1,2\n")
    assert arrow_csv.regular_bytes(b"a,b\r\n1,2\r\n")
    assert not arrow_csv.regular_bytes(b'a,b\n"1",2\n')
    assert not arrow_csv.regular_bytes(b"a,b\n\n1,2\n")
    assert not arrow_csv.regular_bytes(b"a,b\n\r\n1,2\n")
    assert not arrow_csv.regular_bytes(b"a,b\r1,2\n")
    assert not arrow_csv.regular_bytes(b"")


def test_sniff_lines_picks_the_consistent_delimiter():
    assert arrow_csv.sniff_lines(["a;b;c", "1;2,5;3", "", "4;5;6"]) == ";"
    assert arrow_csv.sniff_lines(["a,b", "1,2"]) == ","
    assert arrow_csv.sniff_lines(["a\tb\tc", "1\t2\t3"]) == "\t"
    assert arrow_csv.sniff_lines(["only one column"]) == ","


def test_clean_column_strips_and_blanks_markers():
    import pyarrow as pa

    col = pa.chunked_array([pa.array(["  x ", "NA", " n/a", "Okänd", "7", None, "\u00a0y\u3000"],
                                     pa.large_string())])
    assert arrow_csv.clean_column(col).to_pylist() == ["x", None, None, None, "7", None, "y"]


def test_prefetch_steps_do_not_import_pandas():
    # the prefetch thread cleans while the main thread imports pandas: it must not wait for that import
    code = ("import sys, pyarrow as pa; from pannet_core.io import arrow_csv; "
            "m = arrow_csv._markers_arrow(); m.validate(full=True); "
            "assert m.to_pylist() == sorted(arrow_csv.MISSING_MARKERS); "
            "col = pa.chunked_array([pa.nulls(0, pa.large_string())]); arrow_csv.clean_column(col); "
            "assert arrow_csv.regular_bytes(b\"a,b\\n1,2\\n\") and not arrow_csv.regular_bytes(b\"a\\n\\nb\"); "
            "assert 'pandas' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def _big_csv(tmp_path, n=70_000, bom=False):
    rows = ["patient_id,stage4_date,sex,ki67,note"]
    rows += [f"P{i},2010-01-{1 + i % 28:02d},{'female' if i % 3 else ' Male '},{i % 17}.5,{'NA' if i % 5 else 'ok'}"
             for i in range(n)]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    path = tmp_path / "big.csv"
    path.write_bytes((arrow_csv.UTF8_BOM if bom else b"") + data)
    assert path.stat().st_size > arrow_csv._PREFETCH_MIN_BYTES
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_prefetched_read_equals_plain_read(tmp_path, bom, monkeypatch):
    path = _big_csv(tmp_path, bom=bom)
    plain = read_table(path)
    used = []
    take = arrow_csv.take_prefetched
    monkeypatch.setattr(arrow_csv, "take_prefetched", lambda *a: used.append(take(*a)) or used[-1])
    arrow_csv.start_prefetch(path)
    pre = read_table(path)
    arrow_csv.wait_prefetch()
    assert used and used[0] is not None  # the prefetch was used
    pd.testing.assert_frame_equal(pre.frame, plain.frame, check_exact=True)
    pd.testing.assert_frame_equal(pre.raw, plain.raw, check_exact=True)
    assert pre.notes == plain.notes and pre.problems == plain.problems


def _latin_csv(tmp_path, encoding):
    rows = ["patient_id;stage4_date;centre;ki67"]
    rows += [f"P{i};2010-01-{1 + i % 28:02d};{'Malmö' if i % 2 else 'Göteborg'};{i % 17},5" for i in range(90_000)]
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_prefetched_read_decodes_only_the_head(tmp_path, bom, monkeypatch):
    from pannet_core.io import reading

    path = _latin_csv(tmp_path, "utf-8")
    if bom:
        path.write_bytes(arrow_csv.UTF8_BOM + path.read_bytes())
    plain = read_table(path)
    decoded = []
    monkeypatch.setattr(reading, "decode_text", lambda *a: decoded.append(a) or pytest.fail("whole text decoded"))
    arrow_csv.start_prefetch(path)
    pre = read_table(path)
    arrow_csv.wait_prefetch()
    assert not decoded
    pd.testing.assert_frame_equal(pre.frame, plain.frame, check_exact=True)
    assert pre.notes == plain.notes and "Columns are separated by semicolons." in pre.notes
    assert pre.frame["centre"].iloc[1] == "Malmö"


def test_prefetched_head_is_a_prefix_with_the_sniffed_lines(tmp_path):
    from pannet_core.io import sources

    path = _latin_csv(tmp_path, "utf-8")
    arrow_csv.start_prefetch(path)
    data = arrow_csv.prefetched_bytes(path)
    head = sources.prefetched_head(data, "x.csv")
    text = data.decode("utf-8-sig")
    assert head is not None and text.startswith(head) and len(head) < len(text)
    assert arrow_csv.head_lines(head, arrow_csv.SNIFF_LINES) == arrow_csv.head_lines(text, arrow_csv.SNIFF_LINES)
    assert head[:65536] == text[:65536]
    assert sources.prefetched_head(bytes(bytearray(data)), "x.csv") is None  # not the prefetched bytes object
    arrow_csv.wait_prefetch()


def test_prefetch_rejected_file_is_decoded_as_before(tmp_path):
    path = _latin_csv(tmp_path, "cp1252")  # not UTF-8: pyarrow's parse fails, the reader decodes as Windows-1252
    plain = read_table(path)
    arrow_csv.start_prefetch(path)
    pre = read_table(path)
    arrow_csv.wait_prefetch()
    pd.testing.assert_frame_equal(pre.frame, plain.frame, check_exact=True)
    assert pre.notes == plain.notes and any("Windows-1252" in n for n in pre.notes)
    assert pre.frame["centre"].iloc[1] == "Malmö"


def test_unused_prefetched_parse_falls_back_to_the_whole_text(tmp_path, monkeypatch):
    from pannet_core.io import reading

    path = _big_csv(tmp_path)
    plain = read_table(path)
    monkeypatch.setattr(arrow_csv, "_current", None)  # the prefetch left unused is dropped after the test
    arrow_csv.start_prefetch(path)
    arrow_csv.wait_prefetch()  # the prefetch parsed the file ...
    assert arrow_csv.parsed_as_text(arrow_csv.prefetched_bytes(path))
    monkeypatch.setattr(arrow_csv, "take_prefetched", lambda *a: None)  # ... but its parse is not taken
    monkeypatch.setattr(arrow_csv, "read_strings", lambda *a: None)  # and pandas' C parser reads the whole text
    monkeypatch.setattr(reading, "decode_text", lambda *a: pytest.fail("decode_text called"))
    texts = []
    real_read_csv = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda buf, **kw: texts.append(buf.getvalue()) or real_read_csv(buf, **kw))
    pre = read_table(path)
    assert texts == [path.read_text(encoding="utf-8")]
    pd.testing.assert_frame_equal(pre.frame, plain.frame, check_exact=True)
    assert pre.notes == plain.notes


def test_prefetch_of_another_file_is_not_used(tmp_path):
    path = _big_csv(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("patient_id,stage4_date\nA,2010-01-01\nB,2011-02-03\n", encoding="utf-8")
    arrow_csv.start_prefetch(path)
    res = read_table(other)
    assert list(res.frame["patient_id"]) == ["A", "B"]
    # the reader dropped the prefetch: a different key never returns it
    assert arrow_csv.take_prefetched(b"x", 0, ",", 2) is None
    arrow_csv.wait_prefetch()


def test_take_prefetched_needs_the_same_bytes_object(tmp_path):
    path = _big_csv(tmp_path)
    arrow_csv.start_prefetch(path)
    data = arrow_csv.prefetched_bytes(path)
    assert data == path.read_bytes()
    assert arrow_csv.take_prefetched(bytes(bytearray(data)), 0, ",", 5) is None  # equal, but not the same object
    arrow_csv.start_prefetch(path)
    data = arrow_csv.prefetched_bytes(path)
    assert arrow_csv.take_prefetched(data, 0, ";", 5) is None  # another delimiter
    arrow_csv.start_prefetch(path)
    data = arrow_csv.prefetched_bytes(path)
    got = arrow_csv.take_prefetched(data, 0, ",", 5)
    assert got is not None and got[1] == ["patient_id", "stage4_date", "sex", "ki67", "note"]
    assert arrow_csv.take_prefetched(data, 0, ",", 5) is None  # used once


def test_prefetch_of_a_missing_file_does_nothing(tmp_path):
    arrow_csv.start_prefetch(tmp_path / "nope.csv")
    assert arrow_csv.prefetched_bytes(tmp_path / "nope.csv") is None
    arrow_csv.wait_prefetch()


def test_plain_ascii_only_for_text_the_ascii_kernels_clean_alike():
    assert arrow_csv.plain_ascii(b"a,b\n1, NA \n") and arrow_csv.plain_ascii("a,b\n1,2\n")
    assert not arrow_csv.plain_ascii("a,b\nOkänd,2\n") and not arrow_csv.plain_ascii("a,b\nOkänd,2\n".encode())
    for sep in "\x1c\x1d\x1e\x1f":  # whitespace to utf8_trim_whitespace: clean_column's ASCII strip strips them too
        assert arrow_csv.plain_ascii(f"a,b\n{sep}NA,2\n") and arrow_csv.plain_ascii(f"a,b\n{sep}NA,2\n".encode())
    assert not arrow_csv.plain_ascii(memoryview(b"a,b\n"))


def test_clean_column_ascii_kernels_give_the_utf8_result_on_plain_ascii_cells():
    import random

    import pyarrow as pa

    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)]
    markers = [m for m in arrow_csv.MISSING_MARKERS if m.isascii()]
    cells = []
    for _ in range(5000):
        core = (rng.choice(markers) if rng.random() < 0.3
                else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))))
        core = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in core)
        pad = lambda: "".join(rng.choice(" \t\v\f\r\n\x1c\x1d\x1e\x1f") for _ in range(rng.randint(0, 2)))  # noqa: E731
        cells.append(None if rng.random() < 0.02 else pad() + core + pad())
    col = pa.chunked_array([pa.array(cells[:2500], pa.large_string()), pa.array(cells[2500:], pa.large_string())])
    assert arrow_csv.plain_ascii("".join(c for c in cells if c))
    slow, fast = arrow_csv.clean_column(col), arrow_csv.clean_column(col, ascii=True)
    assert fast.type == slow.type and fast.to_pylist() == slow.to_pylist()
    assert slow.null_count > 1000  # the markers were found
    every = pa.chunked_array([pa.array([chr(c) + "x" + chr(c) for c in range(128)] + [chr(c) for c in range(128)],
                                       pa.large_string())])
    assert arrow_csv.clean_column(every, ascii=True).to_pylist() == arrow_csv.clean_column(every).to_pylist()
    want = [None if c.strip().lower() in arrow_csv.MISSING_MARKERS else c.strip() for c in every.to_pylist()]
    assert arrow_csv.clean_column(every, ascii=True).to_pylist() == want and want[:32].count(None) == 0


def test_read_table_strips_unit_separators_around_markers(tmp_path):
    # \x1f is whitespace to str.strip and utf8_trim_whitespace, not to the ASCII kernels: the reader must see that
    from pannet_core.io.reading import read_table

    wrapped = "\x1fNA\x1f"  # a few only: many control characters read as a binary file
    rows = ["id,x,y"] + [f"{i},{wrapped if i < 3 else 'NA'},{i}" for i in range(200)]
    res = read_table(("\n".join(rows) + "\n").encode(), "t.csv", dictionary=False)
    assert res.frame["x"].isna().all()


def test_clean_column_without_markers_and_with_nulls():
    import pyarrow as pa

    no_marker = pa.chunked_array([pa.array([" a", "b ", "Nab"], pa.large_string()), pa.array(["c"], pa.large_string())])
    assert arrow_csv.clean_column(no_marker).to_pylist() == ["a", "b", "Nab", "c"]
    assert arrow_csv.clean_column(no_marker, ascii=True).type == pa.large_string()
    nulls = pa.chunked_array([pa.array([None, " x", None], pa.large_string()), pa.array([" NaN"], pa.large_string())])
    for ascii in (False, True):
        assert arrow_csv.clean_column(nulls, ascii).to_pylist() == [None, "x", None, None]
        assert arrow_csv.clean_column(nulls.slice(0, 3), ascii).to_pylist() == [None, "x", None]
    empty = pa.chunked_array([], pa.large_string())
    assert arrow_csv.clean_column(empty).to_pylist() == []
