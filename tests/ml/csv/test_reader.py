"""read_csv_sniffed and csv_to_parquet: pandas' values, or a CsvParseError naming the line to fix."""

from __future__ import annotations

import csv
import io
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csv_processor.ml.csv import pandas_chunks as csv_pandas_chunks
from csv_processor.ml.csv import reader as csv_reader
from csv_processor.ml.csv.reader import CsvParseError, ParseOptions, csv_to_parquet, read_csv_sniffed

DATA = Path(__file__).resolve().parents[2] / "data" / "csv"


def _write(tmp_path: Path, content: bytes | str, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _parse_error(path: Path, options: ParseOptions | None = None, **kwargs) -> CsvParseError:
    with pytest.raises(CsvParseError) as info:
        read_csv_sniffed(path, options or ParseOptions(), **kwargs)
    return info.value


def _ingest_error(path: Path, tmp_path: Path, options: ParseOptions | None = None) -> CsvParseError:
    out = tmp_path / "out.parquet"
    with pytest.raises(CsvParseError) as info:
        csv_to_parquet(path, options or ParseOptions(), out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    return info.value


# --- ParseOptions -------------------------------------------------------------------------------------------


def test_parse_options_round_trip_through_json_safe_dict() -> None:
    options = ParseOptions(encoding="cp1252", delimiter=";", decimal=",", thousands=".", na_values=("?", "-200"))
    data = options.to_dict()
    assert data["na_values"] == ["?", "-200"]
    assert ParseOptions.from_dict(data) == options


def test_parse_options_from_dict_accepts_numeric_na_markers_as_text() -> None:
    assert ParseOptions.from_dict({"na_values": [-200, "?"]}).na_values == ("-200", "?")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"encoding": "klingon-8"}, "Unknown text encoding"),
        ({"encoding": "rot13"}, "not a text encoding"),
        ({"delimiter": ";;"}, "exactly one character"),
        ({"delimiter": "\n"}, "line break"),
        ({"delimiter": '"'}, "must be different"),
        ({"decimal": ";"}, "decimal mark"),
        ({"thousands": "x"}, "thousands separator"),
        ({"decimal": ",", "thousands": ","}, "must be different"),
        ({"has_header": "yes"}, "true or false"),
        ({"na_values": "?"}, "list of texts"),
        ({"na_values": [None]}, "must be a text"),
        ({"colour": "red"}, "Unknown parse option"),
    ],
)
def test_parse_options_from_dict_rejects_invalid_values(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        ParseOptions.from_dict(data)
    assert not isinstance(info.value, CsvParseError)


def test_csv_parse_error_names_the_line_when_known() -> None:
    assert str(CsvParseError("Broken row.", line=7)) == "Line 7: Broken row."
    assert str(CsvParseError("Empty.")) == "Empty."
    assert CsvParseError("x", line=3).line == 3


# --- Happy paths and naming ---------------------------------------------------------------------------------


def test_read_csv_sniffed_names_headerless_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "1,a,2.5\n2,b,3.5\n")
    frame = read_csv_sniffed(path, ParseOptions(has_header=False))
    assert list(frame.columns) == ["column_1", "column_2", "column_3"]
    assert frame["column_1"].tolist() == [1, 2]


def test_read_csv_sniffed_names_empty_and_duplicate_headers(tmp_path: Path) -> None:
    path = _write(tmp_path, " a ,,a,b,a,a_2,\n1,2,3,4,5,6,7\n")
    frame = read_csv_sniffed(path, ParseOptions())
    assert list(frame.columns) == ["a", "column_2", "a_3", "b", "a_4", "a_2", "column_7"]
    assert frame.iloc[0].tolist() == [1, 2, 3, 4, 5, 6, 7]


def test_read_csv_sniffed_keeps_formulas_as_unchanged_text() -> None:
    frame = read_csv_sniffed(DATA / "formulas.csv", ParseOptions())
    assert frame["link"].tolist() == ['=HYPERLINK("http://evil.example","click")', "=1+2"]


def test_read_csv_sniffed_keeps_markup_in_headers_as_text() -> None:
    frame = read_csv_sniffed(DATA / "script_header.csv", ParseOptions())
    assert list(frame.columns) == ["<script>alert(1)</script>", "b"]


