import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD

User = get_user_model()
GENERIC_LOGIN_ERROR = "Please enter a correct username and password."
NEW_PASSWORD = "Fresh-Meadow-Lantern-7"


@pytest.mark.django_db
def test_login_with_valid_credentials_redirects_home(client, user):
    response = client.post(reverse("users:login"), {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("csv_processor:home")
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("username", ["existing", "nobody"])
@pytest.mark.django_db
def test_login_failure_shows_same_generic_message(client, user, username):
    """A wrong password and an unknown user read the same, so the page reveals no accounts."""
    login_name = user.username if username == "existing" else "nobody"

    response = client.post(reverse("users:login"), {"username": login_name, "password": "wrong-password"})

    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_rejects_inactive_user_with_generic_message(client, user):
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.post(reverse("users:login"), {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()


@pytest.mark.django_db
def test_login_page_redirects_signed_in_user_home(user_client):
    response = user_client.get(reverse("users:login"))

    assert response.status_code == 302
    assert response.url == reverse("csv_processor:home")


@pytest.mark.django_db
def test_logout_by_post_ends_session(user_client):
    response = user_client.post(reverse("users:logout"))

    assert response.status_code == 302
    assert response.url == reverse("users:login")
    assert "_auth_user_id" not in user_client.session


@pytest.mark.django_db
def test_logout_by_get_is_refused(user_client):
    response = user_client.get(reverse("users:logout"))

    assert response.status_code == 405
    assert "_auth_user_id" in user_client.session


@pytest.mark.django_db
def test_password_change_sets_new_password_and_keeps_session(user_client, user):
    response = user_client.post(
        reverse("users:password-change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("users:password-change-done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user_client.get(reverse("users:password-change-done")).status_code == 200


@pytest.mark.django_db
def test_password_change_rejects_wrong_old_password(user_client, user):
    response = user_client.post(
        reverse("users:password-change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_password_change_requires_login(client):
    response = client.get(reverse("users:password-change"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("users:login"))


def _reset_link(message_body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message_body)
    assert match, message_body
    return match.group(1)


@pytest.mark.django_db
def test_password_reset_emails_a_working_link(client, user):
    response = client.post(reverse("users:password-reset"), {"email": user.email.upper()})

    assert response.status_code == 302
    assert response.url == reverse("users:password-reset-done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    link = _reset_link(mail.outbox[0].body)

    # The confirm view swaps the token for a session marker and redirects to the "set-password" URL.
    confirm = client.get(link, follow=True)
    assert confirm.context["validlink"] is True
    set_password_url = confirm.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done.url == reverse("users:password-reset-complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # A used link stops working.
    assert client.get(link, follow=True).context["validlink"] is False


def _without_csrf(content: bytes) -> str:
    # The masked CSRF token differs on every response; everything else must match byte for byte.
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", content.decode())


@pytest.mark.django_db
def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(client, user):
    known = client.post(reverse("users:password-reset"), {"email": user.email}, follow=True)
    mail.outbox.clear()

    unknown = client.post(reverse("users:password-reset"), {"email": "nobody@example.com"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain
    assert _without_csrf(unknown.content) == _without_csrf(known.content)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("url_name", "template"),
    [
        ("users:login", "registration/login.html"),
        ("users:signup", "users/signup.html"),
        ("users:password-reset", "registration/password_reset_form.html"),
        ("users:password-reset-done", "registration/password_reset_done.html"),
        ("users:password-reset-complete", "registration/password_reset_complete.html"),
    ],
)
@pytest.mark.django_db
def test_public_account_pages_open_to_anonymous(client, url_name, template):
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert template in [t.name for t in response.templates]
