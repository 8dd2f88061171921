"""Dataset profile: per-column statistics, duplicates, constants and correlations, JSON-ready.

Built to cost at most a few `DataFrame.describe()` calls on a million rows. Every column is first
reduced to its sorted distinct values and their counts (numbers: one sort; text: one factorize),
and the statistics are then read off that small table: min, max, mean, std, quantiles, histogram,
top values. No statistic is sampled; only type inference samples (see types.py).
"""

import logging
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.json_values import json_object
from csv_processor.ml.numbers import factorize_text, parse_numbers
from csv_processor.ml.types import ColumnType, detect_datetime_format, infer_column_type, parse_datetimes

logger = logging.getLogger(__name__)

QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
DATE_FORMAT_SAMPLE = 20_000  # distinct values used to guess a text column's date format
NAT = np.iinfo("int64").min


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column; which fields are set depends on the kind and the storage.

    `count` is the non-missing cells. Numbers (stored, or text whose kind is numeric, read with
    parse_numbers) get min..histogram; datetimes (stored, or text read with the detected format)
    get min, max and a histogram with ISO timestamp edges. For text, `converted` is how many values
    were read and `top_values` stay as written. Everything else gets `bars`: top categories plus
    the count of all other values. `mean_length` (characters) is for text storage.
    """

    name: str
    kind: str
    dtype: str
    count: int
    missing: int
    unique: int
    top_values: tuple[tuple[Any, int], ...]
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None
    histogram: dict[str, list] | None = None
    bars: dict[str, Any] | None = None
    mean_length: float | None = None
    converted: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["top_values"] = [{"value": v, "count": c} for v, c in self.top_values]
        return json_object(data)


@dataclass(frozen=True)
class DatasetProfile:
    rows: int
    memory_bytes: int
    duplicate_rows: int
    constant_columns: tuple[str, ...]
    columns: tuple[ColumnProfile, ...]
    correlation: dict[str, list]

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"}
        data["columns"] = [c.to_dict() for c in self.columns]
        return json_object(data)


def profile_frame(
    df: pd.DataFrame,
    *,
    types: list[ColumnType] | None = None,
    top_n: int = 10,
    bins: int = 20,
    max_corr_columns: int = 30,
) -> DatasetProfile:
    """Profile every column of `df`; without `types`, infer them (sharing the value counts)."""
    if types is not None and len(types) != df.shape[1]:
        raise ValueError(f"{len(types)} column types given for {df.shape[1]} columns")
    pairs = [
        profile_column(df.iloc[:, i], None if types is None else types[i], top_n=top_n, bins=bins)
        for i in range(df.shape[1])
    ]
    columns = tuple(p for _, p in pairs)
    return DatasetProfile(
        rows=len(df),
        memory_bytes=int(df.memory_usage(deep=True, index=True).sum()),
        duplicate_rows=count_duplicate_rows(df, distinct=[c.unique + (c.missing > 0) for c in columns]),
        constant_columns=tuple(c.name for c in columns if c.unique <= 1),
        columns=columns,
        correlation=correlation_matrix(df, [t for t, _ in pairs], max_columns=max_corr_columns),
    )


def profile_column(
    series: pd.Series, column_type: ColumnType | None, *, top_n: int, bins: int
) -> tuple[ColumnType, ColumnProfile]:
    """The column's type (inferred when None) and its profile."""
    missing = int(series.isna().sum())
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        column_type = column_type or infer_column_type(series)
        stats = _category_stats(series, top_n=top_n)
    elif ptypes.is_numeric_dtype(dtype) and not ptypes.is_complex_dtype(dtype):
        column_type = column_type or infer_column_type(series)
        stats = numeric_summary(*runs(_sorted_numbers(series)), top_n=top_n, bins=bins)
    elif ptypes.is_datetime64_any_dtype(dtype):
        column_type = column_type or infer_column_type(series)
        array = series.dropna().array
        stats = datetime_summary(*runs(np.sort(array.asi8)), array, top_n=top_n, bins=bins)
    else:
        codes, texts = factorize_text(series)
        counts = np.bincount(codes[codes >= 0], minlength=len(texts))
        distinct = pd.Series(pd.array(texts, dtype="str"))
        column_type = column_type or infer_column_type(series, counts=pd.Series(counts, index=distinct))
        stats = _text_stats(distinct, counts, column_type.kind, top_n=top_n, bins=bins)
    profile = ColumnProfile(
        name=str(series.name),
        kind=column_type.kind,
        dtype=str(dtype),
        count=len(series) - missing,
        missing=missing,
        **stats,
    )
    return column_type, profile


