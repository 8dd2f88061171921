"""Paging Parquet tables and writing formula-safe CSV."""

import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csv_processor.ml.csv.tables import frame_to_csv, iter_csv_chunks, neutralise_formulas, read_page


@pytest.fixture
def table(tmp_path):
    frame = pd.DataFrame({"n": range(300), "word": [f"w{i % 7}" for i in range(300)]})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False, row_group_size=64)
    return path


def test_read_page_reads_a_slice_across_row_groups(table):
    page = read_page(table, offset=60, limit=10)

    assert page.frame["n"].tolist() == list(range(60, 70))
    assert page.positions == tuple(range(60, 70))
    assert page.total_rows == 300


def test_read_page_past_the_end_is_empty(table):
    page = read_page(table, offset=400, limit=10)

    assert page.frame.empty
    assert page.positions == ()


def test_read_page_sorts_and_keeps_positions(table):
    page = read_page(table, offset=0, limit=3, sort_by="n", descending=True)

    assert page.frame["n"].tolist() == [299, 298, 297]
    assert page.positions == (299, 298, 297)


def test_read_page_filters_case_insensitively_with_positions(table):
    page = read_page(table, offset=0, limit=5, contains=("word", "W3"))

    assert page.total_rows == 43
    assert page.frame["word"].unique().tolist() == ["w3"]
    assert page.positions == (3, 10, 17, 24, 31)


def test_neutralise_formulas_only_touches_text_cells():
    frame = pd.DataFrame({"text": ["=1+1", "+x", "-y", "@z", "\tt", "ok"], "num": [-1, 2, 3, 4, 5, 6]})

    safe = neutralise_formulas(frame)

    assert safe["text"].tolist() == ["'=1+1", "'+x", "'-y", "'@z", "'\tt", "ok"]
    assert safe["num"].tolist() == [-1, 2, 3, 4, 5, 6]
    assert frame["text"].iloc[0] == "=1+1"


def test_iter_csv_chunks_writes_one_header(table):
    text = "".join(iter_csv_chunks(table, batch_rows=100))

    lines = text.splitlines()
    assert lines[0] == "n,word"
    assert len(lines) == 301


def test_iter_csv_chunks_of_an_empty_table_is_the_header(tmp_path):
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype="int64")}).to_parquet(path)

    assert "".join(iter_csv_chunks(path)).strip() == "a"


# Any text a cell or a header can hold (control characters included; lone surrogates cannot be encoded).
CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _expected(text: str) -> str:
    return f"'{text}" if text.startswith(TRIGGERS) else text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(CELL, min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.tuples(
            st.just(names), st.lists(st.lists(CELL, min_size=len(names), max_size=len(names)), max_size=6)
        )
    )
)
def test_any_text_written_as_csv_reads_back_the_same_but_for_the_quote(case):
    names, rows = case
    frame = pd.DataFrame(rows, columns=names, dtype=object)

    text = frame_to_csv(frame)
    # The header read as a row: pandas would rename an empty or repeated header cell.
    back = pd.read_csv(io.StringIO(text), header=None, dtype=str, na_filter=False, skip_blank_lines=False)

    assert back.shape == (len(rows) + 1, len(names))
    assert back.iloc[0].tolist() == [_expected(name) for name in names]
    assert back.iloc[1:].to_numpy().tolist() == [[_expected(cell) for cell in row] for row in rows]


def test_a_value_starting_with_a_carriage_return_stays_in_its_row():
    frame = pd.DataFrame({"=cmd": ["\r=HYPERLINK(1)", "ok"], "n": [1, 2]})

    text = frame_to_csv(frame)

    assert text.splitlines()[0] == "'=cmd,n"
    assert '"\'\r=HYPERLINK(1)"' in text
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back.shape == (2, 2)
