"""See inside the chosen model, on its test rows: calibration and cumulative gain (binary), and partial
dependence with individual (ICE) lines for its top features. Each comes with a sentence that reads it.

Computed once in the worker after the importance (the top features are the most important ones) and stored
with the run's plots, so the run page only draws them.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from csv_processor.ml.json_values import json_value
from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.training.features import ROLE_OF_KIND

logger = logging.getLogger(__name__)

CALIBRATION_BINS = 10
# Average gap between the probability given and the share observed that still reads as "take it at its word".
WELL_CALIBRATED = 0.05
GAIN_POINTS = 50
PD_FEATURES = 3
PD_ROWS = 300
ICE_LINES = 30
GRID_POINTS = 20
MAX_CATEGORIES = 12
# A partial dependence flatter than this share of the prediction's spread "barely moves" it.
FLAT_SHARE = 0.02
# The fixed cost of a column's partial dependence: one prediction call and the stacked frame.
INSPECTION_OVERHEAD_SECONDS = 0.1
INSPECTION_SHARE = 0.05
MIN_PD_ROWS = 50
# Ends this close to the whole range apart read as 'tends to raise (lower)'.
MONOTONE_SHARE = 0.6


def inspection_seconds(predict_ms_per_row: float, budget: float) -> float:
    """What the search keeps for `model_inspection`: every grid point of each feature predicts PD_ROWS rows,
    plus a prediction call's overhead per feature, but never more than INSPECTION_SHARE of the budget."""
    rows = PD_FEATURES * GRID_POINTS * PD_ROWS
    full = PD_FEATURES * INSPECTION_OVERHEAD_SECONDS + rows * predict_ms_per_row / 1000
    return min(full, INSPECTION_SHARE * budget)


def inspection_rows(seconds: float, predict_ms_per_row: float) -> int:
    """The rows the partial dependence can average over in `seconds` (MIN_PD_ROWS to PD_ROWS)."""
    per_row = PD_FEATURES * GRID_POINTS * max(predict_ms_per_row, 1e-6) / 1000
    fit = (seconds - PD_FEATURES * INSPECTION_OVERHEAD_SECONDS) / per_row
    return int(min(PD_ROWS, max(MIN_PD_ROWS, fit)))


def binary_inspection(y_true: np.ndarray, proba: np.ndarray, classes: list) -> dict[str, Any]:
    """{"calibration": ..., "gain": ...} for the positive class (classes[1]); {} when the test rows hold one class."""
    positive = np.asarray(y_true) == classes[1]
    if positive.all() or not positive.any():
        return {}
    score = proba[:, 1]
    label = str(classes[1])
    return {"calibration": _calibration(positive, score, label), "gain": _gain(positive, score, label)}


def _calibration(positive: np.ndarray, score: np.ndarray, label: str) -> dict[str, Any]:
    """Mean chance given against the share observed, in CALIBRATION_BINS bins of equal row counts."""
    edges = np.unique(np.quantile(score, np.linspace(0, 1, CALIBRATION_BINS + 1)))
    bins = np.clip(np.searchsorted(edges[1:-1], score, side="right"), 0, max(len(edges) - 2, 0))
    counts = np.bincount(bins)
    kept = counts > 0
    predicted = np.bincount(bins, weights=score)[kept] / counts[kept]
    observed = np.bincount(bins, weights=positive.astype(float))[kept] / counts[kept]
    weights = counts[kept] / counts.sum()
    gap = float(np.sum(weights * np.abs(predicted - observed)))
    bias = float(np.sum(weights * (predicted - observed)))
    if gap <= WELL_CALIBRATED:
        sentence = (
            f"Its probabilities can be taken at their word: of the test rows given a chance of “{label}”, the share "
            f"that were “{label}” is within {gap:.0%} of that chance on average."
        )
    else:
        leaning = "higher" if bias > 0 else "lower"
        sentence = (
            f"Read its probabilities with care: the chance of “{label}” it gives is {gap:.0%} off on average, "
            f"mostly {leaning} than the share of test rows that turned out “{label}”."
        )
    return {
        "predicted": predicted.tolist(),
        "observed": observed.tolist(),
        "rows": counts[kept].tolist(),
        "gap": gap,
        "sentence": sentence,
    }


