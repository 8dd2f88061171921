"""Parquet files in: check the footer, then copy the rows batch by batch with the CSV path's names and types.

The footer says everything the checks need (columns, rows, the size the data expands to, each column's type),
so a file is refused before any row is read. The version keeps the types the CSV reader produces (64-bit
integers and floats, booleans, text), plus timestamps, which CSV text never carries but cleaning makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from csv_processor.ml.csv.layout import column_names
from csv_processor.ml.csv.reader import ParquetSummary
from csv_processor.ml.csv.sinks import ROW_GROUP_ROWS, ParquetSink

# Read at call time, so a test can lower them. The column cap is the CSV reader's.
MAX_COLUMNS = 5000
# A 200 MB CSV holds at most about 100 million cells ("1,"); run-length encoding packs far more in a Parquet file.
MAX_CELLS = 100_000_000
MAX_EXPANDED_BYTES = 2 * 1024**3
_NOT_PARQUET = "This file is not a valid Parquet file (it is damaged, cut short or another kind of file)."


class ParquetRefused(ValueError):
    """A Parquet file that is not read, with the reason in the user's words."""


@dataclass(frozen=True)
class ParquetFacts:
    rows: int
    columns: int


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)  # reads and checks the footer only
    except (pa.ArrowException, ValueError, OSError) as exc:  # a footer that does not decode is an OSError
        raise ParquetRefused(_NOT_PARQUET) from exc


def inspect_parquet(path: Path) -> ParquetFacts:
    """Refuse a file that is not Parquet, too wide, empty, a decompression bomb or of unsupported types."""
    meta = _open(path).metadata
    if meta.num_columns > MAX_COLUMNS:
        raise ParquetRefused(f"The file has {meta.num_columns:,} columns; at most {MAX_COLUMNS:,} are supported.")
    if meta.num_rows == 0:
        raise ParquetRefused("The file has columns but no rows.")
    if meta.num_rows * meta.num_columns > MAX_CELLS:
        raise ParquetRefused(
            f"The file has {meta.num_rows:,} rows of {meta.num_columns:,} columns; at most {MAX_CELLS:,} values "
            "are read. Split it into smaller files."
        )
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > MAX_EXPANDED_BYTES:
        raise ParquetRefused(
            f"The file's data expands to {expanded / 1024**2:,.0f} MB; at most "
            f"{MAX_EXPANDED_BYTES / 1024**2:,.0f} MB are read. Split it into smaller files."
        )
    _target_schema(_open(path).schema_arrow)
    return ParquetFacts(rows=meta.num_rows, columns=meta.num_columns)


def _target_type(field: pa.Field) -> pa.DataType:
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    if pa.types.is_boolean(kind):
        return pa.bool_()
    if pa.types.is_integer(kind):
        return pa.int64()
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pa.float64()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return pa.string()
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz="UTC" if kind.tz else None)
    if pa.types.is_date(kind):
        return pa.timestamp("us")
    raise ParquetRefused(
        f"The column “{field.name}” holds {kind}, which is not supported: only numbers, text, true/false, "
        "dates and timestamps are. Convert or drop that column, and upload the file again."
    )


def _target_schema(schema: pa.Schema) -> pa.Schema:
    names = column_names([str(name) for name in schema.names])
    return pa.schema([pa.field(name, _target_type(field)) for name, field in zip(names, schema, strict=True)])


def _normalise(batch: pa.RecordBatch, target: pa.Schema) -> pa.Table:
    columns = []
    for column, field in zip(batch.columns, target, strict=True):
        values = column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        # Decimals may lose digits as floats; integers must fit in 64 bits (an overflow refuses the file).
        safe = not pa.types.is_decimal(values.type)
        try:
            columns.append(values.cast(field.type, safe=safe))
        except pa.ArrowInvalid as exc:
            raise ParquetRefused(f"The column “{field.name}” has values that do not fit {field.type}: {exc}") from exc
    return pa.Table.from_arrays(columns, schema=target)


def read_parquet_head(path: Path, *, nrows: int) -> pd.DataFrame:
    """The first ``nrows`` rows as the version will hold them, for the confirm step's preview."""
    source = _open(path)
    target = _target_schema(source.schema_arrow)
    batch = next(source.iter_batches(batch_size=nrows), None)
    if batch is None:
        return target.empty_table().to_pandas()
    return _normalise(batch, target).to_pandas()


def parquet_to_version(
    path: Path, out_path: Path, *, progress: Callable[[int, int], None] | None = None
) -> ParquetSummary:
    """Copy ``path`` into ``out_path`` normalised; ``progress(rows_done, rows_total)``; nothing left on error."""
    facts = inspect_parquet(path)
    source = _open(path)
    target = _target_schema(source.schema_arrow)
    batches = source.iter_batches(batch_size=ROW_GROUP_ROWS)
    with ParquetSink(out_path) as sink:
        while (batch := _next_batch(batches)) is not None:
            sink.add(_normalise(batch, target))
            if progress is not None:
                progress(sink.rows, facts.rows)
        sink.commit()
    return ParquetSummary(rows=sink.rows, columns=len(target), column_names=tuple(target.names))


def _next_batch(batches: Iterator[pa.RecordBatch]) -> pa.RecordBatch | None:
    # Only the source's reads are translated: a failed write (a full disk) stays what it is.
    try:
        return next(batches, None)
    except (pa.ArrowException, OSError) as exc:
        raise ParquetRefused(_NOT_PARQUET) from exc