def _plain_numbers(series: pd.Series) -> np.ndarray:
    """The values as a numpy array, without a float copy for plain numpy dtypes (int columns sort faster)."""
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return series.to_numpy(dtype="float64", na_value=np.nan)


def _sorted_numbers(series: pd.Series) -> np.ndarray:
    """Sorted float64 values without NaN: np.sort puts NaN last, so cut them off instead of masking."""
    values = _plain_numbers(series)
    ordered = np.sort(values)
    if values.dtype.kind == "f":
        ordered = ordered[: ordered.size - int(np.count_nonzero(np.isnan(values)))]
    return ordered.astype("float64", copy=False)


def runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs."""
    if ordered.size == 0:
        return ordered, np.zeros(0, dtype="int64")
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.diff(np.r_[starts, ordered.size])


def merge_counts(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort values that carry counts and add up the counts of equal values (parsed text: "1,000" == "1000")."""
    order = np.argsort(values, kind="stable")
    ordered, weights = values[order], counts[order]
    if ordered.size == 0:
        return ordered, weights
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.add.reduceat(weights, starts)


def top_positions(counts: np.ndarray, top_n: int) -> np.ndarray:
    """Positions of the `top_n` largest counts, largest first; ties keep their original order."""
    if len(counts) > top_n > 0:
        threshold = np.partition(counts, len(counts) - top_n)[len(counts) - top_n]
        candidates = np.flatnonzero(counts >= threshold)
    else:
        candidates = np.arange(len(counts))
    return candidates[np.argsort(-counts[candidates], kind="stable")][:top_n]


def _histogram(distinct: np.ndarray, counts: np.ndarray, bins: int) -> dict[str, list]:
    """np.histogram's edges and counts, by binary search in the sorted distinct values.

    Infinite values are left out: they have no bin (min, max and top_values still show them).
    """
    finite = np.isfinite(distinct) if distinct.dtype.kind == "f" else slice(None)
    distinct, counts = distinct[finite], counts[finite]
    if distinct.size == 0:
        return {"edges": [], "counts": []}
    edges = np.histogram_bin_edges(distinct[[0, -1]].astype("float64"), bins=bins)
    # Bins are [a, b) except the last, [a, b]: the same rule as np.histogram.
    cumulative = np.r_[0, np.cumsum(counts)]
    inner = np.searchsorted(distinct, edges[1:-1], side="left")
    return {"edges": edges.tolist(), "counts": np.diff(cumulative[np.r_[0, inner, distinct.size]]).tolist()}