def test_read_csv_sniffed_reads_utf16_with_bom() -> None:
    frame = read_csv_sniffed(DATA / "utf16_bom.csv", ParseOptions(encoding="utf-16"))
    assert frame.to_dict("list") == {"name": ["Zoë", "李"], "city": ["Zürich", "北京"]}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"])
def test_read_csv_sniffed_drops_utf8_bom_from_first_name(encoding: str) -> None:
    frame = read_csv_sniffed(DATA / "utf8_bom.csv", ParseOptions(encoding=encoding))
    assert list(frame.columns) == ["id", "name"]
    assert frame["name"].tolist() == ["Zoë", "Åsa"]


def test_read_csv_sniffed_reads_european_numbers_like_pandas() -> None:
    path = DATA / "european.csv"
    options = ParseOptions(delimiter=";", decimal=",", thousands=".")
    expected = pd.read_csv(path, sep=";", decimal=",", thousands=".")
    pd.testing.assert_frame_equal(read_csv_sniffed(path, options), expected, check_exact=True)
    assert read_csv_sniffed(path, options)["Preis"].tolist() == [1234.5, 2.5]


def test_read_csv_sniffed_applies_numeric_na_marker_like_pandas(tmp_path: Path) -> None:
    path = _write(tmp_path, "a;b\n-200;1,5\n3;-200,0\n4;-200\n")
    options = ParseOptions(delimiter=";", decimal=",", na_values=("-200",))
    expected = pd.read_csv(path, sep=";", decimal=",", na_values=[-200])
    pd.testing.assert_frame_equal(read_csv_sniffed(path, options), expected, check_exact=True)


def test_read_csv_sniffed_preview_reads_only_requested_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b\n" + "".join(f"{i},x{i}\n" for i in range(1000)) + "1,2,3\n")
    frame = read_csv_sniffed(path, ParseOptions(), nrows=5)
    assert frame["a"].tolist() == [0, 1, 2, 3, 4]


def test_read_csv_sniffed_skips_blank_lines_like_pandas(tmp_path: Path) -> None:
    path = _write(tmp_path, "\n\na,b\n1,2\n\n   \n3,4\n\n")
    expected = pd.read_csv(path)
    pd.testing.assert_frame_equal(read_csv_sniffed(path, ParseOptions()), expected, check_exact=True)


# --- Bad inputs ---------------------------------------------------------------------------------------------


def test_read_csv_sniffed_rejects_empty_file(tmp_path: Path) -> None:
    error = _parse_error(_write(tmp_path, b""))
    assert "empty" in str(error)


def test_read_csv_sniffed_rejects_blank_file(tmp_path: Path) -> None:
    error = _parse_error(_write(tmp_path, "\n \r\n\n"))
    assert "empty" in str(error)


def test_read_csv_sniffed_rejects_header_without_rows(tmp_path: Path) -> None:
    assert "no data rows" in str(_parse_error(DATA / "header_only.csv"))
    assert "no data rows" in str(_ingest_error(DATA / "header_only.csv", tmp_path))


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", 3),  # one field too many
        ("a,b,c\n1,2,3\n4,5\n8,9,10\n", 3),  # one field short: pandas would pad with NaN
        ("a,b,c\n1,2,3\n4,5,6\n7,8\n", 4),  # short last row
    ],
)
def test_read_csv_sniffed_rejects_ragged_rows_with_line(tmp_path: Path, content: str, line: int) -> None:
    path = _write(tmp_path, content)
    error = _parse_error(path)
    assert error.line == line
    assert f"Line {line}:" in str(error)
    assert _ingest_error(path, tmp_path).line == line
    assert _parse_error(path, nrows=10).line == line


def test_read_csv_sniffed_rejects_first_row_extra_field_instead_of_shifting_into_index() -> None:
    # pandas would silently make column "a" the index and shift every value one column left.
    error = _parse_error(DATA / "first_row_extra_field.csv")
    assert error.line == 2
    assert "4 values but the header has 3 columns" in str(error)


def test_read_csv_sniffed_rejects_ragged_rows_on_pandas_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "a, b\n1, 2\n3\n")
    assert _parse_error(path, ParseOptions(skip_initial_space=True)).line == 3


