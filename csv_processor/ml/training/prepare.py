"""From the uploaded rows and a TrainConfig to the X, y and feature kinds that training runs on.

With a cleaning recipe, the recipe is applied once here (training=True) to learn the types, run the
preflight and read the target; the model itself gets the raw rows, and its first step replays the
recipe, so it predicts from raw rows too. Rows the recipe drops are matched by index label. Without a
recipe the model gets exactly the feature columns.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.training.features import feature_kinds, feature_schema
from csv_processor.ml.training.preflight import MIN_CLASS_ROWS, Preflight, clean_target, preflight
from csv_processor.ml.training.problem_type import PROBLEM_TYPES
from csv_processor.ml.training.train_config import TrainConfig
from csv_processor.ml.types import infer_column_types

logger = logging.getLogger(__name__)


class TrainingBlocked(ValueError):
    """The preflight found problems that make training impossible; `preflight.problems` says which."""

    def __init__(self, check: Preflight) -> None:
        super().__init__(" ".join(issue.message for issue in check.problems))
        self.preflight = check


@dataclass(frozen=True)
class TrainingData:
    X: pd.DataFrame
    y: pd.Series
    kinds: dict[str, str]
    features: tuple[str, ...]
    check: Preflight
    frame: pd.DataFrame

    def schema(self, train_pos: np.ndarray) -> dict[str, dict]:
        """The feature schema, from the training rows only."""
        return feature_schema(self.frame.iloc[train_pos], self.kinds)


def _validate(config: TrainConfig) -> None:
    if config.problem_type not in PROBLEM_TYPES:
        raise ValueError(f"Unknown task {config.problem_type!r}: choose one of {', '.join(PROBLEM_TYPES)}.")
    if not 0 < config.test_size < 1:
        raise ValueError("The test share must be between 0 and 1.")
    if config.cv_folds < 2:
        raise ValueError("Cross-validation needs at least 2 folds.")
    if config.budget_seconds <= 0:
        raise ValueError("The time budget must be positive.")


def prepare(df: pd.DataFrame, config: TrainConfig) -> TrainingData:
    """Validated, cleaned training data; raises TrainingBlocked when the preflight finds problems."""
    _validate(config)
    frame = df
    if config.recipe_steps:
        from csv_processor.ml.cleaning.recipe import Recipe, apply_recipe

        frame = apply_recipe(df, Recipe.from_list(list(config.recipe_steps)), training=True)
    types = infer_column_types(frame)
    check = preflight(
        frame,
        target=config.target,
        problem_type=config.problem_type,
        features=config.features,
        types=types,
        cv_folds=config.cv_folds,
    )
    if not check.ok:
        raise TrainingBlocked(check)
    y = clean_target(frame[config.target], config.problem_type)
    keep = y.notna()
    if config.problem_type != "regression":
        counts = y[keep].value_counts()
        keep &= ~y.isin(counts[counts < MIN_CLASS_ROWS].index)
    y = _class_labels(y[keep]) if config.problem_type != "regression" else y[keep].astype("float64")
    frame = frame.loc[keep]
    raw = df.loc[frame.index] if config.recipe_steps else frame[list(check.features)]
    kinds = feature_kinds(types, check.features)
    logger.info("training on %d rows, %d features", len(frame), len(kinds))
    return TrainingData(
        X=raw, y=y, kinds=kinds, features=check.features, check=check, frame=frame[list(check.features)]
    )


def _class_labels(y: pd.Series) -> pd.Series:
    """Labels sklearn can sort: text (or mixed objects) as stripped strings, numbers and booleans as they are."""
    if ptypes.is_string_dtype(y.dtype) or ptypes.is_object_dtype(y.dtype) or isinstance(y.dtype, pd.CategoricalDtype):
        return y.astype("str").str.strip().astype(object)
    return y
