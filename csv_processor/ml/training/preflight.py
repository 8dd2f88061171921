"""Checks that run before any compute: problems block training, warnings are shown next to the result.

Decisions:
* Rows whose target is missing, blank or not finite are dropped and counted; so are rows of a class
  with a single row, which can be neither stratified nor learned.
* By default the features are every column but the target and identifier-like columns. Constant
  columns are always left out. Identifiers the user picks on purpose are kept, with a warning.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.training.leakage import leakage_suspects
from csv_processor.ml.types import ColumnType, infer_column_types

logger = logging.getLogger(__name__)

MIN_CLASS_ROWS = 2
# Fewer rows leave nothing to hold back for testing and cross-validation.
MIN_ROWS = 10
MOSTLY_MISSING = 0.5


@dataclass(frozen=True)
class Issue:
    code: str
    message: str


@dataclass(frozen=True)
class Preflight:
    problems: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    rows_dropped_missing_target: int
    features: tuple[str, ...]
    rows_dropped_small_classes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def clean_target(series: pd.Series, problem_type: str) -> pd.Series:
    """The target with unusable values as NaN: blanks, non-finite numbers, text a regression cannot read."""
    if problem_type == "regression":
        values = parse_numbers(series)
        return values.where(np.isfinite(values.to_numpy()))
    if ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype):
        return series.where(np.isfinite(series.to_numpy(dtype="float64", na_value=np.nan)))
    if ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype):
        text = series.astype("str").str.strip()
        return series.where(series.notna() & (text != ""))
    return series


@dataclass(frozen=True)
class TargetRows:
    """The target read for training: `y` has NaN where unusable; `kept` marks the rows training keeps."""

    y: pd.Series
    kept: pd.Series
    dropped_missing: int
    dropped_small: int
    problems: list[Issue]
    warnings: list[Issue]


def target_rows(raw: pd.Series, *, problem_type: str, kind: str | None, cv_folds: int = 5) -> TargetRows:
    """The checks that need the target column alone: missing values, too few rows, classes."""
    y = clean_target(raw, problem_type)
    kept = y.notna()
    dropped_missing = int((~kept).sum())
    problems, warnings = _target_issues(raw, y[kept], problem_type=problem_type, kind=kind, rows=len(raw))
    if problems:
        return TargetRows(y, kept, dropped_missing, 0, problems, warnings)
    counts = y[kept].value_counts() if problem_type != "regression" else pd.Series(dtype="int64")
    tiny = counts[counts < MIN_CLASS_ROWS]
    kept &= ~y.isin(tiny.index)
    warnings += _drop_warnings(dropped_missing, tiny, counts, cv_folds)
    return TargetRows(y, kept, dropped_missing, int(tiny.sum()), problems, warnings)


def preflight(
    df: pd.DataFrame,
    *,
    target: str,
    problem_type: str,
    features: tuple[str, ...] | list[str] | None = None,
    types: list[ColumnType] | None = None,
    cv_folds: int = 5,
) -> Preflight:
    """Check `df` for training `target` as `problem_type` on `features` (None: the default feature set)."""
    if target not in df.columns:
        return _blocked(Issue("target_not_found", f"There is no column named {target!r}."))
    types = types if types is not None else infer_column_types(df)
    kinds = {column.name: column.kind for column in types}
    rows = target_rows(df[target], problem_type=problem_type, kind=kinds.get(target), cv_folds=cv_folds)
    if rows.problems:
        return _blocked(*rows.problems, dropped=rows.dropped_missing)
    kept = df.loc[rows.kept]
    chosen, problems, warnings = choose_features(
        list(df.columns),
        target,
        features,
        kinds,
        constant=lambda names: [c for c in names if kept[c].nunique(dropna=True) <= 1],
        mostly_missing=lambda names: [c for c in names if kept[c].isna().mean() > MOSTLY_MISSING],
    )
    if not problems:
        warnings += [
            Issue("leakage_suspect", text) for text in leakage_suspects(kept, rows.y[rows.kept], problem_type, chosen)
        ]
    return finish(rows, chosen, problems, warnings)


def finish(rows: TargetRows, chosen: list[str], problems: list[Issue], warnings: list[Issue]) -> Preflight:
    return Preflight(
        problems=tuple(rows.problems + problems),
        warnings=tuple(rows.warnings + warnings),
        rows_dropped_missing_target=rows.dropped_missing,
        features=tuple(chosen),
        rows_dropped_small_classes=rows.dropped_small,
    )


def _blocked(*problems: Issue, dropped: int = 0) -> Preflight:
    return Preflight(problems=problems, warnings=(), rows_dropped_missing_target=dropped, features=())


def _target_issues(
    raw: pd.Series, y: pd.Series, *, problem_type: str, kind: str | None, rows: int
) -> tuple[list, list]:
    name = raw.name
    if y.empty:
        reason = "holds no numbers" if problem_type == "regression" and raw.notna().any() else "has no values"
        return [Issue("target_all_missing", f"The target {name!r} {reason}: nothing to learn from.")], []
    if len(y) < 2:
        return [Issue("one_row", f"Only one row has a target value: training needs at least {MIN_ROWS}.")], []
    if len(y) < MIN_ROWS:
        return [
            Issue("too_few_rows", f"Only {len(y)} rows have a target value: training needs at least {MIN_ROWS}.")
        ], []
    if kind == "identifier" or (problem_type != "regression" and y.nunique() == len(y) and len(y) > 2):
        return [Issue("target_identifier", f"The target {name!r} is an identifier: every row has its own value.")], []
    if problem_type == "regression":
        return [], []
    n_classes = int(y.nunique())
    if n_classes < 2:
        only = y.iloc[0]
        return [
            Issue("one_class", f"The target {name!r} has only one class ({only!r}): there is nothing to tell apart.")
        ], []
    if problem_type == "binary" and n_classes > 2:
        return [Issue("not_binary", f"The target {name!r} has {n_classes} classes: choose multiclass.")], []
    return [], []


def _drop_warnings(dropped: int, tiny: pd.Series, counts: pd.Series, cv_folds: int) -> list[Issue]:
    warnings = []
    if dropped:
        warnings.append(Issue("missing_target", f"{dropped} rows have no target value and are dropped."))
    if len(tiny):
        names = ", ".join(repr(v) for v in tiny.index[:5])
        warnings.append(
            Issue("tiny_class", f"{int(tiny.sum())} rows of classes with a single row ({names}) are dropped.")
        )
    small = counts[(counts >= MIN_CLASS_ROWS) & (counts < cv_folds * 2)]
    if len(small):
        names = ", ".join(f"{v!r} ({n} rows)" for v, n in small.head(5).items())
        warnings.append(Issue("small_class", f"Classes with few rows are hard to learn and to score: {names}."))
    return warnings


def choose_features(
    columns: list,
    target: str,
    requested: tuple[str, ...] | list[str] | None,
    kinds: dict[str, str],
    *,
    constant: Callable[[list[str]], list[str]],
    mostly_missing: Callable[[list[str]], list[str]],
) -> tuple[list[str], list[Issue], list[Issue]]:
    """(features, problems, warnings); `constant` and `mostly_missing` pick those columns on the kept rows."""
    problems: list[Issue] = []
    warnings: list[Issue] = []
    if requested is None:
        candidates = [str(c) for c in columns if c != target]
        ids = [c for c in candidates if kinds.get(c) == "identifier"]
        candidates = [c for c in candidates if c not in ids]
        if ids:
            warnings.append(Issue("identifiers_excluded", f"Identifier-like columns left out: {', '.join(ids)}."))
    else:
        unknown = [c for c in requested if c not in columns]
        if unknown:
            problems.append(Issue("unknown_features", f"No such columns: {', '.join(map(str, unknown))}."))
        candidates = [c for c in dict.fromkeys(requested) if c in columns and c != target]
        ids = [c for c in candidates if kinds.get(c) == "identifier"]
        if ids:
            warnings.append(
                Issue("identifier_feature", f"These look like identifiers and rarely help: {', '.join(ids)}.")
            )
    same = constant(candidates)
    if same:
        warnings.append(Issue("constant_excluded", f"Constant columns left out: {', '.join(same)}."))
    chosen = [c for c in candidates if c not in same]
    empty = mostly_missing(chosen)
    if empty:
        warnings.append(Issue("mostly_missing", f"More than half of the values are missing in: {', '.join(empty)}."))
    if not chosen:
        problems.append(
            Issue("no_features", "No feature columns are left to learn from once the exclusions are applied.")
        )
    return chosen, problems, warnings
