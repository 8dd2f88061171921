"""The training services on real datasets: bad input, cancel, deletion, double runs, reaping, model files."""

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from csv_processor.ml.json_values import json_value
from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.selectors.datasets import dataset_version_frame
from csv_processor.services.datasets.manage import dataset_delete
from csv_processor.services.training import execute as training_execute
from csv_processor.services.training import maintenance as training_maintenance
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.maintenance import training_runs_reap
from csv_processor.services.training.model_store import ModelFileError, trained_model_load
from csv_processor.services.training.runs import training_run_create
from tests.csv_processor.helpers import make_dataset, queue_run, regression_csv


def _rows(header: str, make_row, n: int = 60) -> bytes:
    return (header + "\n" + "\n".join(make_row(i) for i in range(n)) + "\n").encode()


@pytest.mark.parametrize(
    ("body", "options", "message"),
    [
        (_rows("x,label", lambda i: f"{i},a"), {}, "only one"),
        (_rows("x,label", lambda i: f"{i},"), {}, "no values"),
        (_rows("code,const,label", lambda i: f"C{i:04d},1,{'yes' if i % 2 else 'no'}"), {}, "No feature columns"),
        (_rows("x,label", lambda i: f"{i},{'yes' if i % 2 else 'no'}"), {"target": "nope"}, "no column named"),
        (_rows("x,label", lambda i: f"{i},{'yes' if i % 2 else 'no'}"), {"algorithms": ("Ridge",)}, "Not available"),
    ],
    ids=["one-class", "all-missing-target", "no-features-left", "unknown-target", "wrong-algorithm"],
)
def test_training_run_create_refuses_data_that_cannot_train(user, tmp_path, body, options, message):
    data = make_dataset(user, tmp_path, body)

    with pytest.raises(ValidationError) as caught:
        queue_run(user, data.current_version, **options)

    assert message.lower() in " ".join(caught.value.messages).lower()
    assert not TrainingRun.objects.exists()


def test_training_run_create_refuses_another_users_dataset(user, other_user, dataset):
    with pytest.raises(ValidationError) as caught:
        queue_run(other_user, dataset.current_version)

    assert "your own" in caught.value.messages[0]
    assert not TrainingRun.objects.exists()


def test_training_run_create_with_same_key_returns_the_first_run(user, dataset):
    from csv_processor.services.training.runs import TrainingOptions

    options = TrainingOptions(target="label", budget_seconds=5)
    first = training_run_create(owner=user, version=dataset.current_version, options=options, idempotency_key="k")
    second = training_run_create(owner=user, version=dataset.current_version, options=options, idempotency_key="k")

    assert first.pk == second.pk
    assert TrainingRun.objects.count() == 1


@pytest.mark.slow
def test_training_run_execute_handles_non_finite_values(user, tmp_path, settings):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    body = regression_csv(120).decode().splitlines()
    body[5] = "inf,3,-inf"
    body[6] = "-inf,2,55.0"
    body[7] = "120.0,2,inf"
    data = make_dataset(user, tmp_path, ("\n".join(body) + "\n").encode())
    run = queue_run(user, data.current_version, target="price", problem_type="regression")

    done = training_run_execute(run_id=run.pk)

    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    assert done.problem_type == "regression"
    assert np.isfinite(done.metrics["r2"])
    assert done.split["n_train"] + done.split["n_test"] <= 118


