"""A user's journey over HTTP through nginx, as a browser without JavaScript would make it.

Each step is a method; `Journey.STEPS` lists them in order, so a new feature adds its steps there (and its
dashboard panels leave test_stack.PENDING_PANELS).
"""

import random
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

CSV = b"city,temperature,rain\nOslo,3.5,yes\nRome,14.0,no\nLima,19.2,no\nCairo,24.8,no\nQuito,13.1,yes\n"
PASSWORD = "stack-test-Password-42"


def training_rows(count: int = 240, seed: int = 0) -> list[dict]:
    """A learnable yes/no problem: `label` is yes when x1 plus a bonus for red beats x2."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        x1, x2, colour = round(rng.uniform(0, 10), 2), round(rng.uniform(0, 10), 2), rng.choice(["red", "blue"])
        label = "yes" if x1 + 2 * (colour == "red") > x2 else "no"
        rows.append({"x1": x1, "x2": x2, "colour": colour, "label": label})
    return rows


def as_csv(rows: list[dict]) -> bytes:
    lines = [",".join(rows[0])] + [",".join(str(value) for value in row.values()) for row in rows]
    return ("\n".join(lines) + "\n").encode()


class FormParser(HTMLParser):
    """The fields of each <form> as (name, value) pairs, with the values a browser submits by default."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._multiple = False
        self._options: list[str] = []
        self._selected: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({"action": attr.get("action", ""), "fields": []})
        elif not self.forms:
            return
        elif tag == "input" and attr.get("name"):
            kind = attr.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attr:
                return
            if kind not in {"file", "submit", "button"}:
                self.forms[-1]["fields"].append((attr["name"], attr.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._multiple, self._options, self._selected = attr.get("name"), "multiple" in attr, [], []
        elif tag == "option" and self._select:
            self._options.append(attr.get("value", ""))
            if "selected" in attr:
                self._selected.append(attr.get("value", ""))
        elif tag == "textarea" and attr.get("name"):
            self.forms[-1]["fields"].append((attr["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self.forms:
            chosen = self._selected if self._multiple else (self._selected[-1:] or self._options[:1])
            self.forms[-1]["fields"].extend((self._select, value) for value in chosen)
            self._select = None


class Fields(list):
    """A form's (name, value) pairs, in order; a name may repeat (checkboxes, multiple selects)."""

    def set(self, name: str, *values: object) -> "Fields":
        self[:] = [(key, value) for key, value in self if key != name] + [(name, str(value)) for value in values]
        return self

    def get(self, name: str) -> list[str]:
        return [value for key, value in self if key == name]


def form_fields(html: str, action: str = "") -> tuple[str, Fields]:
    """The default fields of the page's form whose action is `action` ("": the form posting to the page)."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        fields = Fields(form["fields"])
        if form["action"] == action and fields.get("csrfmiddlewaretoken"):
            return form["action"], fields
    raise AssertionError(f"no form posting to {action!r} on the page")


@dataclass
class Journey:
    base_url: str
    username: str = field(default_factory=lambda: f"stack{int(time.time())}")
    session: requests.Session = field(default_factory=requests.Session)
    dataset_urls: list[str] = field(default_factory=list)

    run_urls: list[str] = field(default_factory=list)
    model_url: str = ""
    api_token: str = ""
    prediction_ids: list[str] = field(default_factory=list)
    # Called between two events a histogram must see in different scrapes; nothing without a Prometheus.
    await_next_scrape: Callable[[], None] = lambda: None

    STEPS = (
        "sign_up",
        "log_out_and_fail_then_succeed_to_log_in",
        "upload_a_file_that_is_not_a_csv",
        "upload_a_file_over_the_cap",
        "upload_the_weather",
        "upload_the_weather",
        "open_the_dataset",
        "clean_the_dataset",
        "upload_the_training_data",
        "train_a_model",
        "train_another_model",
        "deploy_the_first_model",
        "predict_with_the_form",
        "create_an_api_token",
        "predict_and_report_outcomes_with_the_api",
    )

    def run(self) -> None:
        # Browsers send the page's origin with every form post; Django's CSRF check compares it with Host.
        self.session.headers["Origin"] = self.base_url
        for step in self.STEPS:
            getattr(self, step)()

    def _submit(self, path: str, data: dict | None = None, files: dict | None = None, form: str = ""):
        page = self.session.get(urljoin(self.base_url, path), timeout=30)
        assert page.status_code == 200, f"GET {path}: {page.status_code}"
        action, fields = form_fields(page.text, form)
        for name, value in (data or {}).items():
            fields.set(name, *(value if isinstance(value, list) else [value]))
        return self.session.post(urljoin(page.url, action or page.url), data=fields, files=files, timeout=60)

    def sign_up(self) -> None:
        response = self._submit(
            "/accounts/signup/",
            {
                "username": self.username,
                "email": f"{self.username}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert response.status_code == 200, response.status_code
        assert "/accounts/" not in response.url, response.url

    def log_out_and_fail_then_succeed_to_log_in(self) -> None:
        home = self.session.get(self.base_url + "/", timeout=30)
        _, fields = form_fields(home.text, "/accounts/logout/")
        self.session.post(urljoin(self.base_url, "/accounts/logout/"), data=fields, timeout=30)
        wrong = self._submit("/accounts/login/", {"username": self.username, "password": "not-the-password"})
        assert wrong.status_code == 200
        assert "/accounts/login/" in wrong.url
        right = self._submit("/accounts/login/", {"username": self.username, "password": PASSWORD})
        assert "/accounts/login/" not in right.url, right.url

    def upload_a_file_that_is_not_a_csv(self) -> None:
        response = self._submit("/datasets/upload/", files={"file": ("slides.pdf", b"%PDF-1.4\n", "application/pdf")})
        assert response.status_code == 400

    def upload_a_file_over_the_cap(self) -> None:
        """Announce 1 GiB: nginx refuses it before reading the body, with the app's own (counted) 413 page."""
        host, port = urlsplit(self.base_url).hostname, urlsplit(self.base_url).port
        cookies = "; ".join(f"{name}={value}" for name, value in self.session.cookies.items())
        head = (
            f"POST /datasets/upload/ HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookies}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.sendall(head.encode() + b"--x\r\n")
            while b"</html>" not in answer and (chunk := connection.recv(65536)):
                answer += chunk
        status_line, _, _ = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"This file is too large" in answer, answer[:2000]

    def upload_the_weather(self) -> None:
        self._upload("weather.csv", CSV)

    def clean_the_dataset(self) -> None:
        dataset = self.dataset_urls[0]
        response = self._submit(
            urljoin(dataset, "clean/?op=trim_whitespace&column=city"), form=f"{path_of(dataset)}clean/apply/"
        )
        assert response.status_code == 200, response.status_code
        assert "/clean/" not in response.url, response.url

    def upload_the_training_data(self) -> None:
        self._upload("training.csv", as_csv(training_rows()))

    def _upload(self, name: str, body: bytes) -> None:
        response = self._submit("/datasets/upload/", files={"file": (name, body, "text/csv")})
        assert re.search(r"/uploads/\d+/confirm/$", response.url), (response.status_code, response.url)
        _, fields = form_fields(response.text)
        confirmed = self.session.post(response.url, data=fields, timeout=60)
        assert re.search(r"/(uploads/\d+|datasets/\d+)/$", confirmed.url), (confirmed.status_code, confirmed.url)
        deadline = time.monotonic() + 60
        page = confirmed
        while "/datasets/" not in page.url and time.monotonic() < deadline:
            time.sleep(0.5)
            page = self.session.get(confirmed.url, timeout=30)
        assert re.search(r"/datasets/\d+/$", page.url), f"the dataset did not appear: {page.url}"
        self.dataset_urls.append(page.url)

    def open_the_dataset(self) -> None:
        page = self.session.get(self.dataset_urls[-1], timeout=30)
        assert page.status_code == 200
        assert "Oslo" in page.text

    def train_a_model(self) -> None:
        self._train("LogisticRegression")

    def train_another_model(self) -> None:
        # A second run, a scrape after the first, also gives the duration histogram an increase.
        self.await_next_scrape()
        self._train("DecisionTree")

    def start_training(self, dataset_url: str, algorithm: str) -> str:
        """Queue a run on the dataset's first version through the training form; the run page's URL."""
        train_page = urljoin(dataset_url, "v/1/train/?target=label")
        # An exact number of candidates: the same leaderboard whatever the machine's load.
        choices = {"target": "label", "algorithms": [algorithm], "cv_folds": 2, "max_trials": 2}
        response = self._submit(train_page, choices)
        assert re.search(r"/runs/\d+/$", response.url), (response.status_code, response.url)
        return response.url

    def _train(self, algorithm: str) -> None:
        run_url = self.start_training(self.dataset_urls[-1], algorithm)
        deploy_form = f'action="{path_of(run_url)}deploy/"'
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            page = self.session.get(run_url, timeout=30)
            if deploy_form in page.text:
                self.run_urls.append(run_url)
                return
            time.sleep(1)
        raise AssertionError(f"the training run did not finish: {run_url}")

    def deploy_the_first_model(self) -> None:
        run_url = self.run_urls[0]
        response = self._submit(run_url, form=f"{path_of(run_url)}deploy/")
        assert re.search(r"/models/\d+/$", response.url), (response.status_code, response.url)
        self.model_url = response.url

    def predict_with_the_form(self) -> None:
        # Twice, a scrape apart, so the latency histogram has an increase to take a quantile of.
        for row in training_rows(2, seed=1):
            response = self._submit(urljoin(self.model_url, "predict/"), {k: v for k, v in row.items() if k != "label"})
            assert response.status_code == 200, response.status_code
            assert re.search(r"\b(yes|no)\b", response.text)
            self.await_next_scrape()

    def create_an_api_token(self) -> None:
        response = self._submit("/accounts/profile/", {"name": "stack test"}, form="/accounts/tokens/new/")
        match = re.search(r'<code id="new-token"[^>]*>([^<]+)</code>', response.text)
        assert match, f"no token on {response.url}"
        self.api_token = match.group(1).strip()

    def predict_and_report_outcomes_with_the_api(self) -> None:
        api = urljoin(self.base_url, "/api" + path_of(self.model_url))
        headers = {"Authorization": f"Token {self.api_token}"}
        # 40 rows from the training distribution: drift is measured from 30 logged rows (MIN_LIVE_ROWS) on.
        rows = training_rows(40, seed=2)
        for batch in (rows[:20], rows[20:]):
            records = [{k: v for k, v in row.items() if k != "label"} for row in batch]
            response = requests.post(api + "predict", json={"records": records}, headers=headers, timeout=30)
            assert response.status_code == 200, (response.status_code, response.text[:500])
            self.prediction_ids += response.json()["prediction_ids"]
            self.await_next_scrape()
        feedback = [
            {"prediction_id": pid, "actual": row["label"]} for pid, row in zip(self.prediction_ids, rows, strict=True)
        ]
        response = requests.post(api + "feedback", json={"feedback": feedback}, headers=headers, timeout=30)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        assert response.json()["updated"] == len(rows)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)
