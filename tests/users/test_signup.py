import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

User = get_user_model()
STRONG_PASSWORD = "Tr1cky-Sunflower-88"
SIGNUP_URL = reverse("users:signup")


def _data(**overrides):
    data = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    return {**data, **overrides}


@pytest.mark.django_db
def test_signup_creates_user_logs_in_and_redirects_home(client):
    response = client.post(SIGNUP_URL, _data())

    assert response.status_code == 302
    assert response.url == reverse("csv_processor:home")
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.com"
    assert user.check_password(STRONG_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_signup_page_renders_accessible_form(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_email"' in html
    assert 'autocomplete="email"' in html
    assert 'autocomplete="new-password"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "taken"}, "username", "A user with that username already exists."),
        ({"username": "TAKEN"}, "username", "A user with that username already exists."),
        ({"email": "Taken@Example.COM"}, "email", "A user with that email address already exists."),
        ({"password1": "password", "password2": "password"}, "password2", "This password is too common."),
        ({"password1": "12345678901", "password2": "12345678901"}, "password2", "This password is entirely numeric."),
        ({"password2": STRONG_PASSWORD + "x"}, "password2", "The two password fields didn\u2019t match."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
    ],
    ids=[
        "dup-username",
        "dup-username-case",
        "dup-email-case",
        "common",
        "numeric",
        "mismatch",
        "bad-email",
        "no-email",
    ],
)
@pytest.mark.django_db
def test_signup_rejects_invalid_input_with_form_error(client, overrides, field, message):
    UserFactory(username="taken", email="taken@example.com")

    response = client.post(SIGNUP_URL, _data(**overrides))

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signup_redirects_signed_in_user_home(user_client):
    response = user_client.get(SIGNUP_URL)

    assert response.status_code == 302
    assert response.url == reverse("csv_processor:home")


@pytest.mark.django_db
def test_signup_turns_database_race_into_form_error(client, monkeypatch):
    """The pre-check passes (another sign-up has not committed yet) but the DB constraint fires."""
    UserFactory(username="first", email="race@example.com")
    monkeypatch.setattr("users.services._check_user_unique", lambda **kwargs: None)
    monkeypatch.setattr("django.db.models.Model.validate_constraints", lambda self, exclude=None: None)

    response = client.post(SIGNUP_URL, _data(email="RACE@example.com"))

    assert response.status_code == 200
    assert "A user with that email address already exists." in response.context["form"].errors["email"]
    assert User.objects.count() == 1
