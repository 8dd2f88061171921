"""Security hardening: CSP without inline scripts, log-in throttling, deploy checks, client addresses."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD
from users.client_ip import client_ip

ROOT = Path(__file__).resolve().parent.parent


def test_pages_send_a_strict_content_security_policy(client):
    response = client.get(reverse("users:login"))

    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert script_src.strip() == "'self'"
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_scripts():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
    assert offenders == []


def _main(response) -> str:
    return re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)


def _login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("users:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_login_is_paused_after_repeated_failures_for_that_user_and_address(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _login(client, user.username, "wrong-password").status_code == 200
    assert _login(client, user.username, "wrong-password").status_code == 429

    locked = _login(client, user.username, DEFAULT_PASSWORD)
    elsewhere = _login(client, user.username, DEFAULT_PASSWORD, address="10.0.0.2")

    assert locked.status_code == 429
    assert b"Too many attempts" in locked.content
    assert elsewhere.status_code == 302


@pytest.mark.django_db
def test_lockout_does_not_reveal_whether_the_user_exists(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    pages = {}
    for name in (user.username, "nobody-by-this-name"):
        for _ in range(2):
            _login(client, name, "wrong-password")
        pages[name] = _login(client, name, "wrong-password")

    first, second = pages.values()
    assert first.status_code == second.status_code == 429
    assert _main(first) == _main(second)


@pytest.mark.django_db
def test_admin_login_is_throttled_too(client, staff_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    url = reverse("admin:login")
    for _ in range(2):
        client.post(url, {"username": staff_user.username, "password": "nope"}, REMOTE_ADDR="10.0.0.9")

    response = client.post(url, {"username": staff_user.username, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 429


def test_client_ip_trusts_only_our_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")

    settings.TRUSTED_PROXY_COUNT = 0
    direct = client_ip(request)
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = client_ip(request)

    assert direct == "172.18.0.5"
    assert proxied == "203.0.113.7"


def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "csv.example.com",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_HSTS_PRELOAD": "true",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_refuse_a_wildcard_host_outside_debug(tmp_path):
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "*"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "must not contain '*'" in result.stderr