def _quantiles(distinct: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    # Linear interpolation between order statistics, as pandas' quantile() and describe() do.
    total = int(counts.sum())
    position = np.array(list(QUANTILES.values())) * (total - 1)
    low = np.floor(position).astype("int64")
    ends = np.cumsum(counts)
    at_low = distinct[np.searchsorted(ends, low, side="right")]
    at_high = distinct[np.searchsorted(ends, np.minimum(low + 1, total - 1), side="right")]
    return dict(zip(QUANTILES, (at_low + (at_high - at_low) * (position - low)).tolist(), strict=True))


def numeric_summary(distinct: np.ndarray, counts: np.ndarray, *, top_n: int, bins: int) -> dict[str, Any]:
    """Statistics of numbers given as sorted distinct values and their counts."""
    top = top_positions(counts, top_n)
    total = int(counts.sum())
    # Whole numbers are shown as integers: Pclass 3, not 3.0.
    whole = bool(np.all((np.trunc(distinct) == distinct) & (np.abs(distinct) < 2**53)))
    shown = distinct.astype("int64") if whole else distinct
    summary: dict[str, Any] = {
        "unique": int(distinct.size),
        "top_values": tuple(zip(shown[top].tolist(), counts[top].tolist(), strict=True)),
        "histogram": _histogram(distinct, counts, bins),
    }
    if total == 0:
        return summary
    # Infinite values give inf or NaN here, as in pandas; to_dict turns both into None.
    with np.errstate(invalid="ignore", over="ignore"):
        mean = float(distinct @ counts / total)
        # Two-pass variance around the mean, as pandas does, so large offsets do not cancel.
        spread = float(((distinct - mean) ** 2) @ counts)
        quantiles = _quantiles(distinct, counts)
    std = (spread / (total - 1)) ** 0.5 if total > 1 else None
    extremes = {"min": shown[0].item(), "max": shown[-1].item()}
    return {**summary, **extremes, "mean": mean, "std": std, "quantiles": quantiles}


def datetime_summary(distinct: np.ndarray, counts: np.ndarray, array: Any, *, top_n: int, bins: int) -> dict[str, Any]:
    """Statistics of datetimes given as sorted distinct int64 stamps in the unit and zone of `array`."""
    keep = distinct != NAT
    distinct, counts = distinct[keep], counts[keep]
    top = top_positions(counts, top_n)

    def iso(value: float) -> str:
        return pd.Timestamp(int(value), unit=array.unit, tz=array.tz).isoformat()

    histogram = _histogram(distinct, counts, bins)
    return {
        "unique": int(distinct.size),
        "top_values": tuple((iso(v), int(c)) for v, c in zip(distinct[top], counts[top], strict=True)),
        "min": iso(distinct[0]) if distinct.size else None,
        "max": iso(distinct[-1]) if distinct.size else None,
        "histogram": {"edges": [iso(e) for e in histogram["edges"]], "counts": histogram["counts"]},
    }


def _category_stats(series: pd.Series, *, top_n: int) -> dict[str, Any]:
    counts = series.value_counts(dropna=True, sort=True)
    counts = counts[counts > 0]
    labels = [v.item() if isinstance(v, np.generic) else v for v in counts.index[:top_n]]
    shown = counts.iloc[:top_n].tolist()
    return {
        "unique": len(counts),
        "top_values": tuple(zip(labels, shown, strict=True)),
        "bars": {"labels": labels, "counts": shown, "other": int(counts.iloc[top_n:].sum())},
    }


def _text_stats(distinct: pd.Series, counts: np.ndarray, kind: str, *, top_n: int, bins: int) -> dict[str, Any]:
    """Statistics of text given as its distinct values and their counts; numbers and dates are read first."""
    top = top_positions(counts, top_n)
    labels, shown = distinct.iloc[top].tolist(), counts[top].tolist()
    lengths = distinct.str.len().to_numpy(dtype="int64")
    stats: dict[str, Any] = {
        "unique": len(distinct),
        "top_values": tuple(zip(labels, shown, strict=True)),
        "mean_length": float(np.dot(lengths, counts) / counts.sum()) if counts.sum() else None,
    }
    converted = None
    if kind in ("integer", "float"):
        parsed = parse_numbers(distinct).to_numpy()
        readable = ~np.isnan(parsed)
        converted = numeric_summary(*merge_counts(parsed[readable], counts[readable]), top_n=top_n, bins=bins)
        converted["converted"] = int(counts[readable].sum())
    elif kind == "datetime" and len(distinct):
        guess = detect_datetime_format(distinct.iloc[:DATE_FORMAT_SAMPLE])
        if guess is not None:
            array = parse_datetimes(distinct, guess.formats).array
            converted = datetime_summary(*merge_counts(array.asi8, counts), array, top_n=top_n, bins=bins)
            converted["converted"] = int(counts[array.asi8 != NAT].sum())
    if converted is None:
        return {**stats, "bars": {"labels": labels, "counts": shown, "other": int(counts.sum() - sum(shown))}}
    converted.pop("unique"), converted.pop("top_values")
    return {**stats, **converted}


def count_duplicate_rows(df: pd.DataFrame, *, distinct: list[int] | None = None) -> int:
    """Rows equal to an earlier row, by 64-bit row hashes (a false match needs a hash collision).

    With the columns' distinct-value counts, columns are hashed most varied first and, once the
    columns so far could tell rows apart, only rows whose partial hash is still shared are kept:
    most tables then need two or three full-length column hashes.
    """
    distinct = distinct or [len(df)] * df.shape[1]
    rows, combined = np.arange(len(df)), np.zeros(len(df), dtype="uint64")
    combinations, filtering = 1.0, True
    for position in sorted(range(df.shape[1]), key=lambda i: -distinct[i]):
        if rows.size < 2:
            return 0
        column = df.iloc[:, position] if rows.size == len(df) else df.iloc[rows, position]
        combined = combined * np.uint64(0x100000001B3) ^ pd.util.hash_pandas_object(column, index=False).to_numpy()
        combinations *= max(distinct[position], 1)
        # Fewer possible combinations than rows means most rows are still tied: do not look yet.
        if filtering and combinations >= rows.size:
            tied = _tied(combined)
            # Stop filtering once it stops paying: tables full of duplicates (kddcup) keep most rows.
            filtering = tied.sum() < 0.9 * rows.size
            rows, combined = rows[tied], combined[tied]
    ordered = np.sort(combined)
    return int(np.count_nonzero(ordered[1:] == ordered[:-1]))


def _tied(hashes: np.ndarray) -> np.ndarray:
    """Which hashes occur more than once: a sort finds the repeated ones, a hash lookup marks them."""
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.size == 0:
        return np.zeros(hashes.size, dtype=bool)
    return pd.Series(hashes).isin(repeated).to_numpy()


def correlation_matrix(df: pd.DataFrame, types: list[ColumnType], *, max_columns: int) -> dict[str, list]:
    """Pearson r of the first `max_columns` numeric, non-identifier columns, as DataFrame.corr() gives it.

    Each pair uses the rows where both values are present (infinities count as missing); r is None
    where a pair has under two such rows or one side does not vary.
    """
    positions = [i for i, t in enumerate(types) if t.kind in ("integer", "float") and _is_number(df.dtypes.iloc[i])]
    positions = positions[:max_columns]
    values = np.empty((len(df), len(positions)), dtype="float64", order="F")
    for k, i in enumerate(positions):
        values[:, k] = _plain_numbers(df.iloc[:, i])
    r, suspect, constant = _pairwise_pearson(values)
    for i, j in zip(*np.nonzero(np.triu(suspect & ~constant[:, None] & ~constant[None, :])), strict=True):
        # Rounding could have eaten this pair's variance: recompute it directly, as pandas does.
        pair = df.iloc[:, [positions[i], positions[j]]].astype("float64").replace([np.inf, -np.inf], np.nan)
        r[i, j] = r[j, i] = pair.iloc[:, 0].corr(pair.iloc[:, 1])
    undefined = constant[:, None] | constant[None, :] | ~np.isfinite(r)
    size = range(len(positions))
    matrix = [[None if undefined[i, j] else float(r[i, j]) for j in size] for i in size]
    return {"columns": [str(df.columns[i]) for i in positions], "matrix": matrix}


def _is_number(dtype: Any) -> bool:
    return ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype) and not ptypes.is_complex_dtype(dtype)


