"""The whole journey a new user takes, in a real browser, against a live server and a real worker."""

import re
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
PASSWORD = "Journey-Password-2026"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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


def test_new_user_journey(live_server, worker_process, steps):
    base = live_server.url
    page = steps.page

    with steps.step("sign up"):
        _sign_up(page, base)
    with steps.step("upload a messy file through the confirm-parse step"):
        _upload_and_confirm(page, base, SHARED / "telco_customer_churn.csv")
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
    with steps.step("log out"):
        page.click("header button:has-text('Log out')")
        page.wait_for_selector("text=Log in")
        page.goto(f"{base}/datasets/")
        assert "/accounts/login/" in page.url
