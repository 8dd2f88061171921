"""Explore against the target (issue 18 point 1): asked for on the page, computed once in the worker, kept."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from csv_processor.models import TargetExploration
from csv_processor.services.datasets.explore import target_exploration_execute, target_exploration_request
from csv_processor.services.jobs.recovery import interrupted_jobs_requeue
from csv_processor.storage import files_delete
from csv_processor.tasks import target_exploration_task
from tests.csv_processor.helpers import make_dataset

pytestmark = pytest.mark.django_db


def _url(dataset, number: int = 1) -> str:
    return reverse("csv_processor:dataset-explore", args=[dataset.pk, number])


def _queued() -> list[int]:
    rows = DBTaskResult.objects.filter(task_path=target_exploration_task.module_path)
    return [row.args_kwargs["args"][0] for row in rows]


def test_the_page_offers_every_column_as_the_target(user_client, dataset):
    response = user_client.get(_url(dataset))

    assert response.status_code == 200
    assert [value for value, _ in response.context["form"].fields["target"].choices] == [
        "id", "x1", "x2", "colour", "label",
    ]  # fmt: skip
    assert response.context["exploration"] is None
    detail = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk])).content.decode()
    assert _url(dataset) in detail


def test_asking_queues_one_job_that_the_worker_computes_and_the_page_shows(
    user_client, dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(_url(dataset), {"target": "label", "problem_type": ""})

    exploration = TargetExploration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(dataset)}?target=label&problem_type=binary"
    assert (exploration.status, exploration.problem_type) == ("queued", "binary")
    assert _queued() == [exploration.pk]
    waiting = user_client.get(response["Location"]).content.decode()
    assert "every 1s" in waiting
    assert "Queued the ranking" in waiting

    target_exploration_execute(exploration_id=exploration.pk)

    page = user_client.get(response["Location"])
    ranked = [column["name"] for column in page.context["exploration"].result["columns"]]
    assert ranked[0] == "x1"
    assert ranked.index("colour") < ranked.index("x2")
    html = page.content.decode()
    assert "every 1s" not in html
    assert "exploration-data" in html
    assert "identifier-like" in html
    partial = user_client.get(response["Location"], HTTP_HX_REQUEST="true", HTTP_HX_TARGET="exploration")
    assert partial.content.decode().startswith('<div id="exploration"')


def test_asking_again_reads_the_kept_result(user, dataset, django_capture_on_commit_callbacks):
    version = dataset.current_version
    with django_capture_on_commit_callbacks(execute=True):
        first = target_exploration_request(version=version, target="label")
        target_exploration_execute(exploration_id=first.pk)
        again = target_exploration_request(version=version, target="label", problem_type="binary")

    assert again.pk == first.pk
    assert again.status == "ready"
    assert _queued() == [first.pk]
    assert target_exploration_execute(exploration_id=first.pk) is None  # taken once


def test_a_failed_exploration_is_queued_again_when_asked(dataset, django_capture_on_commit_callbacks):
    version = dataset.current_version
    exploration = target_exploration_request(version=version, target="label")
    files_delete([version.file.name])

    failed = target_exploration_execute(exploration_id=exploration.pk)

    assert (failed.status, failed.error) == ("failed", "The version's file is missing from storage.")
    with django_capture_on_commit_callbacks(execute=True):
        again = target_exploration_request(version=version, target="label", problem_type="binary")
    assert (again.status, again.error) == ("queued", "")
    assert exploration.pk in _queued()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "nope"}, "Select a valid choice"),
        ({"target": "label", "problem_type": "ranking"}, "Select a valid choice"),
        ({}, "This field is required"),
    ],
)
def test_a_bad_request_is_a_400_with_a_message_and_nothing_queued(user_client, dataset, data, message):
    response = user_client.post(_url(dataset), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TargetExploration.objects.exists()


def test_another_users_version_is_a_404(client, other_user, dataset):
    client.force_login(other_user)

    assert client.get(_url(dataset), {"target": "label"}).status_code == 404
    assert client.post(_url(dataset), {"target": "label"}).status_code == 404
    assert client.get(_url(dataset, number=9)).status_code == 404
    assert not TargetExploration.objects.exists()


def test_an_interrupted_exploration_is_queued_again(dataset):
    exploration = target_exploration_request(version=dataset.current_version, target="label")
    TargetExploration.objects.filter(pk=exploration.pk).update(
        status="running", created_at=timezone.now() - dt.timedelta(hours=1)
    )

    assert interrupted_jobs_requeue() == {"TargetExploration": [exploration.pk]}
    assert target_exploration_execute(exploration_id=exploration.pk).status == "ready"


def test_the_training_form_links_to_the_exploration_of_its_target(user_client, dataset):
    url = reverse("csv_processor:training-setup", args=[dataset.pk, 1])

    html = user_client.get(url, {"target": "label"}).content.decode()

    assert f"{_url(dataset)}?target=label&amp;problem_type=binary" in html


def test_a_target_name_of_any_length_is_kept_once(user, tmp_path, django_capture_on_commit_callbacks):
    """The unique key is a hash: a 4,000-character header would not fit PostgreSQL's btree index as text."""
    long_name = "y" * 4000
    body = ("x," + long_name + "\n" + "".join(f"{i},{i % 2}\n" for i in range(40))).encode()
    version = make_dataset(user, tmp_path, body, name="long.csv").current_version

    with django_capture_on_commit_callbacks(execute=True):
        first = target_exploration_request(version=version, target=long_name)
    target_exploration_execute(exploration_id=first.pk)
    again = target_exploration_request(version=version, target=long_name)

    assert again.pk == first.pk
    assert again.status == "ready"
    assert again.result["columns"][0]["name"] == "x"
