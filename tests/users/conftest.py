import pytest

from users.services import api_token_create


@pytest.fixture
def api_token(user):
    """An active token of `user` and its raw value (only the service ever knows the value)."""
    return api_token_create(user=user, name="laptop")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 makes each login or sign-up take ~0.3 s; the hash algorithm is not what these tests check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