@pytest.mark.slow
def test_training_run_execute_runs_a_claim_once(user, dataset, settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    run = queue_run(user, dataset.current_version)

    first = training_run_execute(run_id=run.pk)
    second = training_run_execute(run_id=run.pk)

    assert first.status == TrainingRun.Status.SUCCEEDED
    assert second is None
    assert TrainedModel.objects.count() == 1


def test_training_run_execute_of_a_deleted_dataset_does_nothing(user, dataset):
    run = queue_run(user, dataset.current_version)
    dataset_delete(dataset=dataset)

    result = training_run_execute(run_id=run.pk)

    assert result is None
    assert not TrainingRun.objects.filter(pk=run.pk).exists()
    assert not TrainedModel.objects.exists()


def test_training_run_cancelled_while_running_ends_cancelled_without_model(user, dataset, monkeypatch):
    run = queue_run(user, dataset.current_version, budget_seconds=30)
    real_train = training_execute.train

    def train_then_press_cancel(df, config, *, progress, should_cancel):
        def report(state):
            TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
            progress(state)

        return real_train(df, config, progress=report, should_cancel=should_cancel)

    monkeypatch.setattr(training_execute, "train", train_then_press_cancel)

    done = training_run_execute(run_id=run.pk)

    assert done.status == TrainingRun.Status.CANCELLED
    assert done.finished_at is not None
    assert not TrainedModel.objects.exists()


def test_training_run_with_too_small_budget_fails_with_reason(user, dataset, monkeypatch):
    from csv_processor.ml.training import Cancelled

    def no_time(df, config, *, progress, should_cancel):
        raise Cancelled("The time budget ran out before any model could be trained: raise the budget.")

    monkeypatch.setattr(training_execute, "train", no_time)
    run = queue_run(user, dataset.current_version)

    done = training_run_execute(run_id=run.pk)

    assert done.status == TrainingRun.Status.FAILED
    assert "raise the budget" in done.error


def test_training_runs_reap_requeues_once_then_fails(user, dataset, settings):
    settings.TRAINING_STALE_SECONDS = 60
    run = queue_run(user, dataset.current_version)
    old = timezone.now() - dt.timedelta(seconds=120)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, heartbeat_at=old, attempts=1)

    assert training_runs_reap() == [run.pk]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
    assert "worker stopped" in run.error

    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, heartbeat_at=old, attempts=2)
    training_runs_reap()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert "twice" in run.error


def test_training_runs_reap_honours_a_cancel_that_arrives_while_it_decides(user, dataset, settings, monkeypatch):
    settings.TRAINING_STALE_SECONDS = 60
    run = queue_run(user, dataset.current_version)
    old = timezone.now() - dt.timedelta(seconds=120)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, heartbeat_at=old, attempts=1)
    real_check = training_maintenance._cancel_requested

    def user_cancels_right_after_the_check(run_id):
        answer = real_check(run_id)
        TrainingRun.objects.filter(pk=run_id).update(cancel_requested=True)
        return answer

    monkeypatch.setattr(training_maintenance, "_cancel_requested", user_cancels_right_after_the_check)

    # Not queued again with a cancel pending (no worker would ever take it): the next pass cancels it.
    assert training_runs_reap() == []
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.RUNNING
    monkeypatch.setattr(training_maintenance, "_cancel_requested", real_check)
    assert training_runs_reap() == [run.pk]
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingRun.Status.CANCELLED


def test_training_runs_reap_leaves_live_runs_alone(user, dataset):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING, heartbeat_at=timezone.now(), attempts=1
    )

    assert training_runs_reap() == []
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.RUNNING


@pytest.mark.slow
def test_trained_model_load_refuses_a_changed_file(user, dataset, settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    run = training_run_execute(run_id=queue_run(user, dataset.current_version).pk)
    model = TrainedModel.objects.get(run=run)
    pipeline = trained_model_load(trained_model=model)
    assert len(pipeline.predict(dataset_version_frame(version=dataset.current_version).head(3))) == 3
    path = settings.MEDIA_ROOT / model.file.name
    path.write_bytes(path.read_bytes() + b"tampered")
    model.sha256 = model.sha256[::-1]  # a new cache key, as another process would have

    with pytest.raises(ModelFileError) as caught:
        trained_model_load(trained_model=model)

    assert "checksum" in str(caught.value)


def test_trained_model_load_refuses_files_it_did_not_write(user, dataset):
    run = queue_run(user, dataset.current_version)
    model = TrainedModel(run=run, file=dataset.current_version.file.name, sha256="0" * 64, size_bytes=1)

    with pytest.raises(ModelFileError):
        trained_model_load(trained_model=model)

    assert model.pk is None


def test_json_value_turns_numpy_and_non_finite_values_into_plain_json():
    value = {"a": np.float64("nan"), "b": [np.int64(3), float("inf")], 4: np.array([1.5])}

    assert json_value(value) == {"a": None, "b": [3, None], "4": [1.5]}


def test_training_run_execute_stores_the_leaderboard_so_far_as_json(user, dataset, monkeypatch):
    monkeypatch.setattr(training_execute, "PROGRESS_EVERY_SECONDS", 0.0)
    run = queue_run(user, dataset.current_version)
    reports: list[dict] = []

    training_run_execute(run_id=run.pk, on_progress=reports.append)

    boards = [report["board"] for report in reports if report["board"]]
    assert boards, [report["stage"] for report in reports]
    assert boards[-1]["metric"] == "accuracy"
    assert sum(row["trials"] for row in boards[-1]["rows"]) == 3  # queue_run asks for exactly 3 candidates
    assert all(isinstance(row["cv_mean"], float) for row in boards[-1]["rows"])
