"""The disk fills up while a user uploads: a clear error, nothing left behind, and the app works after.

gunicorn and a task worker keep their uploads' temporary files (TMPDIR) and their media (MEDIA_ROOT) on
a 2 MB tmpfs mounted for the test, so a 3 MB file cannot even be received, and a 1.2 MB one is received
but cannot be stored.
"""

import pytest
import requests
from django.db import connection

from tests.conftest import _database_url
from tests.faults.conftest import WORKER_COMMAND
from tests.stack.harness import BIN, wait_until
from tests.stack.journey import CSV, Journey

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _csv_of(size: int) -> bytes:
    row = b"1234567,3.14159,some words in a cell,yes\n"
    return b"id,x,note,label\n" + row * (size // len(row))


def _left_on(disk) -> list[str]:
    """Files on the tmpfs, but for the readiness probe's (removed at once, but it may be mid-probe)."""
    return sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file() and ".readyz" not in p.name)


def test_disk_full_while_uploading_gives_a_clear_error_leaves_nothing_and_recovers(tmpfs, rig):
    media, temp = tmpfs / "media", tmpfs / "tmp"
    media.mkdir()
    temp.mkdir()
    env = rig.env(_database_url(connection.settings_dict), media, TMPDIR=str(temp), GUNICORN_WORKERS="1")
    web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(rig.workdir / "metrics-multiproc")}
    rig.spawn("web", [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "csv_analyzer.wsgi"], web_env)
    rig.spawn("worker", WORKER_COMMAND, env)
    wait_until(lambda: requests.get(f"{rig.web_url}/readyz", timeout=5).ok, timeout=120, what="/readyz")
    journey = Journey(base_url=rig.web_url, username="diskfull")
    journey.session.headers["Origin"] = rig.web_url
    journey.sign_up()

    for name, size in (("bigger-than-the-disk.csv", 3_000_000), ("fits-once.csv", 1_200_000)):
        response = journey._submit("/datasets/upload/", files={"file": (name, _csv_of(size), "text/csv")})
        assert response.status_code == 507, (name, response.status_code)
        assert "run out of storage space" in response.text, name
        assert _left_on(tmpfs) == [], name

    # The failed uploads took nothing with them: a small one goes all the way to a dataset.
    journey._upload("weather.csv", CSV)
    page = journey.session.get(journey.dataset_urls[0], timeout=30)
    assert page.status_code == 200
    assert "Oslo" in page.text
