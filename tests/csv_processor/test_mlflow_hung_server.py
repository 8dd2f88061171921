"""A hung MLflow server (accepts connections, never answers) is an outage like a refused port: it costs a
bounded time and no tracking attempt. A server that answers with an error uses one up.

Real local faults: a listening socket nobody accepts on (the kernel completes the connection, nothing
replies), a server that answers its health check and nothing else, and one that answers 500 to all.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import pytest

from csv_processor import mlflow_utils
from csv_processor.models import TrainingRun
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.tracking import MAX_TRACKING_ATTEMPTS, training_run_track
from tests.csv_processor.helpers import queue_run
from tests.csv_processor.test_mlflow_logging import _frame, _log

pytestmark = pytest.mark.django_db

TIMEOUT = 1


@pytest.fixture
def short_limits(monkeypatch):
    """One-second MLflow HTTP tries and probe; the environment MLflow reads is restored afterwards."""
    for name in mlflow_utils.HTTP_LIMITS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(mlflow_utils.HTTP_LIMITS, "MLFLOW_HTTP_REQUEST_TIMEOUT", str(TIMEOUT))
    monkeypatch.setattr(mlflow_utils, "PROBE_SECONDS", TIMEOUT)


@contextmanager
def silent_port() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) and never answers: nothing calls accept()."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class _HealthOnly(BaseHTTPRequestHandler):
    """Answers /health, then hangs on every MLflow API call until the server shuts down."""

    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        self.server.stopped.wait()

    do_POST = do_GET

    def log_message(self, *args):
        pass


class _Broken(BaseHTTPRequestHandler):
    """Answers every request with a 500, as a tracking server whose store is down does."""

    def do_GET(self):
        body = b'{"error_code": "INTERNAL_ERROR", "message": "store is down"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@contextmanager
def http_server(handler) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.stopped = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopped.set()
        server.shutdown()
        server.server_close()


def _timed_log(settings, uri: str) -> tuple[BaseException, float]:
    settings.MLFLOW_TRACKING_URI = uri
    started = time.monotonic()
    with pytest.raises(mlflow_utils.TrackingUnavailable) as raised:
        mlflow_utils.training_log(_log(_frame()))
    return raised.value, time.monotonic() - started


@pytest.mark.slow
def test_http_limits_reach_mlflow_and_bound_one_attempt_to_30_seconds(monkeypatch, mlflow_store):
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_REQUEST_TIMEOUT,
    )

    for name in mlflow_utils.HTTP_LIMITS:
        monkeypatch.delenv(name, raising=False)
    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 120  # MLflow's own default: minutes on a hung server

    mlflow_utils.training_log(_log(_frame()))

    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 5
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 1
    assert MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == 1
    assert mlflow_utils.attempt_seconds_bound() <= 30


def test_server_that_never_answers_is_unreachable_within_the_probe(settings, short_limits):
    with silent_port() as uri:
        error, took = _timed_log(settings, uri)

    assert isinstance(error, mlflow_utils.TrackingUnreachable)
    assert "unreachable" in str(error)
    assert took < 2 * TIMEOUT + 1.5


def test_server_hanging_on_mlflow_calls_is_unreachable_after_the_capped_tries(settings, short_limits):
    with http_server(_HealthOnly) as uri:
        error, took = _timed_log(settings, uri)

    assert isinstance(error, mlflow_utils.TrackingUnreachable)
    assert "stopped answering" in str(error)
    # Two tries of one second each (the limits reached MLflow: its defaults would wait 8 x 120 s).
    assert 2 * TIMEOUT <= took < mlflow_utils.attempt_seconds_bound()
    assert mlflow.active_run() is None


def test_server_answering_errors_is_unavailable_not_unreachable(settings, short_limits):
    with http_server(_Broken) as uri:
        error, _ = _timed_log(settings, uri)

    assert not isinstance(error, mlflow_utils.TrackingUnreachable)
    assert "store is down" in str(error) or "500" in str(error)


def _trained(user, version, settings) -> TrainingRun:
    with silent_port() as uri:
        settings.MLFLOW_TRACKING_URI = uri
        run = training_run_execute(run_id=queue_run(user, version, algorithms=["DecisionTree"]).pk)
    assert (run.status, run.tracking_status) == (TrainingRun.Status.SUCCEEDED, TrainingRun.Tracking.PENDING)
    return run


@pytest.mark.slow
def test_hung_server_never_uses_up_the_tracking_attempts(user, dataset, settings, short_limits):
    run = _trained(user, dataset.current_version, settings)
    TrainingRun.objects.filter(pk=run.pk).update(tracking_attempts=MAX_TRACKING_ATTEMPTS - 1)

    with http_server(_HealthOnly) as uri:
        settings.MLFLOW_TRACKING_URI = uri
        for _ in range(3):
            run = training_run_track(run_id=run.pk)

    assert run.tracking_status == TrainingRun.Tracking.PENDING
    assert run.tracking_attempts == MAX_TRACKING_ATTEMPTS - 1
    assert "stopped answering" in run.tracking_error


@pytest.mark.slow
def test_server_answering_errors_uses_up_the_tracking_attempts(user, dataset, settings, short_limits):
    run = _trained(user, dataset.current_version, settings)
    assert run.tracking_attempts == 0

    with http_server(_Broken) as uri:
        settings.MLFLOW_TRACKING_URI = uri
        run = training_run_track(run_id=run.pk)
        assert (run.tracking_status, run.tracking_attempts) == (TrainingRun.Tracking.PENDING, 1)
        TrainingRun.objects.filter(pk=run.pk).update(tracking_attempts=MAX_TRACKING_ATTEMPTS - 1)
        run = training_run_track(run_id=run.pk)

    assert run.tracking_status == TrainingRun.Tracking.FAILED
    assert run.tracking_attempts == MAX_TRACKING_ATTEMPTS
