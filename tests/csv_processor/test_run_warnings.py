"""Warnings travel with the model (issue 13 point 5): every pre-flight finding is in the card's Limits and
on the run page; a leakage suspect among the strongest columns is said at the top, with one click to train
again without it."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils.html import escape

from csv_processor.models import TrainingRun
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import make_dataset, queue_run

pytestmark = pytest.mark.django_db


def _leaky_csv(rows: int = 300) -> bytes:
    """`settled` is the outcome written down afterwards: it gives the label away."""
    rng = np.random.default_rng(2)
    lines = ["x1,x2,settled,label"]
    for i in range(rows):
        x1, x2 = rng.normal(), rng.normal()
        label = "yes" if x1 + rng.normal(scale=1.0) > 0 else "no"
        settled = (label == "yes") != (i in (7, 150))  # two clerical slips: not a plain copy of the label
        lines.append(f"{x1:.4f},{x2:.4f},{int(settled)},{label}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def leaky_run(user, tmp_path):
    dataset = make_dataset(user, tmp_path, _leaky_csv(), name="leaky.csv")
    run = queue_run(user, dataset.current_version, max_trials=2, algorithms=["DecisionTree"])
    return training_run_execute(run_id=run.pk, defer_tracking=True)


def test_a_leaking_strong_column_is_said_at_the_top_with_a_way_out(user_client, leaky_run):
    assert leaky_run.status == TrainingRun.Status.SUCCEEDED, leaky_run.error
    leak = [text for text in leaky_run.warnings if text.startswith("'settled' predicts the target")]

    page = user_client.get(reverse("csv_processor:run-detail", args=[leaky_run.pk])).content.decode()
    again = user_client.post(
        reverse("csv_processor:run-without", args=[leaky_run.pk]), {"column": ["settled"], "idempotency_key": "k1"}
    )

    assert leak
    assert leaky_run.importance[0]["feature"] == "settled"
    assert leak[0] in leaky_run.model_card["limits"]
    assert 'id="leaking"' in page
    assert escape("“settled” is among the strongest columns") in page
    new = TrainingRun.objects.exclude(pk=leaky_run.pk).get()
    assert again["Location"] == reverse("csv_processor:run-detail", args=[new.pk])
    assert "settled" not in (new.features or [])
    assert set(new.features) == set(leaky_run.used_features) - {"settled"}


def test_train_again_without_refuses_columns_the_run_did_not_use(user_client, leaky_run):
    url = reverse("csv_processor:run-without", args=[leaky_run.pk])

    response = user_client.post(url, {"column": ["nope"]}, follow=True)

    assert "Pick columns the run used." in response.content.decode()
    assert TrainingRun.objects.count() == 1


def test_train_again_without_is_404_for_another_user(client, other_user, leaky_run):
    client.force_login(other_user)

    response = client.post(reverse("csv_processor:run-without", args=[leaky_run.pk]), {"column": ["settled"]})

    assert response.status_code == 404
    assert TrainingRun.objects.count() == 1


def test_a_run_without_leakage_has_no_banner(user_client, user, dataset):
    run = training_run_execute(run_id=queue_run(user, dataset.current_version, max_trials=2).pk, defer_tracking=True)

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert 'id="leaking"' not in page
    assert all(text in run.model_card["limits"] for text in run.warnings)
