"""The estimators Auto mode tries, each with its search space and what its preprocessing needs.

Search spaces are small tuples of values: a seeded random draw from them is reproducible, cheap to
log, and covers the settings that matter on tabular data of a few hundred to a few hundred thousand
rows. The empty dict (scikit-learn's defaults) is always the first configuration tried.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

logger = logging.getLogger(__name__)

Factory = Callable[[dict[str, Any], int, int], BaseEstimator]


@dataclass(frozen=True)
class AlgorithmSpec:
    """`encoding` is "onehot" (linear models), "ordinal" (trees) or "native" (HistGradientBoosting
    reads categories and missing values itself). `cost` is the fit time relative to a default
    HistGradientBoosting, used to guess whether a first try still fits in the budget; `size_param` is
    the parameter the fit time grows with (its default given by `size_default`)."""

    name: str
    factory: Factory
    space: dict[str, tuple] = field(default_factory=dict)
    needs_scaling: bool = False
    encoding: str = "ordinal"
    cost: float = 1.0
    size_param: str | None = None
    size_default: float = 1.0


_HGB_SPACE = {
    "learning_rate": (0.03, 0.05, 0.1, 0.2),
    "max_iter": (100, 200, 400),
    "max_leaf_nodes": (7, 15, 31, 63),
    "min_samples_leaf": (5, 10, 20, 40),
    "l2_regularization": (0.0, 0.1, 1.0),
    "max_features": (0.5, 0.8, 1.0),
}
_RF_SPACE = {
    "n_estimators": (100, 200, 300),
    "max_features": ("sqrt", 0.3, 0.5, 1.0),
    "min_samples_leaf": (1, 2, 4, 8),
    "max_depth": (None, 10, 20),
}
_GB_SPACE = {
    "n_estimators": (100, 200, 300),
    "learning_rate": (0.03, 0.05, 0.1, 0.2),
    "max_depth": (2, 3, 4, 5),
    "subsample": (0.7, 0.85, 1.0),
    "min_samples_leaf": (1, 5, 20),
}
# Configurations that do well on many tabular datasets, tried before any random draw so a short budget
# reaches them: deeper, regularised boosting with more rounds; forests with fewer features per split.
PORTFOLIOS: dict[str, tuple[dict[str, Any], ...]] = {
    "HistGradientBoosting": (
        {"learning_rate": 0.1, "max_iter": 400, "max_leaf_nodes": 63, "min_samples_leaf": 20, "l2_regularization": 1.0},
        {"learning_rate": 0.05, "max_iter": 400, "max_leaf_nodes": 31, "min_samples_leaf": 20, "max_features": 0.8},
        {"learning_rate": 0.2, "max_iter": 200, "max_leaf_nodes": 15, "min_samples_leaf": 40},
    ),
    "RandomForest": (
        {"n_estimators": 200, "max_features": 0.5, "min_samples_leaf": 1},
        {"n_estimators": 200, "max_features": "sqrt", "min_samples_leaf": 2},
    ),
    "GradientBoosting": (
        {"n_estimators": 300, "learning_rate": 0.1, "max_depth": 4, "subsample": 0.85},
        {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.85},
    ),
    "LogisticRegression": ({"C": 0.1}, {"C": 10.0}),
    "Ridge": ({"alpha": 10.0},),
    "DecisionTree": ({"max_depth": 8, "min_samples_leaf": 5},),
}
_DT_SPACE = {"max_depth": (None, 3, 5, 8, 12, 20), "min_samples_leaf": (1, 2, 5, 10, 20)}


def _seeded(cls: type) -> Factory:
    return lambda params, seed, n_jobs: cls(random_state=seed, **params)


def _parallel(cls: type) -> Factory:
    return lambda params, seed, n_jobs: cls(random_state=seed, n_jobs=n_jobs, **params)


def _logistic(params: dict[str, Any], seed: int, n_jobs: int) -> BaseEstimator:
    return LogisticRegression(max_iter=2000, random_state=seed, **params)


CLASSIFIERS = {
    "DecisionTree": AlgorithmSpec("DecisionTree", _seeded(DecisionTreeClassifier), _DT_SPACE, cost=0.2),
    "RandomForest": AlgorithmSpec(
        "RandomForest",
        _parallel(RandomForestClassifier),
        _RF_SPACE,
        cost=3.0,
        size_param="n_estimators",
        size_default=100,
    ),
    "GradientBoosting": AlgorithmSpec(
        "GradientBoosting",
        _seeded(GradientBoostingClassifier),
        _GB_SPACE,
        cost=4.0,
        size_param="n_estimators",
        size_default=100,
    ),
    "HistGradientBoosting": AlgorithmSpec(
        "HistGradientBoosting",
        _seeded(HistGradientBoostingClassifier),
        _HGB_SPACE,
        encoding="native",
        size_param="max_iter",
        size_default=100,
    ),
    "LogisticRegression": AlgorithmSpec(
        "LogisticRegression", _logistic, {"C": (0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)}, True, "onehot", cost=0.5
    ),
}
REGRESSORS = {
    "LinearRegression": AlgorithmSpec(
        "LinearRegression", lambda params, seed, n_jobs: LinearRegression(**params), {}, True, "onehot", cost=0.2
    ),
    "Ridge": AlgorithmSpec(
        "Ridge",
        lambda params, seed, n_jobs: Ridge(**params),
        {"alpha": (0.01, 0.1, 1.0, 10.0, 100.0)},
        True,
        "onehot",
        0.2,
    ),
    "DecisionTree": AlgorithmSpec("DecisionTree", _seeded(DecisionTreeRegressor), _DT_SPACE, cost=0.2),
    "RandomForest": AlgorithmSpec(
        "RandomForest",
        _parallel(RandomForestRegressor),
        _RF_SPACE,
        cost=3.0,
        size_param="n_estimators",
        size_default=100,
    ),
    "GradientBoosting": AlgorithmSpec(
        "GradientBoosting",
        _seeded(GradientBoostingRegressor),
        _GB_SPACE,
        cost=4.0,
        size_param="n_estimators",
        size_default=100,
    ),
    "HistGradientBoosting": AlgorithmSpec(
        "HistGradientBoosting",
        _seeded(HistGradientBoostingRegressor),
        _HGB_SPACE,
        encoding="native",
        size_param="max_iter",
        size_default=100,
    ),
}
ALGORITHMS: dict[str, dict[str, AlgorithmSpec]] = {
    "binary": CLASSIFIERS,
    "multiclass": CLASSIFIERS,
    "regression": REGRESSORS,
}
# The baseline is not searched: it shows what guessing the most common class (or the mean) scores.
BASELINES: dict[str, AlgorithmSpec] = {
    "binary": AlgorithmSpec("Dummy", lambda params, seed, n_jobs: DummyClassifier(strategy="prior"), cost=0.01),
    "multiclass": AlgorithmSpec("Dummy", lambda params, seed, n_jobs: DummyClassifier(strategy="prior"), cost=0.01),
    "regression": AlgorithmSpec("Dummy", lambda params, seed, n_jobs: DummyRegressor(strategy="mean"), cost=0.01),
}
BASELINE = "Dummy"


def algorithm_spec(problem_type: str, algorithm: str) -> AlgorithmSpec:
    """The spec for `algorithm` under `problem_type`; ValueError names the valid choices."""
    if problem_type not in ALGORITHMS:
        raise ValueError(f"Unknown task {problem_type!r}: choose one of {', '.join(ALGORITHMS)}.")
    if algorithm == BASELINE:
        return BASELINES[problem_type]
    if algorithm not in ALGORITHMS[problem_type]:
        raise ValueError(
            f"{algorithm!r} is not available for {problem_type}: choose from {', '.join(ALGORITHMS[problem_type])}."
        )
    return ALGORITHMS[problem_type][algorithm]
