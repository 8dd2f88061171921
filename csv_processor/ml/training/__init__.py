"""Training: problem-type detection, preflight, one Pipeline per model, Auto mode and evaluation.
Pure: no Django, no MLflow."""

from csv_processor.ml.training.automl import Cancelled, Candidate, Progress, TrainConfig, TrainResult, train
from csv_processor.ml.training.fit import FittedModel, fit_model
from csv_processor.ml.training.pipeline import ALGORITHMS, build_pipeline
from csv_processor.ml.training.preflight import Issue, Preflight, preflight
from csv_processor.ml.training.prepare import TrainingBlocked
from csv_processor.ml.training.problem_type import ProblemTypeGuess, detect_problem_type, suggest_targets

__all__ = [
    "ALGORITHMS",
    "Cancelled",
    "Candidate",
    "FittedModel",
    "Issue",
    "Preflight",
    "ProblemTypeGuess",
    "Progress",
    "TrainConfig",
    "TrainResult",
    "TrainingBlocked",
    "build_pipeline",
    "detect_problem_type",
    "fit_model",
    "preflight",
    "suggest_targets",
    "train",
]
