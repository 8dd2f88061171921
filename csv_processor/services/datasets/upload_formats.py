"""What each kind of upload needs at the door, at the confirm step and in the worker: CSV, Excel, Parquet.

Each check raises ValidationError with the reason in the user's words, so a refused file is a 400 and the
caller removes what it stored. Big files are only sampled here; the worker reads them in full.
"""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.parquet_source import ParquetRefused, inspect_parquet, parquet_to_version
from csv_processor.ml.csv.reader import ParquetSummary, csv_to_parquet, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason
from csv_processor.ml.csv.workbook import (
    WorkbookRefused,
    inspect_workbook,
    read_sheet,
    workbook_sheets,
    xlsx_to_parquet,
)
from csv_processor.models import Upload

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
SUFFIXES = {
    **dict.fromkeys(CSV_SUFFIXES, Upload.Format.CSV),
    ".xlsx": Upload.Format.XLSX,
    ".parquet": Upload.Format.PARQUET,
}
CHECK_ROWS = 1000
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"


def upload_format(name: str) -> Upload.Format:
    """The kind of file a name says it is; ValidationError for anything else."""
    # Not PurePath.suffix: a name that is only a suffix (".csv") has none there.
    suffix = "." + name.lower().rpartition(".")[2] if "." in name else ""
    if suffix in {".xlsm", ".xlsb", ".xltm"}:
        raise ValidationError(
            "Macro-enabled and binary Excel workbooks are not read. "
            "Save the workbook as an Excel workbook (.xlsx) or as CSV, and upload that.",
            code="suffix",
        )
    if suffix == ".xls":
        raise ValidationError("Old Excel workbooks (.xls) are not read. Save it as .xlsx or CSV first.", code="suffix")
    if suffix not in SUFFIXES:
        raise ValidationError("Choose a .csv, .tsv, .txt, .xlsx or .parquet file.", code="suffix")
    return SUFFIXES[suffix]


def parse_check(path: Path, options: ParseOptions, *, nrows: int | None) -> None:
    """Parse (the start of) a CSV; ValidationError with the reason in plain words if it does not read."""
    try:
        read_csv_sniffed(path, options, nrows=nrows)
    except CsvParseError as exc:
        raise ValidationError(str(exc), code="parse") from exc
    except UnicodeError as exc:
        raise ValidationError(
            f"The file does not read as {options.encoding}. Choose another encoding.", code="encoding"
        ) from exc


def _sheet_check(path: Path, sheet: str, *, nrows: int | None) -> None:
    try:
        read_sheet(path, sheet, nrows=nrows)
    except WorkbookRefused as exc:
        raise ValidationError(str(exc), code="content") from exc
    except CsvParseError as exc:
        raise ValidationError(f"The sheet “{sheet}” does not read as a table: {exc}", code="parse") from exc


def head_check(fmt: str, head: bytes) -> None:
    """Refuse from the first bytes what is clearly not a file of kind ``fmt``, before anything is stored."""
    if not head:
        raise ValidationError("The file is empty.", code="content")
    if fmt == Upload.Format.XLSX and not head.startswith(ZIP_MAGIC):
        raise ValidationError("This file is not an Excel workbook (.xlsx).", code="content")
    if fmt == Upload.Format.PARQUET and not head.startswith(PARQUET_MAGIC):
        raise ValidationError("This file is not a Parquet file.", code="content")
    reason = refuse_reason(head) if fmt == Upload.Format.CSV else None
    if reason:
        raise ValidationError(reason, code="content")


def stored_check(fmt: str, path: Path, *, size: int) -> dict:
    """Check a stored upload of kind ``fmt``; the parse options to keep with it."""
    if fmt == Upload.Format.XLSX:
        try:
            inspect_workbook(path)
            sheets = workbook_sheets(path)
        except WorkbookRefused as exc:
            raise ValidationError(str(exc), code="content") from exc
        # A workbook packs many cells per byte and openpyxl reads them slowly: only the first rows are read
        # here, whatever its size; the worker reads the rest.
        _sheet_check(path, sheets[0], nrows=CHECK_ROWS)
        return {"sheets": list(sheets), "sheet": sheets[0]}
    if fmt == Upload.Format.PARQUET:
        try:
            inspect_parquet(path)
        except ParquetRefused as exc:
            raise ValidationError(str(exc), code="content") from exc
        return {}
    options = detect_parse_options(path)
    # Small CSVs are parsed in full now so their errors show at once; big ones in the worker.
    parse_check(path, options, nrows=None if size <= settings.SYNC_PARSE_MAX_BYTES else CHECK_ROWS)
    return options.to_dict()


def confirmed_options(upload: Upload, path: Path, options: dict) -> dict:
    """The user's choices on the confirm step, checked against the start of the file; what to keep."""
    if upload.source_format == Upload.Format.XLSX:
        sheet = str(options.get("sheet", ""))
        if sheet not in upload.parse_options.get("sheets", ()):
            raise ValidationError("Choose one of the workbook's sheets.", code="options")
        _sheet_check(path, sheet, nrows=CHECK_ROWS)
        return {**upload.parse_options, "sheet": sheet}
    if upload.source_format == Upload.Format.PARQUET:
        return {}
    try:
        parsed = ParseOptions.from_dict(options)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError(str(exc), code="options") from exc
    parse_check(path, parsed, nrows=CHECK_ROWS)
    return parsed.to_dict()


def to_parquet(upload: Upload, path: Path, out_path: Path, progress: Callable[[int, int], None]) -> ParquetSummary:
    """Read the whole upload into ``out_path``; ValueError (CsvParseError, refusals) in the user's words."""
    if upload.source_format == Upload.Format.XLSX:
        return xlsx_to_parquet(path, upload.parse_options["sheet"], out_path, progress=progress)
    if upload.source_format == Upload.Format.PARQUET:
        return parquet_to_version(path, out_path, progress=progress)
    return csv_to_parquet(path, ParseOptions.from_dict(upload.parse_options), out_path, progress=progress)
