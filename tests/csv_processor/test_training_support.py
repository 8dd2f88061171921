"""Data and fixtures shared by the training tests (no tests here)."""

import numpy as np
import pytest

from csv_processor.models import TrainingRun
from csv_processor.services.training.runs import TrainingOptions, training_run_create
from tests.csv_processor.helpers import make_dataset


def classification_csv(rows: int = 200, seed: int = 0) -> bytes:
    """id, two numbers, a colour and a yes/no label that depends on x1 and the colour."""
    rng = np.random.default_rng(seed)
    lines = ["id,x1,x2,colour,label"]
    colours = ["red", "green", "blue"]
    for i in range(rows):
        x1, x2 = rng.normal(), rng.normal()
        colour = colours[int(rng.integers(3))]
        score = x1 + (0.8 if colour == "red" else 0.0) + rng.normal(scale=0.3)
        lines.append(f"{1000 + i},{x1:.4f},{x2:.4f},{colour},{'yes' if score > 0.3 else 'no'}")
    return ("\n".join(lines) + "\n").encode()


def regression_csv(rows: int = 200, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["size,rooms,price"]
    for _ in range(rows):
        size, rooms = rng.uniform(30, 200), int(rng.integers(1, 6))
        lines.append(f"{size:.1f},{rooms},{3 * size + 10 * rooms + rng.normal(scale=5):.2f}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def mlflow_store(settings, tmp_path):
    """A real MLflow store on SQLite in tmp_path, with artifacts beside it."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    settings.MLFLOW_ARTIFACT_ROOT = (tmp_path / "mlartifacts").as_uri()
    return settings.MLFLOW_TRACKING_URI


@pytest.fixture
def dataset(user, tmp_path):
    return make_dataset(user, tmp_path, classification_csv(), name="clients.csv")


def queue_run(owner, version, **options) -> TrainingRun:
    defaults = {"target": "label", "budget_seconds": 5, "cv_folds": 3}
    return training_run_create(owner=owner, version=version, options=TrainingOptions(**(defaults | options)))
