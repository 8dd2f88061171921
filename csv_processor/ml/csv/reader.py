"""Read an uploaded CSV faithfully: the same values as ``pandas.read_csv`` with the confirmed options, or a
``CsvParseError`` naming the line to fix. Nothing is shifted, padded or dropped silently.

``read_csv_sniffed`` returns a DataFrame (``nrows`` for the confirm-parse preview); ``csv_to_parquet`` ingests
a large file to Parquet in bounded memory with the same result.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa

from csv_processor.ml.csv.arrow_compat import NeedsPandas
from csv_processor.ml.csv.chunks import ProgressReader
from csv_processor.ml.csv.engine_arrow import (
    ArrowPlan,
    Restart,
    arrow_can_read,
    iter_tables,
    rows_are_even,
    widen_for,
)
from csv_processor.ml.csv.engine_pandas import check_records, pandas_read
from csv_processor.ml.csv.layout import Layout, read_layout
from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.pandas_chunks import MixedTypes, settle_kinds
from csv_processor.ml.csv.pandas_chunks import iter_tables as iter_pandas_tables
from csv_processor.ml.csv.sinks import FrameSink, ParquetSink, TableSink
from csv_processor.ml.csv.structure import (
    ByteFacts,
    find_bad_record,
    is_ascii_compatible,
    scan_bytes,
    transcode_to_utf8,
)

__all__ = ["CsvParseError", "ParquetSummary", "ParseOptions", "csv_to_parquet", "read_csv_sniffed"]

logger = logging.getLogger(__name__)

_MAX_RESTARTS = 20
# Above this size the pandas path streams a Parquet ingest in chunks (two passes) instead of holding a
# DataFrame of about six times the file size.
CHUNKED_PANDAS_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ParquetSummary:
    rows: int
    columns: int
    column_names: tuple[str, ...]


def read_csv_sniffed(
    path: Path, options: ParseOptions, *, nrows: int | None = None, max_columns: int = 5000
) -> pd.DataFrame:
    """Parse ``path`` with ``options``; ``nrows`` reads only the first rows for a quick preview."""
    if nrows is not None and nrows < 1:
        raise ValueError("nrows must be at least 1.")
    with _utf8_source(Path(path), options) as (source, opts):
        facts = scan_bytes(source, opts)
        layout = read_layout(source, opts, max_columns=max_columns)
        if nrows is not None:
            frame = _preview(source, opts, layout, nrows)
        else:
            sink = FrameSink()
            _ingest(source, opts, layout, facts, sink, lambda _done: None)
            frame = sink.frame()
    _require_rows(len(frame))
    return frame


def csv_to_parquet(
    path: Path,
    options: ParseOptions,
    out_path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_columns: int = 5000,
) -> ParquetSummary:
    """Ingest ``path`` into ``out_path`` (row groups of 65,536 rows); no ``out_path`` is left on error.

    ``progress(bytes_done, bytes_total)`` follows the main parse through the original file's bytes.
    """
    path, out_path = Path(path), Path(out_path)
    total = path.stat().st_size
    report = _monotonic(progress, total)
    with _utf8_source(path, options) as (source, opts):
        facts = scan_bytes(source, opts)
        layout = read_layout(source, opts, max_columns=max_columns)
        scale = total / max(source.stat().st_size, 1)
        with ParquetSink(out_path) as sink:
            _ingest(source, opts, layout, facts, sink, lambda done: report(int(done * scale)))
            _require_rows(sink.rows)
            sink.commit()
    report(total)
    return ParquetSummary(rows=sink.rows, columns=len(layout.names), column_names=layout.names)


def _require_rows(rows: int) -> None:
    if rows == 0:
        raise CsvParseError("The file has a header row but no data rows.")


def _monotonic(progress: Callable[[int, int], None] | None, total: int) -> Callable[[int], None]:
    # A restart re-reads from the start; never make the user's progress bar go backwards.
    best = -1

    def report(done: int) -> None:
        nonlocal best
        done = min(done, total)
        if progress is not None and done > best:
            best = done
            progress(done, total)

    return report


@contextlib.contextmanager
def _utf8_source(path: Path, options: ParseOptions) -> Iterator[tuple[Path, ParseOptions]]:
    """Yield a file whose line breaks and delimiters are ASCII bytes, transcoding UTF-16/32 to a temp copy."""
    if is_ascii_compatible(options.encoding):
        yield path, options
        return
    with tempfile.TemporaryDirectory(prefix="csv-transcode-") as tmp:
        target = Path(tmp) / "utf8.csv"
        transcode_to_utf8(path, options.encoding, target)
        yield target, replace(options, encoding="utf-8-sig")


def _preview(source: Path, options: ParseOptions, layout: Layout, nrows: int) -> pd.DataFrame:
    check_records(source, options, layout, limit=nrows)
    with source.open("rb") as fh:
        fh.seek(layout.data_offset)
        return pandas_read(fh, options, layout, nrows=nrows)


def _ingest(
    source: Path,
    options: ParseOptions,
    layout: Layout,
    facts: ByteFacts,
    sink: TableSink,
    progress: Callable[[int], None],
) -> None:
    data_quotes = facts.quote_count - _header_quotes(source, options, layout)
    if data_quotes % 2 or not facts.quotes_paired:
        # pyarrow accepts a quote left open at the end of the file: an odd count (or quotes that do not
        # pair up as openers and closers) triggers the exact check.
        find_bad_record(source, options, len(layout.names), offset=layout.data_offset, line=layout.data_line)
    plan = ArrowPlan(options, layout, quoted=data_quotes > 0)
    if arrow_can_read(options, layout, suspect_cell=facts.suspect_cell):
        try:
            _ingest_arrow(source, plan, sink, progress)
            return
        except NeedsPandas as reason:
            logger.info("parsing %s with pandas: %s", source.name, reason)
            sink.reset()
    _ingest_pandas(source, plan, sink, progress)


def _header_quotes(source: Path, options: ParseOptions, layout: Layout) -> int:
    with source.open("rb") as fh:
        return fh.read(layout.data_offset).count(options.quotechar.encode("utf-8"))


def _ingest_arrow(source: Path, plan: ArrowPlan, sink: TableSink, progress: Callable[[int], None]) -> None:
    layout = plan.layout
    for _attempt in range(_MAX_RESTARTS):
        sink.reset()
        try:
            for table in iter_tables(plan, source, progress):
                sink.add(table)
            return
        except Restart:
            continue
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if isinstance(exc, pa.ArrowInvalid) and widen_for(plan, exc):
                continue
            find_bad_record(source, plan.options, len(layout.names), offset=layout.data_offset, line=layout.data_line)
            raise NeedsPandas(f"pyarrow failed where the row check did not: {exc}") from exc
    raise NeedsPandas("column types kept changing")


def _ingest_pandas(source: Path, plan: ArrowPlan, sink: TableSink, progress: Callable[[int], None]) -> None:
    options, layout = plan.options, plan.layout
    # pandas pads short rows silently, so rows are checked first: by pyarrow's fast tokenizer when it
    # tokenizes like pandas, else (or when it objects) by the exact record scan that names the line.
    if options.skip_initial_space or not rows_are_even(plan, source):
        check_records(source, options, layout)
    if sink.streaming and source.stat().st_size > CHUNKED_PANDAS_BYTES:
        try:
            kinds = settle_kinds(source, options, layout)
            for table in iter_pandas_tables(source, options, layout, kinds, progress):
                sink.add(table)
            return
        except MixedTypes as reason:
            logger.info("reading %s whole: %s", source.name, reason)
            sink.reset()
    with source.open("rb") as fh:
        fh.seek(layout.data_offset)
        frame = pandas_read(ProgressReader(fh, progress), options, layout)
    sink.add_frame(frame)
