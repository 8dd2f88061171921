"""Where pyarrow's CSV reading differs from pandas', and how those differences are closed or detected."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAX_EXACT_FLOAT = 2.0**53
_MAX_PROBES = 20_000
# Cells pyarrow reads differently: 0x1F becomes the integer 31 (pandas: text) and +5 a float (pandas: int).
_SUSPECT_CELL = re.compile(rb'[ \t]*"?[ \t]*(?:[+-]?0[xX][0-9a-fA-F]+|\+\d+)[ \t]*"?[ \t]*')
_CONTEXT = 32  # bytes either side of a candidate that can hold the rest of such a cell


class NeedsPandas(Exception):
    """The file has a feature where pyarrow's reading differs from pandas; parse it with pandas instead."""


class SuspectCellFinder:
    """Spot, block by block, cells that pyarrow and pandas would read as different values or types."""

    def __init__(self, delimiter: bytes) -> None:
        self.delimiter = delimiter
        self.found = False
        self._tail = b""
        self._probes = 0

    def feed(self, block: bytes) -> None:
        if self.found:
            return
        # The block itself, then the seam with the previous block; no copy of the whole block.
        seam = self._tail + block[:_CONTEXT]
        self.found = self._search(block, start=0) or (bool(self._tail) and self._search(seam, start=_CONTEXT))
        self._tail = block[-2 * _CONTEXT :]

    def _search(self, window: bytes, *, start: int) -> bool:
        for pos in _candidates(window, start=start):
            self._probes += 1
            # Past many candidates, checking one by one costs more than letting pandas decide.
            if self._probes > _MAX_PROBES or _is_suspect_cell(window, pos, self.delimiter):
                return True
        return False


def _candidates(window: bytes, *, start: int) -> Iterator[int]:
    """Offsets of every "0x", "0X" and "+" at or after ``start``.

    Vectorised: a Python loop over bytes.find would stop at every "x" of ordinary text (or of "xxxx...").
    The ``in`` tests are a fast memchr that skips the array work for the usual block without these bytes.
    """
    data = np.frombuffer(window, dtype=np.uint8)
    found = []
    for letter in (b"x", b"X"):
        if letter in window:
            hits = np.flatnonzero(data == letter[0])
            hits = hits[hits > 0]
            found.append(hits[data[hits - 1] == ord("0")] - 1)
    if b"+" in window:
        found.append(np.flatnonzero(data == ord("+")))
    for pos in np.concatenate(found) if found else ():
        if pos >= start:
            yield int(pos)


def _is_suspect_cell(window: bytes, pos: int, delimiter: bytes) -> bool:
    # Bounded searches: an unbounded rfind for a separator that never occurs would rescan the whole block.
    separators = (delimiter, b"\n", b"\r")
    low, high = max(0, pos - _CONTEXT), min(len(window), pos + _CONTEXT)
    starts = [s for s in (window.rfind(sep, low, pos) for sep in separators) if s != -1]
    ends = [e for e in (window.find(sep, pos, high) for sep in separators) if e != -1]
    if (not starts and low > 0) or (not ends and high < len(window)):
        return False  # the cell is longer than any number that could be affected
    start = max(starts) + 1 if starts else 0
    end = min(ends) if ends else len(window)
    return bool(_SUSPECT_CELL.fullmatch(window[start:end]))


def pandas_compatible(table: pa.Table, na_values: tuple[str, ...], *, probe: bool) -> pa.Table:
    """Apply numeric NA markers like pandas, or raise NeedsPandas where pyarrow's reading may differ."""
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = _mask_numeric_na(column, na_values)
        _refuse_lossy(name, column, probe=probe)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _mask_numeric_na(column: pa.ChunkedArray, na_values: tuple[str, ...]) -> pa.ChunkedArray:
    # pandas also treats "-200.0" or "-200,0" as the NA marker -200 in numeric columns: compare as numbers.
    if not na_values or not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        return column
    for marker in na_values:
        number = _as_number(marker)
        if number is not None:
            hit = pc.equal(pc.cast(column, pa.float64()), number)
            column = pc.if_else(hit, pa.scalar(None, column.type), column)
    return column


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _refuse_lossy(name: str, column: pa.ChunkedArray, *, probe: bool) -> None:
    if pa.types.is_floating(column.type) and column.length() > column.null_count:
        biggest = pc.max(pc.abs(pc.fill_null(column, 0.0))).as_py()
        if biggest is not None and biggest >= _MAX_EXACT_FLOAT:
            raise NeedsPandas(f"column {name!r} may hold integers too large for float64")
    if probe and pa.types.is_string(column.type) and _numeric_after_trim(column):
        raise NeedsPandas(f"column {name!r} holds padded numbers that pandas reads as numbers")


def _numeric_after_trim(column: pa.ChunkedArray) -> bool:
    values = pc.drop_null(column)
    # A text column fails on its first rows almost always; try those before the whole column.
    return len(values) > 0 and _casts_to_float(values.slice(0, 1000)) and _casts_to_float(values)


def _casts_to_float(values: pa.ChunkedArray) -> bool:
    try:
        pc.cast(pc.utf8_trim_whitespace(values), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
