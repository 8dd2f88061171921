"""Background entrypoints: each takes ids and calls one service."""

from django_tasks import task

from csv_processor.services.cleaning.jobs import cleaning_job_execute
from csv_processor.services.datasets.explore import target_exploration_execute
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.manage import dataset_version_profile_compute
from csv_processor.services.jobs.storage_sweep import stored_files_orphaned_delete
from csv_processor.services.serving.batch import batch_prediction_execute
from csv_processor.services.serving.drift import serving_maintenance
from csv_processor.services.serving.retrain import model_retrain_compare
from csv_processor.services.training.execute import training_run_execute


@task()
def upload_ingest_task(upload_id: int) -> None:
    upload_ingest(upload_id=upload_id)


@task()
def dataset_version_profile_task(version_id: int) -> None:
    dataset_version_profile_compute(version_id=version_id)


@task()
def target_exploration_task(exploration_id: int) -> None:
    target_exploration_execute(exploration_id=exploration_id)


@task()
def cleaning_job_execute_task(job_id: int) -> None:
    cleaning_job_execute(job_id=job_id)


@task()
def stored_files_sweep_task() -> int:
    return len(stored_files_orphaned_delete())


# --- Training ---------------------------------------------------------------------------------------


# django_tasks_db hands a worker the highest priority first (default 0): a run's MLflow logging waits
# behind uploads, profiles, cleanings and trainings queued meanwhile; the run shows "tracking pending".
TRACKING_PRIORITY = -10


@task()
def training_run_execute_task(run_id: int) -> None:
    training_run_execute(run_id=run_id, defer_tracking=True)


@task(priority=TRACKING_PRIORITY)
def training_run_track_task(run_id: int) -> None:
    # Imported here: MLflow is heavy, and only the worker that runs this task needs it.
    from csv_processor.services.training.tracking import training_run_track

    training_run_track(run_id=run_id)


@task(priority=TRACKING_PRIORITY)
def training_tracking_retry_task() -> None:
    # Imported here: MLflow is heavy, and only the worker that runs this task needs it.
    from csv_processor.services.training.tracking import training_runs_track_pending

    training_runs_track_pending()


# --- Serving ----------------------------------------------------------------------------------------


@task()
def batch_prediction_execute_task(batch_id: int) -> None:
    batch_prediction_execute(batch_id=batch_id)


@task()
def serving_maintenance_task() -> None:
    serving_maintenance()


@task()
def model_retrain_compare_task(retrain_id: int) -> None:
    model_retrain_compare(retrain_id=retrain_id)
