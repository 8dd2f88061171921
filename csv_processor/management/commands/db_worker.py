"""`manage.py db_worker`: django-tasks-db's worker plus a heartbeat and the periodic-task scheduler.

The heartbeat lets /readyz see a live worker and lets later jobs detect a worker that died mid-task.
With CSVA_WORKER_METRICS_PORT set, the worker serves its own Prometheus metrics (the jobs it ran, ingest
failures, training runs) on that port: it is one process, so it needs no multiprocess directory.
"""

import atexit
import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connections
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as StockWorkerCommand
from prometheus_client import start_http_server

from csv_processor.services.jobs.workers import (
    periodic_tasks_enqueue_due,
    worker_heartbeat_delete,
    worker_heartbeat_record,
    worker_tasks_fail,
)
from csv_processor.services.training.execute import training_metrics_initialize

logger = logging.getLogger(__name__)

DATABASE_RETRY_SECONDS = 1.0


def _beat_forever(worker_id: str, stop: threading.Event) -> None:
    started_at = timezone.now()
    while not stop.is_set():
        try:
            close_old_connections()
            worker_heartbeat_record(worker_id=worker_id, started_at=started_at)
            periodic_tasks_enqueue_due()
        except (DatabaseError, InterfaceError) as exc:
            # The database may be restarting; keep beating once it is back.
            logger.warning("worker heartbeat failed: %s", exc)
        stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


class Command(StockWorkerCommand):
    help = "Run the background task worker (with a heartbeat for health checks)."

    def handle(self, *args: Any, **options: Any) -> None:
        is_reloader_parent = (
            options["reload"] and not options["batch"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        )
        if not is_reloader_parent:
            self._start_heartbeat(options["worker_id"])
            self._start_metrics_server()
        while True:
            try:
                # Rows of a task the database went away under: its job is queued again (job_recovery).
                worker_tasks_fail(worker_id=options["worker_id"])
                super().handle(*args, **options)
                return
            except (DatabaseError, InterfaceError) as exc:
                # The stock worker stops on any database error but a lock; a restarting database is no
                # reason to stop taking jobs. Its heartbeat thread carries on meanwhile. InterfaceError
                # ("connection already closed") is no DatabaseError: the stock worker's attempt to mark
                # the interrupted task failed raises it.
                logger.warning("worker: database unavailable (%s); polling again in %ss", exc, DATABASE_RETRY_SECONDS)
                connections.close_all()
                time.sleep(DATABASE_RETRY_SECONDS)

    def _start_metrics_server(self) -> None:
        training_metrics_initialize()
        port, address = settings.WORKER_METRICS_PORT, settings.WORKER_METRICS_ADDRESS
        if port:
            start_http_server(port, addr=address)
            logger.info("worker metrics on http://%s:%d/metrics", address, port)

    def _start_heartbeat(self, worker_id: str) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=_beat_forever, args=(worker_id, stop), name="heartbeat", daemon=True)
        thread.start()

        def _stop() -> None:
            stop.set()
            thread.join(timeout=5)
            try:
                worker_heartbeat_delete(worker_id=worker_id)
            except DatabaseError as exc:
                logger.warning("could not remove heartbeat of worker %s: %s", worker_id, exc)

        atexit.register(_stop)
