"""Permutation importance on the original raw columns of the test split.

The whole Pipeline is scored with one raw column shuffled at a time, so the importance belongs to the
column the user knows ("Sex"), not to an encoded part of it ("Sex_female"). A seeded sample of at
most IMPORTANCE_ROWS test rows keeps the cost to a few predictions per column.
"""

import logging

import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

IMPORTANCE_ROWS = 1000
# At most this share of the budget goes to importance: wide tables (80 columns) would otherwise spend
# a quarter of the budget shuffling columns instead of searching.
BUDGET_SHARE = 0.1
MIN_ROWS = 100
REPEATS = 3
# Fixed cost of one prediction call on a small frame (pandas and the column steps), in seconds.
CALL_OVERHEAD = 0.005


def importance_seconds(n_features: int, n_rows: int, predict_ms_per_row: float, budget: float) -> float:
    """A guess at what `raw_importance` will take, for the budget reserve."""
    calls = n_features * REPEATS + 1
    return min(
        calls * (min(n_rows, IMPORTANCE_ROWS) * predict_ms_per_row / 1000 + CALL_OVERHEAD), BUDGET_SHARE * budget
    )


def importance_plan(seconds: float, n_features: int, n_rows: int, predict_ms_per_row: float) -> tuple[int, int]:
    """(rows, repeats) that fit in `seconds`: fewer rows first, then a single repeat, never under MIN_ROWS."""
    for repeats in (REPEATS, 1):
        calls = n_features * repeats + 1
        per_row = calls * predict_ms_per_row / 1000
        rows = int((seconds - calls * CALL_OVERHEAD) / per_row) if per_row > 0 else IMPORTANCE_ROWS
        if rows >= MIN_ROWS:
            return min(rows, IMPORTANCE_ROWS, n_rows), repeats
    return min(MIN_ROWS, n_rows), 1


def raw_importance(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    task: str,
    features: tuple[str, ...],
    seed: int,
    rows: int = IMPORTANCE_ROWS,
    repeats: int = REPEATS,
) -> list[dict]:
    """[{feature, importance, std}] for each raw feature column, most important first."""
    if len(X) > rows:
        X = X.sample(rows, random_state=seed)
        y = y.loc[X.index]
    scoring = "r2" if task == "regression" else "accuracy"
    result = permutation_importance(pipeline, X, y, scoring=scoring, n_repeats=repeats, random_state=seed, n_jobs=1)
    rows = [
        {"feature": str(column), "importance": float(mean), "std": float(std)}
        for column, mean, std in zip(X.columns, result.importances_mean, result.importances_std, strict=True)
        if column in features
    ]
    return sorted(rows, key=lambda row: (-row["importance"], row["feature"]))
