"""The user-confirmable options of a CSV parse and the one error type the reading layer raises.

Kept apart from ``csv_reader`` so the private engine modules can import them without a cycle;
``csv_reader`` re-exports both, and that is the import path other code should use.
"""

from __future__ import annotations

import codecs
from dataclasses import asdict, dataclass, fields
from typing import Any

# pandas' default NA spellings (pandas.io.parsers STR_NA_VALUES), copied because that constant is private.
PANDAS_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip
DECIMAL_MARKS = (".", ",")
THOUSANDS_SEPARATORS = (None, ",", ".", " ", "'")
_FORBIDDEN_SEPARATORS = ("\r", "\n", "\x00")


class CsvParseError(ValueError):
    """A CSV that cannot be read faithfully; ``str()`` is safe to show to the uploader."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"Line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParseOptions:
    """How to read one CSV; every field maps to a ``pandas.read_csv`` argument of the same meaning."""

    encoding: str = "utf-8"
    delimiter: str = ","
    quotechar: str = '"'
    decimal: str = "."
    thousands: str | None = None
    has_header: bool = True
    skip_initial_space: bool = False
    na_values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["na_values"] = list(self.na_values)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseOptions:
        if not isinstance(data, dict):
            raise ValueError("Parse options must be a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown parse option(s): {', '.join(unknown)}.")
        values = dict(data)
        if "na_values" in values:
            values["na_values"] = _coerce_na_values(values["na_values"])
        return cls(**values)


def _coerce_na_values(raw: Any) -> tuple[str, ...]:
    # Accept numbers too (a JSON form may send -200), but store their text: matching is textual.
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise ValueError("Missing-value markers must be a list of texts.")
    out = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ValueError("Each missing-value marker must be a text such as ? or -999.")
        out.append(str(item))
    return tuple(out)


def _validate(opts: ParseOptions) -> None:
    _validate_encoding(opts.encoding)
    _check_single_char(opts.delimiter, "The delimiter")
    _check_single_char(opts.quotechar, "The quote character")
    if opts.delimiter == opts.quotechar:
        raise ValueError("The delimiter and the quote character must be different.")
    if opts.decimal not in DECIMAL_MARKS:
        raise ValueError("The decimal mark must be '.' or ','.")
    if opts.thousands not in THOUSANDS_SEPARATORS:
        raise ValueError("The thousands separator must be empty, ',', '.', a space or an apostrophe.")
    if opts.thousands == opts.decimal:
        raise ValueError("The thousands separator and the decimal mark must be different.")
    for flag in ("has_header", "skip_initial_space"):
        if not isinstance(getattr(opts, flag), bool):
            raise ValueError(f"{flag} must be true or false.")
    if not isinstance(opts.na_values, tuple) or not all(isinstance(v, str) for v in opts.na_values):
        raise ValueError("Missing-value markers must be a tuple of texts.")


def _validate_encoding(encoding: Any) -> None:
    if not isinstance(encoding, str) or not encoding:
        raise ValueError("The encoding must be a name such as utf-8 or cp1252.")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"Unknown text encoding: {encoding!r}.") from None
    # Reject codecs such as rot13 or base64: they are transforms, not ways to store text.
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"{encoding!r} is not a text encoding.")


def _check_single_char(value: Any, what: str) -> None:
    if not isinstance(value, str) or len(value) != 1:
        raise ValueError(f"{what} must be exactly one character.")
    if value in _FORBIDDEN_SEPARATORS:
        raise ValueError(f"{what} cannot be a line break or a NUL character.")
    # The byte-level checks and pandas' C parser take a one-byte character.
    if not value.isascii():
        raise ValueError(f"{what} must be an ASCII character such as , ; | or a tab.")
