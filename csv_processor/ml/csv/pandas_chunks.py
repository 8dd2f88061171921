"""Bounded-memory pandas parse for big files on the pandas path: settle column types, then stream chunks.

pandas infers a type per chunk, and whole-column inference is what the user sees in the preview. A first
pass records each chunk's type, the types are merged the way whole-column inference would merge the
values, and a second pass reads chunk by chunk with those types fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pandas.api import types as ptypes

from csv_processor.ml.csv.chunks import ProgressReader
from csv_processor.ml.csv.engine_pandas import read_csv_kwargs
from csv_processor.ml.csv.layout import Layout
from csv_processor.ml.csv.options import CsvParseError, ParseOptions

logger = logging.getLogger(__name__)

CHUNK_ROWS = 65_536
_ARROW = {"text": pa.large_string(), "float": pa.float64(), "int": pa.int64(), "uint": pa.uint64()}
_ARROW |= {"bool": pa.bool_(), "bool_na": pa.bool_(), "empty": pa.float64()}
_READ_AS = {"text": "str", "float": "float64", "int": "int64", "uint": "uint64", "bool": "bool", "empty": "float64"}


class MixedTypes(Exception):
    """Chunk types that only a whole-file read can settle (for example huge and negative integers)."""


def settle_kinds(path: Path, options: ParseOptions, layout: Layout) -> dict[str, str]:
    """First pass: the whole-column type of every column, from the types pandas gives each chunk."""
    seen: dict[str, set[str]] = {name: set() for name in layout.names}
    for chunk in _chunks(path, options, layout, dtype=None, progress=None):
        for name in layout.names:
            seen[name].add(_chunk_kind(chunk[name]))
    return {name: _merge(kinds) for name, kinds in seen.items()}


def iter_tables(
    path: Path, options: ParseOptions, layout: Layout, kinds: dict[str, str], progress: Callable[[int], None]
) -> Iterator[pa.Table]:
    """Second pass: chunks read with the settled types, as Arrow tables with one schema."""
    dtype = {name: _READ_AS[kind] for name, kind in kinds.items() if kind in _READ_AS}
    schema = pa.schema([(name, _ARROW[kinds[name]]) for name in layout.names])
    for chunk in _chunks(path, options, layout, dtype=dtype, progress=progress):
        for name, kind in kinds.items():
            if kind == "bool_na":
                chunk[name] = chunk[name].astype(object)
        yield pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)


def _chunks(
    path: Path,
    options: ParseOptions,
    layout: Layout,
    *,
    dtype: dict[str, str] | None,
    progress: Callable[[int], None] | None,
) -> Iterator[pd.DataFrame]:
    with path.open("rb") as fh:
        fh.seek(layout.data_offset)
        source = ProgressReader(fh, progress) if progress else fh
        try:
            yield from pd.read_csv(source, **read_csv_kwargs(options, layout), dtype=dtype, chunksize=CHUNK_ROWS)
        except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
            logger.warning("pandas rejected a chunk the row check accepted: %s", exc)
            raise CsvParseError(f"The file could not be read as CSV: {exc}") from None


def _chunk_kind(series: pd.Series) -> str:
    if series.isna().all():
        return "empty"
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return "bool"
    if ptypes.is_unsigned_integer_dtype(dtype):
        return "uint"
    if ptypes.is_integer_dtype(dtype):
        return "int"
    if ptypes.is_float_dtype(dtype):
        return "float"
    if ptypes.is_object_dtype(dtype) and series.dropna().map(type).isin([bool]).all():
        return "bool_na"  # pandas' booleans with gaps
    return "text"


def _merge(kinds: set[str]) -> str:
    """The type pandas would give the whole column, from the types of its chunks."""
    if "text" in kinds:
        return "text"
    present = kinds - {"empty"}
    if not present:
        return "empty"
    if present <= {"bool", "bool_na"}:
        return "bool" if kinds == {"bool"} else "bool_na"
    if present & {"bool", "bool_na"}:
        return "text"  # True next to numbers: pandas keeps the column as text
    if present == {"uint"}:
        return "uint" if "empty" not in kinds else "float"
    if "uint" in present:
        raise MixedTypes("integers beyond int64 next to other numbers")
    return "int" if kinds == {"int"} else "float"
