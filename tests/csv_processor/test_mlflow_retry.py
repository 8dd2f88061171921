"""A logging attempt interrupted mid-way (worker killed, server gone) leaves no duplicate on retry.

Against a real MLflow store: a complete earlier attempt is adopted (never a second registered version);
a partial one is deleted with its child runs before the run is logged again.
"""

import dataclasses

import pytest
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from csv_processor import mlflow_utils
from tests.csv_processor.test_mlflow_logging import _frame, _log

IDENTITY = {mlflow_utils.TRAINING_RUN_TAG: "41", mlflow_utils.TRAINING_RUN_CREATED_TAG: "2026-11-26T10:00:00+00:00"}


def _identified_log() -> mlflow_utils.TrainingLog:
    log = _log(_frame())
    return dataclasses.replace(log, tags=log.tags | IDENTITY)


def _parents(client: MlflowClient, experiment_id: str, view: int = ViewType.ACTIVE_ONLY) -> list:
    match = f"tags.`{mlflow_utils.TRAINING_RUN_TAG}` = '41'"
    return client.search_runs([experiment_id], filter_string=match, run_view_type=view)


@pytest.mark.slow
def test_retry_after_a_complete_attempt_adopts_it_and_registers_no_second_version(mlflow_store):
    log = _identified_log()
    first = mlflow_utils.training_log(log)  # then the app lost the answer (killed before recording it)

    again = mlflow_utils.training_log(log)

    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    assert again == first
    assert [run.info.run_id for run in _parents(client, first.experiment_id)] == [first.run_id]
    versions = client.search_model_versions(f"name = '{log.registered_model_name}'")
    assert [str(version.version) for version in versions] == [first.model_version]


@pytest.mark.slow
def test_retry_after_a_partial_attempt_deletes_it_and_its_children_and_logs_once(mlflow_store):
    log = _identified_log()
    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    experiment_id = client.create_experiment(log.experiment_name)
    # What a worker killed half-way leaves: a parent still RUNNING, one child, no model.
    partial = client.create_run(experiment_id, tags=log.tags)
    child = client.create_run(experiment_id, tags={MLFLOW_PARENT_RUN_ID: partial.info.run_id})

    tracked = mlflow_utils.training_log(log)

    assert tracked.run_id != partial.info.run_id
    assert [run.info.run_id for run in _parents(client, experiment_id)] == [tracked.run_id]
    assert client.get_run(tracked.run_id).info.status == "FINISHED"
    assert client.get_run(partial.info.run_id).info.lifecycle_stage == "deleted"
    assert client.get_run(child.info.run_id).info.lifecycle_stage == "deleted"
    children = client.search_runs([experiment_id], filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{tracked.run_id}'")
    assert len(children) == len(log.children)
    assert [str(v.version) for v in client.search_model_versions(f"name = '{log.registered_model_name}'")] == ["1"]


@pytest.mark.slow
def test_a_run_of_another_database_with_the_same_id_is_not_adopted(mlflow_store):
    log = _identified_log()
    first = mlflow_utils.training_log(log)
    # A new app database numbers its runs from 1 again: same id, another creation time.
    other = dataclasses.replace(
        log, tags=log.tags | {mlflow_utils.TRAINING_RUN_CREATED_TAG: "2027-01-01T00:00:00+00:00"}
    )

    tracked = mlflow_utils.training_log(other)

    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    assert tracked.run_id != first.run_id
    assert client.get_run(first.run_id).info.lifecycle_stage == "active"
    assert sorted(str(v.version) for v in client.search_model_versions(f"name = '{log.registered_model_name}'")) == [
        "1",
        "2",
    ]
