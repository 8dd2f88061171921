"""Helpers shared by the csv_processor tests."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csv_processor.models import Dataset
from csv_processor.services.datasets.imports import dataset_import_file


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
