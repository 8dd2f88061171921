"""Exact runs (`max_trials`): the form field, `manage.py train --trials`, the run page and "Repeat exactly"."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from csv_processor.models import TrainingRun
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import queue_run
from tests.csv_processor.test_training_views import _form, _train_url


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "greater than or equal to 1"), ("501", "less than or equal to 500"), ("many", "Enter a whole number")],
)
def test_training_form_refuses_bad_candidate_counts_with_400(user_client, dataset, value, message):
    response = user_client.post(_train_url(dataset), _form(max_trials=value))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_training_form_offers_and_stores_the_candidate_count(user_client, dataset):
    page = user_client.get(_train_url(dataset)).content.decode()
    response = user_client.post(_train_url(dataset), _form(max_trials="3"))
    empty = user_client.post(_train_url(dataset), _form(idempotency_key="key-2", max_trials=""))

    assert "Candidates to try (for exactly repeatable results)" in page
    assert response.status_code == 302
    assert TrainingRun.objects.get(idempotency_key="key-1").max_trials == 3
    assert empty.status_code == 302
    assert TrainingRun.objects.get(idempotency_key="key-2").max_trials is None


def test_service_refuses_a_candidate_count_out_of_range(user, dataset):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="between 1 and 500"):
        queue_run(user, dataset.current_version, max_trials=501)


@pytest.mark.slow
def test_train_command_trials_runs_exactly_that_many_candidates(user, dataset, mlflow_store):
    out = StringIO()
    call_command(
        "train",
        str(dataset.pk),
        *("--target", "label", "--owner", user.username, "--budget", "5", "--cv-folds", "3", "--trials", "2"),
        stdout=out,
        stderr=StringIO(),
    )

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.max_trials == 2
    assert run.candidates_tried == 2
    assert len(run.trials) == 2
    with pytest.raises(CommandError, match="between 1 and 500"):
        call_command("train", str(dataset.pk), "--target", "label", "--owner", user.username, "--trials", "0")


@pytest.mark.slow
def test_repeat_exactly_starts_a_run_with_the_same_settings_and_the_candidates_tried(
    user_client,
    user,
    dataset,
    mlflow_store,
):
    original = queue_run(user, dataset.current_version, seed=7, test_size=0.25, features=("x1", "colour"))
    original = training_run_execute(run_id=original.pk)
    assert original.status == TrainingRun.Status.SUCCEEDED, original.error
    page = user_client.get(reverse("csv_processor:run-detail", args=[original.pk])).content.decode()

    response = user_client.post(reverse("csv_processor:run-repeat", args=[original.pk]), {"idempotency_key": "r-1"})
    again = user_client.post(reverse("csv_processor:run-repeat", args=[original.pk]), {"idempotency_key": "r-1"})

    repeat = TrainingRun.objects.exclude(pk=original.pk).get()
    assert "Repeat exactly" in page
    assert f"({original.candidates_tried} tried)" in page
    assert response.status_code == 302
    assert response["Location"] == reverse("csv_processor:run-detail", args=[repeat.pk])
    assert again["Location"] == response["Location"]
    assert original.candidates_tried >= len(original.trials) >= 1
    assert repeat.max_trials == original.candidates_tried
    assert repeat.status == TrainingRun.Status.QUEUED
    same = ("target", "problem_type", "features", "algorithms", "test_size", "cv_folds", "seed", "budget_seconds")
    assert [getattr(repeat, name) for name in same] == [getattr(original, name) for name in same]
    assert repeat.dataset_version_id == original.dataset_version_id
    done = training_run_execute(run_id=repeat.pk)
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    assert done.candidates_tried == len(done.trials) == original.candidates_tried
    assert (
        f"exactly {done.max_trials}"
        in user_client.get(reverse("csv_processor:run-detail", args=[done.pk])).content.decode()
    )


def test_repeat_exactly_is_404_for_another_user_and_refused_for_an_unfinished_run(
    client,
    user,
    other_user,
    dataset,
):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.SUCCEEDED, candidates_tried=4)
    queued = queue_run(user, dataset.current_version, seed=1)
    url = reverse("csv_processor:run-repeat", args=[run.pk])

    client.force_login(other_user)
    stranger = client.post(url)
    client.force_login(user)
    read = client.get(url)
    unfinished = client.post(reverse("csv_processor:run-repeat", args=[queued.pk]), follow=True)

    assert stranger.status_code == 404
    assert read.status_code == 405
    assert "Only a finished run" in unfinished.content.decode()
    assert TrainingRun.objects.count() == 2
