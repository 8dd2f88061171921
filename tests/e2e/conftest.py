"""A real browser (Debian's Chromium driven by Playwright) against a live server and a real worker.

Each step of a journey runs inside `steps.step(name)`: a screenshot is written after it to
`.ci/artifacts/e2e/<test>/NN-name.png` (kept by `.ci/run`), and a failure names the step that broke.
An uncaught JavaScript error on the page fails the step it happened in. `steps.txt` beside the screenshots
lists each step with its duration, to see where the CI budget goes.
"""

import contextlib
import re
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"


class Steps:
    def __init__(self, page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.page_errors: list[str] = []
        self.log = folder / "steps.txt"
        self.log.write_text("")
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @contextlib.contextmanager
    def step(self, name: str):
        self.count += 1
        slug = f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        started = time.monotonic()
        try:
            yield self.page
            if self.page_errors:
                raise AssertionError(f"JavaScript errors on the page: {self.page_errors}")
        except BaseException as exc:
            self._record(slug, started, "FAILED")
            self.page.screenshot(path=str(self.folder / f"{slug}-FAILED.png"), full_page=True)
            raise AssertionError(f"e2e step {self.count} “{name}” failed: {exc}") from exc
        self._record(slug, started, "ok")
        self.page.screenshot(path=str(self.folder / f"{slug}.png"), full_page=True)

    def _record(self, slug: str, started: float, outcome: str) -> None:
        with self.log.open("a") as log:
            log.write(f"{slug}\t{outcome}\t{time.monotonic() - started:.1f} s\n")


@pytest.fixture(autouse=True)
def _mlflow_in_tmp(mlflow_store):
    """The live server uses the tmp_path MLflow store that `worker_process` hands the worker."""
    return mlflow_store


@pytest.fixture
def browser_page(request):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def steps(browser_page, request):
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return Steps(browser_page, folder)
