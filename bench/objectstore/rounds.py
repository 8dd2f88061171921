"""The measured rounds of bench/storage.py; imported once the environment points Django at the bench's
database and bucket (the bucket is the default storage; the local side overrides STORAGES)."""

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import django

django.setup()

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from bench.ingest import FLIGHTS, build_input
from csv_processor.models import Dataset, Upload, WorkerHeartbeat
from csv_processor.services.cleaning.suggestions import suggestion_model_get
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.manage import dataset_delete
from csv_processor.services.datasets.uploads import upload_confirm, upload_create
from csv_processor.services.jobs.queue import task_enqueue_on_commit, task_get
from users.models import User

ROOT = Path(__file__).resolve().parents[2]
LOCAL_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SIDES = ("local", "bucket")
PREVIEW_PAGE = 500
PREVIEW_REQUESTS = 30
PAGE_ROWS = 50
SMALL_UPLOADS = 20
SMALL_ROWS = 15_000
JOB_TASKS = ("upload_ingest_task", "dataset_version_profile_task")
WORKER_TIMEOUT_SECONDS = 600
_UNFINISHED = [TaskResultStatus.READY, TaskResultStatus.RUNNING]


@contextlib.contextmanager
def storage_side(side: str, *, work: Path, host: str) -> Iterator[None]:
    """Files on local disk (every host sees one MEDIA_ROOT) or in the bucket (each host keeps its own cache)."""
    if side == "local":
        with override_settings(STORAGES=LOCAL_STORAGES, MEDIA_ROOT=str(work / "local-media")):
            yield
    else:
        with override_settings(STORAGE_CACHE_DIR=str(work / "hosts" / host)):
            yield


def ingest(*, side: str, owner: User, csv_path: Path, work: Path) -> tuple[float, Dataset]:
    """Upload, confirm and parse the file into a ready version, the parse as the worker host would."""
    shutil.rmtree(work / "hosts", ignore_errors=True)  # hosts that never saw the file
    started = time.perf_counter()
    with storage_side(side, work=work, host="web"):
        with csv_path.open("rb") as handle:
            upload = upload_create(owner=owner, uploaded_file=handle, name=csv_path.name, size=csv_path.stat().st_size)
        upload = upload_confirm(upload=upload, options=upload.parse_options, dataset_name="flights", enqueue=False)
    with storage_side(side, work=work, host="worker"):
        done = upload_ingest(upload_id=upload.pk)
    seconds = time.perf_counter() - started
    if done is None or done.status != Upload.Status.SUCCEEDED:
        sys.exit(f"the {side} ingest failed: {done.error if done else 'not taken'}")
    return seconds, Dataset.objects.get(source_upload=done)


def store_transfer(csv_path: Path, work: Path) -> tuple[float, float]:
    """The store's own floor: one PUT and one GET of the CSV with boto3's defaults, as the app makes them."""
    key, copy = f"bench/transfer/{csv_path.name}", work / "transfer.copy"
    bucket = default_storage.bucket
    started = time.perf_counter()
    bucket.upload_file(str(csv_path), key)
    put = time.perf_counter() - started
    bucket.download_file(key, str(copy))
    get = time.perf_counter() - started - put
    bucket.Object(key).delete()
    copy.unlink()
    return put, get


def ingest_rounds(*, owner: User, csv_path: Path, work: Path, repeats: int) -> tuple[dict, dict, dict[str, Dataset]]:
    """Alternate the sides, then time the store's plain transfer; keep each side's last dataset for the preview."""
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    transfer: dict[str, list[float]] = {"put": [], "get": []}
    kept: dict[str, Dataset] = {}
    for attempt in range(repeats):
        for side in SIDES if attempt % 2 == 0 else SIDES[::-1]:
            if side in kept:
                with storage_side(side, work=work, host="cleanup"):
                    dataset_delete(dataset=kept.pop(side))
            elapsed, kept[side] = ingest(side=side, owner=owner, csv_path=csv_path, work=work)
            seconds[side].append(elapsed)
            print(f"ingest  {side:6} {elapsed:6.2f}s", flush=True)
        put, get = store_transfer(csv_path, work)
        transfer["put"].append(put)
        transfer["get"].append(get)
        print(f"store   put {put:.2f}s, get {get:.2f}s (boto3, no app code)", flush=True)
    return seconds, transfer, kept


