"""Compare 2-4 runs side by side (issue 18, point 2)."""

import json
import re

import pytest
from django.urls import reverse

from csv_processor.models import TrainingRun
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import queue_run
from tests.factories import TrainingRunFactory

URL = reverse("csv_processor:run-compare")


def _trained(user, dataset, algorithm: str) -> TrainingRun:
    done = training_run_execute(run_id=queue_run(user, dataset.current_version, algorithms=[algorithm]).pk)
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    return done


def _finished(**fields) -> TrainingRun:
    return TrainingRunFactory(status=TrainingRun.Status.SUCCEEDED, **fields)


def test_two_trained_runs_side_by_side_with_curves_the_deployed_one_and_deploy_buttons(user, user_client, dataset):
    tree, forest = _trained(user, dataset, "DecisionTree"), _trained(user, dataset, "RandomForest")
    deployed_model_deploy(owner=user, run=forest)

    response = user_client.get(URL, {"run": [tree.pk, forest.pk]})
    page = response.content.decode()
    curves = json.loads(re.search(r'id="compare-curves" type="application/json">(.*?)</script>', page, re.S).group(1))

    assert response.status_code == 200
    assert page.index(f"#{tree.pk}</a> DecisionTree") < page.index(f"#{forest.pk}</a> RandomForest")
    assert page.count("answers now") == 1
    assert page.count(">Deploy this one<") == 2
    assert f'action="{reverse("csv_processor:model-deploy", args=[tree.pk])}"' in page
    assert "the same rows for every run here" in page
    assert [curve["name"] for curve in curves["roc"]] == [f"#{tree.pk} DecisionTree", f"#{forest.pk} RandomForest"]
    assert all(len(curve["fpr"]) == len(curve["tpr"]) > 1 for curve in curves["roc"])
    assert curves["predicted_vs_actual"] == []


def test_the_better_value_of_each_metric_is_marked(user, user_client):
    first = _finished(owner=user, metrics={"accuracy": 0.8, "log_loss": 0.3}, best_algorithm="DecisionTree")
    second = _finished(
        owner=user,
        dataset_version=first.dataset_version,
        metrics={"accuracy": 0.9, "log_loss": 0.5},
        best_algorithm="RandomForest",
    )

    page = user_client.get(URL, {"run": [first.pk, second.pk]}).content.decode()
    rows = {
        label: cells for label, cells in re.findall(r'<th scope="row">([^<]+) \(test rows\)</th>(.*?)</tr>', page, re.S)
    }

    assert "best" in rows["Accuracy"].split("</td>")[1]
    assert "best" not in rows["Accuracy"].split("</td>")[0]
    # Lower is better for a loss.
    assert "best" in rows["Log loss"].split("</td>")[0]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["1"], "Pick 2 to 4 runs to compare (you picked 1)."),
        (["1", "2", "3", "4", "5"], "Pick 2 to 4 runs to compare (you picked 5)."),
        (["1", "x"], "Runs are picked by their numbers."),
        ([], "Pick 2 to 4 runs"),
    ],
)
def test_a_choice_that_is_not_2_to_4_run_numbers_is_a_400(user_client, ids, message):
    response = user_client.get(URL, {"run": ids})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_runs_on_another_target_or_unfinished_are_a_400(user, user_client):
    first = _finished(owner=user)
    other_target = _finished(owner=user, dataset_version=first.dataset_version, target="other")
    queued = TrainingRunFactory(owner=user, dataset_version=first.dataset_version)

    mixed = user_client.get(URL, {"run": [first.pk, other_target.pk]})
    unfinished = user_client.get(URL, {"run": [first.pk, queued.pk]})

    assert mixed.status_code == 400
    assert "same dataset that predict the same column" in mixed.content.decode()
    assert unfinished.status_code == 400
    assert f"#{queued.pk} did not succeed" in unfinished.content.decode()


def test_another_users_run_is_a_404(user, other_user, user_client):
    mine = _finished(owner=user)
    theirs = _finished(owner=other_user)

    assert user_client.get(URL, {"run": [mine.pk, theirs.pk]}).status_code == 404


def test_the_runs_list_offers_finished_runs_for_comparison(user, user_client):
    done = _finished(owner=user)
    queued = TrainingRunFactory(owner=user, dataset_version=done.dataset_version)

    page = user_client.get(reverse("csv_processor:run-list")).content.decode()

    assert f'name="run" value="{done.pk}"' in page
    assert f'name="run" value="{queued.pk}"' not in page
    assert f'action="{URL}"' in page
