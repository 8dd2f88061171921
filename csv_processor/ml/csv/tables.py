"""Read pages of a Parquet table and write it back out as safe CSV, without loading it whole."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# OWASP CSV injection: a spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# RFC 4180 line ends: the csv writer then quotes every field holding a CR or an LF. With "\n" alone a field
# holding a bare CR was written unquoted, and a spreadsheet split its row there (a live formula could follow).
LINE_END = "\r\n"
# A local file, or one already opened (from an object store, read with range requests).
ParquetSource: TypeAlias = Path | pq.ParquetFile


@dataclass(frozen=True)
class Page:
    frame: pd.DataFrame
    total_rows: int
    offset: int
    positions: tuple[int, ...]  # each row's 0-based position in the whole table (for selecting rows)


def _parquet(source: ParquetSource) -> pq.ParquetFile:
    return source if isinstance(source, pq.ParquetFile) else pq.ParquetFile(source)


def read_page(
    source: ParquetSource,
    *,
    offset: int,
    limit: int,
    sort_by: str | None = None,
    descending: bool = False,
    contains: tuple[str, str] | None = None,
) -> Page:
    """Return rows [offset, offset+limit) in file order, or after filtering and sorting."""
    parquet = _parquet(source)
    if sort_by is None and contains is None:
        frame = _slice_row_groups(parquet, offset, limit)
        return Page(frame, parquet.metadata.num_rows, offset, tuple(range(offset, offset + len(frame))))
    table = parquet.read()
    positions = pa.array(np.arange(table.num_rows))
    if contains is not None:
        column, text = contains
        as_text = pc.cast(table[column], pa.string()) if not pa.types.is_string(table[column].type) else table[column]
        mask = pc.fill_null(pc.match_substring(as_text, text, ignore_case=True), False)
        table, positions = table.filter(mask), positions.filter(mask)
    indices = pa.array(np.arange(offset, min(offset + limit, table.num_rows)), type=pa.int64())
    if sort_by is not None:
        order = "descending" if descending else "ascending"
        ordered = pc.sort_indices(table, sort_keys=[(sort_by, order)], null_placement="at_end")
        indices = ordered.slice(offset, limit)
    kept = positions.take(indices).to_pylist()
    return Page(table.take(indices).to_pandas(), table.num_rows, offset, tuple(kept))


def _slice_row_groups(parquet: pq.ParquetFile, offset: int, limit: int) -> pd.DataFrame:
    """Read only the row groups that hold the wanted rows."""
    groups: list[int] = []
    start_of_first, position = 0, 0
    for index in range(parquet.metadata.num_row_groups):
        size = parquet.metadata.row_group(index).num_rows
        if position + size > offset and position < offset + limit:
            if not groups:
                start_of_first = position
            groups.append(index)
        position += size
    if not groups:
        return parquet.schema_arrow.empty_table().to_pandas()
    table = parquet.read_row_groups(groups)
    return table.slice(offset - start_of_first, limit).to_pandas()


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells and column names that a spreadsheet would run as formulas with a quote; numbers
    stay numbers."""
    frame = frame.copy()
    frame.columns = [f"'{name}" if str(name).startswith(FORMULA_PREFIXES) else name for name in frame.columns]
    # By position: a table may hold two columns of one name.
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            text = series.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False)
            if risky.any():
                frame.isetitem(position, series.where(~risky, "'" + text).array)
    return frame


def frame_to_csv(frame: pd.DataFrame, *, header: bool = True) -> str:
    """The one way the app writes CSV (downloads, batch results): formulas neutralised in the header and
    the values, and every field holding a CR or an LF quoted."""
    return neutralise_formulas(frame).to_csv(index=False, header=header, lineterminator=LINE_END)


def iter_csv_chunks(source: ParquetSource, *, batch_rows: int = 65_536) -> Iterator[str]:
    """Yield the table as CSV text, header first, formulas neutralised."""
    parquet = _parquet(source)
    header = True
    for batch in parquet.iter_batches(batch_size=batch_rows):
        yield frame_to_csv(batch.to_pandas(), header=header)
        header = False
    if header:
        yield frame_to_csv(pd.DataFrame(columns=parquet.schema_arrow.names))
