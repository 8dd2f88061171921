"""First look at an upload: refuse what is clearly not a CSV, then guess the parse options for the user to confirm.

Only a sample is read. Guesses are pre-filled in the confirm-parse step, never applied behind the user's back.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import charset_normalizer

from csv_processor.ml.csv.dialect import guess_dialect
from csv_processor.ml.csv.options import ParseOptions

logger = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Microsoft Office file (for example an .xls workbook)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "a program (executable)"),
    (b"\xcf\xfa\xed\xfe", "a program (executable)"),
    (b"\xca\xfe\xba\xbe", "a program or Java class file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"ARROW1", "an Arrow/Feather file"),
)
_UTF16_BOMS: tuple[tuple[bytes, str], ...] = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"))
_UTF16_BOMS += ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL_OK = frozenset(b"\t\n\r\f\x1b")
_WESTERN = ("cp1252", "cp125", "cp8", "cp7", "latin", "iso8859", "mac", "ascii")
# charset-normalizer may name the base code page; the Windows superset reads every file the base reads.
_SUPERSETS = {"euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "big5": "big5hkscs"}
_RE_EXPORT = "Export or save it as CSV (comma- or semicolon-separated text) and upload that file."
# Workbooks and Parquet files are imported as they are, when their name says what they are.
_RENAME = "Keep its {suffix} name when you upload it, and it is imported directly."
_XLSX = "an Excel workbook (.xlsx)"


def refuse_reason(head: bytes) -> str | None:
    """A user-facing reason to refuse an upload from its first bytes, or None when it looks like text."""
    if not head:
        return "The file is empty."
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        kind = _zip_kind(head)
        advice = _RENAME if kind == _XLSX else _RE_EXPORT
        return f"This is {kind}, not a CSV. {advice.format(suffix='.xlsx')}"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            advice = _RENAME if magic == b"PAR1" else _RE_EXPORT
            return f"This is {kind}, not a CSV. {advice.format(suffix='.parquet')}"
    if _utf16_encoding(head) is not None:
        return None
    if b"\x00" in head or _control_ratio(head) > 0.1:
        return f"This file contains binary data, not text, so it cannot be a CSV. {_RE_EXPORT}"
    return None


def _zip_kind(head: bytes) -> str:
    if b"xl/" in head or b"spreadsheetml" in head:
        return _XLSX
    if b"opendocument.spreadsheet" in head:
        return "an OpenDocument spreadsheet (.ods)"
    if b"word/" in head or b"opendocument.text" in head:
        return "a word-processor document"
    return "a ZIP archive"


def _control_ratio(head: bytes) -> float:
    controls = sum(1 for byte in head if byte < 0x20 and byte not in _CONTROL_OK)
    return controls / len(head)


def _utf16_encoding(head: bytes) -> str | None:
    """UTF-16/32 by BOM, or UTF-16 without BOM by its tell-tale NUL in every other byte of ASCII text."""
    for bom, name in _UTF16_BOMS:
        if head.startswith(bom):
            return name
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / (len(sample) // 2)
    odd_nuls = sample[1::2].count(0) / (len(sample) // 2)
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def detect_parse_options(path: Path, *, sample_bytes: int = 1_000_000) -> ParseOptions:
    """Guess encoding, delimiter, quote, decimal mark, thousands separator and header from a sample."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(sample_bytes)
    complete = len(head) == path.stat().st_size
    encoding = detect_encoding(head, complete=complete)
    text = _sample_text(head, encoding, complete=complete)
    dialect = guess_dialect(text)
    options = ParseOptions(encoding=encoding, **dialect)
    logger.info("detected parse options for %s: %s", path.name, options.to_dict())
    return options


def detect_encoding(head: bytes, *, complete: bool) -> str:
    """Strict UTF-8 first (with or without BOM), then UTF-16/32, then charset-normalizer for legacy code pages."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    wide = _utf16_encoding(head)
    if wide is not None:
        return wide
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return _legacy_encoding(head if complete else head[: head.rfind(b"\n") + 1] or head)


def _legacy_encoding(head: bytes) -> str:
    matches = list(charset_normalizer.from_bytes(head))
    names = [match.encoding for match in matches]
    logger.debug("charset-normalizer candidates: %s", names)
    # Most 8-bit Western files come from Windows; charset-normalizer ranks look-alike DOS/Baltic pages first.
    if (not names or names[0].startswith(_WESTERN)) and _decodes(head, "cp1252"):
        return "cp1252"
    if not names:
        return "latin-1"
    return _SUPERSETS.get(names[0], names[0])


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _sample_text(head: bytes, encoding: str, *, complete: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    text = text.lstrip("\ufeff")
    if not complete and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # the last line of a sample is usually cut short
    return text
