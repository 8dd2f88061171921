"""MLflow's scoring-server request formats, read into records: `dataframe_split`, `dataframe_records`,
`instances` or `inputs` (exactly one, with optional `params`), or a CSV body. Errors carry MLflow's
error codes so MLflow clients read them as they would from `mlflow models serve`."""

import io
from dataclasses import dataclass

import pandas as pd

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
BAD_REQUEST = "BAD_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"


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
    try:
        text = body.decode("utf-8")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise ProtocolError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted "
            f"Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '{exc}'"
        ) from exc
    frame = frame.astype(object).where(frame.notna(), None)
    return ScoringInput(frame.to_dict(orient="records"), None)