def test_read_csv_sniffed_rejects_unclosed_quote(tmp_path: Path) -> None:
    path = _write(tmp_path, 'a,b\n1,"fine"\n2,"never closed\n3,x\n')
    error = _parse_error(path)
    assert error.line == 3
    assert "quote opened on line 3 is never closed" in str(error)
    assert _ingest_error(path, tmp_path).line == 3


def test_read_csv_sniffed_rejects_too_many_columns_quickly(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(200_000))
    path = _write(tmp_path, header + "\n" + ",".join("1" * 200_000) + "\n")
    started = time.monotonic()
    error = _parse_error(path)
    assert time.monotonic() - started < 10
    assert "200,000 columns" in str(error)
    assert "5,000" in str(error)


def test_read_csv_sniffed_rejects_ten_megabyte_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n1," + b"x" * (10 * 1024 * 1024 + 10) + b"\n2,3\n")
    error = _parse_error(path)
    assert error.line == 2
    assert "longer than 10 MB" in str(error)
    assert _ingest_error(path, tmp_path).line == 2


def test_read_csv_sniffed_rejects_invalid_utf8_after_the_sniff_sample(tmp_path: Path) -> None:
    rows = b"".join(b"%d,plain text\n" % i for i in range(120_000))  # ~2 MB of valid rows first
    path = _write(tmp_path, b"id,note\n" + rows + b"120000,caf\xe9\n120001,ok\n")
    error = _parse_error(path)
    assert error.line == 120_002
    assert "not valid utf-8" in str(error)
    assert _ingest_error(path, tmp_path).line == 120_002


def test_read_csv_sniffed_rejects_bytes_undefined_in_cp1252(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n1,caf\xe9\n2,\x81\n")
    assert _parse_error(path, ParseOptions(encoding="cp1252")).line == 3


def test_read_csv_sniffed_rejects_classic_mac_line_endings_clearly(tmp_path: Path) -> None:
    assert "old Macintosh line endings" in str(_parse_error(_write(tmp_path, "a,b\r1,2\r3,4\r")))


def test_read_csv_sniffed_rejects_nul_bytes_with_line(tmp_path: Path) -> None:
    # Decision: refuse rather than strip NULs, so no cell is ever changed behind the user's back.
    path = _write(tmp_path, b"a,b\n1,2\n3,\x004\n")
    error = _parse_error(path)
    assert error.line == 3
    assert "NUL" in str(error)


# --- Parity with pandas on the fast path --------------------------------------------------------------------


def _many_rows(tail: str, rows: int = 300_000) -> str:
    # Quotes force the streaming reader; 300k rows span several 4 MB blocks, so the odd value comes late.
    return "n,label,value\n" + "".join(f'{i},"row {i}",{i % 97}\n' for i in range(rows)) + tail


@pytest.mark.parametrize("late_value", ["1.5", "abc", "NA", "True"])
def test_read_csv_sniffed_widens_types_like_pandas_when_late_rows_disagree(tmp_path: Path, late_value: str) -> None:
    path = _write(tmp_path, _many_rows(f'300000,"last",{late_value}\n'))
    # low_memory=False: pandas' default guesses per chunk and can mix ints and texts in one column.
    expected = pd.read_csv(path, low_memory=False)
    pd.testing.assert_frame_equal(read_csv_sniffed(path, ParseOptions()), expected, check_exact=True)


@pytest.mark.parametrize(
    "cells",
    [
        ["2024-01-31", "2024-02-01"],  # pyarrow would make dates; pandas keeps text
        ["10:00", "11:30:00"],
        ["2013-01-01T10:00:00Z", "NA"],
        ["0x1F", "0x20"],  # pyarrow would read hex as integers
        ["+5", "6"],  # pyarrow would make floats; pandas keeps int64
        ["True", "1"],
        ["True", ""],  # booleans with a gap: pandas gives objects
        ["18446744073709551615", "1"],  # beyond int64
        ["", ""],
        ["#N/A", "n/a"],
        [" 5", "6 "],
    ],
)
def test_read_csv_sniffed_matches_pandas_on_values_pyarrow_guesses_differently(
    tmp_path: Path, cells: list[str]
) -> None:
    path = _write(tmp_path, "k,v\n" + "".join(f"{i},{cell}\n" for i, cell in enumerate(cells)))
    expected = pd.read_csv(path)
    ours = read_csv_sniffed(path, ParseOptions())
    pd.testing.assert_frame_equal(ours, expected, check_exact=True)
    csv_to_parquet(path, ParseOptions(), tmp_path / "o.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), expected, check_exact=True)


# --- Parquet ingest -----------------------------------------------------------------------------------------


def test_csv_to_parquet_writes_small_row_groups_and_reports_progress(tmp_path: Path) -> None:
    source = _write(tmp_path, "a,b,when\n" + "".join(f"{i},{i / 3},2024-01-{i % 28 + 1:02d}\n" for i in range(200_000)))
    calls: list[tuple[int, int]] = []
    summary = csv_to_parquet(source, ParseOptions(), tmp_path / "o.parquet", progress=lambda d, t: calls.append((d, t)))
    assert (summary.rows, summary.columns, summary.column_names) == (200_000, 3, ("a", "b", "when"))
    metadata = pq.ParquetFile(tmp_path / "o.parquet").metadata
    assert max(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)) <= 65_536
    total = source.stat().st_size
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})
    expected = pd.read_csv(source)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), expected, check_exact=True)


