"""Excel workbooks and Parquet files made in tests: real ones from openpyxl and pyarrow, and hostile copies of
a real workbook with parts added (a VBA project, external links, a zip bomb)."""

import io
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    """A workbook with one sheet per entry, rows appended in order (an empty list is a blank row)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_parts(base: bytes, parts: dict[str, bytes]) -> bytes:
    """A copy of the workbook ``base`` with ``parts`` added, or put in place of its parts of those names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in original.infolist():
            if info.filename not in parts:
                out.writestr(info, original.read(info))
        for name, data in parts.items():
            out.writestr(name, data)
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
