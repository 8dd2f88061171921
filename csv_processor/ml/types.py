"""Semantic column types: what the values in each column mean, as opposed to how pandas stores them.

`kind` describes the values and `dtype` the storage. They differ when pandas read a column as
text but the text holds numbers or dates (Installs "1,000,000+", seattle-weather's date): then
`kind` is "integer"/"float"/"datetime" once at least 95% of the values parse, the matching
`*_candidate` flag is set from 90%, and `suggestion` tells the user what converting would do.
Nothing is converted here. Code that computes on a column must check `dtype`, not only `kind`.

Decisions:
* A float column whose non-missing values are all whole numbers is "integer": missing values
  forced pandas to store it as float (flights dep_time, penguins body_mass_g).
* 0/1 integer columns stay "integer": they are often counts or codes, and models treat them the
  same either way. Only bool columns and two-valued text such as yes/no, Y/N, true/false are
  "boolean".
* An integer column is an "identifier" when every value is unique and it is either the row
  number (a step-1 sequence in row order, like PassengerId) or named like an id (customer_id,
  PassengerId, ID). Floats are never identifiers.
* Text is checked in this order: "categorical" with at most 50 distinct values or under 5%
  distinct per row; "text" when values average 50+ characters; "identifier" when 85%+ of the
  rows differ (Name; App names in the Play store file are 89%) or when they are short codes
  (<= 2 words, <= 20 characters) and 50%+ differ (Ticket, Cabin); "text" when values average
  4+ words (Product Name); otherwise "categorical" with many levels (City, Current Ver).
* Text with 50-90% numbers gets a "Partly numbers ..." suggestion only when the rest is at most
  3 distinct placeholders (Size: "Varies with device"), not when it is codes (Ticket).
* Distinct and missing counts are exact; parsing checks (numbers, dates, lengths) run on a
  seeded sample of at most 20,000 non-missing values, so a million rows cost about 0.3 s.
"""

import logging
import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.numbers import parse_numbers

logger = logging.getLogger(__name__)

KINDS = ("integer", "float", "boolean", "categorical", "datetime", "text", "identifier")

SAMPLE_ROWS = 20_000
SAMPLE_SEED = 0
CANDIDATE_SHARE = 0.90
CONVERT_SHARE = 0.95
PARTLY_NUMERIC_SHARE = 0.50
MAX_PLACEHOLDERS = 3
MAX_CATEGORIES = 50
CATEGORY_RATIO = 0.05
IDENTIFIER_RATIO = 0.85
CODE_RATIO = 0.50
TEXT_LENGTH = 50
TEXT_WORDS = 4
BOOLEAN_PAIRS = ({"yes", "no"}, {"y", "n"}, {"true", "false"}, {"t", "f"})
_ID_NAME = re.compile(r"(^|[\s_\-.])(id|ID|Id)$|[a-z](ID|Id)$|^(id|ID|Id)$")


@dataclass(frozen=True)
class ColumnType:
    name: str
    kind: str
    dtype: str
    missing: int
    numeric_candidate: bool
    datetime_candidate: bool
    suggestion: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def infer_column_types(df: pd.DataFrame) -> list[ColumnType]:
    """One ColumnType per column, in column order. Text checks run on a seeded sample of 20k values."""
    return [infer_column_type(df.iloc[:, i]) for i in range(df.shape[1])]


def infer_column_type(series: pd.Series, *, counts: pd.Series | None = None) -> ColumnType:
    """The type of one column. Pass `counts` (value counts of its non-missing values) if you have them."""
    if ptypes.is_bool_dtype(series.dtype):
        return _column_type(series, kind="boolean")
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return _column_type(series, kind="datetime")
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _column_type(series, kind="categorical")
    if ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_complex_dtype(series.dtype):
        return _column_type(series, kind=_numeric_kind(series))
    return _column_type(series, **_text_fields(series, counts))


def _column_type(
    series: pd.Series,
    *,
    kind: str,
    numeric_candidate: bool = False,
    datetime_candidate: bool = False,
    suggestion: str | None = None,
) -> ColumnType:
    return ColumnType(
        name=str(series.name),
        kind=kind,
        dtype=str(series.dtype),
        missing=int(series.isna().sum()),
        numeric_candidate=numeric_candidate,
        datetime_candidate=datetime_candidate,
        suggestion=suggestion,
    )


def _numeric_kind(series: pd.Series) -> str:
    if ptypes.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        # Missing values do not count against whole numbers; infinities do (they are not integers).
        whole = np.isnan(values) | (np.isfinite(values) & (np.trunc(values) == values))
        return "integer" if bool(whole.all()) and not bool(np.isnan(values).all()) else "float"
    return "identifier" if _is_integer_identifier(series) else "integer"


