"""The whole journey a new user takes, in a real browser, against a live server and a real worker."""

import csv
import io
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.shared_datasets import SHARED_DATASETS

PASSWORD = "Journey-Password-2026"
WORKER_TIMEOUT = 150_000  # ms: an exact search plus scoring and tracking on a shared 2-core machine
# Candidates the journey trains: an exact count, so the run is the same on any machine, not clock-sized.
TRIALS = 3
BATCH_ROWS = 25

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.needs_shared_datasets]


def _sign_up(page, base: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=username]", "journey")
    page.fill("input[name=email]", "journey@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Your datasets")


def _upload_and_confirm(page, base: str, path: Path) -> None:
    page.goto(f"{base}/datasets/upload/")
    page.set_input_files("input[type=file]", str(path))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Check how")
    assert page.locator("#preview table").count() == 1
    assert page.locator("#preview th", has_text="TotalCharges").count() == 1
    page.click("text=Looks right: create the dataset")
    page.wait_for_url(re.compile(r".*/datasets/\d+/$"), timeout=120_000)


def _apply_suggestion(page, column: str) -> None:
    page.wait_for_selector(f"#suggestions li:has-text('{column}')", timeout=120_000)
    item = page.locator("#suggestions li", has_text=column)
    assert "number" in item.inner_text().lower()
    item.locator("button", has_text="Apply").click()
    page.wait_for_selector("text=Applied 1 suggestion")


def _explore_against(page, target: str) -> str:
    """Rank every column against the target (computed by the worker) and open two columns' charts; return
    the dataset page's address."""
    dataset_page = page.url
    page.click("main a:has-text('Explore against a target')")
    page.select_option("select[name=target]", target)
    page.click("main button:has-text('Rank the columns')")
    page.wait_for_selector(".exploration-table", timeout=WORKER_TIMEOUT)
    rows = page.locator(".exploration-table tbody tr:not(.exploration-detail)")
    assert rows.count() == 20  # every column but the target
    identifier = page.locator(".exploration-table tbody tr", has_text="customerID").first
    assert identifier.locator(".badge", has_text="identifier-like").count() == 1
    page.wait_for_selector("details[open] [data-chart=explore] svg.main-svg")  # the first opens by itself
    second = page.locator("details[data-plot-index='1']")
    second.locator("summary").click()
    page.wait_for_selector("details[data-plot-index='1'] [data-chart=explore] svg.main-svg")
    summary = second.locator("summary").inner_text()
    assert re.search(r"association: knowing .+ removes \d+% of the uncertainty about Churn", summary), summary
    return dataset_page


def _setup_response(features: int | None = None):
    """Matches the set-up fragment's answer (htmx); with `features`, the one asked for that many features."""
    return lambda r: "/train/setup/" in r.url and (features is None or r.url.count("features=") == features)


def _untick_and_retick_features(page, target: str) -> None:
    """The pre-flight follows the ticked features (htmx) and the boxes keep the user's choice meanwhile."""
    boxes = page.locator("input[name=features]:checked")
    ticked = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert ticked
    for name in ticked:
        page.uncheck(f"input[name=features][value='{name}']")
    page.wait_for_selector("#preflight-checks :text('No feature columns are left')")
    assert page.locator("input[name=features]:checked").count() == 0
    with page.expect_response(_setup_response(features=len(ticked))):
        for name in ticked:
            page.check(f"input[name=features][value='{name}']")
    page.wait_for_selector(f"#preflight-checks :text('Nothing blocks training on “{target}”')")
    assert page.locator("input[name=features]:checked").count() == len(ticked)


def _set_up_training(page, target: str, trials: int) -> None:
    page.click("main a:has-text('Train a model')")
    page.wait_for_selector("text=Pre-flight checks")
    with page.expect_response(_setup_response()):
        page.select_option("select[name=target]", target)
    # The pre-flight part is redrawn for the chosen target (htmx); its verdict names the target.
    page.wait_for_selector(f"text=Nothing blocks training on “{target}”")
    _untick_and_retick_features(page, target)
    assert page.locator("input[name=algorithms]:checked").count() == 0  # none ticked: Auto
    page.fill("input[name=max_trials]", str(trials))


def _start_and_watch_progress(page) -> None:
    """The progress card is swapped in place (htmx): its text changes while the page stays loaded."""
    page.click("main button:has-text('Start training')")
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))
    page.evaluate("window.__samePage = true")
    first = page.inner_text("#run-progress")
    changed = page.wait_for_function(
        "first => { const card = document.querySelector('#run-progress');"
        " return window.__samePage && card && card.innerText !== first && card.innerText; }",
        arg=first,
        timeout=WORKER_TIMEOUT,
    ).json_value()
    assert re.search(rf"Training|exactly {TRIALS} candidates", changed), (first, changed)


