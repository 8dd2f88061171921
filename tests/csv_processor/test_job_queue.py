"""Services queue tasks by name (services/jobs/queue.py): every name must be a task in csv_processor.tasks."""

import typing

import pytest
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from csv_processor import tasks
from csv_processor.services.jobs.queue import TaskName, task_enqueue, task_get, task_queued_within


def test_task_names_are_exactly_the_tasks_module_tasks():
    defined = {name for name, value in vars(tasks).items() if isinstance(value, Task)}
    assert set(typing.get_args(TaskName)) == defined


@pytest.mark.parametrize("name", typing.get_args(TaskName))
def test_task_get_finds_each_named_task(name):
    task = task_get(name)
    assert task.name == name
    assert task.module_path == f"csv_processor.tasks.{name}"


@pytest.mark.django_db
def test_task_queued_within_sees_a_queued_task_and_forgets_it_after_the_interval():
    sweep = task_get("stored_files_sweep_task")
    assert not task_queued_within(sweep, 3600)
    task_enqueue("stored_files_sweep_task")
    assert task_queued_within(sweep, 3600)
    assert DBTaskResult.objects.filter(task_path=sweep.module_path).count() == 1
    assert not task_queued_within(sweep, 0)
    assert task_queued_within(sweep, 0, or_unfinished=True)
