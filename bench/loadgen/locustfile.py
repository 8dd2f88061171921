"""The users of bench/load.py: locust runs this file; bench/load.py prepares the plan and reads the samples.

LOAD_PLAN names a JSON file written by bench/load.py: one account per user (password, dataset, run, deployed
model, API token and a record to predict) and the CSV file to upload. Every request is kept as a sample
(category, name, start, milliseconds, status) and written to LOAD_SAMPLES when locust quits, so bench/load.py
computes exact percentiles per category instead of locust's rounded ones. Categories:

* page: a GET of an HTML page or fragment, what a person waits for (the 300 ms bar);
* api: one-row POST /api/models/{id}/predict with a token (the 200 ms bar);
* form: the prediction form's POST (a page too, reported on its own);
* login, upload: the log-in POST (password hashing is slow on purpose) and the upload and confirm POSTs
  (a file up to 5 MiB is parsed in full while it uploads): reported, not held to the page bar;
* ingest: seconds from the confirm POST until the worker has made the dataset;
* baseline: GET /healthz, polled by a probe on the same client during the same run.
"""

import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path

from locust import HttpUser, LoadTestShape, constant_pacing, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
ACCOUNTS = itertools.count()
SAMPLES: list[tuple] = []
INGEST_TIMEOUT = 90.0
# No reuse of a connection idle this long: gunicorn closes idle ones after 5 s and a request sent as it
# closes is reset (nginx, in production, opens a new upstream connection per request). Two seconds of
# margin, as a starved client may send a little later than it checked.
IDLE_REUSE_SECONDS = 3.0
UPLOAD_BYTES = Path(PLAN["upload_file"]).read_bytes()
LOGGED_IN = {"count": 0}


