"""Which kind of model a target calls for, with the reason in words, and which columns look like targets.

Decisions:
* Two distinct values are always "binary", whatever their type (0/1, yes/no, 1/2 in german credit).
* Text, booleans and categories with more values are "multiclass".
* Integers with at most MAX_CLASSES distinct values, few per row, are "multiclass": grades, ratings,
  codes. Wine quality (6 values) lands here; the user can override it to regression.
* Floats, and integers with many values, are "regression". Text that is >= 95% numbers
  ("1,000", "$4.99") is read with parse_numbers first and then judged as numbers.
"""

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.numbers import numeric_share, parse_numbers
from csv_processor.ml.types import ColumnType

logger = logging.getLogger(__name__)

PROBLEM_TYPES = ("binary", "multiclass", "regression")
MAX_CLASSES = 20
# An integer column with more distinct values than this share of its rows is a quantity, not a class.
CLASS_RATIO = 0.05
NUMERIC_TEXT_SHARE = 0.95
MAX_SUGGESTIONS = 3
_TARGET_NAME = re.compile(
    r"(^|[\s_\-.])(target|label|class|y|outcome|churn|survived|default|price|income|quality|species|"
    r"result|response|score|status|rating|salary|sales)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ProblemTypeGuess:
    problem_type: str
    reason: str


def detect_problem_type(series: pd.Series) -> ProblemTypeGuess:
    """Guess binary / multiclass / regression from the target's values, with a one-line reason."""
    present = series.dropna()
    n_values = int(present.nunique())
    if n_values == 2:
        return ProblemTypeGuess("binary", "2 values: binary classification")
    if n_values < 2:
        return ProblemTypeGuess(
            "binary", f"{n_values} value{'s' if n_values != 1 else ''}: cannot train (needs 2 or more)"
        )
    numbers = _as_numbers(present)
    if numbers is None:
        return ProblemTypeGuess("multiclass", f"text with {n_values} values: multiclass classification")
    whole = bool(np.all(np.mod(numbers, 1) == 0))
    if whole and n_values <= MAX_CLASSES and n_values <= max(CLASS_RATIO * len(numbers), 3):
        return ProblemTypeGuess("multiclass", f"integers with {n_values} values: multiclass classification")
    if whole:
        return ProblemTypeGuess("regression", f"integers with {n_values} values: regression")
    return ProblemTypeGuess("regression", "floats: regression")


def _as_numbers(present: pd.Series) -> np.ndarray | None:
    """The values as floats when the column holds numbers (stored or written as text); else None."""
    if ptypes.is_bool_dtype(present.dtype):
        return None
    if ptypes.is_numeric_dtype(present.dtype):
        values = present.to_numpy(dtype="float64")
        return values[np.isfinite(values)]
    if isinstance(present.dtype, pd.CategoricalDtype) or numeric_share(present) < NUMERIC_TEXT_SHARE:
        return None
    values = parse_numbers(present).to_numpy()
    return values[np.isfinite(values)]


def suggest_targets(df: pd.DataFrame, types: list[ColumnType]) -> list[str]:
    """Up to three likely targets, best first.

    Target-like names come first, then the last column (where most exported tables put the outcome),
    then two-valued and low-cardinality columns. Identifiers, free text, dates and constant or mostly
    empty columns are never suggested.
    """
    scores: dict[str, float] = {}
    last = str(df.columns[-1]) if len(df.columns) else None
    for column in types:
        if column.kind in ("identifier", "text", "datetime") or column.name not in df.columns:
            continue
        series = df[column.name]
        n_present = len(series) - column.missing
        if n_present < 2 or column.missing > 0.5 * len(series) or series.nunique(dropna=True) < 2:
            continue
        score = 0.0
        score += 4.0 if _TARGET_NAME.search(column.name) else 0.0
        score += 2.0 if column.name == last else 0.0
        score += 1.0 if column.kind in ("boolean", "categorical") and series.nunique() <= MAX_CLASSES else 0.0
        scores[column.name] = score
    ranked = sorted((name for name, score in scores.items() if score > 0), key=lambda name: -scores[name])
    return ranked[:MAX_SUGGESTIONS]
