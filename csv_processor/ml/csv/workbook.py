"""Excel workbooks (.xlsx) in: look inside the zip before opening it, then stream one sheet's rows.

A workbook is a zip of XML parts, and what makes one hostile shows in the zip's directory without inflating
anything: parts that expand past a cap or compress like a zip bomb, a shared-string table too big to hold,
links to other workbooks, a VBA project. Those are refused before openpyxl sees the file. zipfile never
inflates a part past the size its directory declares (it fails the CRC instead), so the declared sizes hold.

A sheet is read streaming (openpyxl's read-only mode, cached formula values) and written as a plain CSV, which
the CSV reader then parses with fixed options: the column names, types and checks are the CSV path's own.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.reader import ParquetSummary, csv_to_parquet, read_csv_sniffed

# Read at call time, so a test can lower them.
MAX_EXPANDED_BYTES = 2 * 1024**3
MAX_RATIO = 200
RATIO_MIN_BYTES = 1024**2  # small parts compress well for honest reasons
MAX_SHARED_STRINGS_BYTES = 64 * 1024**2
MAX_PARTS = 10_000
_PROLOG_BYTES = 4096
SHEET_CSV_OPTIONS = ParseOptions(
    encoding="utf-8", delimiter=",", quotechar='"', decimal=".", thousands=None, has_header=True
)
_DAMAGED = (
    "This workbook could not be read: it is damaged or not a real .xlsx file. "
    "Open it in Excel, save it again as an Excel workbook (.xlsx), and upload that."
)
# What openpyxl and zipfile raise on a damaged workbook (a missing part is a KeyError).
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, IndexError, TypeError, ParseError)


class WorkbookRefused(ValueError):
    """A workbook that is not read, with the reason in the user's words."""


def inspect_workbook(path: Path) -> None:
    """Refuse a hostile or damaged workbook from its zip directory; WorkbookRefused says why."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_parts(infos)
            for info in infos:
                _check_prolog(archive, info)
    except zipfile.BadZipFile as exc:
        raise WorkbookRefused(_DAMAGED) from exc


def _check_parts(infos: list[zipfile.ZipInfo]) -> None:
    names = [info.filename.lower() for info in infos]
    if any(name.endswith("vbaproject.bin") for name in names):
        raise WorkbookRefused(
            "This workbook contains macros (a VBA project), which are never opened here. "
            "Save it as an Excel workbook without macros (.xlsx) or as CSV, and upload that."
        )
    if any(name.startswith("xl/externallinks/") for name in names):
        raise WorkbookRefused(
            "This workbook links to other workbooks (external links), which are never followed here. "
            "Break the links in Excel (Data > Edit Links > Break Link), save, and upload it again."
        )
    if "xl/workbook.xml" not in names:
        raise WorkbookRefused(_DAMAGED)
    if len(infos) > MAX_PARTS:
        raise WorkbookRefused(f"This workbook has {len(infos):,} parts; at most {MAX_PARTS:,} are read.")
    expanded = sum(info.file_size for info in infos)
    if expanded > MAX_EXPANDED_BYTES:
        raise WorkbookRefused(
            f"This workbook expands to {expanded / 1024**2:,.0f} MB when unpacked; at most "
            f"{MAX_EXPANDED_BYTES / 1024**2:,.0f} MB are read. Save the sheet you need as CSV and upload that."
        )
    for info in infos:
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise WorkbookRefused(
                f"This workbook is compressed more than {MAX_RATIO} to 1, as zip bombs are, so it is not opened."
            )
        if info.filename.lower() == "xl/sharedstrings.xml" and info.file_size > MAX_SHARED_STRINGS_BYTES:
            raise WorkbookRefused(
                f"This workbook's table of texts is {info.file_size / 1024**2:,.0f} MB; at most "
                f"{MAX_SHARED_STRINGS_BYTES / 1024**2:,.0f} MB are read. Save the sheet as CSV and upload that."
            )


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse XML entity declarations: Excel never writes them, entity-expansion attacks need them."""
    if not info.filename.lower().endswith((".xml", ".rels")):
        return
    try:
        with archive.open(info) as part:
            head = part.read(_PROLOG_BYTES)
    except (zlib.error, EOFError, NotImplementedError) as exc:
        raise WorkbookRefused(_DAMAGED) from exc
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise WorkbookRefused("This workbook declares XML entities, which Excel never writes, so it is not opened.")


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """Turn what a damaged workbook makes openpyxl raise into WorkbookRefused; keep our own errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unsupported extensions, missing styles
            yield
    except (WorkbookRefused, CsvParseError):
        raise
    except (*_READ_ERRORS, InvalidFileException, ValueError) as exc:
        raise WorkbookRefused(_DAMAGED) from exc


def _open(path: Path) -> Any:
    return openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False, keep_vba=False)


def workbook_sheets(path: Path) -> tuple[str, ...]:
    """The names of the workbook's worksheets (chart sheets hold no rows), in the workbook's order."""
    with _reading():
        book = _open(path)
        try:
            names = tuple(sheet.title for sheet in book.worksheets)
        finally:
            book.close()
    if not names:
        raise WorkbookRefused("This workbook has no worksheets with rows to read.")
    return names


def _text(cell: Any) -> str:
    value = cell.value
    if value is None or getattr(cell, "data_type", "") == "e":  # an error cell (#DIV/0!) is a missing value
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def sheet_to_csv(
    path: Path,
    sheet: str,
    out_path: Path,
    *,
    max_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write ``sheet``'s rows as CSV (header = the first row with a value); the number of data rows.

    ``progress(rows, expected)`` every 10,000 rows, ``expected`` from the sheet's own dimension record.
    """
    with _reading():
        book = _open(path)
        try:
            if sheet not in book.sheetnames:
                raise WorkbookRefused(f"This workbook has no sheet named “{sheet}”.")
            with out_path.open("w", encoding="utf-8", newline="") as out:
                worksheet = book[sheet]
                expected = max(int(worksheet.max_row or 0), 1)
                # Read every cell there is, not the range the file claims: a wrong claim would drop columns.
                worksheet.reset_dimensions()
                report = progress or (lambda _rows, _expected: None)
                return _write_rows(worksheet, sheet, csv.writer(out), max_rows, lambda rows: report(rows, expected))
        finally:
            book.close()


