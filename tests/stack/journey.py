"""A user's journey over HTTP through nginx, as a browser without JavaScript would make it.

Each step is a method; `Journey.STEPS` lists them in order. Training, deploying and predicting join the
list when those features land (their panels and alerts wait in test_stack.PENDING_PANELS until then).
"""

import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

CSV = b"city,temperature,rain\nOslo,3.5,yes\nRome,14.0,no\nLima,19.2,no\nCairo,24.8,no\nQuito,13.1,yes\n"
PASSWORD = "stack-test-Password-42"


class FormParser(HTMLParser):
    """The fields of each <form>, with the values a browser would submit by default."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({"action": attr.get("action", ""), "fields": {}})
        elif not self.forms:
            return
        elif tag == "input" and attr.get("name"):
            if attr.get("type") in {"checkbox", "radio"} and "checked" not in attr:
                return
            if attr.get("type") not in {"file", "submit"}:
                self.forms[-1]["fields"][attr["name"]] = attr.get(
                    "value", "on" if attr.get("type") == "checkbox" else ""
                )
        elif tag == "select":
            self._select, self._first_option = attr.get("name"), None
        elif tag == "option" and self._select:
            value = attr.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.forms[-1]["fields"].setdefault(self._select, value)
            if "selected" in attr:
                self.forms[-1]["fields"][self._select] = value
        elif tag == "textarea" and attr.get("name"):
            self.forms[-1]["fields"][attr["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_fields(html: str, action: str = "") -> tuple[str, dict]:
    """The default fields of the page's form whose action is `action` ("": the form posting to the page)."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form["action"] == action and "csrfmiddlewaretoken" in form["fields"]:
            return form["action"], dict(form["fields"])
    raise AssertionError(f"no form posting to {action!r} on the page")


@dataclass
class Journey:
    base_url: str
    username: str = field(default_factory=lambda: f"stack{int(time.time())}")
    session: requests.Session = field(default_factory=requests.Session)
    dataset_urls: list[str] = field(default_factory=list)

    STEPS = (
        "sign_up",
        "log_out_and_fail_then_succeed_to_log_in",
        "upload_a_file_that_is_not_a_csv",
        "upload_confirm_and_wait_for_the_dataset",
        "upload_confirm_and_wait_for_the_dataset",
        "open_the_dataset",
    )

    def run(self) -> None:
        for step in self.STEPS:
            getattr(self, step)()

    def _submit(self, path: str, data: dict | None = None, files: dict | None = None, form: str = ""):
        page = self.session.get(urljoin(self.base_url, path), timeout=30)
        assert page.status_code == 200, f"GET {path}: {page.status_code}"
        action, fields = form_fields(page.text, form)
        fields.update(data or {})
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

    def upload_confirm_and_wait_for_the_dataset(self) -> None:
        response = self._submit("/datasets/upload/", files={"file": ("weather.csv", CSV, "text/csv")})
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
