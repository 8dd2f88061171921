"""Fitted estimators' predictions without their per-call input validation, for compiled.py.

On one row, scikit-learn's checks (array conversion, feature names, fitted state) cost more than a
linear model's product, and boosting adds a Python call per tree. These wrappers do the same
arithmetic with what the estimator computed at fit time. They rely on the installed scikit-learn's
fitted attributes (some private); a compiled pipeline is checked against the estimator's own answers
before it serves (`agrees_with_pipeline`), so a change there falls back to the estimator.
"""

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.ensemble._hist_gradient_boosting._predictor import _predict_from_raw_data
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.utils.extmath import softmax

LINEAR_REGRESSORS = (LinearRegression, Ridge, Lasso, ElasticNet)


def fast_estimator(estimator: Any) -> Any:
    """A stand-in with the same `predict`/`predict_proba` and `classes_`, or the estimator itself."""
    kind = type(estimator)
    if kind is LogisticRegression:
        return Linear(estimator.coef_.T, estimator.intercept_, estimator.classes_)
    if kind in LINEAR_REGRESSORS:
        return Linear(np.asarray(estimator.coef_).T, estimator.intercept_, None)
    if kind in (HistGradientBoostingClassifier, HistGradientBoostingRegressor):
        return Boosting(estimator)
    return estimator


class Forest:
    """All of a boosting model's trees walked together, one numpy step per tree level: a node goes left
    when its number is at most the threshold, or when it is missing and the split sends gaps left
    (HistGradientBoosting's rule). Numeric splits only; leaves then summed per class."""

    def __init__(self, trees: list[list[np.ndarray]]) -> None:
        nodes = [tree for iteration in trees for tree in iteration]
        offsets = np.cumsum([0] + [len(tree) for tree in nodes[:-1]])
        flat = np.concatenate(nodes)
        self.roots = offsets.astype(np.intp)
        owner = np.repeat(offsets, [len(tree) for tree in nodes])
        self.feature = flat["feature_idx"].astype(np.intp)
        self.threshold = flat["num_threshold"]
        self.missing_left = flat["missing_go_to_left"].astype(bool)
        self.leaf = flat["is_leaf"].astype(bool)
        self.left = (flat["left"] + owner).astype(np.intp)
        self.right = (flat["right"] + owner).astype(np.intp)
        self.value = flat["value"]
        self.depth = int(flat["depth"].max()) + 1
        per_iteration = len(trees[0])
        self.classes = np.tile(np.eye(per_iteration), (len(trees), 1))  # tree -> its class column

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """(rows, trees) leaf values."""
        rows = np.arange(X.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (X.shape[0], len(self.roots))).copy()
        for _ in range(self.depth):
            values = X[rows, self.feature[node]]
            left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(self.leaf[node], node, np.where(left, self.left[node], self.right[node]))
        return self.value[node]


class Linear:
    """scores = X @ coef.T + intercept, then LogisticRegression's link (expit for two classes, else
    softmax) or none for regression."""

    def __init__(self, coef_t: np.ndarray, intercept: np.ndarray | float, classes: np.ndarray | None) -> None:
        self.coef_t, self.intercept, self.classes_ = coef_t, intercept, classes

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef_t + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.classes_ is None:
            raise TypeError("A regression has no class probabilities.")
        scores = X @ self.coef_t + self.intercept
        if len(self.classes_) <= 2:
            positive = expit(scores.reshape(-1))
            return np.stack([1 - positive, positive], axis=1)
        return softmax(scores, copy=False)


class Boosting:
    """HistGradientBoosting's `_raw_predict` without its per-call checks: numeric trees walked together
    (`Forest`); with categorical splits, each tree by scikit-learn's own compiled routine with the
    known-category bitsets computed once, on one thread (rows are independent)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.classes_ = getattr(estimator, "classes_", None)
        self.preprocess = estimator._preprocessor.transform if estimator._preprocessor is not None else None
        self.known_bitsets, self.feature_map = estimator._bin_mapper.make_known_categories_bitsets()
        self.trees = [[(p.nodes, p.raw_left_cat_bitsets) for p in trees] for trees in estimator._predictors]
        numeric = all(not nodes["is_categorical"].any() for trees in self.trees for nodes, _ in trees)
        self.forest = Forest([[nodes for nodes, _ in trees] for trees in self.trees]) if numeric else None

    def _raw(self, X: np.ndarray) -> np.ndarray:
        X = self.preprocess(X) if self.preprocess is not None else np.asarray(X, dtype=np.float64)
        baseline = self.estimator._baseline_prediction
        raw = np.zeros((X.shape[0], self.estimator.n_trees_per_iteration_), dtype=baseline.dtype, order="F")
        raw += baseline
        if self.forest is not None:
            raw += self.forest.leaves(X) @ self.forest.classes
            return raw
        out = np.empty(X.shape[0], dtype=np.float64)
        for trees in self.trees:
            for k, (nodes, left_bitsets) in enumerate(trees):
                _predict_from_raw_data(nodes, X, left_bitsets, self.known_bitsets, self.feature_map, 1, out)
                raw[:, k] += out
        return raw

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator._loss.link.inverse(self._raw(X).ravel())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.estimator._loss.predict_proba(self._raw(X))
