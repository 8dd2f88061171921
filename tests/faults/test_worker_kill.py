"""Task workers killed with SIGKILL in the middle of training, 20 times at seeded random moments.

Two real `db_worker` processes train small runs; one at a time is killed while it trains and started
again. The heartbeat and the reaper (shortened through the environment) must re-queue or fail every
killed run, and every run must end succeeded or failed, with one model per succeeded run and none for
the others.
"""

import datetime as dt
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.services.training.maintenance import DIED_FAILED
from csv_processor.services.training.model_store import trained_model_load
from csv_processor.tasks import training_run_execute_task
from tests.conftest import _database_url
from tests.csv_processor.helpers import classification_csv, make_dataset, queue_run
from tests.faults.conftest import FAST_HOUSEKEEPING, WORKER_COMMAND

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

KILLS = 20
SEED = 8
SLOTS = 2
KILL_PHASE_SECONDS = 180
DRAIN_SECONDS = 90
# Stale heartbeat + a heartbeat of the reaping worker + scheduling slack on a busy 2-core machine.
REAPER_WINDOW_SECONDS = int(FAST_HOUSEKEEPING["CSVA_TRAINING_STALE_SECONDS"]) + 15
ACTIVE = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


@dataclass
class Kill:
    run_id: int
    attempt: int
    at: float


@dataclass
class RunWatch:
    """Polls the runs from its own thread; records when each (run, attempt) stopped being RUNNING."""

    seen_running: set = field(default_factory=set)
    left_running: dict = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def poll(self) -> None:
        """Every 0.2 s, and once more after `stop`: a run reaped just before the drain ended is seen leave."""
        try:
            while True:
                stopping = self.stop.wait(0.2)
                now = time.monotonic()
                rows = TrainingRun.objects.values_list("pk", "status", "attempts")
                running = {(pk, attempts) for pk, status, attempts in rows if status == TrainingRun.Status.RUNNING}
                self.seen_running |= running
                for key in self.seen_running - running:
                    self.left_running.setdefault(key, now)
                if stopping:
                    return
        finally:
            connection.close()


class Workers:
    def __init__(self, rig, env: dict[str, str]) -> None:
        self.rig, self.env, self.ids, self.started = rig, env, {}, 0

    def start(self, slot: int) -> None:
        self.started += 1
        worker_id = f"faults-{slot}-{self.started}"
        self.rig.spawn(f"worker-{slot}", [*WORKER_COMMAND, "--worker-id", worker_id], self.env)
        self.ids[slot] = worker_id

    def kill(self, slot: int) -> None:
        process = self.rig.processes.pop(f"worker-{slot}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        # The log shows where each process ended.
        with (self.rig.logs / f"worker-{slot}.log").open("a") as log:
            log.write(f"==== SIGKILL {self.ids[slot]}\n")

    def training(self, slot: int) -> tuple[int, int] | None:
        """The (run, attempt) the worker in `slot` trains now, if any."""
        results = DBTaskResult.objects.running().filter(task_path=training_run_execute_task.module_path)
        for result in results:
            if result.worker_ids and result.worker_ids[-1] == self.ids[slot]:
                run_id = result.args_kwargs["args"][0]
                row = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).first()
                return (run_id, row.attempts) if row else None
        return None


def _wait_training(workers: Workers, slot: int, timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target = workers.training(slot)
        if target:
            return target
        time.sleep(0.1)
    raise AssertionError(f"worker {workers.ids[slot]} did not start training within {timeout}s")


def _top_up(owner, version) -> None:
    """Keep runs waiting, so a restarted worker always has one to train."""
    while TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED).count() < SLOTS:
        # Time-boxed on purpose: a kill must land while a run trains.
        queue_run(owner, version, algorithms=("DecisionTree", "LogisticRegression"), budget_seconds=5)


def _kill_phase(workers: Workers, owner, version, rng: random.Random) -> list[Kill]:
    kills: list[Kill] = []
    deadline = time.monotonic() + KILL_PHASE_SECONDS
    slot = 0
    while len(kills) < KILLS:
        assert time.monotonic() < deadline, f"only {len(kills)} kills mid-training in {KILL_PHASE_SECONDS}s"
        _top_up(owner, version)
        run_id, attempt = _wait_training(workers, slot, timeout=60)
        time.sleep(rng.uniform(0.1, 2.5))
        workers.kill(slot)
        at = time.monotonic()
        # Dead now: if the run is still RUNNING in this attempt, the kill landed in the middle of it.
        if TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING, attempts=attempt).exists():
            kills.append(Kill(run_id, attempt, at))
        workers.start(slot)
        slot = (slot + 1) % SLOTS
    return kills


def _assert_finished_once(runs: list[TrainingRun], kills: list[Kill]) -> None:
    killed = {kill.run_id for kill in kills}
    for run in runs:
        assert run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED), (run.pk, run.status)
        assert 1 <= run.attempts <= 2, (run.pk, run.attempts)
        models = TrainedModel.objects.filter(run=run)
        if run.status == TrainingRun.Status.SUCCEEDED:
            assert models.count() == 1, run.pk
            # The stored file is complete: it loads and matches its recorded SHA-256.
            assert trained_model_load(trained_model=models.get()).predict is not None
        else:
            assert run.error == DIED_FAILED, (run.pk, run.error)
            assert run.attempts == 2
            assert not models.exists(), run.pk
        if run.pk in killed and run.status == TrainingRun.Status.SUCCEEDED:
            assert run.attempts == 2, f"run {run.pk} was killed but succeeded without a retry"


def test_worker_killed_mid_training_twenty_times_every_run_finishes_once(rig, user, tmp_path, settings):
    env = rig.env(
        _database_url(connection.settings_dict),
        settings.MEDIA_ROOT,
        # MLflow is another fault's subject: here logging fails at once and stays pending.
        MLFLOW_TRACKING_URI="http://127.0.0.1:9",
    )
    dataset = make_dataset(user, tmp_path, classification_csv(300), name="kills.csv")
    version = dataset.current_version
    workers = Workers(rig, env)
    for slot in range(SLOTS):
        workers.start(slot)
    watch = RunWatch()
    watcher = threading.Thread(target=watch.poll, name="run-watch", daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        kills = _kill_phase(workers, user, version, random.Random(SEED))
        killed_at = time.monotonic()
        deadline = killed_at + DRAIN_SECONDS
        while TrainingRun.objects.filter(status__in=ACTIVE).exists():
            assert time.monotonic() < deadline, f"runs still active {DRAIN_SECONDS}s after the last kill"
            time.sleep(0.5)
    finally:
        watch.stop.set()
        watcher.join(timeout=10)
    print(f"\n{len(kills)} kills in {killed_at - started:.0f}s, drained in {time.monotonic() - killed_at:.0f}s")  # noqa: T201

    runs = list(TrainingRun.objects.order_by("pk"))
    assert len({kill.run_id for kill in kills}) >= KILLS // 2
    _assert_finished_once(runs, kills)
    for kill in kills:
        left = watch.left_running.get((kill.run_id, kill.attempt))
        assert left is not None, f"run {kill.run_id} attempt {kill.attempt} never left RUNNING"
        assert left - kill.at <= REAPER_WINDOW_SECONDS, (kill, left - kill.at)
    assert TrainedModel.objects.count() == sum(run.status == TrainingRun.Status.SUCCEEDED for run in runs)
    # The task rows of the killed workers do not count as running forever.
    stale = timezone.now() - dt.timedelta(seconds=REAPER_WINDOW_SECONDS)
    assert not DBTaskResult.objects.running().filter(started_at__lt=stale).exists()
