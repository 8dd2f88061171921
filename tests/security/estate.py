"""One of every kind of object, owned by one user and marked, for the security tests.

Every object carries MARKER in a name, a column or a category, so a response that shows any of the
owner's data to someone else contains it.
"""

import io
from dataclasses import dataclass
from pathlib import Path

from csv_processor.models import (
    BatchPrediction,
    CleaningJob,
    Dataset,
    DeployedModel,
    ModelRetrain,
    TrainingRun,
    Upload,
)
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.datasets.uploads import upload_create
from csv_processor.services.serving.batch import batch_prediction_create, batch_prediction_execute
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.serving.retrain import model_retrain_start
from csv_processor.services.serving.runtime import prediction_make
from tests.csv_processor.helpers import classification_csv, make_dataset, queue_run, regression_csv, train_and_deploy
from tests.factories import UserFactory
from users.models import ApiToken
from users.services import api_token_create

MARKER = "qzx7ownersecret"
COLUMN = f"colour_{MARKER}"
CATEGORY = f"blue{MARKER}"


@dataclass
class Estate:
    owner: object
    other: object
    staff: object
    tokens: dict  # "owner" / "other" / "staff" -> raw API token
    media: Path
    upload: Upload  # awaiting confirmation
    dataset: Dataset  # version 1 parsed, version 2 from a cleaning job
    cleaning_job: CleaningJob
    run: TrainingRun
    model: DeployedModel
    prediction_ids: list[str]
    batch: BatchPrediction
    retrain: ModelRetrain
    api_token: ApiToken
    other_run: TrainingRun  # the other user's own (queued) run, to name the owner's objects in a body


def estate_objects(estate: Estate) -> list:
    """The owner's stored objects, one of each kind the admin shows (its pages have their own tests)."""
    return [
        estate.upload,
        estate.dataset,
        estate.dataset.current_version,
        estate.run,
        estate.run.trained_model,
        estate.model,
        estate.batch,
        estate.api_token,
    ]


def marked_csv() -> bytes:
    return classification_csv().replace(b"colour", COLUMN.encode()).replace(b"blue", CATEGORY.encode())


def _file(body: bytes) -> tuple[io.BytesIO, int]:
    return io.BytesIO(body), len(body)


def estate_build(media: Path) -> Estate:
    owner, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    tokens = {}
    for role, user in (("owner", owner), ("other", other), ("staff", staff)):
        _, tokens[role] = api_token_create(user=user, name=f"access-{role}")
    run = train_and_deploy(
        owner, media, marked_csv(), target="label", algorithms=("LogisticRegression",), name=f"{MARKER}.csv"
    )
    model = deployed_model_deploy(owner=owner, run=run, name=f"model-{MARKER}")
    record = {"x1": 0.5, "x2": 0.1, COLUMN: CATEGORY}
    predicted = prediction_make(deployed_model=model, owner=owner, records=[record], channel="api")
    batch_body = f"x1,x2,{COLUMN}\n0.5,0.1,{CATEGORY}\n-1,2,red\n".encode()
    handle, size = _file(batch_body)
    batch = batch_prediction_create(
        owner=owner, deployed_model=model, uploaded_file=handle, name=f"{MARKER}-batch.csv", size=size
    )
    batch = batch_prediction_execute(batch_id=batch.pk)
    assert batch.status == BatchPrediction.Status.SUCCEEDED, batch.error
    dataset = run.dataset_version.dataset
    job = cleaning_job_create(
        owner=owner, version=dataset.current_version, op="drop_duplicates", params={}, confirm_loss=True
    )
    assert job.status == CleaningJob.Status.SUCCEEDED, job.error
    retrain = model_retrain_start(deployed_model=model)
    handle, size = _file(marked_csv())
    upload = upload_create(owner=owner, uploaded_file=handle, name=f"{MARKER}-pending.csv", size=size)
    api_token, _ = api_token_create(user=owner, name=f"token-{MARKER}")
    other_dataset = make_dataset(other, media, regression_csv(rows=20), name="others.csv")
    other_run = queue_run(other, other_dataset.current_version, target="price")
    dataset.refresh_from_db()
    return Estate(
        owner=owner,
        other=other,
        staff=staff,
        tokens=tokens,
        media=media,
        upload=upload,
        dataset=dataset,
        cleaning_job=job,
        run=run,
        model=model,
        prediction_ids=predicted.ids,
        batch=batch,
        retrain=retrain,
        api_token=api_token,
        other_run=other_run,
    )
