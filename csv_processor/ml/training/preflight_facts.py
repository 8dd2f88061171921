"""The training form's checks from a table's cached facts plus its whole target column: no full read per target.

Exact, as `preflight` and `dataset_checks` on the full table: the target checks (missing targets, classes,
row counts), constant and mostly-missing columns on the kept rows (from the per-column counts; a column the
counts cannot settle is read on its own), identifiers, constants and duplicate rows. Leakage looks at the
seeded sample of the facts (at most 20,000 rows, as before) and its messages say how many rows it checked.
"""

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.checks import (
    BLOCKER_ROWS,
    Check,
    by_severity,
    column_checks,
    duplicate_checks,
    leakage_checks,
    row_count_checks,
)
from csv_processor.ml.training.leakage import leakage_suspects
from csv_processor.ml.training.preflight import (
    MOSTLY_MISSING,
    Issue,
    Preflight,
    TargetRows,
    choose_features,
    finish,
    target_rows,
)
from csv_processor.ml.training.table_facts import ColumnStats, TableFacts, duplicate_rows

logger = logging.getLogger(__name__)

# Reads whole columns of the table, by name, index = row positions.
ReadColumns = Callable[[list[str]], pd.DataFrame]


def preflight_from_facts(
    facts: TableFacts,
    values: pd.Series,
    *,
    target: str,
    problem_type: str,
    features: tuple[str, ...] | list[str] | None = None,
    cv_folds: int = 5,
    read_columns: ReadColumns,
    leakage: bool = True,
) -> Preflight:
    """`preflight` for the table `facts` describe; `values` is its whole target column. `leakage=False`
    skips the leakage suspects (for a caller that only wants the default features)."""
    if target not in facts.columns:
        return Preflight((Issue("target_not_found", f"There is no column named {target!r}."),), (), 0, ())
    kinds = facts.kinds()
    rows = target_rows(
        values.reset_index(drop=True), problem_type=problem_type, kind=kinds.get(target), cv_folds=cv_folds
    )
    if rows.problems:
        return Preflight(tuple(rows.problems), (), rows.dropped_missing, ())
    kept = rows.kept.to_numpy()
    chosen, problems, warnings = choose_features(
        list(facts.columns),
        target,
        features,
        kinds,
        constant=lambda names: _constant_on_kept(facts, names, kept, read_columns),
        mostly_missing=lambda names: _mostly_missing_on_kept(facts, names, kept, read_columns),
    )
    if leakage and not problems:
        warnings += [Issue("leakage_suspect", text) for text in _leakage_suspects(facts, rows, problem_type, chosen)]
    return finish(rows, chosen, problems, warnings)


def _constant_on_kept(facts: TableFacts, names: list[str], kept: np.ndarray, read: ReadColumns) -> list[str]:
    dropped = facts.rows - int(kept.sum())
    # A column constant on the kept rows has all its other values in dropped rows.
    unsure = [c for c in names if facts.stats[c].distinct > 1 and _others(facts, c) <= dropped]
    exact: set[str] = set()
    if unsure:
        frame = _kept_columns(read, unsure, kept)
        exact = {c for c in unsure if frame[c].nunique(dropna=True) <= 1}
    return [c for c in names if facts.stats[c].distinct <= 1 or c in exact]


def _mostly_missing_on_kept(facts: TableFacts, names: list[str], kept: np.ndarray, read: ReadColumns) -> list[str]:
    n_kept = int(kept.sum())
    dropped = facts.rows - n_kept
    sure, unsure = [], []
    for c in names:
        missing = facts.stats[c].missing
        if missing - dropped > MOSTLY_MISSING * n_kept:
            sure.append(c)
        elif missing > MOSTLY_MISSING * n_kept:
            unsure.append(c)
    if unsure:
        frame = _kept_columns(read, unsure, kept)
        sure += [c for c in unsure if frame[c].isna().mean() > MOSTLY_MISSING]
    return [c for c in names if c in sure]


def _others(facts: TableFacts, name: str) -> int:
    """Rows holding a value other than the column's most frequent one (missing ones aside)."""
    stats = facts.stats[name]
    return facts.rows - stats.missing - stats.top_count


def _kept_columns(read: ReadColumns, names: list[str], kept: np.ndarray) -> pd.DataFrame:
    logger.info("reading %d columns to settle the checks on the kept rows", len(names))
    return read(names).reset_index(drop=True).loc[kept]


def _leakage_suspects(facts: TableFacts, rows: TargetRows, problem_type: str, chosen: list[str]) -> list[str]:
    in_sample = rows.kept.to_numpy()[facts.sample.index.to_numpy()]
    sample = facts.sample.loc[in_sample]
    y = rows.y.loc[sample.index]
    return leakage_suspects(sample, y, problem_type, chosen, rows=int(rows.kept.sum()))


def dataset_checks_from_facts(
    facts: TableFacts, values: pd.Series, *, target: str, features: list[str], read_columns: ReadColumns
) -> list[Check]:
    """`dataset_checks` on the table's `features` and `target` columns (infinities as missing)."""
    used = list(dict.fromkeys([*features, target]))
    kinds = facts.kinds()
    checks = row_count_checks(facts.rows)
    checks += duplicate_checks(_duplicates(facts, used, read_columns), facts.rows)
    checks += column_checks([(c, kinds.get(c, ""), _constant_text(facts.stats[c])) for c in used], target=target)
    if facts.rows >= BLOCKER_ROWS:
        finite = values.replace([np.inf, -np.inf], np.nan)
        sample = facts.sample[used].replace([np.inf, -np.inf], np.nan)
        checks += leakage_checks(sample, target, rows=int(finite.notna().sum()))
    return by_severity(checks)


def _constant_text(stats: ColumnStats) -> str | None:
    """How `dataset_checks` shows a column with one value (infinities as missing) or None when it varies."""
    values = stats.distinct - stats.infinite_distinct
    gaps = stats.missing + stats.infinite > 0
    if values + gaps > 1:
        return None
    return "missing" if values == 0 else f'"{stats.top_value}"'


def _duplicates(facts: TableFacts, used: list[str], read: ReadColumns) -> int:
    key = frozenset(used)
    if key in facts.duplicates:
        return facts.duplicates[key]
    if any(count == 0 and known <= key for known, count in list(facts.duplicates.items())):
        return 0  # more columns cannot make rows equal again
    if any(facts.stats[c].distinct == facts.rows and not facts.stats[c].infinite for c in used):
        return 0  # a column unique on every row
    count = duplicate_rows(read(used))
    facts.duplicates[key] = count
    return count