def _read_results(page) -> None:
    page.wait_for_selector("#card-heading", timeout=WORKER_TIMEOUT)
    assert f"candidates: exactly {TRIALS} ({TRIALS} tried)" in page.inner_text(".page-head")
    card = page.inner_text("section:has(#card-heading)")
    assert "Churn" in card
    assert len(card.split()) > 30, card
    rows = page.locator("section:has(#leaderboard-heading) tbody tr")
    assert rows.count() >= 2  # at least one model and the baseline
    assert rows.first.locator(".badge", has_text="chosen").count() == 1
    stats = page.locator("section:has(#metrics-heading) .stat")
    assert stats.count() >= 2
    assert re.search(r"\d\.\d{3}", stats.first.inner_text())
    for chart in ("confusion", "roc", "pr", "importance"):
        page.wait_for_selector(f"[data-chart={chart}] svg.main-svg")


def _see_inside_the_model(page) -> None:
    for chart in ("calibration", "gain", "pd-0"):
        page.wait_for_selector(f"[data-chart={chart}] svg.main-svg")
    inside = page.inner_text("section:has(#inside-heading)")
    assert "Its probabilities" in inside or "Read its probabilities with care" in inside, inside
    assert re.search(r"hold \d+% of all “Yes” rows", inside), inside
    assert re.search(r"(tends to (raise|lower)|is (highest|lowest) when|gives the highest|barely moves)", inside)


def _take_away_in_python(page, folder: Path) -> None:
    """Download the script and the version's Parquet from the run page, run the script, and find the chosen
    model's cross-validation mean the leaderboard shows."""
    downloads = {}
    for link in ("Download as Python", "the version's Parquet"):
        with page.expect_download() as download:
            page.click(f'main a:has-text("{link}")')
        path = folder / download.value.suggested_filename
        download.value.save_as(path)
        downloads[link] = path
    script = downloads["Download as Python"]
    assert script.suffix == ".py"
    done = subprocess.run(
        [sys.executable, "-I", script.name, downloads["the version's Parquet"].name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    mean = float(re.search(r"^mean: (\S+)$", done.stdout, re.M).group(1))
    chosen = page.locator("section:has(#leaderboard-heading) tbody tr").first.inner_text()
    assert f"{mean:.3f} ±" in chosen, (done.stdout, chosen)


def _repeat_and_compare(page, base: str) -> None:
    """Repeat the run exactly, then tick both in the runs list and compare them side by side."""
    first = re.search(r"/runs/(\d+)/$", page.url).group(1)
    page.click("main button:has-text('Repeat exactly')")
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))
    second = re.search(r"/runs/(\d+)/$", page.url).group(1)
    assert second != first
    page.wait_for_selector("#card-heading", timeout=WORKER_TIMEOUT)
    page.goto(f"{base}/runs/")
    for run in (first, second):
        page.check(f"input[name=run][value='{run}']")
    page.click("main button:has-text('Compare the ticked runs')")
    page.wait_for_selector("h1:has-text('Compare 2 runs')")
    for chart in ("roc", "pr"):
        page.wait_for_selector(f"[data-chart={chart}] svg.main-svg")
    table = page.inner_text("main table")
    # Exactly repeated: the same scores, so neither is marked better.
    assert "best" not in table, table
    assert page.locator("main button:has-text('Deploy this one')").count() == 2
    page.goto(f"{base}/runs/{first}/")


def _deploy(page) -> int:
    page.click("main button:has-text('Deploy this model')")
    page.wait_for_selector("text=Deployed as")
    match = re.search(r"/models/(\d+)/$", page.url)
    assert match, page.url
    assert "The model in plain words" in page.inner_text("main")
    return int(match.group(1))


def _predict_with_form(page) -> None:
    page.click("main a:has-text('Try a prediction')")
    page.wait_for_selector("form button:has-text('Predict')")
    # Labels are the dataset's own column names, as the user knows them.
    assert page.inner_text("label[for=id_MonthlyCharges]").strip() == "MonthlyCharges"
    page.fill("input[name=tenure]", "2")
    page.fill("input[name=MonthlyCharges]", "95.5")
    page.fill("input[name=TotalCharges]", "191")
    page.fill("input[name=Contract]", "Month-to-month")  # a text box offering the known values (datalist)
    page.click("form button:has-text('Predict')")
    answer = page.wait_for_selector("#answer-heading")
    assert re.fullmatch(r"Prediction: (Yes|No)", answer.inner_text().strip()), answer.inner_text()
    probabilities = page.locator("#predict-result li")
    assert probabilities.count() == 2
    assert sorted(item.split(":")[0] for item in probabilities.all_inner_texts()) == ["No", "Yes"]


