import pytest

from users.services import api_token_create


@pytest.fixture
def api_token(user):
    """An active token of `user` and its raw value (only the service ever knows the value)."""
    return api_token_create(user=user, name="laptop")