def test_csv_to_parquet_transcodes_utf16_and_reports_original_bytes(tmp_path: Path) -> None:
    source = DATA / "utf16_bom.csv"
    calls: list[tuple[int, int]] = []
    options = ParseOptions(encoding="utf-16")
    csv_to_parquet(source, options, tmp_path / "o.parquet", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (source.stat().st_size, source.stat().st_size)
    expected = read_csv_sniffed(source, options)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), expected, check_exact=True)


def test_csv_to_parquet_streams_quoted_files_with_progress(tmp_path: Path) -> None:
    source = _write(tmp_path, _many_rows(""))
    calls: list[tuple[int, int]] = []
    csv_to_parquet(source, ParseOptions(), tmp_path / "o.parquet", progress=lambda d, t: calls.append((d, t)))
    assert len(calls) > 2
    assert calls[-1][0] == source.stat().st_size
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), pd.read_csv(source), check_exact=True)


def test_csv_to_parquet_matches_read_csv_sniffed_on_pandas_path(tmp_path: Path) -> None:
    source = _write(tmp_path, 'a, b\n1, "x, y"\n2, ?\n')
    options = ParseOptions(skip_initial_space=True, na_values=("?",))
    csv_to_parquet(source, options, tmp_path / "o.parquet")
    frame = read_csv_sniffed(source, options)
    assert frame["b"].tolist()[0] == "x, y"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), frame, check_exact=True)


def test_csv_to_parquet_streams_pandas_path_in_chunks_with_whole_column_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "CHUNKED_PANDAS_BYTES", 0)
    monkeypatch.setattr(csv_pandas_chunks, "CHUNK_ROWS", 4)
    # Each column changes type between 4-row chunks: whole-column inference must win, as in read_csv.
    rows = [
        ("1", '"1,234"', "True", "", "7", "x"),
        ("2", "5", "False", "", "8", "y"),
        ("3", "6", "True", "", "9", "z"),
        ("4", "7", "False", "", "10", "w"),
        ("5.5", "8", "", "3", "", "1"),
        ("6", "abc", "", "", "11", "2"),
    ]
    source = _write(tmp_path, "i,t,b,e,n,s\n" + "".join(",".join(row) + "\n" for row in rows))
    options = ParseOptions(thousands=",")
    csv_to_parquet(source, options, tmp_path / "o.parquet")
    expected = pd.read_csv(source, thousands=",", low_memory=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), expected, check_exact=True)
    pd.testing.assert_frame_equal(read_csv_sniffed(source, options), expected, check_exact=True)


def test_csv_to_parquet_replaces_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    out.write_bytes(b"previous")
    source = _write(tmp_path, "a,b\n" + "1,2\n" * 100_000 + "1,2,3\n")
    with pytest.raises(CsvParseError):
        csv_to_parquet(source, ParseOptions(), out)
    assert out.read_bytes() == b"previous"


