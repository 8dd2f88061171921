"""A cheap local explanation: replace one feature at a time by its training median (numbers) or most
common value (categories) and see how the predicted probability (or value) moves. One batched call
into the pipeline for all rows and features."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from csv_processor.ml.json_values import json_value
from csv_processor.ml.serving.inputs import InputSpec
from csv_processor.ml.serving.predict import Predicted, class_scores

TOP = 5


def explain_rows(
    pipeline: Pipeline, frame: pd.DataFrame, spec: InputSpec, predicted: Predicted, *, top: int = TOP
) -> list[list[dict]]:
    """Per row, the features that pushed the prediction most: `effect` is how much higher the score is
    with the row's own value than with the reference value (positive: pushed towards the prediction)."""
    features = [f for f in spec.features if f.reference is not None and f.name in frame.columns]
    if not features:
        return [[] for _ in range(len(frame))]
    n = len(frame)
    blocks = []
    for feature in features:
        block = frame.copy()
        block[feature.name] = pd.Series([feature.reference] * n, index=block.index).astype(frame[feature.name].dtype)
        blocks.append(block)
    stacked = pd.concat(blocks, ignore_index=True)
    labels = None if spec.problem_type == "regression" else np.array(predicted.labels * len(features), dtype=object)
    replaced = class_scores(pipeline, stacked, problem_type=spec.problem_type, classes=labels).reshape(len(features), n)
    effects = predicted.scores[np.newaxis, :] - replaced
    out = []
    for row in range(n):
        order = np.argsort(-np.abs(effects[:, row]))[:top]
        out.append(
            [
                {
                    "feature": features[i].name,
                    "value": json_value(frame[features[i].name].iloc[row]),
                    "reference": features[i].reference,
                    "effect": float(effects[i, row]),
                }
                for i in order
                if effects[i, row] != 0
            ]
        )
    return out