def _gain(positive: np.ndarray, score: np.ndarray, label: str) -> dict[str, Any]:
    order = np.argsort(-score, kind="stable")
    found = np.cumsum(positive[order]) / positive.sum()
    share = np.arange(1, len(order) + 1) / len(order)
    keep = np.unique(np.linspace(0, len(order) - 1, min(GAIN_POINTS, len(order))).round().astype(int))
    fifth = max(1, round(0.2 * len(order))) - 1
    lift = found[fifth] / share[fifth]
    sentence = (
        f"The fifth of the test rows it is surest are “{label}” hold {found[fifth]:.0%} of all “{label}” rows: "
        f"{lift:.1f} times what picking rows at random finds."
    )
    return {
        "share": [0.0, *share[keep].tolist()],
        "gain": [0.0, *found[keep].tolist()],
        "lift": [None, *(found[keep] / share[keep]).tolist()],
        "sentence": sentence,
    }


def partial_dependences(
    pipeline: Pipeline,
    X: pd.DataFrame,
    ranked_features: list[str],
    kinds: dict[str, str],
    *,
    problem_type: str,
    classes: list,
    target: str,
    focus: int = 0,
    seed: int,
    rows: int = PD_ROWS,
) -> list[dict[str, Any]]:
    """The partial dependence (average) and up to ICE_LINES individual lines of the prediction on each of the
    PD_FEATURES most important numeric or categorical features, over `rows` of the rows in X.

    The prediction is the chance of the positive class (binary), of classes[focus] (multiclass: the caller
    passes its most common class), or the predicted value (regression)."""
    roles = {name: ROLE_OF_KIND.get(kind) for name, kind in kinds.items()}
    features = [name for name in ranked_features if roles.get(name) in ("numeric", "categorical")][:PD_FEATURES]
    sample = X.sample(min(len(X), rows), random_state=seed) if len(X) else X
    what = _what(problem_type, classes, target, focus)
    plots = []
    for feature in features:
        categorical = roles[feature] == "categorical"
        frame = sample
        if not categorical:
            # As numbers: floats, so the grid may fall between whole numbers; numbers written as text parsed.
            frame = sample.assign(**{feature: parse_numbers(sample[feature]).astype(float)})
        values = frame[feature].dropna()
        if values.nunique() < 2:
            continue
        grid = _category_grid(values) if categorical else _numeric_grid(values)
        try:
            lines_all = individual_lines(pipeline, frame, feature, grid, problem_type=problem_type, focus=focus)
        except (ValueError, TypeError) as exc:
            # A chart is never worth failing a run that trained: leave this one out.
            logger.warning("partial dependence of %r left out: %s", feature, exc)
            continue
        average = lines_all.mean(axis=0)
        lines = lines_all[:ICE_LINES]
        shown_grid = [json_value(v) for v in grid]
        plots.append(
            {
                "feature": feature,
                "categorical": categorical,
                "grid": shown_grid,
                "average": average.tolist(),
                "ice": lines.tolist(),
                "what": what,
                "sentence": _pd_sentence(feature, categorical, shown_grid, average, lines, what),
            }
        )
    return plots


def individual_lines(
    pipeline: Pipeline, frame: pd.DataFrame, feature: str, grid: np.ndarray, *, problem_type: str, focus: int = 0
) -> np.ndarray:
    """Each row's prediction with `feature` set to each grid value: (rows, grid), the ICE lines whose mean is
    the partial dependence. scikit-learn's `partial_dependence(kind="both")` computes the same (brute force),
    with one prediction call per grid value; here all of them are one call, many times faster for a pipeline
    (tests/ml/training/test_inspection.py checks the two agree). The prediction is the chance of the positive
    class (binary), of classes_[focus] (multiclass), or the predicted value (regression)."""
    rows, points = len(frame), len(grid)
    stacked = frame.iloc[np.repeat(np.arange(rows), points)].reset_index(drop=True)
    values = np.tile(np.asarray(grid, dtype=object if grid.dtype == object else float), rows)
    stacked[feature] = pd.Series(values, dtype=object if grid.dtype == object else float)
    if problem_type == "regression":
        predicted = np.asarray(pipeline.predict(stacked), dtype=float)
    else:
        predicted = pipeline.predict_proba(stacked)[:, 1 if problem_type == "binary" else focus]
    return predicted.reshape(rows, points)


