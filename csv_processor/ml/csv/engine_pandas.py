"""pandas' C engine: the reference semantics, used for previews and for options pyarrow lacks.

Used for ``nrows`` previews (pandas stops reading early), thousands separators, skip_initial_space, and
files where pyarrow's guesses would differ from pandas'. Rows are checked first because pandas pads short
rows with NaN and, when only the first data row is long, silently moves a column into the index.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from csv_processor.ml.csv.chunks import ProgressReader
from csv_processor.ml.csv.layout import Layout
from csv_processor.ml.csv.options import CsvParseError, ParseOptions
from csv_processor.ml.csv.structure import iter_records, ragged_error

logger = logging.getLogger(__name__)


def check_records(path: Path, options: ParseOptions, layout: Layout, *, limit: int | None = None) -> None:
    """Raise CsvParseError for the first ragged row or unclosed quote, reading at most ``limit`` records."""
    records = iter_records(path, options, offset=layout.data_offset, line=layout.data_line)
    for record in itertools.islice(records, limit):
        if len(record.fields) != len(layout.names):
            raise ragged_error(record, len(layout.names), options.has_header)


def pandas_read(
    source: BinaryIO | ProgressReader, options: ParseOptions, layout: Layout, *, nrows: int | None = None
) -> pd.DataFrame:
    """Parse from ``source`` positioned at ``layout.data_offset``; rows must already be checked."""
    try:
        return pd.read_csv(source, **read_csv_kwargs(options, layout), nrows=nrows)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        # check_records ran first, so this is a disagreement between tokenizers, not a user mistake.
        logger.warning("pandas rejected a file the row check accepted: %s", exc)
        raise CsvParseError(f"The file could not be read as CSV: {exc}") from None


def read_csv_kwargs(options: ParseOptions, layout: Layout) -> dict[str, Any]:
    encoding = options.encoding
    if encoding == "utf-8-sig" and layout.data_offset:
        encoding = "utf-8"  # the BOM is already behind us with the header
    return {
        "sep": options.delimiter,
        "quotechar": options.quotechar,
        "decimal": options.decimal,
        "thousands": options.thousands,
        "skipinitialspace": options.skip_initial_space,
        "na_values": list(options.na_values) or None,
        "header": None,
        "names": list(layout.names),
        "index_col": False,
        "encoding": encoding,
        "encoding_errors": "strict",
        "engine": "c",
        # Whole-column type inference, like pyarrow's path; chunked inference can mix types in one column.
        "low_memory": False,
    }
