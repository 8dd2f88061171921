"""One call into the pipeline per request: classification asks only for probabilities and takes the
most likely class from them (what `predict` does, without a second pass through the pipeline)."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class Predicted:
    labels: list
    probabilities: list[dict] | None
    scores: np.ndarray


def predict_frame(pipeline: Pipeline, frame: pd.DataFrame, *, problem_type: str) -> Predicted:
    """Predictions as plain Python values; `scores` is per row the probability of the predicted class
    (classification) or the predicted value (regression), used by the explanations."""
    # The input was checked already; skip scikit-learn's repeated finiteness and parameter checks.
    with config_context(assume_finite=True, skip_parameter_validation=True):
        return predict_with(pipeline, frame, problem_type=problem_type)


def predict_with(model: Any, X: Any, *, problem_type: str) -> Predicted:
    """`predict_frame` for any fitted estimator (a pipeline, or a compiled pipeline's final estimator)."""
    if problem_type == "regression":
        values = np.asarray(model.predict(X), dtype="float64")
        return Predicted(values.tolist(), None, values)
    proba = model.predict_proba(X)
    classes = model.classes_
    best = proba.argmax(axis=1)
    labels = classes[best].tolist()
    names = [str(c) for c in classes.tolist()]
    probabilities = [dict(zip(names, row, strict=True)) for row in proba.tolist()]
    return Predicted(labels, probabilities, proba[np.arange(len(best)), best])


def class_scores(
    pipeline: Pipeline, frame: pd.DataFrame, *, problem_type: str, classes: np.ndarray | None
) -> np.ndarray:
    """Per row: the probability of the class given in `classes` (same length), or the predicted value."""
    with config_context(assume_finite=True, skip_parameter_validation=True):
        if problem_type == "regression":
            return np.asarray(pipeline.predict(frame), dtype="float64")
        proba = pipeline.predict_proba(frame)
    if classes is None:
        raise TypeError("A classifier's scores need the class of each row.")
    index = {c: i for i, c in enumerate(pipeline.classes_.tolist())}
    return proba[np.arange(len(frame)), [index[c] for c in classes]]
