"""The fitted form of a blend (blend.py): one estimator holding several member Pipelines."""

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import ClassifierTags, RegressorTags, Tags

logger = logging.getLogger(__name__)


class Blend(BaseEstimator):
    """The weighted average of fitted-on-fit copies of `members` (Pipelines): probabilities for classifiers,
    values for regressors. Takes the same raw frame as each member.

    `task` is the problem type (binary, multiclass, regression). Keep its name: stored models pickle this
    attribute, and scikit-learn's get_params reads it by the constructor's parameter name.
    """

    def __init__(self, members: list[tuple[str, Any]], weights: list[float], task: str) -> None:
        self.members = members
        self.weights = weights
        self.task = task

    def __sklearn_tags__(self) -> Tags:
        """A classifier or a regressor by `task`, as scikit-learn's tools (partial_dependence) ask."""
        tags = super().__sklearn_tags__()
        if self.task == "regression":
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        else:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        return tags

    def fit(self, X: pd.DataFrame, y: pd.Series) -> "Blend":
        self.fitted_ = [clone(model).fit(X, y) for _, model in self.members]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        if self.task != "regression":
            self.classes_ = self.fitted_[0].classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return sum(w * model.predict_proba(X) for w, model in zip(self.weights, self.fitted_, strict=True))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self.task != "regression":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return sum(w * model.predict(X) for w, model in zip(self.weights, self.fitted_, strict=True))
