"""One scikit-learn Pipeline per model: [recipe replay ->] column preparation -> estimator.

The column preparation depends on what the estimator can take:
* linear models: numbers imputed (median, plus a missing flag) and scaled; categories one-hot encoded
  with rare and unseen values folded into an "infrequent" column;
* trees: numbers imputed with a missing flag; categories as ordinal codes, unseen and missing as -1;
* HistGradientBoosting: numbers left with their gaps and categories as native categorical codes (at
  most 250 levels), because it handles both itself and does better that way.
Dates become numeric parts, free text its length. Categories always come first in the output so
HistGradientBoosting can be told their positions before anything is fitted.
"""

import logging
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from csv_processor.ml.training.algorithms import ALGORITHMS, AlgorithmSpec, algorithm_spec
from csv_processor.ml.training.features import ROLE_OF_KIND
from csv_processor.ml.training.preprocess import CategoryCodes, DateParts, NumberColumns, TextStats
from csv_processor.ml.training.target import with_log_target

logger = logging.getLogger(__name__)

__all__ = ["ALGORITHMS", "LOG_TARGET", "build_pipeline", "roles_of", "with_recipe"]

# The configuration key that fits a regressor on log(y) (see target.py).
LOG_TARGET = "log_target"

ONEHOT_MAX_CATEGORIES = 30
ONEHOT_MIN_FREQUENCY = 5
NATIVE_MAX_CATEGORIES = 250


def roles_of(feature_types: dict[str, str]) -> dict[str, list[str]]:
    """Feature names grouped by role (categorical, numeric, datetime, text), keeping their order."""
    roles: dict[str, list[str]] = {"categorical": [], "numeric": [], "datetime": [], "text": []}
    for name, kind in feature_types.items():
        if kind not in ROLE_OF_KIND:
            raise ValueError(f"Unknown kind {kind!r} for {name!r}: expected one of {', '.join(ROLE_OF_KIND)}.")
        roles[ROLE_OF_KIND[kind]].append(name)
    return roles


def build_pipeline(
    *,
    algorithm: str,
    problem_type: str,
    feature_types: dict[str, str],
    params: dict[str, Any],
    recipe_steps: list[dict] | None = None,
    seed: int,
    n_jobs: int = 1,
) -> Pipeline:
    """An unfitted Pipeline that takes raw rows (a DataFrame with the original columns).

    `params` are the estimator's, plus `log_target: True` (regression only) to fit on log(y)."""
    spec = algorithm_spec(problem_type, algorithm)
    roles = roles_of(feature_types)
    params = dict(params)
    log_target = bool(params.pop(LOG_TARGET, False))
    if log_target and problem_type != "regression":
        raise ValueError(f"{LOG_TARGET} applies to regression only, not {problem_type}.")
    estimator = spec.factory(params, seed, n_jobs)
    if spec.encoding == "native" and roles["categorical"]:
        estimator.set_params(categorical_features=list(range(len(roles["categorical"]))))
    if log_target:
        estimator = with_log_target(estimator)
    return with_recipe([("prepare", _column_transformer(roles, spec)), ("model", estimator)], recipe_steps)


def with_recipe(steps: list[tuple[str, BaseEstimator]], recipe_steps: list[dict] | None) -> Pipeline:
    """`steps` behind the recipe replay, when there is a recipe, so the Pipeline takes raw rows."""
    return Pipeline([("recipe", _recipe_step(recipe_steps)), *steps] if recipe_steps else steps)


def _recipe_step(recipe_steps: list[dict]) -> BaseEstimator:
    # Import on use: the cleaning package is optional for training without a recipe.
    from csv_processor.ml.cleaning.recipe import RecipeTransformer

    return RecipeTransformer(list(recipe_steps))


def _column_transformer(roles: dict[str, list[str]], spec: AlgorithmSpec) -> ColumnTransformer:
    parts = [
        ("categorical", _categorical(spec), roles["categorical"]),
        ("numeric", _numeric(NumberColumns(), spec), roles["numeric"]),
        ("datetime", _numeric(DateParts(), spec), roles["datetime"]),
        ("text", _numeric(TextStats(), spec), roles["text"]),
    ]
    return ColumnTransformer([part for part in parts if part[2]], remainder="drop", sparse_threshold=0.0)


def _numeric(reader: BaseEstimator, spec: AlgorithmSpec) -> Pipeline:
    if spec.encoding == "native":
        return make_pipeline(reader)
    imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    return make_pipeline(reader, imputer, StandardScaler()) if spec.needs_scaling else make_pipeline(reader, imputer)


def _categorical(spec: AlgorithmSpec) -> Pipeline:
    if spec.encoding == "onehot":
        onehot = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=ONEHOT_MIN_FREQUENCY,
            max_categories=ONEHOT_MAX_CATEGORIES,
            sparse_output=False,
        )
        # Unseen values get code -1, which the encoder never saw: it sends them to the infrequent column.
        return make_pipeline(CategoryCodes(unknown=-1.0), onehot)
    if spec.encoding == "native":
        return make_pipeline(CategoryCodes(max_categories=NATIVE_MAX_CATEGORIES))
    return make_pipeline(CategoryCodes(missing=-1.0, unknown=-1.0))
