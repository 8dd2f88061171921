"""Serving: input checks and frames built from JSON records, predictions, local explanations, drift.

Pure pandas/scikit-learn: no Django, no MLflow. The services precompute an `InputSpec` once per model
version and reuse it for every request.
"""

from csv_processor.ml.serving.inputs import (
    FieldSpec,
    InputError,
    InputSpec,
    PreparedRows,
    build_input_spec,
    records_frame,
)
from csv_processor.ml.serving.predict import Predicted, predict_frame

__all__ = [
    "FieldSpec",
    "InputError",
    "InputSpec",
    "Predicted",
    "PreparedRows",
    "build_input_spec",
    "predict_frame",
    "records_frame",
]
