"""Property tests of the upload path's pure parts on hostile input, beyond tests/ml/csv/test_reader.py
(which fuzzes the reader with fixed options): here the options are the sniffer's own guess or arbitrary,
and the bytes are CSV-shaped text in any encoding with damage spliced in.

Whatever comes in, the result is a frame (or a Parquet file) with unique, non-empty column names, or one
of the errors the app turns into a message: CsvParseError, or UnicodeError for a wrong encoding
(services/uploads.parse_check). ParseOptions refuse bad settings with ValueError only.
"""

from __future__ import annotations

import codecs
import itertools
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from csv_processor.ml.csv.quotes import QuotePairing
from csv_processor.ml.csv.reader import CsvParseError, ParseOptions, csv_to_parquet, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason

FUZZ = settings(
    max_examples=int(os.environ.get("CSVA_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1", "cp949"]
CELLS = st.one_of(
    st.sampled_from(["", " ", "1", "-2.5", "1,000", "1.234,5", "NA", "?", '"', '""', "'", "=1+2", "\t", "x y"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)


@st.composite
def csv_like_bytes(draw: st.DrawFn) -> bytes:
    """Rows of cells joined by a delimiter and line ending, encoded, then damaged at a few places."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " ", ":", "\x1f", "¦"]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(width - 1, 0), max_size=width + 1), min_size=0, max_size=8))
    quote = draw(st.sampled_from(['"', "'", ""]))
    text = ending.join(delimiter.join(f"{quote}{cell}{quote}" if quote else cell for cell in row) for row in rows)
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    if draw(st.booleans()):
        data = draw(st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b""])) + data
    return data


def _read_or_message(path: Path, options: ParseOptions, *, nrows: int | None) -> int:
    """Rows read, or 0 after one of the errors the app shows as a message."""
    try:
        frame = read_csv_sniffed(path, options, nrows=nrows)
    except (CsvParseError, UnicodeError) as error:
        message = str(error)
        frame = None
    if frame is None:
        assert message
        return 0
    names = [str(name) for name in frame.columns]
    assert len(set(names)) == len(names), names
    assert all(name.strip() for name in names), names
    assert len(frame) >= 1
    if nrows is not None:
        assert len(frame) <= nrows
    return len(frame)


@FUZZ
@given(content=csv_like_bytes())
def test_upload_path_reads_damaged_csv_with_its_own_guess_or_says_why(content: bytes) -> None:
    # The upload service's order: refuse by the first bytes, sniff, then parse with the guess.
    note(f"content={content!r}")
    if refuse_reason(content[:8192]) is not None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(content)
        options = detect_parse_options(path)
        assert ParseOptions.from_dict(options.to_dict()) == options
        preview = _read_or_message(path, options, nrows=20)
        full = _read_or_message(path, options, nrows=None)
        try:
            ingested = csv_to_parquet(path, options, Path(tmp) / "v.parquet").rows
        except (CsvParseError, UnicodeError):
            ingested = 0
            assert not (Path(tmp) / "v.parquet").exists()
    assert ingested == full
    # The preview reads a prefix with the same checks: it fails only where the whole read fails too.
    assert preview == min(full, 20)


OPTION_VALUES = {
    "encoding": st.one_of(st.sampled_from([*ENCODINGS, "rot13", "base64", "nope", "", "UTF8"]), st.integers()),
    "delimiter": st.one_of(st.text(max_size=2), st.none(), st.integers()),
    "quotechar": st.one_of(st.text(max_size=2), st.none()),
    "decimal": st.one_of(st.sampled_from([".", ",", ";", ""]), st.none()),
    "thousands": st.one_of(st.sampled_from([None, ",", ".", " ", "'", "_"]), st.integers()),
    "has_header": st.one_of(st.booleans(), st.sampled_from(["yes", 1, None])),
    "skip_initial_space": st.one_of(st.booleans(), st.sampled_from(["no", 0])),
    "na_values": st.one_of(
        st.lists(st.one_of(st.text(max_size=4), st.integers(), st.floats(), st.booleans(), st.none()), max_size=3),
        st.text(max_size=3),
        st.none(),
    ),
}


@FUZZ
@given(
    data=st.fixed_dictionaries({}, optional={**OPTION_VALUES, "bogus": st.integers()}),
    text=st.text(alphabet=",;|\t:'\"\r\n ab1.5-é?_", max_size=120),
)
def test_any_parse_settings_are_refused_with_value_error_or_read(data: dict, text: str) -> None:
    try:
        options = ParseOptions.from_dict(data)
    except ValueError as error:
        refused = str(error)
        options = None
    if options is None:
        assert refused
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(text.encode(options.encoding, errors="replace"))
        _read_or_message(path, options, nrows=5)
        _read_or_message(path, options, nrows=None)


# --- quotes left open at the end of the file -------------------------------------------------------------


def test_quote_left_open_at_the_end_is_refused_even_when_a_literal_quote_evens_the_count(tmp_path: Path) -> None:
    # pyarrow read everything after the open quote as one value: the count of quotes was even (5'11").
    path = tmp_path / "heights.csv"
    path.write_bytes(b"name,height\nAda,5'11\"\nAlan,\"6'1\nGrace,5'4\n")

    with pytest.raises(CsvParseError) as read:
        read_csv_sniffed(path, ParseOptions())
    with pytest.raises(CsvParseError) as ingested:
        csv_to_parquet(path, ParseOptions(), tmp_path / "o.parquet")

    for error in (read.value, ingested.value):
        assert error.line == 3
        assert "never closed" in str(error)
    assert not (tmp_path / "o.parquet").exists()


def test_literal_quotes_in_unquoted_values_still_read(tmp_path: Path) -> None:
    path = tmp_path / "heights.csv"
    path.write_bytes(b'name,height\nAda,5\'11"\nAlan,"6\'1"""\n')
    summary = csv_to_parquet(path, ParseOptions(), tmp_path / "o.parquet")
    frame = read_csv_sniffed(path, ParseOptions())
    assert summary.rows == 2
    assert frame["height"].tolist() == ["5'11\"", "6'1\""]


@FUZZ
@given(
    text=st.text(alphabet='",\n\r ab', max_size=60),
    cuts=st.lists(st.integers(4, 60), max_size=6),  # blocks are megabytes: the BOM is in the first
    bom=st.booleans(),
)
def test_quote_pairing_does_not_depend_on_where_blocks_end(text: str, cuts: list[int], bom: bool) -> None:
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode()

    def paired(pieces: list[bytes]) -> bool:
        pairing = QuotePairing(b",")
        for piece in pieces:
            array = np.frombuffer(piece, dtype=np.uint8)
            pairing.feed(array, np.flatnonzero(array == ord('"')))
        return pairing.paired()

    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    assert paired([data[a:b] for a, b in itertools.pairwise(bounds)]) == paired([data])