def _write_rows(worksheet: Any, sheet: str, writer: Any, max_rows: int | None, progress: Callable[[int], None]) -> int:
    width, rows = 0, 0
    for number, cells in enumerate(worksheet.iter_rows(), start=1):
        texts = [_text(cell) for cell in cells]
        used = max((i + 1 for i, text in enumerate(texts) if text), default=0)
        if not used:
            continue  # blank rows are skipped, as the CSV reader skips blank lines
        if not width:
            width = used
            writer.writerow(texts[:width])
            continue
        if used > width:
            raise WorkbookRefused(
                f"Row {number} of sheet “{sheet}” has a value in column {get_column_letter(used)}, right of the "
                "header row's last column. Give that column a header, or delete the stray value."
            )
        writer.writerow(texts[:width] + [""] * (width - len(texts)))
        rows += 1
        if rows % 10_000 == 0:
            progress(rows)
        if max_rows is not None and rows >= max_rows:
            break
    if not width:
        raise WorkbookRefused(f"The sheet “{sheet}” is empty.")
    return rows


def read_sheet(path: Path, sheet: str, *, nrows: int | None = None) -> pd.DataFrame:
    """The sheet as the CSV reader parses it (only the first ``nrows`` rows for a preview or a check)."""
    with tempfile.TemporaryDirectory(prefix="xlsx-sheet-") as tmp:
        target = Path(tmp) / "sheet.csv"
        sheet_to_csv(path, sheet, target, max_rows=nrows)
        return read_csv_sniffed(target, SHEET_CSV_OPTIONS, nrows=nrows)


def xlsx_to_parquet(
    path: Path, sheet: str, out_path: Path, *, progress: Callable[[int, int], None] | None = None
) -> ParquetSummary:
    """Ingest ``sheet`` into ``out_path`` through the CSV reader; no ``out_path`` is left on error.

    ``progress(done, total)`` covers reading the sheet (its first half, by rows when the sheet says how many)
    and parsing the rows (its second half).
    """
    inspect_workbook(path)  # checked at the upload too; cheap, and the worker trusts no file it did not check
    report = progress or (lambda _done, _total: None)
    with tempfile.TemporaryDirectory(prefix="xlsx-ingest-") as tmp:
        target = Path(tmp) / "sheet.csv"
        sheet_to_csv(path, sheet, target, progress=lambda rows, expected: report(min(rows, expected), 2 * expected))
        return csv_to_parquet(
            target,
            SHEET_CSV_OPTIONS,
            out_path,
            progress=lambda done, total: report(total + done, 2 * total) if total else None,
        )
