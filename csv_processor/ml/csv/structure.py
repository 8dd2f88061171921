"""Structural checks of a CSV file: bytes (empty, NUL, huge lines, encoding) and records (ragged rows, quotes).

The parsers downstream (pyarrow, pandas) either guess silently or fail without a line number; these checks
run first or on their error path so the user is told which physical line to fix.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csv_processor.ml.csv.arrow_compat import SuspectCellFinder
from csv_processor.ml.csv.chunks import iter_blocks
from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.quotes import QuotePairing

logger = logging.getLogger(__name__)

LINE_LIMIT_BYTES = 10 * 1024 * 1024
_WINDOW = 4 * 1024 * 1024  # smaller than LINE_LIMIT_BYTES so a too-long line always crosses a window edge
_ASCII_PROBE = ',;|\t"\n'
_BLANK = b" \t\r\n\xef\xbb\xbf"


def is_ascii_compatible(encoding: str) -> bool:
    """True when delimiters and line breaks are single ASCII bytes (not UTF-16/32, not EBCDIC)."""
    encoder = codecs.getincrementalencoder(encoding)()
    encoder.encode("x")  # let BOM-writing codecs emit their BOM first
    return encoder.encode(_ASCII_PROBE) == _ASCII_PROBE.encode("ascii")


@dataclass(frozen=True)
class ByteFacts:
    quote_count: int  # quote characters in the whole file
    suspect_cell: bool  # a cell such as 0x1F or +5, which pyarrow and pandas read differently
    quotes_paired: bool = True  # as many quotes open a field as close one (see QuotePairing)


def scan_bytes(path: Path, options: ParseOptions) -> ByteFacts:
    """Reject empty files, NUL bytes and lines over 10 MB; gather facts for the parser. One pass, in blocks."""
    if path.stat().st_size == 0:
        raise CsvParseError("The file is empty.")
    quote = options.quotechar.encode("utf-8")
    suspects = SuspectCellFinder(options.delimiter.encode("utf-8"))
    pairing = QuotePairing(options.delimiter.encode("utf-8"))
    has_text, has_lf, run, quotes = False, False, 0, 0
    for offset, block in iter_blocks(path, size=_WINDOW):
        has_text = has_text or bool(block.strip(_BLANK))
        has_lf = has_lf or b"\n" in block
        nul = block.find(b"\x00")
        if nul != -1:
            raise CsvParseError(
                "The file contains NUL (zero) bytes, so it is probably not a plain-text CSV or it is corrupted. "
                "Re-export it from the source program as CSV (UTF-8).",
                line=line_of_offset(path, offset + nul),
            )
        run = _check_line_lengths(path, offset, block, run)
        array = np.frombuffer(block, dtype=np.uint8)
        at = np.flatnonzero(array == quote[0])  # 3x faster than bytes.count
        quotes += at.size
        suspects.feed(block)
        pairing.feed(array, at)
    if not has_text:
        raise CsvParseError("The file is empty: it holds only blank lines.")
    if not has_lf and b"\r" in block.rstrip(b"\r"):
        raise CsvParseError(
            "The file uses old Macintosh line endings (a lone CR between lines). Re-save it as "
            '"CSV UTF-8" (or with Windows or Unix line endings) and upload it again.'
        )
    return ByteFacts(quote_count=quotes, suspect_cell=suspects.found, quotes_paired=pairing.paired())


def _check_line_lengths(path: Path, offset: int, block: bytes, run: int) -> int:
    """Return the length of the line still open at the end of ``block``; raise if any line is too long."""
    # A block is smaller than the limit, so only a line crossing block edges can exceed it. Look for "\r"
    # only when a block has no "\n": it matters for old Mac files alone and costs a full pass.
    first, last = block.find(b"\n"), block.rfind(b"\n")
    if first == -1:
        first, last = block.find(b"\r"), block.rfind(b"\r")
    run += first if first != -1 else len(block)
    if run > LINE_LIMIT_BYTES:
        raise CsvParseError(
            "A single line is longer than 10 MB. This is not a normal table row; the file may not be a CSV, "
            "or its line breaks were lost.",
            line=line_of_offset(path, offset + max(first, 0)),
        )
    return run if first == -1 else len(block) - last - 1


def line_of_offset(path: Path, offset: int) -> int:
    """1-based line number of the byte at ``offset`` (error path only: it reads the file up to there)."""
    lines = 1
    for start, block in iter_blocks(path, size=_WINDOW):
        if start + len(block) > offset:
            return lines + block[: offset - start].count(b"\n")
        lines += block.count(b"\n")
    return lines


def transcode_to_utf8(path: Path, encoding: str, out_path: Path) -> None:
    """Rewrite a UTF-16/32 (or other non-ASCII-based) file as UTF-8, naming the line of any invalid bytes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines_done = 0
    with path.open("rb") as src, out_path.open("wb") as dst:
        while True:
            chunk = src.read(_WINDOW)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                partial = exc.object[: exc.start].decode(encoding, errors="replace")
                raise _decode_error(encoding, lines_done + partial.count("\n") + 1) from None
            except UnicodeError:  # e.g. "UTF-16 stream does not start with BOM": no position to report
                raise _decode_error(encoding, None) from None
            lines_done += text.count("\n")
            dst.write(text.encode("utf-8"))
            if not chunk:
                return


