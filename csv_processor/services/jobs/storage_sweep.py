"""Stored files no row points at are deleted once they are old enough.

Every service writes its file first and then records it, removing the file again when the record fails.
Only a process killed between the two (SIGKILL, out of memory, power loss) leaves a file behind; the
sweep finds those. A file younger than `CSVA_STORAGE_SWEEP_MIN_AGE_SECONDS` is never touched: its row
may still be on its way (written, not yet committed).
"""

import logging
import time

from django.conf import settings

from csv_processor.models import BatchPrediction, CleanModelArtifact, DatasetVersion, TrainedModel, Upload
from csv_processor.storage import files_delete, stored_names_older_than

logger = logging.getLogger(__name__)

FOLDERS = ("uploads", "versions", "models", "batches")


def _referenced() -> set[str]:
    names: set[str] = set()
    for model, fields in (
        (Upload, ("file",)),
        (DatasetVersion, ("file",)),
        (TrainedModel, ("file", "evaluated_file")),
        (CleanModelArtifact, ("file",)),
        (BatchPrediction, ("file", "result_file")),
    ):
        for field in fields:
            names.update(model.objects.exclude(**{field: ""}).values_list(field, flat=True).iterator())
    return names


def stored_files_orphaned_delete(*, min_age_seconds: float | None = None) -> list[str]:
    """Delete the files under the app's folders that no row refers to; return their names."""
    min_age = settings.STORAGE_SWEEP_MIN_AGE_SECONDS if min_age_seconds is None else min_age_seconds
    # Listed before the rows are read: a file recorded in between is then in the set.
    candidates = stored_names_older_than(folders=FOLDERS, cutoff=time.time() - min_age)
    if not candidates:
        return []
    referenced = _referenced()
    deleted = [name for name in candidates if name not in referenced]
    files_delete(deleted)
    if deleted:
        logger.warning("storage sweep: deleted %d file(s) no row refers to: %s", len(deleted), deleted[:10])
    return deleted