def _is_integer_identifier(series: pd.Series) -> bool:
    if len(series) < 2 or series.hasnans:
        return False
    values = series.to_numpy(dtype="int64")
    # Check the ends first: the full diff only runs when the column could be the row number.
    if int(values[-1]) - int(values[0]) == len(values) - 1 and bool(np.all(np.diff(values) == 1)):
        return True
    return bool(_ID_NAME.search(str(series.name))) and series.is_unique


def _sample_present(series: pd.Series) -> pd.Series:
    """At most SAMPLE_ROWS non-missing values as text, drawn with a fixed seed and kept in row order."""
    positions = np.flatnonzero(series.notna().to_numpy())
    if len(positions) > SAMPLE_ROWS:
        rng = np.random.default_rng(SAMPLE_SEED)
        positions = np.sort(rng.choice(positions, size=SAMPLE_ROWS, replace=False))
    return series.iloc[positions].astype("str")


def _text_fields(series: pd.Series, counts: pd.Series | None) -> dict:
    """kind, candidate flags and suggestion for a column pandas stores as text (or mixed objects)."""
    counts = series.value_counts(dropna=True) if counts is None else counts
    flags = {"numeric_candidate": False, "datetime_candidate": False, "suggestion": None}
    n_present = int(counts.sum())
    if n_present == 0:
        return {"kind": "text", **flags}
    if len(counts) == 2 and {str(v).strip().lower() for v in counts.index} in BOOLEAN_PAIRS:
        return {"kind": "boolean", **flags}
    sample = _sample_present(series)
    # Numbers and dates both need digits: skip the parsing for codes like "UA" or "JFK".
    has_digits = float(sample.str.contains(r"\d", regex=True).mean()) >= PARTLY_NUMERIC_SHARE
    fields = _numeric_fields(sample) if has_digits else None
    if has_digits and (fields is None or not fields["numeric_candidate"]):
        fields = _datetime_fields(sample) or fields
    fields = fields or {"kind": None, **flags}
    if fields["kind"] is None:
        fields["kind"] = _cardinality_kind(sample, n_unique=len(counts), n_present=n_present)
    return fields


def _numeric_fields(sample: pd.Series) -> dict | None:
    """Flags for text that holds numbers; None when under half of the values are numbers."""
    blank = sample.str.strip() == ""
    filled = sample[~blank]
    if filled.empty:
        return None
    decimal, parsed = ".", parse_numbers(filled)
    if parsed.notna().mean() < CANDIDATE_SHARE and filled.str.contains(",", regex=False).any():
        comma = parse_numbers(filled, decimal=",")
        if comma.notna().sum() > parsed.notna().sum():
            decimal, parsed = ",", comma
    share = float(parsed.notna().mean())
    if share < PARTLY_NUMERIC_SHARE:
        return None
    candidate = share >= CANDIDATE_SHARE
    kind = None
    if share >= CONVERT_SHARE:
        good = parsed.dropna().to_numpy()
        kind = "integer" if bool(np.all(np.trunc(good) == good)) else "float"
    text = _number_suggestion(filled, parsed, share=share, decimal=decimal, blanks=int(blank.sum()))
    return {"kind": kind, "numeric_candidate": candidate, "datetime_candidate": False, "suggestion": text}


def _percent(share: float) -> str:
    # Never round 99.97% up to "100%": the user would look for the missing value in vain.
    return ">99%" if 0.995 <= share < 1 else f"{share:.0%}"


def _number_example(good: pd.Series) -> str:
    """The most common value, plus the most common formatted one ("1,000,000+") when it differs."""
    counts = good.value_counts()
    formatted = counts[~counts.index.str.fullmatch(r"-?\d+(\.\d+)?")]
    examples = [counts.index[0]] + ([formatted.index[0]] if not formatted.empty else [])
    return " or ".join(f'"{v}"' for v in dict.fromkeys(examples))


def _number_suggestion(filled: pd.Series, parsed: pd.Series, *, share: float, decimal: str, blanks: int) -> str | None:
    bad = filled[parsed.isna()].value_counts()
    if share < CANDIDATE_SHARE and len(bad) > MAX_PLACEHOLDERS:
        # Many different non-numbers (Ticket "A/5 21171", "PC 17599") mean a code, not numbers with placeholders.
        return None
    comma = " with a decimal comma" if decimal == "," else ""
    parts = [f"numbers{comma} written as {_number_example(filled[parsed.notna()])} ({_percent(share)} of values)"]
    if not bad.empty:
        parts.append(f'values like "{bad.index[0]}" would become missing')
    if blanks:
        parts.append("blank cells become missing")
    if share >= CANDIDATE_SHARE:
        return f"Looks like {'; '.join(parts)}: convert to number"
    return f"Partly {'; '.join(parts)}: convert to number only if that loss is acceptable"


