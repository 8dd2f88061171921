"""The prediction log: a sample of predictions kept for drift and live accuracy, bounded and pruned.

Every answered row gets an id; the rows of a sampled request (CSVA_PREDICTION_LOG_SAMPLE) are stored
with their inputs (long text cut, oversized records replaced by a marker) and answer, written in bulk
by a per-process thread every CSVA_PREDICTION_LOG_FLUSH_SECONDS (0: at once, in the request).
Callers report true outcomes by id (`prediction_feedback_record`); rows older than
CSVA_PREDICTION_RETENTION_DAYS are pruned by the worker.
"""

import atexit
import datetime as dt
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from csv_processor.ml.serving import Predicted
from csv_processor.models import DeployedModel, Prediction
from users.models import User

logger = logging.getLogger(__name__)

TEXT_MAX = 200
PRUNE_BATCH = 5000


def _bounded(record: dict) -> dict:
    kept = {str(k)[:100]: (v[:TEXT_MAX] if isinstance(v, str) else v) for k, v in record.items()}
    if len(json.dumps(kept, default=str)) > settings.PREDICTION_LOG_MAX_BYTES:
        return {"_omitted": "record too large to log"}
    return kept


def predictions_log(
    *, deployed_model_id: int, version_id: int, owner: User, channel: str, records: list[dict], predicted: Predicted
) -> list[str]:
    """Ids for every row; the rows themselves are stored only for a sampled request."""
    ids = [uuid.uuid4() for _ in records]
    if random.random() >= settings.PREDICTION_LOG_SAMPLE:
        return [str(i) for i in ids]
    unknown: list[dict | None] = [None] * len(records)
    probabilities = predicted.probabilities or unknown
    rows = [
        Prediction(
            public_id=ids[i],
            owner=owner,
            deployed_model_id=deployed_model_id,
            version_id=version_id,
            channel=channel,
            inputs=_bounded(record),
            output={"prediction": predicted.labels[i], "probabilities": probabilities[i]},
        )
        for i, record in enumerate(records)
    ]
    _store(rows)
    return [str(i) for i in ids]


class _LogBuffer:
    """Rows waiting to be written by this process's flusher thread: one INSERT per interval instead of
    one per request keeps the write (and SQLite's write lock) off the answer's path. Bounded: past
    BUFFER_MAX rows new ones are dropped (and counted in the log) until the next flush."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[Prediction] = []
        self.dropped = 0
        self.thread: threading.Thread | None = None

    def add(self, rows: list[Prediction]) -> None:
        with self.lock:
            room = BUFFER_MAX - len(self.rows)
            self.rows.extend(rows[: max(room, 0)])
            self.dropped += max(len(rows) - max(room, 0), 0)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="prediction-log", daemon=True)
                self.thread.start()

    def take(self) -> list[Prediction]:
        with self.lock:
            rows, self.rows = self.rows, []
            if self.dropped:
                logger.warning("prediction log buffer full: %d rows not logged", self.dropped)
                self.dropped = 0
        return rows

    def run(self) -> None:
        while True:
            time.sleep(max(settings.PREDICTION_LOG_FLUSH_SECONDS, 0.05))
            predictions_flush()


_buffer = _LogBuffer()
BUFFER_MAX = 10_000


def _store(rows: list[Prediction]) -> None:
    if settings.PREDICTION_LOG_FLUSH_SECONDS <= 0:
        Prediction.objects.bulk_create(rows)
    else:
        _buffer.add(rows)


def predictions_flush() -> int:
    """Write this process's buffered log rows now; return how many (a failed write drops them, logged)."""
    rows = _buffer.take()
    if not rows:
        return 0
    try:
        Prediction.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    except DatabaseError as exc:
        logger.warning("could not write %d logged predictions: %s", len(rows), exc)
        return 0
    return len(rows)


atexit.register(predictions_flush)


@dataclass(frozen=True)
class FeedbackResult:
    updated: int
    unknown: list[str]


def prediction_feedback_record(*, deployed_model: DeployedModel, outcomes: list[tuple[str, Any]]) -> FeedbackResult:
    """Store true outcomes for earlier predictions of this model; ids not logged (or not ours) are listed."""
    # Rows of this process still in the buffer; another process writes its own within the flush interval.
    predictions_flush()
    wanted = {str(pid): actual for pid, actual in outcomes}
    now = timezone.now()
    updated = 0
    with transaction.atomic():
        found = Prediction.objects.filter(deployed_model=deployed_model, public_id__in=list(wanted))
        for prediction in found.select_for_update():
            prediction.actual, prediction.actual_at = wanted[str(prediction.public_id)], now
            prediction.save(update_fields=["actual", "actual_at"])
            updated += 1
        seen = {str(p) for p in found.values_list("public_id", flat=True)}
    return FeedbackResult(updated, [pid for pid in wanted if pid not in seen])


def predictions_prune() -> int:
    """Delete log rows older than the retention, in batches; return how many went."""
    cutoff = timezone.now() - dt.timedelta(days=settings.PREDICTION_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Prediction.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            return deleted
        deleted += Prediction.objects.filter(pk__in=ids).delete()[0]
