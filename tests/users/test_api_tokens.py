import hashlib
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from users.models import ApiToken
from users.selectors import api_token_get_for_user, api_token_list
from users.services import api_token_authenticate, api_token_create, api_token_revoke

CREATE_URL = reverse("users:api-token-create")


@pytest.mark.django_db
def test_api_token_create_stores_only_the_hash(user):
    token, raw = api_token_create(user=user, name="  ci  ")

    assert raw.startswith("csva_")
    assert len(raw) > 40
    assert token.name == "ci"
    assert token.prefix == raw[:8]
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.key_hash != raw
    assert not ApiToken.objects.filter(key_hash=raw).exists()


@pytest.mark.django_db
def test_api_token_create_rejects_duplicate_active_name_but_allows_after_revoke(user, other_user):
    first, _ = api_token_create(user=user, name="ci")

    with pytest.raises(ValidationError) as excinfo:
        api_token_create(user=user, name="ci")
    assert "You already have an active token with that name." in excinfo.value.message_dict["name"]

    api_token_create(user=other_user, name="ci")  # names are per user
    api_token_revoke(user=user, token_id=first.pk)
    second, _ = api_token_create(user=user, name="ci")
    assert second.pk != first.pk


@pytest.mark.parametrize("name", ["   ", "x" * 101])
@pytest.mark.django_db
def test_api_token_create_rejects_blank_or_long_name(user, name):
    with pytest.raises(ValidationError) as excinfo:
        api_token_create(user=user, name=name)

    assert "name" in excinfo.value.message_dict
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_api_token_create_turns_constraint_race_into_validation_error(user, monkeypatch):
    api_token_create(user=user, name="ci")
    monkeypatch.setattr("users.services.api_token_name_taken", lambda **kwargs: False)

    with pytest.raises(ValidationError) as excinfo:
        api_token_create(user=user, name="ci")

    assert "name" in excinfo.value.message_dict
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_api_token_authenticate_returns_owner_and_throttles_last_used(api_token, user, django_assert_num_queries):
    token, raw = api_token

    assert api_token_authenticate(raw_token=raw) == user
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    with django_assert_num_queries(1):  # the lookup only: no UPDATE within the minute
        assert api_token_authenticate(raw_token=raw) == user
    token.refresh_from_db()
    assert token.last_used_at == first_use  # within a minute: no second write

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    api_token_authenticate(raw_token=raw)
    token.refresh_from_db()
    assert token.last_used_at > first_use - timedelta(minutes=2)


@pytest.mark.django_db
def test_api_token_authenticate_rejects_unknown_revoked_and_inactive(api_token, user):
    token, raw = api_token
    assert api_token_authenticate(raw_token="csva_unknown") is None

    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_token_authenticate(raw_token=raw) is None

    user.is_active = True
    user.save(update_fields=["is_active"])
    api_token_revoke(user=user, token_id=token.pk)
    assert api_token_authenticate(raw_token=raw) is None


@pytest.mark.django_db
def test_api_token_revoke_is_idempotent(api_token, user):
    token, _ = api_token
    first = api_token_revoke(user=user, token_id=token.pk).revoked_at

    again = api_token_revoke(user=user, token_id=token.pk)

    assert first is not None
    assert again.revoked_at == first


@pytest.mark.django_db
def test_api_token_selectors_scope_to_owner(api_token, user, other_user):
    token, _ = api_token

    assert list(api_token_list(user=user)) == [token]
    assert list(api_token_list(user=other_user)) == []
    with pytest.raises(Http404):
        api_token_get_for_user(user=other_user, token_id=token.pk)
    with pytest.raises(Http404):
        api_token_revoke(user=other_user, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_token_create_page_shows_token_once(user_client, user, caplog):
    caplog.set_level(logging.DEBUG)

    response = user_client.post(CREATE_URL, {"name": "notebook"})

    assert response.status_code == 200
    raw = response.context["raw_token"]
    html = response.content.decode()
    assert raw in html
    assert 'data-copy-target="new-token"' in html
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in caplog.text
    assert all(raw not in str(value) for value in user_client.session.values())

    profile = user_client.get(reverse("users:profile")).content.decode()
    assert "notebook" in profile
    assert token.prefix in profile
    assert raw not in profile


@pytest.mark.django_db
def test_token_create_resubmission_is_rejected_not_duplicated(user_client, user):
    user_client.post(CREATE_URL, {"name": "notebook"})

    response = user_client.post(CREATE_URL, {"name": "notebook"})

    assert response.status_code == 200
    assert "You already have an active token with that name." in response.content.decode()
    assert "raw_token" not in response.context
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(("name", "error"), [("", "This field is required."), ("x" * 101, "at most 100 characters")])
@pytest.mark.django_db
def test_token_create_validates_name(user_client, user, name, error):
    response = user_client.post(CREATE_URL, {"name": name})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_token_revoke_asks_for_confirmation_then_revokes_on_post(user_client, api_token):
    token, _ = api_token
    url = reverse("users:api-token-revoke", args=[token.pk])

    confirm = user_client.get(url)
    token.refresh_from_db()
    assert confirm.status_code == 200
    assert token.revoked_at is None
    assert "Revoke token" in confirm.content.decode()

    response = user_client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("users:profile")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in user_client.get(reverse("users:profile")).content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.django_db
def test_token_revoke_of_another_users_token_is_404(client, other_user, api_token, method):
    token, _ = api_token
    client.force_login(other_user)

    response = getattr(client, method)(reverse("users:api-token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_token_pages_require_login(client, api_token):
    token, _ = api_token

    for url in (CREATE_URL, reverse("users:api-token-revoke", args=[token.pk])):
        response = client.post(url, {"name": "sneaky"})
        assert response.status_code == 302
        assert response.url.startswith(reverse("users:login"))
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1
    assert timezone.now() >= token.created_at