def _pairwise_pearson(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson r from one matrix product, the pairs to recompute, the constant columns.

    Columns are centred on their own mean and missing values set to 0, which drops them from the
    cross products. The other sums only need the rows where column j is missing: what pair (i, j)
    leaves out is what column i holds there. When a pair's rows sit far from the column mean, the
    subtraction in the variance loses precision: such pairs come back as suspect.
    """
    missing = ~np.isfinite(values)
    present = (~missing).sum(axis=0).astype("float64")
    constant = np.ones(values.shape[1], dtype=bool)
    for k in range(values.shape[1]):
        column = values[:, k]
        # Most columns have no gaps: use them in place rather than copying through a mask.
        kept = column if present[k] == len(column) else column[~missing[:, k]]
        constant[k] = kept.size == 0 or kept.min() == kept.max()
        column -= kept.mean() if kept.size else 0.0
        if present[k] < len(column):
            np.nan_to_num(column, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    sum_xy = values.T @ values
    width = values.shape[1]
    sum_x = np.repeat(values.sum(axis=0)[:, None], width, axis=1)
    column_xx = np.einsum("ij,ij->j", values, values)
    sum_xx = np.repeat(column_xx[:, None], width, axis=1)
    pairs = np.repeat(present[:, None], width, axis=1)
    for j in np.flatnonzero(missing.any(axis=0)):
        rows = np.flatnonzero(missing[:, j])
        left_out = values[rows]
        sum_x[:, j] -= left_out.sum(axis=0)
        sum_xx[:, j] -= np.einsum("ij,ij->j", left_out, left_out)
        pairs[:, j] -= (~missing[rows]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sum_xy - sum_x * sum_x.T / pairs
        var_x = sum_xx - sum_x**2 / pairs
        var_y = var_x.T
        r = np.where(pairs >= 2, np.clip(cov / np.sqrt(var_x * var_y), -1.0, 1.0), np.nan)
    # The subtractions in var_x (of the left-out rows' sums, then of sum_x**2) lose about 1e-16 of the whole
    # column's sum of squares, not only the pair's: below 1e-8 of it, r keeps under 8 digits.
    suspect = (pairs >= 2) & ((var_x <= 1e-8 * column_xx[:, None]) | (var_y <= 1e-8 * column_xx[None, :]))
    return r, suspect, constant