def test_read_csv_sniffed_accepts_text_stream_free_of_surprises(tmp_path: Path) -> None:
    # Embedded line breaks and doubled quotes inside quoted cells survive unchanged.
    content = 'id,text\n1,"line one\nline two"\n2,"say ""hi"""\n'
    path = _write(tmp_path, content)
    expected = pd.read_csv(io.StringIO(content))
    pd.testing.assert_frame_equal(read_csv_sniffed(path, ParseOptions()), expected, check_exact=True)


# --- Differential check against pandas ----------------------------------------------------------------------

TRICKY_CELLS = [
    "1", "-2", "3.5", "2,5", "1e3", "007", "+5", " 7", "inf", "1.0", "18446744073709551615", "0x1F",
    "", " ", "NA", "nan", "null", "#N/A", "?", "abc", "x y", "ünï", "True", "false",
    "2024-01-31", "10:00", "2013-01-01T10:00:00Z", "a,b", "c;d", 'say "hi"', "two\nlines",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    delimiter=st.sampled_from([",", ";", "\t"]),
    decimal=st.sampled_from([".", ","]),
    na_values=st.lists(st.sampled_from(["?", "-2", "abc"]), max_size=2, unique=True).map(tuple),
    table=st.integers(1, 4).flatmap(
        lambda width: st.lists(st.lists(st.sampled_from(TRICKY_CELLS), min_size=width, max_size=width), min_size=1)
    ),
)
def test_read_csv_sniffed_equals_pandas_on_generated_tables(
    delimiter: str, decimal: str, na_values: tuple[str, ...], table: list[list[str]]
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow([f"c{i}" for i in range(len(table[0]))])
    writer.writerows(table)
    options = ParseOptions(delimiter=delimiter, decimal=decimal, na_values=na_values)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        try:
            expected = pd.read_csv(path, sep=delimiter, decimal=decimal, na_values=list(na_values), low_memory=False)
        except pd.errors.ParserError:
            return  # pandas cannot read it either; the rejection tests cover our side
        if expected.empty:
            return
        pd.testing.assert_frame_equal(read_csv_sniffed(path, options), expected, check_exact=True)
        csv_to_parquet(path, options, Path(tmp) / "o.parquet")
        pd.testing.assert_frame_equal(pd.read_parquet(Path(tmp) / "o.parquet"), expected, check_exact=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.text(alphabet=",;\"' \r\n\tab1.5-é?\x00", max_size=200).map(str.encode),
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "cp949"]),
    skip_initial_space=st.booleans(),
    has_header=st.booleans(),
    nrows=st.sampled_from([None, 3]),
)
def test_read_csv_sniffed_returns_a_frame_or_csv_parse_error_for_any_bytes(
    content: bytes, encoding: str, skip_initial_space: bool, has_header: bool, nrows: int | None
) -> None:
    options = ParseOptions(encoding=encoding, skip_initial_space=skip_initial_space, has_header=has_header)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(content)
        try:
            rows, message = len(read_csv_sniffed(path, options, nrows=nrows)), ""
        except CsvParseError as error:
            rows, message = 0, str(error)
        try:
            ingested = csv_to_parquet(path, options, Path(tmp) / "o.parquet").rows
        except CsvParseError:
            ingested = 0
    assert rows >= 1 or message
    if nrows is None:
        assert ingested == rows  # the preview-free read and the ingest agree on success and on failure


@settings(max_examples=150, deadline=None)
@given(
    widths=st.lists(st.integers(1, 4), min_size=2, max_size=12),
    quoted=st.booleans(),
    skip_initial_space=st.booleans(),
)
def test_read_csv_sniffed_never_shifts_ragged_rows(widths: list[int], quoted: bool, skip_initial_space: bool) -> None:
    cell = '"v"' if quoted else "v"
    lines = [",".join([cell] * width) for width in widths]  # the first line is the header
    options = ParseOptions(skip_initial_space=skip_initial_space)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ragged.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        bad = next((number for number, width in enumerate(widths, 1) if width != widths[0]), None)
        try:
            frame, line = read_csv_sniffed(path, options), None
        except CsvParseError as error:
            frame, line = None, error.line
    assert line == bad
    assert frame is None or frame.shape == (len(widths) - 1, widths[0])
