"""Read a file in fixed-size blocks, or in pieces that end on a line break.

Plain reads instead of mmap: every page a mapping touches counts as resident memory of the worker, so
mapping a 1 GB upload would look (to the kernel's accounting and to our memory bar) like holding it all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

BLOCK_BYTES = 4 * 1024 * 1024


def iter_blocks(path: Path, *, start: int = 0, size: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, block)`` pairs covering the file from ``start``."""
    with path.open("rb") as fh:
        fh.seek(start)
        offset = start
        while block := fh.read(size):
            yield offset, block
            offset += len(block)


def iter_line_pieces(path: Path, *, start: int, size: int) -> Iterator[tuple[int, bytes]]:
    """Yield ``(end_offset, piece)`` of about ``size`` bytes, each ending just after a ``\\n`` (or at EOF)."""
    # Find each cut with a small read, then read the piece in one go: one allocation per piece keeps the
    # allocator from fragmenting (joining a carried-over tail to each block doubled peak memory).
    total = path.stat().st_size
    with path.open("rb") as fh:
        while start < total:
            end = _next_line_end(fh, min(start + size, total), total)
            fh.seek(start)
            yield end, fh.read(end - start)
            start = end


def _next_line_end(fh: BinaryIO, offset: int, total: int) -> int:
    """Offset just after the first ``\\n`` at or after ``offset``, or ``total``."""
    fh.seek(offset)
    while offset < total:
        probe = fh.read(64 * 1024)
        newline = probe.find(b"\n")
        if newline != -1:
            return offset + newline + 1
        offset += len(probe)
    return total


class ProgressReader(io.RawIOBase):
    """A read-only file wrapper that reports its position, so pandas' parse can drive a progress bar."""

    def __init__(self, fh: BinaryIO, progress: Callable[[int], None]) -> None:
        super().__init__()
        self._fh = fh
        self._progress = progress

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        # A blocking file: RawIOBase.read gives None only for a non-blocking one, so this is always bytes.
        return super().read(size) or b""

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        self._progress(self._fh.tell())
        return count
