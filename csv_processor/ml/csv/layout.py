"""Where the data starts and what the columns are called: the header row, or column_1..n without one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.structure import iter_records


@dataclass(frozen=True)
class Layout:
    names: tuple[str, ...]
    data_offset: int  # byte offset of the first data line (after the header and any blank lines before it)
    data_line: int  # 1-based physical line number at data_offset


def read_layout(path: Path, options: ParseOptions, *, max_columns: int) -> Layout:
    """Read only the first record: enough to name the columns and refuse absurdly wide files early."""
    first = next(iter_records(path, options), None)
    if first is None:
        raise CsvParseError("The file is empty: it has no rows and no header.")
    n_fields = len(first.fields)
    if n_fields > max_columns:
        raise CsvParseError(
            f"The file has {n_fields:,} columns; at most {max_columns:,} are supported. "
            "Check the delimiter setting, or split the file.",
            line=first.first_line,
        )
    if not options.has_header:
        return Layout(tuple(f"column_{i}" for i in range(1, n_fields + 1)), 0, 1)
    return Layout(column_names(first.fields), first.end_offset, first.last_line + 1)


def column_names(header: list[str]) -> tuple[str, ...]:
    """Trim names, name empty cells ``column_<position>`` and make duplicates ``name_2``, ``name_3``..."""
    # A UTF-8 BOM survives when the user picked plain utf-8; it is never part of a name.
    cleaned = [cell.replace("\ufeff", "").strip() for cell in header]
    named = [cell or f"column_{i}" for i, cell in enumerate(cleaned, start=1)]
    reserved = set(named)
    used: set[str] = set()
    result = []
    for name in named:
        unique = name
        suffix = 2
        while unique in used or (unique != name and unique in reserved):
            unique = f"{name}_{suffix}"
            suffix += 1
        used.add(unique)
        result.append(unique)
    return tuple(result)
