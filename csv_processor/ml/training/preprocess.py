"""Column steps that read raw rows: numbers written as text, date strings, categories, free text.

Every step takes the DataFrame columns as they come from the CSV (strings for dates, "1,000" for
numbers, mixed types in object columns) so the fitted Pipeline can predict on raw rows. Non-finite
numbers become missing here, and the imputer or the estimator's own missing-value support takes it
from there.
"""

import logging
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin

from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.types import detect_datetime_format, parse_datetimes

logger = logging.getLogger(__name__)


def _frame(X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def unusable_to_nan(values: np.ndarray) -> np.ndarray:
    """Infinities and numbers beyond float32's range (which scikit-learn's trees refuse) become NaN, in place."""
    values[~(np.abs(values) <= FLOAT32_MAX)] = np.nan
    return values


class NumberColumns(TransformerMixin, BaseEstimator):
    """Read each column with parse_numbers ("1,000", "$4.99", " " -> NaN); inf becomes NaN, and so do numbers
    beyond float32's range (about 3.4e38), which scikit-learn's trees, working in float32, refuse."""

    def fit(self, X: pd.DataFrame, y: object = None) -> "NumberColumns":
        self.feature_names_in_ = np.asarray(_frame(X).columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = _frame(X)
        out = np.column_stack([parse_numbers(frame.iloc[:, i]).to_numpy() for i in range(frame.shape[1])])
        out = out.reshape(len(frame), frame.shape[1])
        return unusable_to_nan(out)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Categories as numeric codes, most frequent first (ties by value), read as text so 1, "1" and 1.0
    from different files agree. Codes from `max_categories - 1` up share one "other" code.

    Encoding to numbers here, rather than handing object arrays to scikit-learn's encoders, keeps the
    encoders on their fast numeric path: the object path checks every value in Python.
    """

    def __init__(self, max_categories: int | None = None, missing: float = np.nan, unknown: float = np.nan) -> None:
        self.max_categories = max_categories
        self.missing = missing
        self.unknown = unknown

    def fit(self, X: pd.DataFrame, y: object = None) -> "CategoryCodes":
        frame = _frame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.categories_ = [_by_frequency(frame.iloc[:, i]) for i in range(frame.shape[1])]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = _frame(X)
        out = np.empty(frame.shape, dtype="float64")
        for i, categories in enumerate(self.categories_):
            lookup = {value: code for code, value in enumerate(categories)}
            local, uniques = pd.factorize(frame.iloc[:, i], use_na_sentinel=True)
            # Look up the distinct values only: a million rows with ten categories cost ten lookups.
            mapped = np.array(
                [lookup.get(str(value), self.unknown) for value in uniques] + [self.missing], dtype="float64"
            )
            if self.max_categories is not None:
                mapped[mapped >= self.max_categories] = self.max_categories - 1
            out[:, i] = mapped[local]
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_in_


def _by_frequency(column: pd.Series) -> list[str]:
    """Distinct values as text, most frequent first, ties in text order (so the codes are reproducible)."""
    local, uniques = pd.factorize(column, use_na_sentinel=True)
    counts: dict[str, int] = {}
    for value, count in zip(uniques, np.bincount(local[local >= 0], minlength=len(uniques)), strict=True):
        counts[str(value)] = counts.get(str(value), 0) + int(count)
    return sorted(counts, key=lambda text: (-counts[text], text))


class DateParts(TransformerMixin, BaseEstimator):
    """Dates as numbers: days since 1970 (the trend), year, month, day of month, weekday, and hour when
    the training values carry a time. The text format is learned once at fit time."""

    def fit(self, X: pd.DataFrame, y: object = None) -> "DateParts":
        frame = _frame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.formats_ = [_date_formats(frame.iloc[:, i]) for i in range(frame.shape[1])]
        parsed = [self._parse(frame.iloc[:, i], i) for i in range(frame.shape[1])]
        self.has_time_ = [bool((p.dropna().dt.hour != 0).any()) for p in parsed]
        return self

    def _parse(self, series: pd.Series, i: int) -> pd.Series:
        if ptypes.is_datetime64_any_dtype(series.dtype):
            return series
        formats = self.formats_[i]
        if not formats:
            return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        return read_dates(series, formats)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = _frame(X)
        blocks = [self._parts(self._parse(frame.iloc[:, i], i), self.has_time_[i]) for i in range(frame.shape[1])]
        return np.column_stack(blocks) if blocks else np.empty((len(frame), 0))

    @staticmethod
    def _parts(parsed: pd.Series, has_time: bool) -> np.ndarray:
        dt = parsed.dt
        naive = dt.tz_convert(None) if dt.tz is not None else parsed
        days = (naive - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        parts = [days, dt.year, dt.month, dt.day, dt.day_of_week] + ([dt.hour] if has_time else [])
        return np.column_stack([pd.Series(p).to_numpy(dtype="float64", na_value=np.nan) for p in parts])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = []
        for name, has_time in zip(self.feature_names_in_, self.has_time_, strict=True):
            names += [f"{name}_{part}" for part in ("days", "year", "month", "day", "weekday")]
            names += [f"{name}_hour"] if has_time else []
        return np.asarray(names, dtype=object)


# Read when a value is not in the training file's format (a date picker sends 2020-07-15 to a model that
# learned 07/15/2020): each of these reads a date one way only.
OTHER_DATE_FORMATS = (
    "ISO8601",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d.%m.%Y",
)
# Day and month in either order: read only when one order is impossible (07/15/2020) or both agree
# (07/07/2020); 03/04/2020 stays missing unless the training file's format settles it.
EITHER_ORDER_FORMATS = (("%d/%m/%Y", "%m/%d/%Y"), ("%d-%m-%Y", "%m-%d-%Y"))
DATES: Final = "datetime64[us, UTC]"
FEW_DATES = 16


def read_dates(series: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Dates (UTC) read with the learned `formats` first, exactly as before, then the values they left
    unread with read_other_dates. Values in the training format get the same dates as ever, so models
    saved before the fallback existed answer the same for them."""
    out = parse_datetimes(series, formats)
    unread = out.isna() & series.notna()
    if not unread.any():
        return out
    if len(series) <= FEW_DATES:
        # A request's few rows: each other notation is parsed once per process (about 1 ms), then looked up.
        values = [
            _other_date(str(raw).strip()) if gap else date for raw, date, gap in zip(series, out, unread, strict=True)
        ]
        return pd.Series(values, index=series.index, dtype=DATES)
    text = series[unread].astype("str").str.strip()
    distinct = pd.Series(text.unique())
    found = read_other_dates(distinct)
    if found.notna().any():
        out = out.astype(DATES)  # (microseconds reach year 9999, nanoseconds stop in 2262)
        out[unread] = text.map(dict(zip(distinct, found, strict=True))).astype(DATES)
    return out


@lru_cache(maxsize=4096)
def _other_date(text: str) -> pd.Timestamp:
    return read_other_dates(pd.Series([text]))[0]


def read_other_dates(text: pd.Series) -> pd.Series:
    """Text as UTC dates in ISO 8601 or another form that reads one way only; NaT for anything else,
    including day/month pairs that could be either (see date_ambiguity)."""
    out = pd.Series(pd.NaT, index=text.index, dtype=DATES)
    for fmt in OTHER_DATE_FORMATS:
        todo = out.isna()
        if not todo.any():
            return out
        out[todo] = _read(text[todo], fmt)
    for day_first, month_first in EITHER_ORDER_FORMATS:
        todo = out.isna()
        if not todo.any():
            return out
        one, other = _read(text[todo], day_first), _read(text[todo], month_first)
        out[todo] = one.where(other.isna() | (one == other)).fillna(other.where(one.isna()))
    return out


def date_ambiguity(text: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The two dates a day/month pair such as 03/04/2020 could be, or None when it reads one way or not
    at all."""
    series = pd.Series([text.strip()])
    for day_first, month_first in EITHER_ORDER_FORMATS:
        one, other = _read(series, day_first)[0], _read(series, month_first)[0]
        if not pd.isna(one) and not pd.isna(other) and one != other:
            return one, other
    return None


def _read(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text, format=fmt, errors="coerce", utc=True).astype(DATES)


def _date_formats(series: pd.Series) -> tuple[str, ...]:
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return ()
    guess = detect_datetime_format(series)
    return guess.formats if guess is not None else ()


class TextStats(TransformerMixin, BaseEstimator):
    """Free text as its length in characters and in words.

    Long unique text is dropped as categories (each value seen once teaches nothing) but its length
    often carries signal (a detailed complaint, a long product name) at no cost.
    """

    def fit(self, X: pd.DataFrame, y: object = None) -> "TextStats":
        self.feature_names_in_ = np.asarray(_frame(X).columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        frame = _frame(X)
        blocks = []
        for i in range(frame.shape[1]):
            text = frame.iloc[:, i].astype("object").where(frame.iloc[:, i].notna())
            as_str = text.dropna().astype("str")
            chars = as_str.str.len().reindex(text.index)
            # .str.len() counts list items too; the stubs type it for strings only.
            words = as_str.str.split().str.len().reindex(text.index)  # type: ignore[misc]
            blocks += [
                chars.to_numpy(dtype="float64", na_value=np.nan),
                words.to_numpy(dtype="float64", na_value=np.nan),
            ]
        return np.column_stack(blocks) if blocks else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"{n}_{p}" for n in self.feature_names_in_ for p in ("chars", "words")], dtype=object)