def _datetime_fields(sample: pd.Series) -> dict | None:
    guess = detect_datetime_format(sample)
    if guess is None or guess.share < CANDIDATE_SHARE:
        return None
    share = "" if guess.share >= 0.995 else f", {guess.share:.0%} of values"
    text = f"Looks like dates ({guess.label}{share}): convert to datetime"
    kind = "datetime" if guess.share >= CONVERT_SHARE else None
    return {"kind": kind, "numeric_candidate": False, "datetime_candidate": True, "suggestion": text}


def _cardinality_kind(sample: pd.Series, *, n_unique: int, n_present: int) -> str:
    ratio = n_unique / n_present
    if n_unique <= MAX_CATEGORIES or ratio < CATEGORY_RATIO:
        return "categorical"
    mean_length = float(sample.str.len().mean())
    mean_words = float(sample.str.count(r"\s+").mean()) + 1.0
    if mean_length >= TEXT_LENGTH:
        return "text"
    if ratio >= IDENTIFIER_RATIO:
        return "identifier"
    if ratio >= CODE_RATIO and mean_words <= 2 and mean_length <= 20:
        return "identifier"
    return "text" if mean_words >= TEXT_WORDS else "categorical"


@dataclass(frozen=True)
class DateFormat:
    """strftime formats (or "ISO8601") that together read `share` of the values, with a label for people."""

    formats: tuple[str, ...]
    label: str
    share: float


# Each format comes with the shape its values must have, so "2015" or "1.0.0" never count as dates.
DATE_FORMATS = (
    ("ISO8601", "ISO 8601", r"\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)? ?(Z|[+-]\d{2}:?\d{2})?"),
    ("%Y/%m/%d", "YYYY/MM/DD", r"\d{4}/\d{1,2}/\d{1,2}"),
    ("%d/%m/%Y", "dd/mm/yyyy", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%m/%d/%Y", "mm/dd/yyyy", r"\d{1,2}/\d{1,2}/\d{4}"),
    ("%d-%b-%y", "dd-Mon-yy", r"\d{1,2}-[A-Za-z]{3}-\d{2}"),
    ("%d-%b-%Y", "dd-Mon-yyyy", r"\d{1,2}-[A-Za-z]{3}-\d{4}"),
    ("%d.%m.%Y", "dd.mm.yyyy", r"\d{1,2}\.\d{1,2}\.\d{4}"),
    ("%d-%m-%Y", "dd-mm-yyyy", r"\d{1,2}-\d{1,2}-\d{4}"),
    ("%B %d, %Y", "Month d, yyyy", r"[A-Za-z]+ \d{1,2}, \d{4}"),
)
# A second format must add at least this share: Excel re-saves convert only some dates (googleplaystore).
SECOND_FORMAT_SHARE = 0.01


def parse_datetimes(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Parse text with the formats in turn, as UTC so mixed offsets do not raise; the rest become NaT."""
    text = values.astype("str").str.strip()
    out = pd.to_datetime(text, format=formats[0], errors="coerce", utc=True)
    for fmt in formats[1:]:
        out = out.fillna(pd.to_datetime(text, format=fmt, errors="coerce", utc=True))
    return out


def _best_format(counts: pd.Series, total: int) -> tuple[str, str, np.ndarray] | None:
    """The format that reads most of `counts` (distinct values with their counts), and which it read."""
    best, best_hits = None, 0
    for fmt, label, shape in DATE_FORMATS:
        fits = np.asarray(counts.index.str.fullmatch(shape), dtype=bool)
        if counts[fits].sum() <= best_hits:
            continue
        read = fits.copy()
        read[fits] = parse_datetimes(pd.Series(counts.index[fits]), (fmt,)).notna().to_numpy()
        # Strictly more: on a tie the earlier format wins, so ambiguous 01/02/2020 is read day first.
        if counts[read].sum() > best_hits:
            best, best_hits = (fmt, label, read), int(counts[read].sum())
    return best


def detect_datetime_format(values: pd.Series) -> DateFormat | None:
    """Up to two formats that read the non-blank values, or None when they read under half of them.

    Formats are tried on the distinct values only, weighted by how often each occurs.
    """
    counts = values.dropna().astype("str").str.strip().value_counts()
    counts = counts[counts.index != ""]
    total = int(counts.sum())
    first = _best_format(counts, total) if total else None
    if first is None:
        return None
    formats, labels, read = [first[0]], [first[1]], first[2]
    second = _best_format(counts[~read], total)
    if second is not None and counts[~read][second[2]].sum() >= SECOND_FORMAT_SHARE * total:
        formats.append(second[0])
        labels.append(second[1])
        read = read.copy()
        read[~first[2]] = second[2]
    share = float(counts[read].sum() / total)
    if share < PARTLY_NUMERIC_SHARE:
        return None
    return DateFormat(formats=tuple(formats), label=" or ".join(labels), share=share)
