"""The cleaning operations and their parameters, declared once: validation and the web forms read this.

Each parameter has a `kind` the form layer can map to a widget:
  column        one existing column name
  columns       a non-empty list of column names
  columns_opt   a list of column names, or null for "all columns"
  text          a string            number   an int or float        positions  a list of row positions
  scalar        str, number, bool or null                            scalars    a non-empty list of scalars
  choice        one of `choices`    choices  a non-empty list drawn from `choices`
  text_opt      a string or null    formats  a non-empty list of strftime formats (or "ISO8601")
`fitted` parameters are computed by fit_step from the data (a form may offer them as overrides).
"""

import math
from dataclasses import asdict, dataclass, field


class CleaningError(ValueError):
    """A problem with a cleaning request that the user can fix; the message is shown to them as is."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    required: bool = True
    choices: tuple[str, ...] = ()
    default: object = None
    fitted: bool = False
    help: str = ""


@dataclass(frozen=True)
class OpSpec:
    op: str
    label: str
    training_only: bool
    params: tuple[Param, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)


CONDITIONS = ("equals", "contains", "less_than", "greater_than", "is_missing")
FILL_STRATEGIES = ("mean", "median", "most_frequent", "constant", "ffill")
OUTLIER_METHODS = ("iqr", "zscore")
CASES = ("lower", "upper", "title")
DATETIME_PARTS = ("year", "month", "day", "weekday", "hour")
_COL = Param("column", "column")
_BOUNDS = (
    Param("method", "choice", choices=OUTLIER_METHODS, default="iqr"),
    Param("factor", "number", required=False, help="IQR multiple (default 1.5) or z-score limit (default 3)"),
    Param("lower", "number", fitted=True),
    Param("upper", "number", fitted=True),
)

OPS: dict[str, OpSpec] = {
    spec.op: spec
    for spec in (
        OpSpec("delete_rows", "Delete selected rows", True, (Param("positions", "positions"),)),
        OpSpec(
            "delete_rows_where",
            "Delete rows where a condition holds",
            True,
            (_COL, Param("condition", "choice", choices=CONDITIONS), Param("value", "scalar", required=False)),
        ),
        OpSpec("drop_duplicates", "Drop duplicate rows", True, (Param("columns", "columns_opt", required=False),)),
        OpSpec("drop_columns", "Drop columns", False, (Param("columns", "columns"),)),
        OpSpec("rename_column", "Rename a column", False, (_COL, Param("new_name", "text"))),
        OpSpec(
            "to_number",
            "Convert to number",
            False,
            (_COL, Param("decimal", "choice", choices=(".", ","), fitted=True, help="detected when left empty")),
        ),
        OpSpec(
            "to_datetime",
            "Convert to date/time",
            False,
            (_COL, Param("formats", "formats", fitted=True, help="strftime formats; detected when left empty")),
        ),
        OpSpec("to_category", "Convert to category", False, (_COL,)),
        OpSpec(
            "to_boolean",
            "Convert to true/false",
            False,
            (_COL, Param("true_values", "scalars", fitted=True), Param("false_values", "scalars", fitted=True)),
        ),
        OpSpec(
            "fill_missing",
            "Fill missing values",
            False,
            (
                _COL,
                Param("strategy", "choice", choices=FILL_STRATEGIES),
                Param("value", "scalar", required=False, fitted=True, help="the constant, or the fitted value"),
            ),
        ),
        OpSpec("drop_missing", "Drop rows missing a value", True, (Param("columns", "columns_opt", required=False),)),
        OpSpec(
            "replace_values",
            "Replace values",
            False,
            (
                _COL,
                Param("values", "scalars", help="values to replace, e.g. -999, ?, n/a, unknown"),
                Param("new_value", "scalar", required=False, help="null (the default) means missing"),
            ),
        ),
        OpSpec("trim_whitespace", "Trim whitespace", False, (_COL,)),
        OpSpec("change_case", "Change case", False, (_COL, Param("case", "choice", choices=CASES))),
        OpSpec("clip_outliers", "Clip outliers", False, (_COL, *_BOUNDS)),
        OpSpec("remove_outliers", "Remove outlier rows", True, (_COL, *_BOUNDS)),
        OpSpec(
            "extract_datetime",
            "Extract parts of a date/time",
            False,
            (_COL, Param("parts", "choices", choices=DATETIME_PARTS)),
        ),
    )
}


def op_schema() -> list[dict]:
    """Every operation with its parameters, JSON-safe, for generating forms."""
    return [spec.to_dict() for spec in OPS.values()]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _nonempty_list(value: object, item_ok) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(item_ok(v) for v in value)


_KIND_CHECKS = {
    "column": lambda v, p: isinstance(v, str) and v != "",
    "text": lambda v, p: isinstance(v, str) and v.strip() != "",
    "text_opt": lambda v, p: v is None or isinstance(v, str),
    "columns": lambda v, p: _nonempty_list(v, lambda c: isinstance(c, str)),
    "columns_opt": lambda v, p: v is None or _nonempty_list(v, lambda c: isinstance(c, str)),
    "number": lambda v, p: _is_number(v),
    "scalar": lambda v, p: _is_scalar(v),
    "scalars": lambda v, p: _nonempty_list(v, _is_scalar),
    "positions": lambda v, p: (
        isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in v)
    ),
    "choice": lambda v, p: v in p.choices,
    "choices": lambda v, p: _nonempty_list(v, lambda c: c in p.choices) and len(set(v)) == len(v),
    "formats": lambda v, p: _nonempty_list(v, lambda f: isinstance(f, str) and f != ""),
}


def validate_params(op: str, params: object, *, fitted: bool) -> dict:
    """Return `params` with defaults filled in, or raise CleaningError naming the first problem.

    With fitted=True every fitted parameter must be present (a step ready to apply); with
    fitted=False they may be left out for fit_step to compute.
    """
    spec = OPS.get(op) if isinstance(op, str) else None
    if spec is None:
        raise CleaningError(f"Unknown cleaning operation {op!r}.")
    if not isinstance(params, dict):
        raise CleaningError(f"Parameters of {op} must be an object.")
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise CleaningError(f"Unknown parameter {unknown[0]!r} for {op}.")
    out = {}
    for param in spec.params:
        if param.name in params:
            value = params[param.name]
        elif param.default is not None:
            value = param.default
        elif not param.required or (param.fitted and not fitted):
            continue
        else:
            raise CleaningError(f"{op} needs the parameter {param.name!r}.")
        if not _KIND_CHECKS[param.kind](value, param):
            raise CleaningError(_bad_param_message(op, param, value))
        out[param.name] = value
    return out


def _bad_param_message(op: str, param: Param, value: object) -> str:
    if param.choices:
        return f"{param.name!r} of {op} must be one of {', '.join(param.choices)}, not {value!r}."
    return f"{param.name!r} of {op} has an invalid value {value!r} (expected {param.kind})."
