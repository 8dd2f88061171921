"""What a trained run leaves in a real MLflow store besides the numbers: its charts as PNG images and its
model card with the data it learnt from (dataset, version, cleaning steps), as on the run page."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient

from csv_processor.models import TrainingRun
from csv_processor.selectors.training.runs import training_run_card
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import make_dataset, queue_run, regression_csv
from tests.csv_processor.test_run_results import pets_csv

pytestmark = pytest.mark.django_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _tracked(user, tmp_path, csv: bytes, name: str, target: str, steps=()) -> TrainingRun:
    data = make_dataset(user, tmp_path, csv, name=name)
    for op, params in steps:
        data.refresh_from_db()
        cleaning_job_create(owner=user, version=data.current_version, op=op, params=params, confirm_loss=False)
    data.refresh_from_db()
    run = queue_run(user, data.current_version, target=target, algorithms=("DecisionTree",))
    done = training_run_execute(run_id=run.pk)
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    assert done.tracking_status == TrainingRun.Tracking.TRACKED, done.tracking_error
    return done


def _download(run: TrainingRun, path: str, store: str) -> Path:
    return Path(download_artifacts(run_id=run.mlflow_run_id, artifact_path=path, tracking_uri=store))


def _assert_png(path: Path) -> None:
    content = path.read_bytes()
    assert content[:8] == PNG_SIGNATURE, path.name
    width, height = struct.unpack(">II", content[16:24])  # the IHDR chunk comes first
    assert width >= 400, (path.name, width)
    assert height >= 300, (path.name, height)
    assert len(content) > 8_000, (path.name, len(content))
    pixels = image.imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.05, f"{path.name} is blank"


@pytest.mark.slow
def test_classification_run_logs_its_charts_as_png_and_the_card_with_its_data(user, tmp_path, mlflow_store):
    steps = [("drop_columns", {"columns": ["id"]}), ("fill_missing", {"column": "x2", "strategy": "median"})]
    run = _tracked(user, tmp_path, pets_csv(), "pets.csv", "kind", steps)

    client = MlflowClient(tracking_uri=mlflow_store)
    plots = {Path(item.path).name for item in client.list_artifacts(run.mlflow_run_id, "plots")}
    assert plots == {
        "confusion_matrix.png",
        "roc_curve.png",
        "precision_recall_curve.png",
        "permutation_importance.png",
    }
    for name in plots:
        _assert_png(_download(run, f"plots/{name}", mlflow_store))
    top = {item.path for item in client.list_artifacts(run.mlflow_run_id)}
    assert {"plots.json", "metrics.json", "importance.json", "model_card.json", "model_card.md"} <= top

    card = json.loads(_download(run, "model_card.json", mlflow_store).read_text())
    assert card == training_run_card(run=run)
    assert (card["dataset"], card["dataset_version"]) == ("pets", 3)
    assert card["recipe"][0] == 'Drop column "id"'
    assert card["data_text"].startswith("Learnt from version 3 of 'pets', made from the upload by: drop column")
    text = _download(run, "model_card.md", mlflow_store).read_text()
    for words in (card["summary"], card["data_text"], card["performance"], *card["limits"]):
        assert words in text
    assert text.index(card["summary"]) < text.index(card["data_text"]) < text.index(card["performance"])


@pytest.mark.slow
def test_regression_run_logs_predicted_vs_actual_residuals_and_importance(user, tmp_path, mlflow_store):
    run = _tracked(user, tmp_path, regression_csv(), "flats.csv", "price")

    client = MlflowClient(tracking_uri=mlflow_store)
    plots = {Path(item.path).name for item in client.list_artifacts(run.mlflow_run_id, "plots")}
    assert plots == {"predicted_vs_actual.png", "residuals.png", "permutation_importance.png"}
    for name in plots:
        _assert_png(_download(run, f"plots/{name}", mlflow_store))
    card = json.loads(_download(run, "model_card.json", mlflow_store).read_text())
    assert (
        card["data_text"] == "Learnt from version 1 of 'flats', the file as parsed from the upload, no cleaning steps."
    )
    assert np.isfinite(run.metrics["r2"])
