"""Training pages: the form with its pre-flight, starting a run, the run page, cancel, lists, ownership."""

import pytest
from django.urls import reverse
from django.utils.html import escape
from mlflow.tracking import MlflowClient

from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import make_dataset, queue_run


def _train_url(dataset) -> str:
    return reverse("csv_processor:training-new", args=[dataset.pk, dataset.current_version.number])


def _form(**overrides) -> dict:
    data = {
        "target": "label",
        "task": "",
        "features": ["x1", "x2", "colour"],
        "test_size": "0.2",
        "cv_folds": "3",
        "seed": "0",
        "budget_seconds": "5",
        "idempotency_key": "key-1",
    }
    return data | overrides


def test_training_form_suggests_target_and_explains_problem_type(user_client, dataset):
    response = user_client.get(_train_url(dataset))

    assert response.status_code == 200
    setup = response.context["setup"]
    assert setup.target == "label"
    assert setup.problem_type == "binary"
    assert "2 values" in setup.problem_type_reason
    assert "id" not in setup.default_features
    assert "id" in setup.identifiers
    assert b"Pre-flight checks" in response.content
    assert b"Start training" in response.content


def test_training_setup_partial_redetects_problem_type_for_new_target(user_client, dataset):
    url = reverse("csv_processor:training-setup", args=[dataset.pk, 1])

    response = user_client.get(url, {"target": "x1"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.context["setup"].problem_type == "regression"
    assert "Regression — the target holds numbers with decimals" in response.content.decode()


@pytest.mark.slow
def test_training_start_view_then_worker_service_then_mlflow(user_client, user, dataset, mlflow_store):
    response = user_client.post(_train_url(dataset), _form())

    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("csv_processor:run-detail", args=[run.pk])
    assert run.status == TrainingRun.Status.QUEUED
    assert run.owner == user

    done = training_run_execute(run_id=run.pk)

    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    assert TrainedModel.objects.filter(run=done).count() == 1
    assert done.tracking_status == TrainingRun.Tracking.TRACKED, done.tracking_error
    client = MlflowClient(tracking_uri=mlflow_store)
    parent = client.get_run(done.mlflow_run_id)
    assert parent.data.params["target"] == "label"
    assert parent.data.metrics["test_accuracy"] == pytest.approx(done.metrics["accuracy"])
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{done.mlflow_run_id}'"
    )
    assert len(children) == len(done.trials) >= 1
    assert "cv_mean" in children[0].data.metrics
    assert client.get_experiment(parent.info.experiment_id).name == f"dataset-{dataset.pk}"
    assert parent.inputs.dataset_inputs[0].dataset.digest
    model_version = client.get_model_version(done.registered_model_name, done.registered_model_version)
    assert model_version.run_id == done.mlflow_run_id
    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk]))
    assert page.status_code == 200
    assert done.best_algorithm.encode() in page.content
    assert b"Leaderboard" in page.content
    assert escape(done.model_card["summary"]).encode() in page.content
    assert f"/#/experiments/{parent.info.experiment_id}/runs/{done.mlflow_run_id}".encode() in page.content
    assert b'id="run-plots"' in page.content


def test_training_start_double_click_creates_one_run(user_client, dataset):
    first = user_client.post(_train_url(dataset), _form())
    second = user_client.post(_train_url(dataset), _form())

    assert TrainingRun.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target": "id", "features": ["x1", "x2"]}, "identifier"),
        ({"features": []}, "Pick at least one feature column"),
        ({"budget_seconds": "1"}, "greater than or equal to 5"),
        ({"task": "regression"}, "holds no numbers"),
    ],
)
def test_training_start_refuses_bad_settings_with_400(user_client, dataset, overrides, message):
    response = user_client.post(_train_url(dataset), _form(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_run_page_polls_while_active_and_refreshes_when_done(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    url = reverse("csv_processor:run-detail", args=[run.pk])

    active = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress")
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.FAILED, error="Bad data.")
    finished = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress")
    page = user_client.get(url)

    assert b'hx-trigger="every 1s"' in active.content
    assert finished.status_code == 204
    assert finished["HX-Refresh"] == "true"
    assert b"Bad data." in page.content


@pytest.mark.parametrize(
    ("tracking", "error", "shown", "hidden"),
    [
        ("pending", "", "being logged to MLflow", "not reachable"),
        ("logging", "", "being logged to MLflow", "not reachable"),
        ("pending", "Connection refused", "MLflow was not reachable", "being logged"),
    ],
)
def test_run_page_tells_mlflow_logging_from_mlflow_unreachable(
    user_client,
    user,
    dataset,
    tracking,
    error,
    shown,
    hidden,
):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED, tracking_status=tracking, tracking_error=error
    )

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert shown in page
    assert hidden not in page


def test_run_cancel_stops_a_queued_run(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)

    response = user_client.post(reverse("csv_processor:run-cancel", args=[run.pk]))

    run.refresh_from_db()
    assert response.status_code == 302
    assert run.status == TrainingRun.Status.CANCELLED
    assert training_run_execute(run_id=run.pk) is None


def test_run_lists_show_the_users_runs(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)

    all_runs = user_client.get(reverse("csv_processor:run-list"))
    dataset_runs = user_client.get(reverse("csv_processor:dataset-runs", args=[dataset.pk]))
    detail = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]))

    assert f"#{run.pk}".encode() in all_runs.content
    assert f"#{run.pk}".encode() in dataset_runs.content
    assert _train_url(dataset).encode() in detail.content


def test_another_users_dataset_and_runs_are_404(client, user, other_user, dataset, tmp_path):
    run = queue_run(user, dataset.current_version)
    client.force_login(other_user)

    urls = [
        ("get", _train_url(dataset)),
        ("post", _train_url(dataset)),
        ("get", reverse("csv_processor:training-setup", args=[dataset.pk, 1])),
        ("get", reverse("csv_processor:run-detail", args=[run.pk])),
        ("post", reverse("csv_processor:run-cancel", args=[run.pk])),
        ("get", reverse("csv_processor:dataset-runs", args=[dataset.pk])),
    ]
    statuses = [getattr(client, method)(url, _form() if method == "post" else {}).status_code for method, url in urls]
    others = client.get(reverse("csv_processor:run-list"))

    assert statuses == [404] * len(urls)
    assert f"#{run.pk}".encode() not in others.content
    assert TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).exists()


def test_training_form_blocks_tiny_dataset(user_client, user, tmp_path):
    tiny = make_dataset(user, tmp_path, b"a,b\n1,x\n", name="one.csv")

    response = user_client.post(_train_url(tiny), _form(target="b", features=["a"], idempotency_key="k"))

    assert response.status_code == 400
    assert "Only one row" in response.content.decode() or "at least" in response.content.decode()
    assert not TrainingRun.objects.exists()


@pytest.mark.slow
def test_numbers_beyond_float32_count_as_missing(user_client, user, tmp_path, mlflow_store):
    rows = "".join(f"{'1e39' if i % 7 == 0 else i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(60))
    huge = make_dataset(user, tmp_path, f"big,small,label\n{rows}".encode(), name="huge.csv")

    page = user_client.get(_train_url(huge))
    run = queue_run(user, huge.current_version, features=["big", "small"])
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()

    assert page.status_code == 200
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