def preview_rounds(*, owner: User, datasets: dict[str, Dataset], work: Path, requests: int) -> dict:
    """GET a page deep inside each side's 1M-row version, alternating; a web host that never cached it."""
    client = Client()
    client.force_login(owner)
    urls = {side: reverse("csv_processor:dataset-detail", args=[dataset.pk]) for side, dataset in datasets.items()}
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    for attempt in range(requests + 1):
        for side in SIDES if attempt % 2 == 0 else SIDES[::-1]:
            with storage_side(side, work=work, host="preview-web"):
                started = time.perf_counter()
                response = client.get(urls[side], {"page": PREVIEW_PAGE})
                elapsed = time.perf_counter() - started
            first = (PREVIEW_PAGE - 1) * PAGE_ROWS + 1
            if response.status_code != 200 or f"Rows {first}\N{EN DASH}{first + PAGE_ROWS - 1} of" not in response.text:
                sys.exit(f"the {side} preview answered {response.status_code}, not rows {first} and on")
            if attempt:  # the first round warms up both sides
                seconds[side].append(elapsed)
    for side in SIDES:
        print(f"preview {side:6} p50 {statistics.median(seconds[side]) * 1000:.1f} ms", flush=True)
    return seconds


# --- Worker scaling ---------------------------------------------------------------------------------


def small_csvs(work: Path, count: int, rows: int) -> list[Path]:
    header, _, body = FLIGHTS.read_bytes().partition(b"\n")
    lines = body.split(b"\n")
    paths = []
    for index in range(count):
        path = work / f"small-{index}.csv"
        path.write_bytes(header + b"\n" + b"\n".join(lines[index * rows : (index + 1) * rows]) + b"\n")
        paths.append(path)
    return paths


def start_workers(count: int, *, env: dict[str, str], work: Path) -> list[subprocess.Popen]:
    """`count` db_workers, each with its own empty MEDIA_ROOT and cache, as on hosts of their own."""
    WorkerHeartbeat.objects.all().delete()
    workers = []
    for index in range(count):
        host = work / f"worker-host-{index}"
        own = {**env, "MEDIA_ROOT": str(host / "media"), "CSVA_STORAGE_CACHE_DIR": str(host / "cache")}
        with (work / f"worker-{index}.log").open("ab") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "db_worker", "--no-reload"],
                    cwd=ROOT,
                    env=own,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    wait_for(lambda: WorkerHeartbeat.objects.count() >= count, what=f"{count} worker heartbeat(s)", work=work)
    # The periodic tasks a first worker queues run before the measured queue, not inside it.
    wait_for(lambda: not DBTaskResult.objects.filter(status__in=_UNFINISHED).exists(), what="an idle queue", work=work)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def wait_for(check, *, what: str, work: Path, timeout: float = WORKER_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}; worker logs in {work}")
        time.sleep(0.1)


def cpu_seconds(processes: list[int]) -> tuple[float, float]:
    """Seconds so far the processes ran on a core (all threads, from /proc stat) and their main threads, which
    run the tasks, waited runnable for one (from /proc schedstat): busy workers, or a machine that is full."""
    ran = waited = 0.0
    for pid in processes:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ran += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        waited += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    return ran, waited