def _what(problem_type: str, classes: list, target: str, focus: int) -> str:
    """What the partial dependence shows, in words."""
    if problem_type == "regression":
        return f"predicted {target}"
    if len(classes) == 2:
        return f"chance of “{classes[1]}”"
    return f"chance of “{classes[focus]}”"


def _numeric_grid(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    grid = np.unique(np.quantile(numbers, np.linspace(0.05, 0.95, GRID_POINTS)))
    return grid if len(grid) > 1 else np.unique(numbers)


def _category_grid(values: pd.Series) -> np.ndarray:
    return np.asarray(values.value_counts().index[:MAX_CATEGORIES].tolist(), dtype=object)


def _number(value: Any) -> str:
    """Three significant digits, thousands separated: 0.184, 36.1, 1,031."""
    if not isinstance(value, int | float):
        return str(value)
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{max(0, 2 - int(np.floor(np.log10(abs(value)))))}f}"


def _pd_sentence(feature: str, categorical: bool, grid: list, average: np.ndarray, lines: np.ndarray, what: str) -> str:
    # Chances read as percentages, predicted values as numbers.
    value = (lambda v: f"{v:.0%}") if what.startswith("chance") else _number
    spread = float(np.ptp(lines)) if lines.size else 0.0
    moved = float(np.ptp(average))
    if spread == 0 or moved <= FLAT_SHARE * max(spread, 1e-12):
        return f"Changing {feature} barely moves the {what}: the model hardly uses it on its own."
    if categorical:
        high, low = int(np.argmax(average)), int(np.argmin(average))
        return (
            f"{feature} = {grid[high]} gives the highest {what} ({value(average[high])} on average), "
            f"{grid[low]} the lowest ({value(average[low])})."
        )
    change = float(average[-1] - average[0])
    span = (
        f"from {value(average[0])} to {value(average[-1])} as {feature} goes from {_number(grid[0])} "
        f"to {_number(grid[-1])}"
    )
    # Mostly one way: the ends differ by most of the curve's range.
    if abs(change) >= MONOTONE_SHARE * moved:
        return f"Higher {feature} tends to {'raise' if change > 0 else 'lower'} the {what} ({span})."
    peak, low = int(np.argmax(average)), int(np.argmin(average))
    if 0 < peak < len(average) - 1:
        return f"The {what} is highest when {feature} is around {_number(grid[peak])}, and lower on either side."
    return f"The {what} is lowest when {feature} is around {_number(grid[low])}, and higher on either side."


def model_inspection(
    pipeline: Pipeline,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    proba: np.ndarray | None,
    importance: list[dict],
    kinds: dict[str, str],
    *,
    problem_type: str,
    classes: list,
    target: str,
    seed: int,
    rows: int = PD_ROWS,
) -> dict[str, Any]:
    """The run's extra plots: calibration and gain (binary, with probabilities) and partial dependences."""
    plots: dict[str, Any] = {}
    if problem_type == "binary" and proba is not None:
        plots.update(binary_inspection(y_test.to_numpy(), proba, classes))
    focus = 0
    if problem_type == "multiclass" and len(y_test):
        focus = classes.index(y_test.value_counts().index[0])
    ranked = [row["feature"] for row in importance]
    plots["partial_dependence"] = partial_dependences(
        pipeline,
        X_test,
        ranked,
        kinds,
        problem_type=problem_type,
        classes=classes,
        target=target,
        focus=focus,
        seed=seed,
        rows=rows,
    )
    return plots