@events.request.add_listener
def _keep(request_type, name, response_time, response_length, response, exception, start_time=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    category, _, label = name.partition(" ")
    SAMPLES.append((category, label, start_time or time.time(), response_time, status, bool(exception)))


@events.quitting.add_listener
def _write(environment, **kwargs):
    Path(os.environ["LOAD_SAMPLES"]).write_text(json.dumps(SAMPLES))


class _FormFields(HTMLParser):
    """The values a browser would submit from the page's own form: the first that posts back to the page
    (no action), not the log-out button of the menu. Inputs, ticked checkboxes and selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._state = "before"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self._state == "before" and "action" not in attrs:
            self._state = "inside"
        if self._state != "inside" or (not attrs.get("name") and tag != "option"):
            return
        if tag == "input" and (attrs.get("type") != "checkbox" or "checked" in attrs):
            self.fields[attrs["name"]] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and ("selected" in attrs or self._select not in self.fields):
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form" and self._state == "inside":
            self._state = "after"


def fresh_connections_after_idle(user: HttpUser) -> None:
    """Close the user's kept-alive connections before a request that follows IDLE_REUSE_SECONDS of quiet."""
    send = user.client.request
    last = {"at": time.monotonic()}

    def request(method, url, **kwargs):
        if time.monotonic() - last["at"] >= IDLE_REUSE_SECONDS:
            user.client.close()
        try:
            return send(method, url, **kwargs)
        finally:
            last["at"] = time.monotonic()

    user.client.request = request


def form_fields(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


class _Account(HttpUser):
    """A person with an account: logs in through the form, then owns one dataset, run and deployed model."""

    abstract = True
    think_seconds = (1.0, 1.0)

    def wait_time(self) -> float:
        return random.uniform(*self.think_seconds)

    def on_start(self) -> None:
        fresh_connections_after_idle(self)
        self.account = PLAN["accounts"][next(ACCOUNTS) % len(PLAN["accounts"])]
        self.client.get("/accounts/login/", name="page login")
        data = {
            "username": self.account["username"],
            "password": PLAN["password"],
            "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
        }
        with self.client.post(
            "/accounts/login/", data=data, name="login post", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"log-in answered {response.status_code}")
        LOGGED_IN["count"] += 1

    def page(self, path: str, label: str, **kwargs):
        return self.client.get(path, name=f"page {label}", **kwargs)

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")


class Browser(_Account):
    """Reads their datasets, profiles, runs and model, and now and then predicts through the form."""

    fixed_count = PLAN["mix"]["browsers"]
    think_seconds = PLAN["mix"]["browse_think_seconds"]

    @task(3)
    def datasets(self) -> None:
        self.page("/datasets/", "dataset-list")

    @task(4)
    def dataset(self) -> None:
        """The dataset page, then its training runs, which the page loads with htmx."""
        self.page(f"/datasets/{self.account['dataset_id']}/", "dataset-detail")
        self.page(f"/datasets/{self.account['dataset_id']}/runs/", "dataset-runs", headers={"HX-Request": "true"})

    @task(3)
    def table_page(self) -> None:
        """The data table's next page or another sort, as htmx asks for it (the table preview)."""
        column = random.choice(self.account["columns"])
        query = f"?page={random.randint(1, 9)}&sort={column}&desc={random.randint(0, 1)}"
        headers = {"HX-Request": "true", "HX-Target": "data-table"}
        self.page(f"/datasets/{self.account['dataset_id']}/{query}", "table-preview", headers=headers)

    @task(2)
    def profile(self) -> None:
        self.page(f"/datasets/{self.account['dataset_id']}/v/1/profile/", "dataset-profile")

    @task(1)
    def runs(self) -> None:
        self.page("/runs/", "run-list")

    @task(2)
    def run_page(self) -> None:
        self.page(f"/runs/{self.account['run_id']}/", "run-detail")

    @task(1)
    def models(self) -> None:
        self.page("/models/", "model-list")

    @task(2)
    def model(self) -> None:
        self.page(f"/models/{self.account['model_id']}/", "model-detail")

    @task(1)
    def predict_form(self) -> None:
        """The form's own defaults (as a browser submits them) with the record's numbers typed in."""
        path = f"/models/{self.account['model_id']}/predict/"
        fields = form_fields(self.page(path, "predict-form").text)
        numbers = {key: str(value) for key, value in self.account["record"].items() if isinstance(value, int | float)}
        data = {**fields, **{key: value for key, value in numbers.items() if key in fields}}
        data["csrfmiddlewaretoken"] = self.csrf()
        self.client.post(path, data=data, headers={"HX-Request": "true"}, name="form predict")


class ApiClient(_Account):
    """A script of the same person: one-row predictions with an API token, about one a second."""

    fixed_count = PLAN["mix"]["api_clients"]
    wait_time = constant_pacing(PLAN["mix"]["api_pacing_seconds"])

    @task
    def predict(self) -> None:
        headers = {"Authorization": f"Token {self.account['token']}"}
        body = {"records": [self.account["record"]]}
        self.client.post(
            f"/api/models/{self.account['model_id']}/predict", json=body, headers=headers, name="api predict"
        )


class Uploader(_Account):
    """Uploads a 5 MB CSV, checks the preview, confirms, waits for the worker, then opens the dataset."""

    fixed_count = PLAN["mix"]["uploaders"]
    think_seconds = PLAN["mix"]["upload_think_seconds"]

    @task
    def upload(self) -> None:
        self.page("/datasets/upload/", "upload-form")
        files = {"file": (f"flights-{random.randint(0, 10**6)}.csv", UPLOAD_BYTES, "text/csv")}
        data = {"csrfmiddlewaretoken": self.csrf()}
        response = self.client.post(
            "/datasets/upload/", data=data, files=files, name="upload post", allow_redirects=False
        )
        confirm = response.headers.get("Location", "")
        if response.status_code != 302 or not confirm:
            return
        preview = self.page(confirm, "upload-preview")
        fields = {**form_fields(preview.text), "csrfmiddlewaretoken": self.csrf()}
        response = self.client.post(confirm, data=fields, name="upload confirm", allow_redirects=False)
        if response.status_code != 302:
            return
        self.wait_for_dataset(response.headers["Location"])

    def wait_for_dataset(self, status_path: str) -> None:
        started = time.time()
        while time.time() - started < INGEST_TIMEOUT:
            response = self.page(status_path, "upload-status", allow_redirects=False)
            target = response.headers.get("Location", "")
            if response.status_code == 302 and re.search(r"/datasets/\d+/$", target):
                _record_ingest(started)
                self.page(target, "dataset-detail")
                return
            if response.status_code >= 400:
                return
            time.sleep(1.0)
        events.request.fire(
            request_type="WAIT",
            name="ingest timeout",
            response_time=1000 * INGEST_TIMEOUT,
            response_length=0,
            response=None,
            exception=TimeoutError("ingest"),
            context={},
            start_time=started,
        )


def _record_ingest(started: float) -> None:
    events.request.fire(
        request_type="WAIT",
        name="ingest done",
        response_time=1000 * (time.time() - started),
        response_length=0,
        response=None,
        exception=None,
        context={},
        start_time=started,
    )


class HealthProbe(HttpUser):
    """The baseline: /healthz (a bare Django JSON view) polled twice a second, like a load balancer's probe."""

    fixed_count = 1
    wait_time = constant_pacing(0.5)

    def on_start(self) -> None:
        fresh_connections_after_idle(self)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="baseline healthz")


class MeasuredRun(LoadTestShape):
    """Every user arrives (SPAWN_RATE a second) and logs in; then the measured minutes start, with a mark
    in the samples, and the run stops when they are over. A ramp slower than RAMP_LIMIT starts anyway."""

    users = PLAN["mix"]["browsers"] + PLAN["mix"]["api_clients"] + PLAN["mix"]["uploaders"]
    measured_from: float | None = None

    def tick(self):
        accounts_in = LOGGED_IN["count"] >= self.users
        if self.measured_from is None and (accounts_in or self.get_run_time() > PLAN["ramp_limit_seconds"]):
            self.measured_from = time.time()
            events.request.fire(
                request_type="MARK",
                name="mark measure",
                response_time=0,
                response_length=0,
                response=None,
                exception=None,
                context={},
                start_time=self.measured_from,
            )
        if self.measured_from is not None and time.time() - self.measured_from >= PLAN["seconds"]:
            return None
        return self.users + 1, PLAN["spawn_rate"]
