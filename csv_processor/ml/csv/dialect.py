"""Guess delimiter, quoting, number format and header from decoded sample text.

Each guess uses the evidence a person would: the delimiter that gives every row the same number of fields,
the decimal mark that makes whole columns numeric, a header row whose cells are words above numbers.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from typing import Any

from csv_processor.ml.csv.options import PANDAS_NA_VALUES

DELIMITERS = (",", ";", "\t", "|")
_MAX_RECORDS = 2000
_NA = frozenset(PANDAS_NA_VALUES)
_THOUSANDS = (",", ".", " ", "'")


def guess_dialect(text: str) -> dict[str, Any]:
    delimiter = _guess_delimiter(text, '"')
    quotechar = _guess_quotechar(text, delimiter)
    rows = _records(text, delimiter, quotechar, skip_initial_space=False)
    skip_space = _leading_space_ratio(rows) >= 0.8
    if skip_space:
        rows = _records(text, delimiter, quotechar, skip_initial_space=True)
    body = rows[1:] or rows
    decimal = _guess_decimal(body, delimiter)
    thousands = _guess_thousands(body, decimal)
    return {
        "delimiter": delimiter,
        "quotechar": quotechar,
        "decimal": decimal,
        "thousands": thousands,
        "has_header": _looks_like_header(rows, decimal, thousands),
        "skip_initial_space": skip_space,
    }


def _records(text: str, delimiter: str, quotechar: str, *, skip_initial_space: bool) -> list[list[str]]:
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar=quotechar,
        skipinitialspace=skip_initial_space,
    )
    try:
        rows = list(itertools.islice(reader, _MAX_RECORDS))
    except csv.Error:
        return []
    return [row for row in rows if row and any(cell.strip() for cell in row)]


def _guess_delimiter(text: str, quotechar: str) -> str:
    """The delimiter with the most consistent field count (more fields breaks near-ties)."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        counts = Counter(len(row) for row in _records(text, delimiter, quotechar, skip_initial_space=False))
        if not counts:
            continue
        width, hits = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (round(hits / sum(counts.values()), 2), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _guess_quotechar(text: str, delimiter: str) -> str:
    if '"' in text:
        return '"'
    pattern = re.compile(rf"(?:^|{re.escape(delimiter)})'[^'\n]*'(?={re.escape(delimiter)}|$)", re.M)
    # One quoted cell per data line at least: headers are often written without quotes.
    lines = max(text.count("\n") - 1, 1)
    return "'" if len(pattern.findall(text)) >= lines else '"'


def _leading_space_ratio(rows: list[list[str]]) -> float:
    cells = [cell for row in rows for cell in row[1:] if cell]
    if not cells:
        return 0.0
    return sum(cell.startswith(" ") for cell in cells) / len(cells)


def _columns(rows: list[list[str]]) -> list[list[str]]:
    """Non-empty columns of the rows that have the usual width; NA spellings and blanks left out."""
    width = Counter(len(row) for row in rows).most_common(1)[0][0] if rows else 0
    return [column for column in _columns_by_position(rows, width) if column]


def _number_pattern(decimal: str, thousands: str | None) -> re.Pattern[str]:
    d = re.escape(decimal)
    integer = rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+" if thousands else r"\d+"
    return re.compile(rf"[+-]?(?:(?:{integer})(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?")


def _share_numeric(columns: list[list[str]], pattern: re.Pattern[str], marker: str) -> int:
    """Columns entirely numeric under ``pattern`` that use ``marker`` at least once."""
    return sum(
        all(pattern.fullmatch(value) for value in column) and any(marker in value for value in column)
        for column in columns
    )


def _guess_decimal(body: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."  # a decimal comma would need quotes around every number; treat such files as thousands
    columns = _columns(body)
    comma = _share_numeric(columns, _number_pattern(",", "."), ",")
    dot = _share_numeric(columns, _number_pattern(".", None), ".")
    return "," if comma > dot else "."


def _guess_thousands(body: list[list[str]], decimal: str) -> str | None:
    # The separator may equal the delimiter: "43,550" in a comma file is one quoted field.
    columns = _columns(body)
    plain = _number_pattern(decimal, None)
    best, best_hits = None, 0
    for separator in _THOUSANDS:
        if separator == decimal:
            continue
        grouped = _number_pattern(decimal, separator)
        hits = sum(
            all(grouped.fullmatch(value) for value in column)
            and any(separator in value and not plain.fullmatch(value) for value in column)
            for column in columns
        )
        if hits > best_hits:
            best, best_hits = separator, hits
    return best


def _looks_like_header(rows: list[list[str]], decimal: str, thousands: str | None) -> bool:
    """No header when numeric columns start with a number and no column starts with a word above numbers."""
    if len(rows) < 2:
        return True
    number = _number_pattern(decimal, thousands)
    first, body = rows[0], rows[1:]
    header_votes = data_votes = 0
    for index, column in enumerate(_columns_by_position(body, len(first))):
        if not column or not all(number.fullmatch(value) for value in column):
            continue
        cell = first[index].strip()
        if number.fullmatch(cell):
            data_votes += 1
        elif cell and cell not in _NA:
            header_votes += 1
    return header_votes > 0 or data_votes == 0


def _columns_by_position(rows: list[list[str]], width: int) -> list[list[str]]:
    values: list[list[str]] = [[] for _ in range(width)]
    for row in rows:
        if len(row) != width:
            continue
        for index, cell in enumerate(row):
            cell = cell.strip()
            if cell and cell not in _NA:
                values[index].append(cell)
    return values
