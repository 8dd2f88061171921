"""What the training form's checks know about a table whatever the target: computed once per table.

Types, suggested targets, per-column counts and the duplicate count of the default column set are exact
over all rows. `sample` holds seeded rows (every row of a small table) for the checks that depend on the
target and look at many columns at once (leakage); the target column itself is always read whole.
"""

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.training.problem_type import suggest_targets
from csv_processor.ml.types import ColumnType, infer_column_types

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 100_000
# Keep a wide table's sample small in memory, but never below what the leakage checks look at.
SAMPLE_CELLS = 2_000_000
MIN_SAMPLE_ROWS = 20_000
SEED = 0


@dataclass(frozen=True)
class ColumnStats:
    """Counts over all rows. `distinct` leaves missing values out; infinities count as values there."""

    missing: int
    distinct: int
    top_count: int
    top_value: object
    infinite: int = 0
    infinite_distinct: int = 0


@dataclass(frozen=True)
class TableFacts:
    rows: int
    columns: tuple[str, ...]
    types: tuple[ColumnType, ...]
    stats: dict[str, ColumnStats]
    suggested_targets: tuple[str, ...]
    sample: pd.DataFrame  # index: row positions in the table
    # Duplicate rows per set of columns (infinities as missing); filled as sets are asked for.
    duplicates: dict[frozenset[str], int] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return len(self.sample) < self.rows

    def kinds(self) -> dict[str, str]:
        return {column.name: column.kind for column in self.types}


def sample_size(rows: int, columns: int) -> int:
    return min(rows, max(MIN_SAMPLE_ROWS, min(SAMPLE_ROWS, SAMPLE_CELLS // max(columns, 1))))


def table_facts(df: pd.DataFrame, *, sample_rows: int | None = None) -> TableFacts:
    """The target-independent facts of `df`; `sample_rows` overrides the bounded sample size."""
    frame = df.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    types = infer_column_types(frame)
    size = sample_size(len(frame), frame.shape[1]) if sample_rows is None else min(sample_rows, len(frame))
    if size < len(frame):
        positions = np.sort(np.random.default_rng(SEED).choice(len(frame), size=size, replace=False))
        sample = frame.iloc[positions].copy()
    else:
        sample = frame
    stats = {name: column_stats(frame[name]) for name in frame.columns}
    facts = TableFacts(
        rows=len(frame),
        columns=tuple(frame.columns),
        types=tuple(types),
        stats=stats,
        suggested_targets=tuple(suggest_targets(frame, types)),
        sample=sample,
    )
    usual = usual_columns(facts)
    facts.duplicates[frozenset(usual)] = duplicate_rows(frame[usual])
    return facts


def usual_columns(facts: TableFacts) -> list[str]:
    """The columns most targets train with (target included): all but identifiers and constant columns."""
    kinds = facts.kinds()
    return [c for c in facts.columns if kinds.get(c) != "identifier" and facts.stats[c].distinct > 1]


def column_stats(series: pd.Series) -> ColumnStats:
    counts = series.value_counts(dropna=True, sort=True)
    counts = counts[counts > 0]  # a categorical lists its unused categories too
    infinite = 0
    infinite_distinct = 0
    if ptypes.is_float_dtype(series.dtype):
        values = counts.index.to_numpy(dtype="float64", na_value=np.nan)
        flags = np.isinf(values)
        infinite, infinite_distinct = int(counts.to_numpy()[flags].sum()), int(flags.sum())
    return ColumnStats(
        missing=int(series.isna().sum()),
        distinct=len(counts),
        top_count=int(counts.iloc[0]) if len(counts) else 0,
        top_value=counts.index[0] if len(counts) else None,
        infinite=infinite,
        infinite_distinct=infinite_distinct,
    )


def duplicate_rows(df: pd.DataFrame) -> int:
    """Rows that repeat an earlier row exactly, infinities counted as missing (as the checks read them)."""
    if df.shape[1] == 0 or len(df) == 0:
        return 0
    return int(df.replace([np.inf, -np.inf], np.nan).duplicated().sum())
