"""Helpers shared by the tests: data files, the import path, queued runs, a trained and deployed model.

Fixtures live in conftest.py files; these are plain functions and values."""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import numpy as np
from botocore.config import Config
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csv_processor.models import Dataset, DeployedModel, TrainingRun
from csv_processor.services.datasets.imports import dataset_import_file
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.runs import TrainingOptions, training_run_create

# MLflow at a closed port: tracking fails fast and stays pending, which serving tests do not need.
UNREACHABLE_MLFLOW = "http://127.0.0.1:9"
# The test S3 server's credentials and region (moto accepts any).
S3_KEY, S3_SECRET, S3_REGION = "testing", "testing", "us-east-1"


def media_files(media_root: Path) -> list[Path]:
    """Every stored file under MEDIA_ROOT (temporary readiness probes excluded)."""
    return sorted(path for path in media_root.rglob("*") if path.is_file() and not path.name.startswith(".readyz"))


def post_upload(client, name: str, body: bytes):
    return client.post(reverse("csv_processor:upload-new"), {"file": SimpleUploadedFile(name, body)})


def make_dataset(owner, tmp_path: Path, body: bytes, *, name: str = "data.csv", options: dict | None = None) -> Dataset:
    """A dataset made through the real import path (upload, confirm, parse, profile)."""
    path = tmp_path / name
    path.write_bytes(body)
    return dataset_import_file(owner=owner, path=path, options=options)


def classification_csv(rows: int = 200, seed: int = 0) -> bytes:
    """id, two numbers, a colour and a yes/no label that depends on x1 and the colour."""
    rng = np.random.default_rng(seed)
    lines = ["id,x1,x2,colour,label"]
    colours = ["red", "green", "blue"]
    for i in range(rows):
        x1, x2 = rng.normal(), rng.normal()
        colour = colours[int(rng.integers(3))]
        score = x1 + (0.8 if colour == "red" else 0.0) + rng.normal(scale=0.3)
        lines.append(f"{1000 + i},{x1:.4f},{x2:.4f},{colour},{'yes' if score > 0.3 else 'no'}")
    return ("\n".join(lines) + "\n").encode()


def regression_csv(rows: int = 200, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["size,rooms,price"]
    for _ in range(rows):
        size, rooms = rng.uniform(30, 200), int(rng.integers(1, 6))
        lines.append(f"{size:.1f},{rooms},{3 * size + 10 * rooms + rng.normal(scale=5):.2f}")
    return ("\n".join(lines) + "\n").encode()


def queue_run(owner, version, **options) -> TrainingRun:
    """A queued run. Exact (the first 3 candidates of the plan, the same on any machine and load) unless the
    test is about the time budget and sets `budget_seconds`."""
    defaults = {"target": "label", "cv_folds": 3} | ({} if "budget_seconds" in options else {"max_trials": 3})
    return training_run_create(owner=owner, version=version, options=TrainingOptions(**(defaults | options)))


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


def record(x1: float = 0.5, x2: float = 0.1, colour: str = "red", **extra) -> dict:
    return {"x1": x1, "x2": x2, "colour": colour, **extra}


def s3_bucket_use(endpoint: str, settings) -> tuple:
    """A fresh bucket on the test S3 server, made the default storage: (boto3 client, bucket name)."""
    name = f"csva-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name=S3_REGION
    )
    client.create_bucket(Bucket=name)
    settings.STORAGES = s3_storages(endpoint, name)
    settings.STORAGE_TIMEOUT_SECONDS = 2
    return client, name


def s3_storages(endpoint: str, bucket: str) -> dict:
    """STORAGES for a bucket of the test S3 server (tests/csv_processor/conftest.py), under a prefix."""
    options = {
        "bucket_name": bucket,
        "location": "tenant-a",
        "endpoint_url": endpoint,
        "region_name": S3_REGION,
        "access_key": S3_KEY,
        "secret_key": S3_SECRET,
        "default_acl": None,
        "file_overwrite": True,
    }
    options["client_config"] = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
    return {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def s3_server_start(port: int) -> subprocess.Popen:
    """moto's standalone S3 server (from this venv) on a loopback port, once it takes connections."""
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