def queue_round(*, workers: int, owner: User, csvs: list[Path], env: dict[str, str], work: Path, store: int) -> float:
    """Jobs per minute of `workers` db_workers on a queue of the small uploads (ingest and profile each)."""
    work.mkdir(parents=True)
    with storage_side("bucket", work=work, host="queue-web"):
        uploads = []
        for path in csvs:
            with path.open("rb") as handle:
                upload = upload_create(owner=owner, uploaded_file=handle, name=path.name, size=path.stat().st_size)
            uploads.append(upload_confirm(upload=upload, options=upload.parse_options, dataset_name="q", enqueue=False))
    processes = start_workers(workers, env=env, work=work)
    try:
        pids = [process.pid for process in processes]
        cpu_before, store_before, marker = cpu_seconds(pids), cpu_seconds([store]), timezone.now()
        with transaction.atomic():
            for upload in uploads:
                task_enqueue_on_commit("upload_ingest_task", upload.pk)
        paths = [task_get(name).module_path for name in JOB_TASKS]
        jobs = DBTaskResult.objects.filter(task_path__in=paths, enqueued_at__gte=marker)
        expected = len(uploads) * len(JOB_TASKS)
        wait_for(lambda: jobs.exclude(status__in=_UNFINISHED).count() >= expected, what=f"{expected} jobs", work=work)
        ran, waited = (after - before for after, before in zip(cpu_seconds(pids), cpu_before, strict=True))
        store_ran = cpu_seconds([store])[0] - store_before[0]
    finally:
        stop_workers(processes)
    unfinished = Upload.objects.filter(pk__in=[upload.pk for upload in uploads]).exclude(status=Upload.Status.SUCCEEDED)
    if jobs.filter(status=TaskResultStatus.FAILED).exists() or unfinished.exists():
        sys.exit(f"jobs failed with {workers} worker(s); logs in {work}")
    seconds = (max(job.finished_at for job in jobs) - min(job.enqueued_at for job in jobs)).total_seconds()
    with storage_side("bucket", work=work, host="queue-web"):
        for dataset in Dataset.objects.filter(owner=owner):
            dataset_delete(dataset=dataset)
    jobs.delete()
    print(
        f"workers {workers}  {expected / seconds * 60:6.1f} jobs/min ({expected} jobs in {seconds:.1f}s, "
        f"workers on a core {ran / seconds:.2f}, main threads waiting for one {waited / seconds:.2f}, "
        f"S3 server on a core {store_ran / seconds:.2f}, load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return expected / seconds * 60


def worker_rounds(*, owner: User, env: dict[str, str], work: Path, repeats: int, store: int) -> dict:
    csvs = small_csvs(work, SMALL_UPLOADS, SMALL_ROWS)
    with storage_side("bucket", work=work, host="queue-web"):
        suggestion_model_get()  # trained and stored once, as an install has it; each worker reads it
    per_minute: dict[str, list[float]] = {"1": [], "2": []}
    for attempt in range(repeats):
        for workers in (1, 2) if attempt % 2 == 0 else (2, 1):
            folder = work / f"queue-{attempt}-{workers}"
            per_minute[str(workers)].append(
                queue_round(workers=workers, owner=owner, csvs=csvs, env=env, work=folder, store=store)
            )
    return per_minute


def run_all(*, work: Path, repeats: int, worker_env: dict[str, str], store: int) -> dict[str, dict[str, list[float]]]:
    """Every round; `store` is the S3 server's process id (its CPU time is reported)."""
    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench", password="bench-password-1")
    csv_path = work / "flights_3x.csv"
    build_input(csv_path)
    print(f"built {csv_path.stat().st_size / 1e6:.1f} MB; store {settings.STORAGES['default']['BACKEND']}", flush=True)
    ingest_s, transfer_s, datasets = ingest_rounds(owner=owner, csv_path=csv_path, work=work, repeats=repeats)
    preview_s = preview_rounds(owner=owner, datasets=datasets, work=work, requests=max(repeats, PREVIEW_REQUESTS))
    for side, dataset in datasets.items():
        with storage_side(side, work=work, host="cleanup"):
            dataset_delete(dataset=dataset)
    queue_owner = User.objects.create_user("bench-queue", password="bench-password-1")
    jobs = worker_rounds(owner=queue_owner, env=worker_env, work=work, repeats=repeats, store=store)
    return {"preview_s": preview_s, "ingest_s": ingest_s, "store_transfer_s": transfer_s, "jobs_per_minute": jobs}
