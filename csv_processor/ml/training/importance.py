"""Permutation importance on the original raw columns of the test split.

The whole Pipeline is scored with one raw column shuffled at a time, so the importance belongs to the
column the user knows ("Sex"), not to an encoded part of it ("Sex_female"). A seeded sample of at
most IMPORTANCE_ROWS test rows keeps the cost down, and the shuffled copies are stacked and predicted
in a few large calls rather than one call per column and repeat: on a wide table (80 columns) the fixed
cost of a call through the column steps, not the rows, is what took the time.
"""

import logging
import math
import time

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from csv_processor.ml.training.evaluation import main_score

logger = logging.getLogger(__name__)

IMPORTANCE_ROWS = 1000
# At most this share of the budget goes to importance: wide tables (80 columns) would otherwise spend
# a quarter of the budget shuffling columns instead of searching.
BUDGET_SHARE = 0.1
MIN_ROWS = 100
REPEATS = 3
# Fixed cost of one prediction call (pandas and the column steps), in seconds, and rows per call.
CALL_OVERHEAD = 0.05
CHUNK_ROWS = 50_000


def _seconds(n_features: int, rows: int, repeats: int, row_seconds: float, call_seconds: float) -> float:
    total = rows * (n_features * repeats + 1)
    return total * row_seconds + (math.ceil(total / CHUNK_ROWS) + 1) * call_seconds


def importance_seconds(n_features: int, n_rows: int, predict_ms_per_row: float, budget: float) -> float:
    """A guess at what `raw_importance` will take, for the budget reserve."""
    rows = min(n_rows, IMPORTANCE_ROWS)
    return min(_seconds(n_features, rows, REPEATS, predict_ms_per_row / 1000, CALL_OVERHEAD), BUDGET_SHARE * budget)


def predict_cost(pipeline: Pipeline, X: pd.DataFrame) -> tuple[float, float]:
    """(seconds per call, seconds per row) of `pipeline`, from a one-row and a sample prediction."""
    start = time.perf_counter()
    pipeline.predict(X.iloc[:1])
    call = time.perf_counter() - start
    sample = X.iloc[: min(len(X), IMPORTANCE_ROWS)]
    start = time.perf_counter()
    pipeline.predict(sample)
    return call, max(time.perf_counter() - start - call, 0.0) / max(len(sample) - 1, 1)


def importance_plan(seconds: float, n_features: int, n_rows: int, cost: tuple[float, float]) -> tuple[int, int]:
    """(rows, repeats) that fit in `seconds` given `cost` (predict_cost): fewer rows first, then a single
    repeat, never under MIN_ROWS."""
    call, row = cost
    for repeats in (REPEATS, 1):
        rows = min(IMPORTANCE_ROWS, n_rows)
        while rows > MIN_ROWS and _seconds(n_features, rows, repeats, row, call) > seconds:
            rows = int(rows * 0.8)
        if _seconds(n_features, rows, repeats, row, call) <= seconds or repeats == 1:
            return max(min(rows, n_rows), min(MIN_ROWS, n_rows)), repeats
    return min(MIN_ROWS, n_rows), 1


def raw_importance(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    problem_type: str,
    features: tuple[str, ...],
    seed: int,
    rows: int = IMPORTANCE_ROWS,
    repeats: int = REPEATS,
) -> list[dict]:
    """[{feature, importance, std}] for each raw feature column, most important first: the drop of the
    main score (accuracy or R²) when that column is shuffled, mean and spread over `repeats` shuffles."""
    if len(X) > rows:
        X = X.sample(rows, random_state=seed)
        y = y.loc[X.index]
    y_true = y.to_numpy()
    columns = [column for column in X.columns if column in features]
    rng = np.random.default_rng(seed)
    blocks = [_shuffled(X, column, rng) for _ in range(repeats) for column in columns]
    predicted = _predict_stacked(pipeline, [X, *blocks])
    base, *scores = (main_score(problem_type, y_true, p) for p in predicted)
    drops = base - np.asarray(scores).reshape(repeats, len(columns))
    result = [
        {"feature": str(column), "importance": float(mean), "std": float(std)}
        for column, mean, std in zip(columns, drops.mean(axis=0), drops.std(axis=0), strict=True)
    ]
    return sorted(result, key=lambda row: (-row["importance"], row["feature"]))


def _shuffled(X: pd.DataFrame, column: str, rng: np.random.Generator) -> pd.DataFrame:
    block = X.copy()
    block[column] = X[column].iloc[rng.permutation(len(X))].set_axis(X.index)
    return block


def _predict_stacked(pipeline: Pipeline, blocks: list[pd.DataFrame]) -> list[np.ndarray]:
    """Predictions for each block, from calls of about CHUNK_ROWS rows."""
    per_call = max(1, CHUNK_ROWS // max(len(blocks[0]), 1))
    out: list[np.ndarray] = []
    for start in range(0, len(blocks), per_call):
        group = blocks[start : start + per_call]
        predicted = np.asarray(pipeline.predict(pd.concat(group, ignore_index=True)))
        out += np.split(predicted, len(group))
    return out
