import pytest
from django.urls import reverse

from users.models import ApiToken
from users.services import api_token_revoke

ME_URL = reverse("users_api:me")


def _auth(value: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": value}


@pytest.mark.django_db
def test_me_with_valid_token_returns_owner_and_records_use(client, api_token, user, other_user):
    token, raw = api_token

    response = client.get(ME_URL, **_auth(f"Token {raw}"))

    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "username": user.username, "email": user.email}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_me_with_revoked_token_is_401(client, api_token, user):
    token, raw = api_token
    api_token_revoke(user=user, token_id=token.pk)

    response = client.get(ME_URL, **_auth(f"Token {raw}"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid or revoked token."}


@pytest.mark.django_db
def test_me_with_token_of_inactive_user_is_401(client, api_token, user):
    _, raw = api_token
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.get(ME_URL, **_auth(f"Token {raw}"))

    assert response.status_code == 401


@pytest.mark.django_db
def test_me_with_unknown_token_is_401(client, api_token):
    response = client.get(ME_URL, **_auth("Token csva_not-a-real-token"))

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."
    assert ApiToken.objects.get().last_used_at is None


@pytest.mark.parametrize("header", ["Token", "Token a b", "token  "])
@pytest.mark.django_db
def test_me_with_malformed_header_is_401(client, header):
    response = client.get(ME_URL, **_auth(header))

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token header")


@pytest.mark.django_db
def test_me_without_credentials_is_401_json_not_login_redirect(client):
    response = client.get(ME_URL)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.django_db
def test_me_with_other_scheme_falls_through_to_401(client):
    response = client.get(ME_URL, **_auth("Bearer something"))

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.django_db
def test_me_with_session_works_for_browser(user_client, user):
    response = user_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["username"] == user.username
