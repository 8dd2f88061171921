"""`manage.py train`: from a file or a dataset id to a trained model, with a JSON summary last."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from csv_processor.models import Dataset, TrainedModel, TrainingRun
from tests.csv_processor.test_training_support import classification_csv, dataset  # noqa: F401


def test_train_command_imports_a_file_and_trains(user, tmp_path, settings):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    path = tmp_path / "clients.csv"
    path.write_bytes(classification_csv())
    out, err = StringIO(), StringIO()

    call_command(
        "train",
        str(path),
        "--target",
        "label",
        "--owner",
        user.username,
        "--budget",
        "5",
        "--seed",
        "1",
        "--deploy",
        stdout=out,
        stderr=err,
    )

    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    run = TrainingRun.objects.get(pk=summary["run_id"])
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert summary["model_id"] == TrainedModel.objects.get(run=run).pk
    assert summary["leaderboard"][0]["algorithm"] == run.best_algorithm
    assert summary["test_metrics"]["accuracy"] > 0.5
    assert Dataset.objects.get(pk=summary["dataset_id"]).owner == user
    assert "training [" in err.getvalue()
    assert "not available yet" in err.getvalue()


def test_train_command_on_dataset_id_with_algorithm(user, dataset, settings, tmp_path):  # noqa: F811
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    out = StringIO()

    call_command(
        "train",
        str(dataset.pk),
        "--target",
        "label",
        "--owner",
        user.username,
        "--budget",
        "5",
        "--algorithms",
        "DecisionTree",
        stdout=out,
        stderr=StringIO(),
    )

    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["best_algorithm"] == "DecisionTree"
    assert {row["algorithm"] for row in summary["leaderboard"]} == {"DecisionTree"}


def test_train_command_refuses_bad_input_clearly(user, other_user, dataset):  # noqa: F811
    with pytest.raises(CommandError, match="no dataset"):
        call_command("train", str(dataset.pk), "--target", "label", "--owner", other_user.username)
    with pytest.raises(CommandError, match="identifier"):
        call_command("train", str(dataset.pk), "--target", "id", "--owner", user.username, "--budget", "5")
    with pytest.raises(CommandError, match="No user"):
        call_command("train", str(dataset.pk), "--target", "label", "--owner", "nobody")

    assert not TrainingRun.objects.exists()
