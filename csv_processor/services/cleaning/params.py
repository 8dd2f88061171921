"""Turn the strings of a cleaning form into the typed parameters an operation expects."""

from django.core.exceptions import ValidationError

from csv_processor.ml.cleaning.schema import OPS, op_schema


def cleaning_op_specs() -> list[dict]:
    """Every operation with its parameters (for building forms)."""
    return op_schema()


def _scalar(text: str) -> int | float | str | None:
    text = text.strip()
    if text == "" or text.lower() in {"null", "none"}:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positions(text: str) -> list[int]:
    try:
        return [int(part) for part in _split(text)]
    except ValueError as exc:
        raise ValidationError("Row positions must be whole numbers separated by commas.", code="params") from exc


def _number(text: str) -> float | int:
    value = _scalar(text)
    if not isinstance(value, int | float):
        raise ValidationError(f"“{text}” is not a number.", code="params")
    return value


CONVERTERS = {
    "column": str.strip,
    "text": str.strip,
    "text_opt": lambda text: text.strip() or None,
    "choice": str.strip,
    "number": _number,
    "scalar": _scalar,
    "scalars": lambda text: [_scalar(part) for part in _split(text)],
    "positions": _positions,
    "formats": lambda text: [part.strip() for part in text.split(";") if part.strip()] or None,
}


def cleaning_params_parse(*, op: str, raw: dict[str, object]) -> dict:
    """Typed params from form input: strings, or lists of strings for multi-choice fields."""
    spec = OPS.get(op)
    if spec is None:
        raise ValidationError("Choose an operation.", code="op")
    params: dict = {}
    for param in spec.params:
        value = raw.get(param.name)
        if value in (None, "", []):
            continue  # The operation's own validation names a missing required parameter.
        if param.kind in {"columns", "columns_opt", "choices"}:
            params[param.name] = [str(item) for item in value] if isinstance(value, list) else _split(str(value))
        else:
            params[param.name] = CONVERTERS[param.kind](str(value))
    return params
