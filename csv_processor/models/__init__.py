"""csv_processor's models, one module per sub-domain; import them from here."""

from csv_processor.models.cleaning import CleaningJob, CleanModelArtifact
from csv_processor.models.datasets import Dataset, DatasetVersion, TargetExploration, Upload
from csv_processor.models.serving import (
    BatchPrediction,
    DeployedModel,
    ModelRetrain,
    ModelVersion,
    Prediction,
    PredictRateWindow,
)
from csv_processor.models.training import TrainedModel, TrainingRun
from csv_processor.models.workers import WorkerHeartbeat

__all__ = [
    "BatchPrediction",
    "CleanModelArtifact",
    "CleaningJob",
    "Dataset",
    "DatasetVersion",
    "DeployedModel",
    "ModelRetrain",
    "ModelVersion",
    "PredictRateWindow",
    "Prediction",
    "TargetExploration",
    "TrainedModel",
    "TrainingRun",
    "Upload",
    "WorkerHeartbeat",
]
