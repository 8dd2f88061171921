"""MLflow's scoring-server request formats, read into records: `dataframe_split`, `dataframe_records`,
`instances` or `inputs` (exactly one, with optional `params`), or a CSV body. Errors carry MLflow's
error codes so MLflow clients read them as they would from `mlflow models serve`."""

import csv
import io
from dataclasses import dataclass

import pandas as pd

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
BAD_REQUEST = "BAD_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
MAX_CSV_COLUMNS = 5000  # as for uploads


class ProtocolError(ValueError):
    def __init__(self, message: str, error_code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.error_code = error_code


@dataclass(frozen=True)
class ScoringInput:
    records: list[dict]
    params: dict | None


def scoring_json(payload: object) -> ScoringInput:
    if not isinstance(payload, dict):
        raise ProtocolError(f"The input must be a JSON dictionary with exactly one of the input fields {FORMATS}.")
    keys = [key for key in FORMATS if key in payload]
    if len(keys) != 1:
        raise ProtocolError(
            f"The input must be a JSON dictionary with exactly one of the input fields {FORMATS}. "
            f"Received dictionary with input fields: {sorted(payload)}."
        )
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise ProtocolError("'params' must be a JSON object.", INVALID_PARAMETER_VALUE)
    key = keys[0]
    data = payload[key]
    if key == "dataframe_split":
        return ScoringInput(_split(data), params)
    if key == "dataframe_records":
        return ScoringInput(_records(data, key), params)
    return ScoringInput(_instances(data, key), params)


def _split(data: object) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ProtocolError("'dataframe_split' must be an object with 'columns' and 'data' (a list of rows).")
    columns = data.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise ProtocolError("'dataframe_split.columns' must be a list of column names.")
    rows = data["data"]
    if not all(isinstance(row, list) and len(row) == len(columns) for row in rows):
        raise ProtocolError(f"Every row of 'dataframe_split.data' must be a list of {len(columns)} values.")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _records(data: object, key: str) -> list[dict]:
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ProtocolError(f"'{key}' must be a list of objects (column: value).")
    return data


def _instances(data: object, key: str) -> list[dict]:
    if isinstance(data, dict):
        # Columnar: {"x": [1, 2], "y": [3, 4]}, or one record of scalars.
        if all(isinstance(v, list) for v in data.values()):
            lengths = {len(v) for v in data.values()}
            if len(lengths) != 1:
                raise ProtocolError(f"Every column of '{key}' must have the same number of values.")
            names = list(data)
            return [dict(zip(names, values, strict=True)) for values in zip(*data.values(), strict=True)]
        return [data]
    return _records(data, key)


def scoring_csv(body: bytes) -> ScoringInput:
    """A CSV body as written by `DataFrame.to_csv(index=False)`: header first; values stay text."""
    if not isinstance(body, bytes) or not body.strip():
        raise ProtocolError("The CSV body is empty: send a header row and at least one row of values.")
    if b"\x00" in body:
        raise ProtocolError("The CSV body contains NUL bytes, so it is not text.")
    try:
        text = body.decode("utf-8")
        problem = _shape_problem(text)
        if not problem:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True)
    except (UnicodeDecodeError, ValueError, csv.Error, pd.errors.ParserError) as exc:
        raise ProtocolError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted "
            f"Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '{exc}'"
        ) from exc
    if problem:
        raise ProtocolError(problem)
    # One object array, not a per-column `where`: that costs seconds on a body with thousands of columns.
    # A copy: a one-column frame hands out a read-only view of its data.
    values = frame.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    names = list(frame.columns)
    return ScoringInput([dict(zip(names, row, strict=True)) for row in values.tolist()], None)


def _shape_problem(text: str) -> str | None:
    """A header wider than any model, or a first row wider than the header: pandas would read the first
    columns of such a row as an index and shift every value left (later wide rows fail in pandas)."""
    records = (row for row in csv.reader(io.StringIO(text, newline="")) if row)
    header, first = next(records, []), next(records, [])
    if len(header) > MAX_CSV_COLUMNS:
        return f"The CSV body has {len(header):,} columns; at most {MAX_CSV_COLUMNS:,} are supported."
    if len(first) > len(header):
        return f"The first row has {len(first)} values but the header has {len(header)} columns."
    return None
