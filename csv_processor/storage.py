"""Where the app keeps files: generated names under MEDIA_ROOT, never the user's file name."""

import logging
import uuid
from pathlib import Path

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def file_name_new(*, folder: str, suffix: str) -> str:
    """A fresh storage name such as `versions/3f2a….parquet`."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def file_path(name: str) -> Path:
    """The local path of a stored file; the app's data stores are local file systems."""
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def files_delete(names: list[str]) -> None:
    """Delete stored files, ignoring ones already gone (deletes may be replayed)."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError as exc:
            logger.warning("could not delete stored file %s: %s", name, exc)
