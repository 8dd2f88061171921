"""One trained and deployed model per test module, shared by the serving tests (no tests here).

Training takes seconds, so each module trains once (module scope, outside the per-test transactions)
and removes its rows at the end. MLflow points at a closed port: tracking fails fast and stays
pending, which serving does not need (the MLflow round trip has its own module).
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import override_settings

from csv_processor.models import DeployedModel, TrainingRun
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import make_dataset
from tests.csv_processor.test_training_support import classification_csv, queue_run, regression_csv
from tests.factories import UserFactory
from users.services import api_token_create

UNREACHABLE_MLFLOW = "http://127.0.0.1:9"


@dataclass
class Served:
    user: object
    other: object
    token: str
    other_token: str
    run: TrainingRun
    model: DeployedModel
    media: Path


def train_and_deploy(user, folder: Path, body: bytes, *, target: str, algorithms: tuple, name: str) -> TrainingRun:
    dataset = make_dataset(user, folder, body, name=name)
    run = queue_run(user, dataset.current_version, target=target, algorithms=algorithms)
    done = training_run_execute(run_id=run.pk)
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error
    return done


def served_fixture(kind: str):
    @pytest.fixture(scope="module")
    def served(django_db_setup, django_db_blocker, tmp_path_factory):
        media = tmp_path_factory.mktemp("serving-media")
        with override_settings(MEDIA_ROOT=media, MLFLOW_TRACKING_URI=UNREACHABLE_MLFLOW), django_db_blocker.unblock():
            user, other = UserFactory(), UserFactory()
            if kind == "regression":
                run = train_and_deploy(
                    user, media, regression_csv(), target="price", algorithms=("Ridge",), name="houses.csv"
                )
            else:
                run = train_and_deploy(
                    user,
                    media,
                    classification_csv(),
                    target="label",
                    algorithms=("LogisticRegression",),
                    name="clients.csv",
                )
            model = deployed_model_deploy(owner=user, run=run)
            _, token = api_token_create(user=user, name="tests")
            _, other_token = api_token_create(user=other, name="tests")
            yield Served(user, other, token, other_token, run, model, media)
            user.delete()
            other.delete()

    return served


served = served_fixture("classification")


@pytest.fixture(autouse=True)
def media_root(served, settings):
    """The module's media folder, where the trained model lives, instead of a fresh one per test."""
    settings.MEDIA_ROOT = served.media
    settings.MLFLOW_TRACKING_URI = UNREACHABLE_MLFLOW
    # Write logged predictions in the request, so a test sees them at once.
    settings.PREDICTION_LOG_FLUSH_SECONDS = 0
    return served.media


def record(x1: float = 0.5, x2: float = 0.1, colour: str = "red", **extra) -> dict:
    return {"x1": x1, "x2": x2, "colour": colour, **extra}
