"""Security hardening: CSP without inline scripts, log-in throttling, deploy checks, client addresses."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessLog
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import RequestFactory, override_settings
from django.urls import reverse

from tests.conftest import _database_url
from tests.factories import DEFAULT_PASSWORD, UserFactory
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


def _production_env(database_url: str) -> dict[str, str]:
    """The environment production runs with behind TLS (docs/operations.md), and nothing the shell set."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CSVA_"))}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "csv_analyzer.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "csv.example.com",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_HSTS_PRELOAD": "true",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": database_url,
    }


@pytest.mark.slow
def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = _production_env(f"sqlite:///{tmp_path / 'check.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# Logs in through the real login view and middleware, with settings built from the production environment
# at import, as a request through the TLS proxy (X-Forwarded-Proto: https) would; prints what it answered.
PRODUCTION_LOGIN = """
import json, re, sys
import django
django.setup()
from django.test import Client

login_url, username, password = sys.argv[1:4]
origin = "https://csv.example.com"
client = Client(enforce_csrf_checks=True, headers={"Host": "csv.example.com"})
tls = {"X-Forwarded-Proto": "https"}

def answer(response):
    cookies = {name: morsel.output(header="").strip() for name, morsel in response.cookies.items()}
    return {"status": response.status_code, "headers": dict(response.items()), "cookies": cookies}

plain = client.get(login_url)
page = client.get(login_url, headers=tls)
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
login = client.post(
    login_url,
    {"username": username, "password": password, "csrfmiddlewaretoken": token},
    headers={**tls, "Origin": origin, "Referer": origin + login_url},
)
print(json.dumps({"plain": answer(plain), "page": answer(page), "login": answer(login)}))
"""


@pytest.fixture(scope="module")
def production_login(django_db_setup, django_db_blocker):
    """The answers of the production settings to a plain-HTTP visit, the log-in page and a log-in over TLS.

    One child process for the module (it takes seconds). Its user, session and access log are deleted before
    any test runs. The tests using it carry the django_db mark: without one, pytest-django sets up no test
    database for the session.
    """
    # The child checks the password with production's hashers, which do not read the tests' MD5 hashes.
    hashers = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
    with django_db_blocker.unblock(), hashers:
        user = UserFactory()
        sessions_before = list(Session.objects.values_list("session_key", flat=True))
        try:
            result = subprocess.run(
                [sys.executable, "-c", PRODUCTION_LOGIN, reverse("users:login"), user.username, DEFAULT_PASSWORD],
                cwd=ROOT,
                env=_production_env(_database_url(connection.settings_dict)),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            Session.objects.exclude(session_key__in=sessions_before).delete()
            AccessLog.objects.filter(username=user.username).delete()
            user.delete()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cookie_attributes(set_cookie: str) -> dict[str, str]:
    """The attributes of one Set-Cookie value by lower-cased name, e.g. {"secure": "", "samesite": "Lax"}."""
    attributes = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


@pytest.mark.django_db
def test_production_cookies_are_secure_httponly_and_samesite(production_login):
    page, login = production_login["page"], production_login["login"]

    assert login["status"] == 302, "the log-in was refused"
    # The log-in page sets the CSRF cookie; the log-in sets the session cookie and rotates the CSRF one.
    for name, answer in (("csrftoken", page), ("sessionid", login), ("csrftoken", login)):
        attributes = _cookie_attributes(answer["cookies"][name])
        assert "secure" in attributes, answer["cookies"][name]
        assert "httponly" in attributes, answer["cookies"][name]
        assert attributes.get("samesite") == "Lax", answer["cookies"][name]


@pytest.mark.django_db
def test_production_sends_hsts_csp_and_frame_protection_over_tls(production_login):
    for answer in (production_login["page"], production_login["login"]):
        headers = answer["headers"]
        policy = dict(item.strip().partition(" ")[::2] for item in headers["Content-Security-Policy"].split(";"))

        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert policy["script-src"] == "'self'", "scripts only from our static files: no 'unsafe-inline'"
        assert policy["frame-ancestors"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_production_redirects_plain_http_to_https(production_login):
    plain = production_login["plain"]

    assert plain["status"] == 301
    assert plain["headers"]["Location"] == f"https://csv.example.com{reverse('users:login')}"
    assert plain["cookies"] == {}


def test_settings_refuse_a_wildcard_host_outside_debug(tmp_path):
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "*"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "must not contain '*'" in result.stderr