def _decode_error(encoding: str, line: int | None) -> CsvParseError:
    return CsvParseError(
        f"This line contains bytes that are not valid {encoding} text. The file was probably saved with a "
        "different encoding: choose the right one in the parse options, or re-save the file as UTF-8.",
        line=line,
    )


_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


@dataclass(frozen=True)
class Record:
    fields: list[str]
    first_line: int
    last_line: int
    end_offset: int  # byte offset just after the record's last line


class _LineFeeder:
    """Yields decoded physical lines to ``csv.reader`` while tracking line numbers and byte offsets."""

    def __init__(self, fh: io.BufferedReader, encoding: str, offset: int, line: int) -> None:
        self.fh = fh
        self.encoding = "utf-8" if encoding == "utf-8-sig" and offset else encoding
        self.offset = offset
        self.line = line - 1  # number of the last line handed out
        self.raw: list[str] = []
        self.pieces: list[bytes] = []  # the rest of a line split at lone CRs

    @property
    def next_line(self) -> int:
        """The number of the line the next record starts on."""
        return self.line if self.pieces else self.line + 1

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self.pieces.pop(0) if self.pieces else self._read_line()
        self.offset += len(raw)
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            raise _decode_error(self.encoding, self.line) from None
        if self.encoding == "utf-8-sig":
            self.encoding = "utf-8"  # the BOM can only open the file
        self.raw.append(text)
        return text

    def _read_line(self) -> bytes:
        raw = self.fh.readline(LINE_LIMIT_BYTES + 1)
        if not raw:
            raise StopIteration
        if len(raw) > LINE_LIMIT_BYTES:
            raise CsvParseError("A single line is longer than 10 MB.", line=self.line + 1)
        self.line += 1
        if b"\r" in raw.removesuffix(b"\r\n"):
            # pandas ends a row at a lone CR too; csv.reader wants such a line handed to it in pieces.
            # A CR byte is never part of a multi-byte character in the encodings read here (UTF-16/32
            # are transcoded to UTF-8 first).
            raw, *self.pieces = [piece for piece in _LONE_CR.split(raw) if piece]
        return raw


def iter_records(path: Path, options: ParseOptions, *, offset: int = 0, line: int = 1) -> Iterator[Record]:
    """Parse records with the same tokenizer rules as pandas' C engine; blank lines are skipped like pandas."""
    csv.field_size_limit(max(csv.field_size_limit(), LINE_LIMIT_BYTES))
    with path.open("rb") as fh:
        fh.seek(offset)
        feeder = _LineFeeder(fh, options.encoding, offset, line)
        reader = csv.reader(
            feeder,
            delimiter=options.delimiter,
            quotechar=options.quotechar,
            doublequote=True,
            skipinitialspace=options.skip_initial_space,
            strict=False,
        )
        while True:
            first = feeder.next_line
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _tokenizer_error(exc, first) from None
            _check_quotes_closed(feeder, options, first)
            # pandas skips lines holding only spaces (but keeps a quoted "  "), so judge the raw text.
            blank = not "".join(feeder.raw).strip()
            feeder.raw = []
            if not blank:
                yield Record(row, first, feeder.line, feeder.offset)


def _check_quotes_closed(feeder: _LineFeeder, options: ParseOptions, first: int) -> None:
    # csv in non-strict mode returns a quote left open at end of file as a field: pandas rejects it, so do we.
    # Only the last record is re-read: with a line after it, an open quote swallows that line too.
    if options.quotechar not in "".join(feeder.raw) or feeder.fh.peek(1):
        return
    reader = csv.reader(
        [*feeder.raw, "\n", _SENTINEL],
        delimiter=options.delimiter,
        quotechar=options.quotechar,
        doublequote=True,
        skipinitialspace=options.skip_initial_space,
        strict=False,
    )
    if list(reader)[-1:] != [[_SENTINEL]]:
        raise _unclosed_quote(first)


_SENTINEL = "\x1d-end-of-file-\x1d"


def _tokenizer_error(exc: csv.Error, line: int) -> CsvParseError:
    if "field larger than field limit" in str(exc):
        return CsvParseError(
            "A value starting here is longer than 10 MB: a quote opened in this row is probably never closed.",
            line=line,
        )
    logger.info("csv tokenizer rejected line %s: %s", line, exc)
    return CsvParseError(f"This row cannot be read as CSV ({exc}).", line=line)


def _unclosed_quote(line: int) -> CsvParseError:
    return CsvParseError(
        f"A quote opened on line {line} is never closed, so the rest of the file would be read as one value. "
        "Add the missing closing quote or choose a different quote character.",
        line=line,
    )


def find_bad_record(path: Path, options: ParseOptions, n_fields: int, *, offset: int, line: int) -> None:
    """Raise CsvParseError for the first record whose field count differs from ``n_fields``."""
    for record in iter_records(path, options, offset=offset, line=line):
        if len(record.fields) != n_fields:
            raise ragged_error(record, n_fields, options.has_header)


def ragged_error(record: Record, n_fields: int, has_header: bool) -> CsvParseError:
    reference = f"the header has {n_fields} columns" if has_header else f"the first row has {n_fields} values"
    message = (
        f"This row has {len(record.fields)} values but {reference}. Nothing was shifted or dropped: fix the row "
        "(an extra or missing delimiter, or a value that needs quotes) or check the delimiter setting."
    )
    if record.last_line > record.first_line:
        message += (
            f" The row runs from line {record.first_line} to line {record.last_line}, "
            "so a quote may be missing its closing partner."
        )
    return CsvParseError(message, line=record.first_line)
