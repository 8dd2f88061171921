"""Stored files no row refers to (a process killed between writing and recording one) are swept."""

import os
import time

import pytest

from csv_processor.models import DatasetVersion
from csv_processor.services.jobs.storage_sweep import stored_files_orphaned_delete
from tests.csv_processor.helpers import make_dataset, media_files

pytestmark = pytest.mark.django_db

BODY = b"city,temp\nOslo,3\nRome,18\nLima,21\n"
DAY = 24 * 3600


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_sweep_deletes_old_unreferenced_files_and_keeps_every_recorded_or_recent_one(user, tmp_path, media_root):
    dataset = make_dataset(user, tmp_path, BODY)
    recorded = media_files(media_root)
    assert {path.parent.name for path in recorded} >= {"uploads", "versions"}
    orphan = media_root / "models" / "0123456789abcdef0123456789abcdef.joblib"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a killed worker")
    fresh = media_root / "versions" / "fedcba9876543210fedcba9876543210.parquet"
    fresh.write_bytes(b"its row is on its way")
    for path in [*recorded, orphan]:
        _age(path, DAY)

    deleted = stored_files_orphaned_delete(min_age_seconds=3600)

    assert deleted == ["models/0123456789abcdef0123456789abcdef.joblib"]
    assert not orphan.exists()
    assert fresh.exists()
    assert all(path.exists() for path in recorded)
    assert DatasetVersion.objects.get(pk=dataset.current_version_id).file.name in {
        path.relative_to(media_root).as_posix() for path in recorded
    }
    assert stored_files_orphaned_delete(min_age_seconds=3600) == []
