"""Retraining a deployed model: compared on the same held-out rows, promoted or kept, started again after a
decision, one job for a double click, refused on data that is not newer; the page and `manage.py retrain`."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from csv_processor.models import DatasetVersion, DeployedModel, ModelRetrain, TrainingRun
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.serving.retrain import (
    model_retrain_compare,
    model_retrain_keep,
    model_retrain_promote,
    model_retrain_start,
    model_retrains_check,
)
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import classification_csv, make_dataset

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]


def _model(served) -> DeployedModel:
    return DeployedModel.objects.select_related("dataset", "active_version__run").get(pk=served.model.pk)


def _newer_version(served) -> DatasetVersion:
    """Version 2 of the model's dataset (a cleaning step that keeps every row and column)."""
    dataset = served.model.dataset
    dataset.refresh_from_db()
    params = {"column": "x2", "strategy": "median"}
    cleaning_job_create(
        owner=served.user, version=dataset.current_version, op="fill_missing", params=params, confirm_loss=False
    )
    dataset.refresh_from_db()
    assert dataset.current_version.number == 2
    return dataset.current_version


def test_retrain_compares_on_the_same_held_out_rows_then_promotes(served):
    _newer_version(served)
    model = _model(served)

    retrain = model_retrain_start(deployed_model=model)
    assert model_retrain_start(deployed_model=model).pk == retrain.pk
    run = training_run_execute(run_id=retrain.run_id)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.split["test_index"] == served.run.split["test_index"]
    model_retrains_check()
    compared = model_retrain_compare(retrain_id=retrain.pk)

    assert compared.status == ModelRetrain.Status.READY, compared.error
    assert compared.comparison["rows"] == served.run.split["n_test"]
    assert compared.comparison["scores"]["active"] == pytest.approx(served.run.metrics["accuracy"])
    promoted = model_retrain_promote(retrain=compared)
    assert promoted.active_version.number == 2
    assert promoted.active_version.run_id == run.pk
    with pytest.raises(ValidationError, match="Only a compared candidate"):
        model_retrain_promote(retrain=ModelRetrain.objects.get(pk=retrain.pk))
    assert ModelRetrain.objects.get(pk=retrain.pk).status == ModelRetrain.Status.PROMOTED
    # The promoted version learnt from dataset version 2: retraining on it again is refused.
    with pytest.raises(ValidationError, match="not newer") as refused:
        model_retrain_start(deployed_model=_model(served))
    assert refused.value.code == "not_newer"


def test_keep_leaves_the_active_version_and_a_new_retrain_can_start(served):
    _newer_version(served)
    model = _model(served)
    first = model_retrain_start(deployed_model=model)
    first.status = ModelRetrain.Status.READY
    first.save(update_fields=["status"])

    kept = model_retrain_keep(retrain=first)
    second = model_retrain_start(deployed_model=model)
    again = model_retrain_start(deployed_model=model)

    assert kept.status == ModelRetrain.Status.KEPT
    assert DeployedModel.objects.get(pk=model.pk).active_version_id == model.active_version_id
    assert second.pk != first.pk
    assert second.run_id != first.run_id
    assert second.status == ModelRetrain.Status.TRAINING
    assert second.run.status == TrainingRun.Status.QUEUED
    assert again.pk == second.pk
    assert ModelRetrain.objects.filter(deployed_model=model).count() == 2


def test_retrain_refuses_data_that_is_not_newer_or_not_the_models(served, tmp_path):
    model = _model(served)
    other = make_dataset(served.user, tmp_path, classification_csv(seed=3), name="other.csv")

    with pytest.raises(ValidationError, match="not newer") as same:
        model_retrain_start(deployed_model=model)
    with pytest.raises(ValidationError, match="model's own dataset"):
        model_retrain_start(deployed_model=model, version=other.current_version)

    assert same.value.code == "not_newer"
    assert not ModelRetrain.objects.exists()


def test_retrain_waiting_for_a_decision_blocks_a_new_one_clearly(served):
    _newer_version(served)
    model = _model(served)
    retrain = model_retrain_start(deployed_model=model)
    ModelRetrain.objects.filter(pk=retrain.pk).update(status=ModelRetrain.Status.READY)

    with pytest.raises(ValidationError, match="waiting for your decision"):
        model_retrain_start(deployed_model=model)

    assert ModelRetrain.objects.count() == 1


def test_retrain_button_starts_once_says_so_and_starts_again_after_keep(client, served):
    _newer_version(served)
    client.force_login(served.user)
    url = reverse("csv_processor:model-retrain", args=[served.model.pk])

    started = client.post(url, follow=True)
    double = client.post(url, follow=True)
    retrain = ModelRetrain.objects.get()
    ModelRetrain.objects.filter(pk=retrain.pk).update(status=ModelRetrain.Status.READY)
    client.post(reverse("csv_processor:retrain-decide", args=[retrain.pk]), {"decision": "keep"})
    restarted = client.post(url, follow=True)

    assert f"Retraining started on dataset version 2 (run #{retrain.run_id})." in started.content.decode()
    assert "already under way" in double.content.decode()
    assert ModelRetrain.objects.get(pk=retrain.pk).status == ModelRetrain.Status.KEPT
    newest = ModelRetrain.objects.latest("pk")
    assert newest.pk != retrain.pk
    assert f"Retraining started on dataset version 2 (run #{newest.run_id})." in restarted.content.decode()


def test_retrain_button_refuses_data_that_is_not_newer_with_400(client, served):
    client.force_login(served.user)

    response = client.post(reverse("csv_processor:model-retrain", args=[served.model.pk]))

    assert response.status_code == 400
    assert escape("Dataset version 1 is not newer") in response.content.decode()
    assert not ModelRetrain.objects.exists()


def test_retrain_button_on_another_users_model_is_404(client, served):
    client.force_login(served.other)

    response = client.post(reverse("csv_processor:model-retrain", args=[served.model.pk]))

    assert response.status_code == 404
    assert not ModelRetrain.objects.exists()


def test_retrain_command_trains_compares_and_promotes(served):
    _newer_version(served)
    out = StringIO()

    call_command("retrain", str(served.model.pk), "--owner", served.user.username, "--promote", stdout=out)

    # A time-boxed search may find a slightly different model; --promote only takes one at least as good.
    retrain = ModelRetrain.objects.filter(deployed_model=served.model).latest("pk")
    promoted = bool(retrain.comparison.get("candidate_better"))
    assert retrain.run.dataset_version.number == 2
    assert "held-out rows" in out.getvalue()
    assert DeployedModel.objects.get(pk=served.model.pk).versions.count() == (2 if promoted else 1)
    assert ("promoted" in out.getvalue()) == promoted


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["999999"], "No deployed model 999999"),
        (["{model}", "--owner", "{other}"], "does not belong to"),
        (["{model}", "--dataset-version", "99"], r"has no version 99 \(it has 1, 2\)"),
        (["{model}", "--dataset-version", "1"], "Dataset version 1 is not newer"),
    ],
)
def test_retrain_command_refuses_bad_arguments_clearly(served, arguments, message):
    _newer_version(served)
    names = {"model": served.model.pk, "other": served.other.username}

    with pytest.raises(CommandError, match=message):
        call_command("retrain", *[a.format(**names) for a in arguments], stdout=StringIO())

    assert not ModelRetrain.objects.exists()