def _create_token(page, base: str) -> str:
    page.goto(f"{base}/accounts/profile/")
    page.fill("input[name=name]", "journey script")
    page.click("main button:has-text('Create token')")
    page.wait_for_selector("text=it will not be shown again")
    token = page.inner_text("#new-token").strip()
    assert len(token) >= 20
    return token


def _raw_rows(path: Path, count: int) -> list[dict]:
    """Rows of the original file without the target, as a user would send them: the first ones and, last,
    one whose TotalCharges is the blank the cleaning step turned into a missing value."""
    with path.open(newline="") as source:
        rows = list(csv.DictReader(source))
    blank = next(row for row in rows if not row["TotalCharges"].strip())
    return [{key: value for key, value in row.items() if key != "Churn"} for row in [*rows[: count - 1], blank]]


def _call_api(base: str, model_id: int, token: str | None) -> tuple[int, dict]:
    record = _raw_rows(SHARED_DATASETS / "telco_customer_churn.csv", 2)[0]
    record.update({name: float(record[name]) for name in ("SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges")})
    # The live server's own http URL, built here: no user-supplied scheme reaches urlopen.
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/models/{model_id}/predict",
        data=json.dumps({"records": [record]}).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _write_csv(rows: list[dict], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _batch_predict(page, base: str, model_id: int, upload: Path) -> list[dict]:
    page.goto(f"{base}/models/{model_id}/")
    page.set_input_files("#batch-heading ~ form input[type=file]", str(upload))
    page.click("main button:has-text('Predict the file')")
    page.wait_for_url(re.compile(r".*/batches/\d+/$"))
    link = page.wait_for_selector("a:has-text('Download the predictions')", timeout=WORKER_TIMEOUT)
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_new_user_journey(live_server, worker_process, steps, tmp_path):
    base = live_server.url
    page = steps.page

    with steps.step("sign up"):
        _sign_up(page, base)
    with steps.step("upload a messy file through the confirm-parse step"):
        _upload_and_confirm(page, base, SHARED_DATASETS / "telco_customer_churn.csv")
        assert "7043 rows" in page.inner_text("main")
    with steps.step("apply the suggested fix"):
        _apply_suggestion(page, "TotalCharges")
        assert "Version 2" in page.inner_text("main")
    with steps.step("undo it"):
        page.locator(".versions li", has_text="v1").locator("button", has_text="make current").click()
        page.wait_for_selector("text=Version 1 is current again")
        assert "Version 1 ·" in page.inner_text("main")
    with steps.step("redo it"):
        page.locator(".versions li", has_text="v2").locator("button", has_text="make current").click()
        page.wait_for_selector("text=Version 2 is current again")
    with steps.step("explore the columns against the target"):
        dataset_page = _explore_against(page, "Churn")
    with steps.step("set up training in Auto mode"):
        page.goto(dataset_page)
        _set_up_training(page, "Churn", trials=TRIALS)
    with steps.step("start training and watch the progress"):
        _start_and_watch_progress(page)
    with steps.step("read the results"):
        _read_results(page)
    with steps.step("see inside the model"):
        _see_inside_the_model(page)
    with steps.step("take the model away as a Python script"):
        _take_away_in_python(page, tmp_path)
    with steps.step("repeat the run exactly and compare the two"):
        _repeat_and_compare(page, base)
    with steps.step("deploy"):
        model_id = _deploy(page)
    with steps.step("predict through the form"):
        _predict_with_form(page)
    with steps.step("create an API token"):
        token = _create_token(page, base)
    with steps.step("call the API with the token"):
        status, body = _call_api(base, model_id, token)
        assert status == 200, body
        assert len(body["predictions"]) == 1, body
        assert body["predictions"][0] in {"Yes", "No"}, body
        assert set(body["probabilities"][0]) == {"Yes", "No"}, body
        status, body = _call_api(base, model_id, None)
        assert status == 401, body
        page.goto(f"{base}/accounts/profile/")
        used = page.locator("tr", has_text="journey script").locator("td").nth(3).inner_text()
        assert used.strip() not in {"", "Never"}, used
    with steps.step("run a batch prediction and download it"):
        raw = _raw_rows(SHARED_DATASETS / "telco_customer_churn.csv", BATCH_ROWS)
        rows = _batch_predict(page, base, model_id, _write_csv(raw, tmp_path / "new_customers.csv"))
        assert len(rows) == BATCH_ROWS
        assert [row["customerID"] for row in rows] == [row["customerID"] for row in raw]
        assert "prediction" in rows[0]
        assert {row["prediction"] for row in rows} <= {"Yes", "No"}
    with steps.step("log out"):
        page.click("header button:has-text('Log out')")
        page.wait_for_selector("text=Log in")
        page.goto(f"{base}/datasets/")
        assert "/accounts/login/" in page.url
