"""api_token_parse, the one reader of an API token from an Authorization header."""

import base64

import pytest
from rest_framework.exceptions import AuthenticationFailed

from users.authentication import api_token_parse


def _basic(user_pass: str) -> bytes:
    return b"Basic " + base64.b64encode(user_pass.encode())


@pytest.mark.parametrize(
    ("header", "basic", "expected"),
    [
        (b"", False, None),
        (b"Token abc123", False, "abc123"),
        (b"token abc123", True, "abc123"),
        (b"Bearer abc123", True, None),
        (_basic("me:abc123"), True, "abc123"),
        (_basic("me:abc123"), False, None),
        (b"Basic", True, None),
    ],
)
def test_api_token_parse_reads_token_and_basic_headers(header, basic, expected):
    assert api_token_parse(header, basic=basic) == expected


def test_api_token_parse_can_refuse_the_token_scheme():
    assert api_token_parse(b"Token abc123", token=False, basic=True) is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"Token", "expected 'Token <value>'"),
        (b"Token a b", "expected 'Token <value>'"),
        ("Token caf\u00e9".encode("latin-1"), "must be ASCII"),
        (b"Basic !!!not-base64", "Invalid basic credentials"),
        (_basic("me:"), "Invalid or revoked token"),
    ],
)
def test_api_token_parse_refuses_malformed_headers_with_a_reason(header, message):
    with pytest.raises(AuthenticationFailed) as caught:
        api_token_parse(header, basic=True)
    assert message in str(caught.value.detail)
