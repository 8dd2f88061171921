"""refuse_reason and detect_parse_options: refuse non-CSVs from their first bytes, guess options from a sample."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csv_processor.ml.csv.reader import ParseOptions, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason

DATA = Path(__file__).resolve().parents[2] / "data" / "csv"
CSV_TEXT = "name,city,amount\nZoë,Zürich,1.5\nAda,London,2\n"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _write(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "upload.csv"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- refuse_reason ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # mtime=0: the bytes are the test's id, and every xdist worker must collect the same ids.
        (gzip.compress(CSV_TEXT.encode(), mtime=0), "gzip"),
        (bz2.compress(CSV_TEXT.encode()), "bzip2"),
        (lzma.compress(CSV_TEXT.encode()), "xz"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip"),
        (b"\x28\xb5\x2f\xfd\x00\x58", "Zstandard"),
        (_zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}), "Excel workbook (.xlsx)"),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "OpenDocument spreadsheet"),
        (_zip({"data.csv": CSV_TEXT.encode()}), "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), ".xls"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "program"),
        (b"SQLite format 3\x00" + bytes(100), "SQLite"),
    ],
)
def test_refuse_reason_names_known_binary_formats(head: bytes, expected: str) -> None:
    reason = refuse_reason(head[:8192])
    assert reason is not None
    assert expected in reason
    assert "not a CSV" in reason


def test_refuse_reason_refuses_empty_file() -> None:
    assert refuse_reason(b"") == "The file is empty."


def test_refuse_reason_refuses_unknown_binary() -> None:
    noise = random.Random(0).randbytes(8192)
    assert "binary data" in (refuse_reason(noise) or "")


def test_refuse_reason_refuses_control_heavy_bytes_without_nul() -> None:
    head = bytes(range(1, 32)) * 50
    assert "binary data" in (refuse_reason(head) or "")


@pytest.mark.parametrize(
    "head",
    [
        CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("utf-8-sig"),
        CSV_TEXT.encode("cp1252"),
        CSV_TEXT.encode("utf-16"),  # with BOM
        CSV_TEXT.encode("utf-16-le"),  # without BOM: a NUL in every other byte
        CSV_TEXT.encode("utf-16-be"),
        "기간,자치구\n2015년,종로구\n".encode("cp949"),
    ],
)
def test_refuse_reason_accepts_text_including_utf16(head: bytes) -> None:
    assert refuse_reason(head) is None


# --- detect_parse_options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("cp1252", "cp1252"),
    ],
)
def test_detect_parse_options_detects_encoding(tmp_path: Path, encoding: str, expected: str) -> None:
    text = "name,city,note\n" + "Zoë,Zürich,\u201cquoted\u201d \u2013 café\nRené,Besançon,€5 déjà vu\n" * 20
    path = _write(tmp_path, text.encode(encoding))
    options = detect_parse_options(path)
    assert options.encoding == expected
    assert read_csv_sniffed(path, options)["city"].tolist()[:2] == ["Zürich", "Besançon"]


def test_detect_parse_options_detects_korean_code_page(tmp_path: Path) -> None:
    text = "기간,자치구,합계\n" + "".join(f'2015년,종로구,"{n:,}"\n' for n in range(1000, 60000, 997))
    path = _write(tmp_path, text.encode("cp949"))
    options = detect_parse_options(path)
    assert (options.encoding, options.thousands) == ("cp949", ",")
    assert read_csv_sniffed(path, options)["자치구"].iloc[0] == "종로구"


def test_detect_parse_options_detects_european_numbers() -> None:
    options = detect_parse_options(DATA / "european.csv")
    assert (options.delimiter, options.decimal, options.thousands) == (";", ",", ".")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_detect_parse_options_detects_delimiter(tmp_path: Path, delimiter: str) -> None:
    rows = [["id", "text", "score"]] + [[str(i), f"a, b; c {i}", f"{i}.5"] for i in range(30)]
    body = "".join(
        delimiter.join(f'"{cell}"' if "," in cell or ";" in cell else cell for cell in row) + "\n" for row in rows
    )
    options = detect_parse_options(_write(tmp_path, body))
    assert options.delimiter == delimiter
    assert options.has_header


def test_detect_parse_options_detects_space_after_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, "".join(f"{i}, Private, {i * 1000}, Bachelors\n" for i in range(39, 60)))
    options = detect_parse_options(path)
    assert (options.skip_initial_space, options.has_header) == (True, False)


def test_detect_parse_options_detects_missing_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "".join(f"A1{i % 4},{i},A3{i % 3},{i * 100}\n" for i in range(50)))
    assert detect_parse_options(path).has_header is False


def test_detect_parse_options_keeps_header_over_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,code,value\n" + "".join(f"{i},A{i % 3},{i / 7:.3f}\n" for i in range(50)))
    assert detect_parse_options(path).has_header is True


def test_detect_parse_options_leaves_ambiguous_plus_counts_alone(tmp_path: Path) -> None:
    # "10,000+" is text in pandas with or without a thousands separator: do not guess one.
    path = _write(tmp_path, "app,installs,reviews\n" + "".join(f'a{i},"{i},000+",{i}\n' for i in range(1, 30)))
    assert detect_parse_options(path).thousands is None


def test_detect_parse_options_detects_single_quote_quoting(tmp_path: Path) -> None:
    path = _write(tmp_path, "'name','city'\n" + "".join(f"'n{i}','a, b'\n" for i in range(20)))
    options = detect_parse_options(path)
    assert options.quotechar == "'"
    assert read_csv_sniffed(path, options)["city"].iloc[0] == "a, b"


def test_detect_parse_options_reads_only_the_sample(tmp_path: Path) -> None:
    # The sample cuts a multi-byte character and a line in half; neither may confuse the guess.
    path = _write(tmp_path, "a;b\n" + "é;1,5\n" * 200_000)
    options = detect_parse_options(path, sample_bytes=1001)
    assert options == ParseOptions(delimiter=";", decimal=",")


@settings(max_examples=200, deadline=None)
@given(
    content=st.one_of(st.binary(max_size=300), st.text(alphabet=",;|\t\"' \r\nab1.5-é?", max_size=300).map(str.encode))
)
def test_detect_parse_options_always_returns_valid_options(content: bytes) -> None:
    # Any upload that passed refuse_reason gets options the confirm-parse form can show; nothing crashes.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(content)
        options = detect_parse_options(path, sample_bytes=128)
    assert ParseOptions.from_dict(options.to_dict()) == options
