"""Reads for csv_processor, each scoped to its owner where the data has one."""

from django.db.models import Max
from django.utils import timezone

from csv_processor.models import WorkerHeartbeat


def worker_last_seen_seconds() -> float | None:
    """Seconds since any worker last reported, or None if none ever did."""
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen_at"))["last"]
    if last_seen is None:
        return None
    return (timezone.now() - last_seen).total_seconds()
