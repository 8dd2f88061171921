import pytest
from django.urls import reverse

from tests.factories import UserFactory

PROFILE_URL = reverse("users:profile")


@pytest.mark.django_db
def test_profile_requires_login(client):
    response = client.get(PROFILE_URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('users:login')}?next={PROFILE_URL}"


@pytest.mark.django_db
def test_profile_shows_account_details_and_links(user_client, user):
    response = user_client.get(PROFILE_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert user.username in html
    assert f'value="{user.email}"' in html
    assert reverse("users:password-change") in html
    assert "Personal API tokens" in html


@pytest.mark.django_db
def test_profile_updates_email(user_client, user):
    response = user_client.post(PROFILE_URL, {"email": "New.Address@Example.COM"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "New.Address@example.com"


@pytest.mark.parametrize(
    ("email", "message"),
    [("Other@Example.com", "A user with that email address already exists."), ("nope", "Enter a valid email address.")],
)
@pytest.mark.django_db
def test_profile_rejects_taken_or_invalid_email(user_client, user, email, message):
    UserFactory(email="other@example.com")
    original = user.email

    response = user_client.post(PROFILE_URL, {"email": email})

    assert response.status_code == 200
    assert message in response.context["profile_form"].errors["email"]
    user.refresh_from_db()
    assert user.email == original


@pytest.mark.django_db
def test_profile_keeps_own_email_in_other_case(user_client, user):
    """Changing only the case of one's own address is not a clash with oneself."""
    local_part = user.email.split("@")[0].upper()

    response = user_client.post(PROFILE_URL, {"email": f"{local_part}@example.com"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == f"{local_part}@example.com"
