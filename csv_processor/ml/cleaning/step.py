"""One recorded cleaning step: an operation name and JSON-safe parameters, fitted on the training data.

Its own module, so the operations (ops.py) and the fitting (fitting.py) can both use it without a cycle."""

import json
import logging
from dataclasses import dataclass

from csv_processor.ml.cleaning.schema import OPS, CleaningError, validate_params

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """A fitted step. Construction validates the op and params and keeps a private JSON copy of params.

    Steps compare by value; they are not hashable (params is a dict).
    """

    op: str
    params: dict

    def __post_init__(self) -> None:
        params = validate_params(self.op, self.params, fitted=True)
        _check_combination(self.op, params)
        try:
            # A JSON round trip detaches params from the caller's dict and proves they are JSON-safe.
            params = json.loads(json.dumps(params, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise CleaningError(f"Parameters of {self.op} are not plain values: {exc}") from exc
        object.__setattr__(self, "params", params)

    @property
    def training_only(self) -> bool:
        """Row filters: they shape the training data, and are never replayed on rows to predict."""
        return OPS[self.op].training_only

    @property
    def columns(self) -> list[str]:
        """The columns this step reads (empty for whole-row steps such as deleting selected rows)."""
        if "column" in self.params:
            return [self.params["column"]]
        return list(self.params.get("columns") or [])

    def describe(self) -> str:
        return _DESCRIBERS[self.op](self.params)

    def to_dict(self) -> dict:
        return {"op": self.op, "params": json.loads(json.dumps(self.params))}

    @classmethod
    def from_dict(cls, data: object) -> "Step":
        if not isinstance(data, dict) or set(data) != {"op", "params"}:
            raise CleaningError('A step must be an object with exactly "op" and "params".')
        return cls(op=data["op"], params=data["params"])


def _check_combination(op: str, params: dict) -> None:
    """Rules that tie parameters together, which the per-parameter schema cannot say."""
    if op == "fill_missing" and params["strategy"] != "ffill" and params.get("value") is None:
        raise CleaningError(f"fill_missing with {params['strategy']} needs a value (fit the step on the data).")
    if op == "delete_rows_where" and params["condition"] != "is_missing" and params.get("value") is None:
        raise CleaningError(f"The condition {params['condition']} needs a value to compare with.")
    if op in ("clip_outliers", "remove_outliers") and params["lower"] > params["upper"]:
        raise CleaningError("The lower bound must not be above the upper bound.")


def _q(name: str) -> str:
    return f'"{name}"'


def _names(columns: list[str] | None) -> str:
    return ", ".join(_q(c) for c in columns or [])


def _value(value: object) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:.6g}"
    return _q(value) if isinstance(value, str) else str(value)


_CONDITION_WORDS = {"equals": "equals", "contains": "contains", "less_than": "<", "greater_than": ">"}
_FILL_WORDS = {"mean": "the mean", "median": "the median", "most_frequent": "the most frequent value"}


def _describe_where(p: dict) -> str:
    if p["condition"] == "is_missing":
        return f"Delete rows where {_q(p['column'])} is missing"
    return f"Delete rows where {_q(p['column'])} {_CONDITION_WORDS[p['condition']]} {_value(p['value'])}"


def _describe_fill(p: dict) -> str:
    where = f"Fill missing {_q(p['column'])}"
    if p["strategy"] == "ffill":
        return f"{where} with the previous row's value"
    if p["strategy"] == "constant":
        return f"{where} with {_value(p['value'])}"
    return f"{where} with {_FILL_WORDS[p['strategy']]} ({_value(p['value'])})"


def _describe_bounds(p: dict, verb: str) -> str:
    rule = f"{p['factor']:g} IQR" if p["method"] == "iqr" else f"z-score {p['factor']:g}"
    return f"{verb} {_q(p['column'])} outside [{p['lower']:.6g}, {p['upper']:.6g}] ({rule})"


def _describe_boolean(p: dict) -> str:
    true, false = _names([str(v) for v in p["true_values"]]), _names([str(v) for v in p["false_values"]])
    return f"Convert {_q(p['column'])} to true/false ({true} → true, {false} → false)"


_DESCRIBERS = {
    "delete_rows": lambda p: f"Delete {len(p['positions'])} selected row{'s' * (len(p['positions']) != 1)}",
    "delete_rows_where": _describe_where,
    "drop_duplicates": lambda p: (
        f"Drop rows duplicated in {_names(p['columns'])}" if p.get("columns") else "Drop duplicate rows"
    ),
    "drop_columns": lambda p: f"Drop column{'s' * (len(p['columns']) != 1)} {_names(p['columns'])}",
    "rename_column": lambda p: f"Rename {_q(p['column'])} to {_q(p['new_name'])}",
    "to_number": lambda p: (
        f"Convert {_q(p['column'])} to numbers" + (" (decimal comma)" if p["decimal"] == "," else "")
    ),
    "to_datetime": lambda p: f"Convert {_q(p['column'])} to date/time ({' or '.join(p['formats'])})",
    "to_category": lambda p: f"Convert {_q(p['column'])} to a category",
    "to_boolean": _describe_boolean,
    "fill_missing": _describe_fill,
    "drop_missing": lambda p: (
        f"Drop rows missing {_names(p['columns'])}" if p.get("columns") else "Drop rows missing any value"
    ),
    "replace_values": lambda p: (
        f"Replace {', '.join(_value(v) for v in p['values'])} in {_q(p['column'])} with {_value(p.get('new_value'))}"
    ),
    "trim_whitespace": lambda p: f"Trim whitespace in {_q(p['column'])}",
    "change_case": lambda p: f"Change {_q(p['column'])} to {p['case']} case",
    "clip_outliers": lambda p: _describe_bounds(p, "Clip"),
    "remove_outliers": lambda p: _describe_bounds(p, "Remove rows with"),
    "extract_datetime": lambda p: f"Extract {', '.join(p['parts'])} from {_q(p['column'])}",
}
