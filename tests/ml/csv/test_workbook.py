"""Excel workbooks: the zip is inspected before openpyxl opens it, and a sheet reads as the CSV path reads."""

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from csv_processor.ml.csv import workbook
from csv_processor.ml.csv.workbook import (
    WorkbookRefused,
    inspect_workbook,
    read_sheet,
    workbook_sheets,
    xlsx_to_parquet,
)
from tests.workbooks import with_parts, xlsx_bytes


def write_book(path: Path, sheets: dict[str, list[list]]) -> Path:
    path.write_bytes(xlsx_bytes(sheets))
    return path


def with_parts_file(source: Path, target: Path, parts: dict[str, bytes]) -> Path:
    target.write_bytes(with_parts(source.read_bytes(), parts))
    return target


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_book(
        tmp_path / "book.xlsx",
        {
            "People": [
                ["name", "age", "joined", "active", None],
                ["Ada", 36, dt.datetime(2024, 1, 2), True],
                [],
                ["Grace, H", None, dt.datetime(2024, 1, 3, 10, 30), False],
                ["Alan", 41.5, None, True],
            ],
            "Cities": [["city", "people"], ["London", 9], ["Paris", 2]],
        },
    )


def test_read_sheet_reads_like_the_csv_path(book: Path) -> None:
    inspect_workbook(book)

    frame = read_sheet(book, "People")

    assert workbook_sheets(book) == ("People", "Cities")
    assert list(frame.columns) == ["name", "age", "joined", "active"]
    assert frame["name"].tolist() == ["Ada", "Grace, H", "Alan"]
    assert frame["age"].dtype == "float64"
    assert frame["age"].isna().tolist() == [False, True, False]
    assert frame["active"].dtype == bool
    assert frame["joined"].tolist()[:2] == ["2024-01-02", "2024-01-03 10:30:00"]


def test_xlsx_to_parquet_writes_the_chosen_sheet(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "v1.parquet"

    summary = xlsx_to_parquet(book, "Cities", out)

    assert (summary.rows, summary.column_names) == (2, ("city", "people"))
    assert pd.read_parquet(out)["people"].tolist() == [9, 2]
    assert str(pq.read_schema(out).field("people").type) == "int64"


def test_a_value_right_of_the_header_is_refused_with_its_cell(tmp_path: Path) -> None:
    path = write_book(tmp_path / "stray.xlsx", {"S": [["a", "b"], [1, 2], [3, 4, "stray"]]})

    with pytest.raises(WorkbookRefused) as info:
        read_sheet(path, "S")
    assert "Row 3" in str(info.value)
    assert "column C" in str(info.value)


def test_a_sheet_reads_past_a_dimension_record_that_understates_it(tmp_path: Path) -> None:
    source = write_book(tmp_path / "book.xlsx", {"S": [["a", "b", "c"], [1, 2, 3], [4, 5, 6]]})
    with zipfile.ZipFile(source) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    claim = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:A2"/>', xml)
    assert claim != xml
    path = with_parts_file(source, tmp_path / "claim.xlsx", {"xl/worksheets/sheet1.xml": claim})

    frame = read_sheet(path, "S")

    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["c"].tolist() == [3, 6]


def test_an_unknown_sheet_is_refused(book: Path) -> None:
    with pytest.raises(WorkbookRefused) as info:
        read_sheet(book, "Nope")
    assert "Nope" in str(info.value)


def _refusal(path: Path) -> str:
    with pytest.raises(WorkbookRefused) as info:
        inspect_workbook(path)
    return str(info.value)


def test_macros_are_refused(book: Path, tmp_path: Path) -> None:
    path = with_parts_file(book, tmp_path / "m.xlsx", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 100})

    assert "macros" in _refusal(path)


def test_external_links_are_refused(book: Path, tmp_path: Path) -> None:
    link = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    path = with_parts_file(book, tmp_path / "l.xlsx", {"xl/externalLinks/externalLink1.xml": link})

    assert "external links" in _refusal(path)


def test_a_zip_bomb_is_refused_by_its_compression_ratio(book: Path, tmp_path: Path) -> None:
    path = with_parts_file(book, tmp_path / "bomb.xlsx", {"xl/worksheets/sheet9.xml": b"0" * (8 * 1024**2)})

    assert "zip bombs" in _refusal(path)


def test_parts_expanding_past_the_cap_are_refused(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_EXPANDED_BYTES", 1000)

    assert "expands to" in _refusal(book)


def test_a_huge_shared_string_table_is_refused(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_SHARED_STRINGS_BYTES", 64 * 1024)
    strings = "".join(f"<si><t>text {i}</t></si>" for i in range(10_000)).encode()
    table = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + strings + b"</sst>"
    path = with_parts_file(book, tmp_path / "sst.xlsx", {"xl/sharedStrings.xml": table})

    assert "table of texts" in _refusal(path)


def test_xml_entity_declarations_are_refused(book: Path, tmp_path: Path) -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><workbook>&lol;</workbook>'
    path = with_parts_file(book, tmp_path / "lol.xlsx", {"xl/workbook.xml": laughs})

    assert "XML entities" in _refusal(path)


@pytest.mark.parametrize(
    "body",
    [b"PK\x03\x04" + b"\x00" * 200, b"not a zip at all"],
    ids=["cut-short zip", "text"],
)
def test_a_damaged_workbook_is_refused(body: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(body)

    assert "damaged" in _refusal(path)


def test_a_zip_without_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")

    assert "damaged" in _refusal(path)
