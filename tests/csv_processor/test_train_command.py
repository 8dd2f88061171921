"""`manage.py train`: from a file or a dataset id to a trained model, with a JSON summary last."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from csv_processor.models import Dataset, DeployedModel, TrainedModel, TrainingRun
from csv_processor.selectors.training.runs import training_run_summary
from csv_processor.services.training import execute as training_execute
from tests.csv_processor.helpers import classification_csv, queue_run


def _train(source, user, *extra: str, out: StringIO | None = None, err: StringIO | None = None) -> dict:
    """Run `train SOURCE --target label --owner USER --budget 5 EXTRA...`; return its last line's summary."""
    out = out or StringIO()
    call_command(
        "train",
        str(source),
        *("--target", "label", "--owner", user.username, "--budget", "5", *extra),
        stdout=out,
        stderr=err or StringIO(),
    )
    return _last_line(out)


def _last_line(out: StringIO) -> dict:
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.slow
def test_train_command_imports_a_file_and_trains(user, tmp_path, settings):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    path = tmp_path / "clients.csv"
    path.write_bytes(classification_csv())
    err = StringIO()

    summary = _train(path, user, "--seed", "1", "--deploy", err=err)

    run = TrainingRun.objects.get(pk=summary["run_id"])
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert summary["model_id"] == TrainedModel.objects.get(run=run).pk
    assert summary["leaderboard"][0]["algorithm"] == run.best_algorithm
    assert summary["test_metrics"]["accuracy"] > 0.5
    assert Dataset.objects.get(pk=summary["dataset_id"]).owner == user
    assert "training [" in err.getvalue()
    deployed = DeployedModel.objects.get(pk=summary["deployed"]["model_id"])
    assert deployed.owner == user
    assert deployed.active_version.run_id == run.pk
    assert summary["deployed"]["version"] == 1
    assert summary["deployed"]["endpoint"] == f"/api/models/{deployed.pk}/predict"


@pytest.mark.slow
def test_train_command_deploys_again_as_the_next_version_of_the_same_model(user, dataset, settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"

    first = _train(dataset.pk, user, "--algorithms", "DecisionTree", "--deploy")
    second = _train(dataset.pk, user, "--algorithms", "DecisionTree", "--deploy")

    assert second["deployed"]["model_id"] == first["deployed"]["model_id"]
    assert (first["deployed"]["version"], second["deployed"]["version"]) == (1, 2)
    model = DeployedModel.objects.get(pk=first["deployed"]["model_id"])
    assert model.active_version.run_id == second["run_id"]
    runs = list(model.versions.order_by("number").values_list("run_id", flat=True))
    assert runs == [first["run_id"], second["run_id"]]


def test_train_command_deploys_nothing_when_the_run_fails(user, dataset, settings, tmp_path, monkeypatch):
    from csv_processor.ml.training import Cancelled

    def no_time(df, config, *, progress, should_cancel):
        raise Cancelled("The time budget ran out before any model could be trained: raise the budget.")

    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    monkeypatch.setattr(training_execute, "train", no_time)
    out = StringIO()

    with pytest.raises(CommandError, match=r"raise the budget\. Nothing was deployed"):
        _train(dataset.pk, user, "--deploy", out=out)

    summary = _last_line(out)
    assert summary["status"] == TrainingRun.Status.FAILED
    assert summary["deployed"] is None
    assert not DeployedModel.objects.exists()


@pytest.mark.slow
def test_train_command_on_dataset_id_with_algorithm(user, dataset, settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"

    summary = _train(dataset.pk, user, "--algorithms", "DecisionTree")

    assert summary["best_algorithm"] == "DecisionTree"
    assert {row["algorithm"] for row in summary["leaderboard"]} == {"DecisionTree"}
    assert summary["deployed"] is None
    assert not DeployedModel.objects.exists()


def test_train_command_refuses_bad_input_clearly(user, other_user, dataset):
    with pytest.raises(CommandError, match="no dataset"):
        call_command("train", str(dataset.pk), "--target", "label", "--owner", other_user.username)
    with pytest.raises(CommandError, match="identifier"):
        call_command("train", str(dataset.pk), "--target", "id", "--owner", user.username, "--budget", "5")
    with pytest.raises(CommandError, match="No user"):
        call_command("train", str(dataset.pk), "--target", "label", "--owner", "nobody")

    assert not TrainingRun.objects.exists()


@pytest.mark.slow
def test_train_command_prints_only_its_json_line_on_stdout(tmp_path):
    """`manage.py train ... | jq` works: log lines and MLflow's messages go to stderr (a real process, so the
    logging set-up is the one a user gets)."""
    environment = {
        **os.environ,
        "DJANGO_SECRET_KEY": "test-key",
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns.db",
        "DJANGO_LOG_LEVEL": "INFO",
    }
    manage = [sys.executable, str(Path(__file__).resolve().parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=environment, check=True, timeout=300)
    subprocess.run(
        [*manage, "shell", "-c", "from users.models import User; User.objects.create_user('cli', password='x')"],
        env=environment,
        check=True,
        timeout=120,
    )
    (tmp_path / "clients.csv").write_bytes(classification_csv())

    done = subprocess.run(
        [*manage, "train", str(tmp_path / "clients.csv"), "--target", "label", "--owner", "cli", "--trials", "2"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    summary = json.loads(lines[0])
    assert (summary["target"], summary["problem_type"]) == ("label", "binary")
    assert summary["problem_type_reason"]
    assert summary["features_used"]
    assert "id" in summary["features_left_out"]
    assert summary["candidates_tried"] == 2
    assert summary["elapsed_seconds"] > 0
    assert "INFO" in done.stderr  # the log lines went somewhere: to stderr


@pytest.mark.django_db
def test_the_api_run_resource_has_the_command_lines_fields(client, user, other_user, dataset):
    run = training_execute.training_run_execute(
        run_id=queue_run(user, dataset.current_version, max_trials=2).pk, defer_tracking=True
    )
    url = reverse("csv_processor_api:run-detail", args=[run.pk])

    anonymous = client.get(url)
    client.force_login(other_user)
    foreign = client.get(url)
    client.force_login(user)
    body = client.get(url).json()

    assert anonymous.status_code == 401
    assert foreign.status_code == 404
    assert body == json.loads(json.dumps(training_run_summary(run=run)))
    assert body["rows_refitted_on"] == dataset.current_version.row_count
    assert body["features_left_out"] == {"id": "identifier-like: almost every value differs"}
    assert body["problem_type"] == "binary"
