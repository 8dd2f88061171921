from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import UserFactory
from users.services import session_cleanup, user_create
from users.tasks import session_cleanup_task


def _session(*, expires_in: timedelta) -> str:
    store = SessionStore()
    store["marker"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


@pytest.mark.django_db
def test_session_cleanup_deletes_expired_and_keeps_live_sessions():
    expired = [_session(expires_in=timedelta(minutes=-5)) for _ in range(2)]
    live = _session(expires_in=timedelta(days=1))

    removed = session_cleanup()

    assert removed == 2
    assert not Session.objects.filter(session_key__in=expired).exists()
    assert Session.objects.filter(session_key=live).exists()


@pytest.mark.django_db
def test_session_cleanup_task_runs_the_service():
    _session(expires_in=timedelta(minutes=-5))

    assert session_cleanup_task.name == "session_cleanup_task"
    assert session_cleanup_task.call() == 1
    assert not Session.objects.exists()


@pytest.mark.django_db
def test_user_create_normalises_email_domain():
    user = user_create(username="ada", email="Ada@Example.COM", password="Lovelace-Engine-1843")

    assert user.email == "Ada@example.com"
    assert user.check_password("Lovelace-Engine-1843")


@pytest.mark.django_db
def test_user_create_maps_integrity_error_to_field_error(monkeypatch):
    """Simulate the race: the pre-check saw nothing, the unique index still refuses the insert."""
    UserFactory(username="first", email="race@example.com")
    monkeypatch.setattr("users.services._check_user_unique", lambda **kwargs: None)

    with pytest.raises(ValidationError) as excinfo:
        user_create(username="second", email="RACE@example.com", password="Lovelace-Engine-1843")

    assert "email" in excinfo.value.message_dict


@pytest.mark.django_db
def test_user_create_maps_username_race_to_username_error(monkeypatch):
    UserFactory(username="first", email="first@example.com")
    monkeypatch.setattr("users.services._check_user_unique", lambda **kwargs: None)

    with pytest.raises(ValidationError) as excinfo:
        user_create(username="first", email="other@example.com", password="Lovelace-Engine-1843")

    assert list(excinfo.value.message_dict) == ["username"]
