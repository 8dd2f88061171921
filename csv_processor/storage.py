"""Where the app keeps files: generated names under MEDIA_ROOT, never the user's file name."""

import logging
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)


def file_name_new(*, folder: str, suffix: str) -> str:
    """A fresh storage name such as `versions/3f2a….parquet`."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def file_path(name: str) -> Path:
    """The local path of a stored file; the app's data stores are local file systems."""
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def stored_file_path(file: FieldFile) -> Path:
    """The local path of a model's stored file (a FileField's value)."""
    if file.name is None:
        # A row read from the database always has a name (blank is ""); only one built in memory lacks it.
        raise ValueError("The row has no stored file.")
    return file_path(file.name)


def files_delete(names: Iterable[str | None]) -> None:
    """Delete stored files, ignoring blank names and files already gone (deletes may be replayed)."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError as exc:
            logger.warning("could not delete stored file %s: %s", name, exc)
