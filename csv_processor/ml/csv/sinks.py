"""Where parsed pieces go: a DataFrame in memory, or a Parquet file written row group by row group."""

from __future__ import annotations

import logging
import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

# Small enough that a 50-row page preview reads one row group, big enough for good compression.
ROW_GROUP_ROWS = 65_536


class TableSink(Protocol):
    streaming: bool  # True when pieces leave memory as they arrive, so chunked parsing pays off

    def reset(self) -> None: ...

    def add(self, table: pa.Table) -> None: ...

    def add_frame(self, frame: pd.DataFrame) -> None: ...


class FrameSink:
    """Collect pieces and hand them back as one DataFrame."""

    streaming = False

    def __init__(self) -> None:
        self._tables: list[pa.Table] = []
        self._frame: pd.DataFrame | None = None

    def reset(self) -> None:
        self._tables, self._frame = [], None

    def add(self, table: pa.Table) -> None:
        self._tables.append(table)

    def add_frame(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def frame(self) -> pd.DataFrame:
        if self._frame is not None:
            return self._frame
        if not self._tables:
            return pd.DataFrame()
        return pa.concat_tables(self._tables).to_pandas()


class ParquetSink:
    """Write to a hidden temporary file next to ``out_path`` and move it into place only on ``commit``.

    Row groups are written on a background thread while the next piece is parsed (both release the GIL);
    at most one write is in flight, so memory stays bounded.
    """

    streaming = True

    def __init__(self, out_path: Path) -> None:
        self.out_path = out_path
        self.rows = 0
        self._tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.partial")
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self._inflight: Future[None] | None = None

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._discard()
        self._executor.shutdown(wait=True)

    def reset(self) -> None:
        self._discard()
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(final=False)

    def add_frame(self, frame: pd.DataFrame) -> None:
        self.add(pa.Table.from_pandas(frame, preserve_index=False))

    def commit(self) -> None:
        self._flush(final=True)
        self._wait()
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        os.replace(self._tmp, self.out_path)

    def _flush(self, *, final: bool) -> None:
        if not self._pending:
            return
        table = pa.concat_tables(self._pending)
        whole = table.num_rows if final else table.num_rows - table.num_rows % ROW_GROUP_ROWS
        rest = table.slice(whole)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._wait()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._inflight = self._executor.submit(
            self._writer.write_table, table.slice(0, whole), row_group_size=ROW_GROUP_ROWS
        )

    def _wait(self) -> None:
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            inflight.result()  # re-raise a failed write here, in the caller's thread

    def _discard(self) -> None:
        try:
            self._wait()
        except (OSError, pa.ArrowException) as exc:
            logger.info("discarding a Parquet file whose write failed: %s", exc)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._pending, self._pending_rows = [], 0
        self._tmp.unlink(missing_ok=True)
