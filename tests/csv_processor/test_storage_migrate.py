"""`manage.py storage_migrate` against a real S3 server (moto's standalone server, as in test_storage_s3).

An install is made on local disk with the factories; then STORAGES points at a fresh bucket and the
command copies the files the rows refer to, verifying each by its SHA-256.
"""

import hashlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from csv_processor.models import CleanModelArtifact, TrainedModel
from tests.csv_processor.helpers import s3_bucket_use
from tests.factories import DatasetVersionFactory, TrainingRunFactory, UploadFactory, _stored

pytestmark = pytest.mark.django_db

PREFIX = "tenant-a"


@pytest.fixture
def install(user, media_root):
    """A small install on local disk: an upload, a version and a model file, each with its row."""
    # Module-scoped fixtures of other modules (outside any test transaction) may leave the suggestion
    # model's row behind, its file gone with their media folder: start without one (rolled back after).
    CleanModelArtifact.objects.all().delete()
    upload = UploadFactory(owner=user)
    version = DatasetVersionFactory(dataset__owner=user)
    body = b"not really a model"
    run = TrainingRunFactory(dataset_version=version)
    model = TrainedModel.objects.create(
        run=run,
        file=_stored(body, "models", ".joblib"),
        sha256=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body),
        algorithm="LogisticRegression",
    )
    (media_root / "uploads" / "stray.csv").write_bytes(b"left behind by hand")
    return {"upload": upload.file.name, "version": version.file.name, "model": model.file.name}


@pytest.fixture
def bucket(install, s3_endpoint, settings):
    """A fresh bucket, made the default storage once the local install exists."""
    client, name = s3_bucket_use(s3_endpoint, settings)
    return client, name


def _migrate(*args: str) -> str:
    out = io.StringIO()
    call_command("storage_migrate", *args, stdout=out)
    return out.getvalue()


def _migrate_failing(*args: str) -> tuple[str, str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("storage_migrate", *args, stdout=out)
    return out.getvalue(), str(raised.value)


def _bucket_hashes(bucket) -> dict[str, str]:
    client, name = bucket
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])]
    bodies = {key.removeprefix(f"{PREFIX}/"): client.get_object(Bucket=name, Key=key)["Body"].read() for key in keys}
    return {name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()}


def _local_hash(media_root: Path, name: str) -> str:
    return hashlib.sha256((media_root / name).read_bytes()).hexdigest()


def test_storage_migrate_copies_every_referenced_file_verified(install, bucket, media_root):
    expected = {name: _local_hash(media_root, name) for name in install.values()}

    output = _migrate()

    assert _bucket_hashes(bucket) == expected
    for name in install.values():
        assert f"copied: {name}" in output
        assert (media_root / name).is_file()  # left in place until told
    assert "unreferenced: uploads/stray.csv (left alone)" in output
    assert "3 copied, 1 unreferenced" in output


def test_storage_migrate_second_run_copies_nothing(install, bucket):
    _migrate()

    again = _migrate()

    assert "copied:" not in again
    assert again.count("already there:") == 3


def test_storage_migrate_dry_run_copies_nothing(install, bucket):
    output = _migrate("--dry-run")

    assert output.count("would copy:") == 3
    assert _bucket_hashes(bucket) == {}


def test_storage_migrate_reports_a_missing_and_a_tampered_file(install, bucket, media_root):
    (media_root / install["upload"]).unlink()
    (media_root / install["model"]).write_bytes(b"tampered")

    output, error = _migrate_failing()

    assert f"missing: {install['upload']}" in output
    assert f"mismatch: {install['model']}" in output
    assert f"copied: {install['version']}" in output
    assert set(_bucket_hashes(bucket)) == {install["version"]}  # the tampered file is never copied
    assert "2 file(s) were not migrated" in error


def test_storage_migrate_delete_source_removes_only_verified_files(install, bucket, media_root):
    (media_root / install["model"]).write_bytes(b"tampered")

    output, _ = _migrate_failing("--delete-source")
    resumed, _ = _migrate_failing("--delete-source")

    assert not (media_root / install["upload"]).exists()
    assert not (media_root / install["version"]).exists()
    assert (media_root / install["model"]).is_file()
    assert (media_root / "uploads" / "stray.csv").is_file()
    assert "copied: " + install["upload"] + " (source deleted)" in output
    assert f"already there: {install['upload']} (source already removed)" in resumed


def test_storage_migrate_from_another_folder(install, bucket, media_root, tmp_path):
    moved = tmp_path / "old-media"
    media_root.rename(moved)

    output = _migrate("--from", str(moved))

    assert "3 copied" in output
    assert set(_bucket_hashes(bucket)) == set(install.values())


def test_storage_migrate_refuses_without_a_bucket(install):
    with pytest.raises(CommandError) as raised:
        _migrate()

    assert "CSVA_STORAGE_URL" in str(raised.value)


def test_storage_migrate_refuses_a_name_that_leaves_the_folder(install, bucket, media_root):
    TrainedModel.objects.update(file="../outside.joblib")

    output, _ = _migrate_failing()

    assert "unsafe name: ../outside.joblib" in output


def test_storage_migrate_refuses_the_stores_own_cache_as_source(install, bucket, media_root):
    cache = media_root / ".store-cache"
    cache.mkdir()

    with pytest.raises(CommandError) as raised:
        _migrate("--from", str(cache))

    assert "read-through cache" in str(raised.value)
    assert _bucket_hashes(bucket) == {}
