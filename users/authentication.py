"""DRF authentication with personal API tokens: `Authorization: Token <value>`.

`api_token_parse` is the one reader of a token from an Authorization header: this class, the REST
API's Basic variant (csv_processor/api/http.py) and the fast prediction dispatch all call it.
"""

import base64
import binascii

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from users.models import User
from users.services import api_token_authenticate

KEYWORD = "Token"


class AuthenticatedHttpRequest(HttpRequest):
    """The request an HTML view receives: LoginRequiredMiddleware lets through only signed-in users to every
    view not marked `login_not_required`, so its user is a User, never AnonymousUser. For annotations only."""

    user: User


class AuthenticatedRequest(Request):
    """The request a REST API view receives: its IsAuthenticated permission (the default) lets through
    only a signed-in user. For annotations only."""

    user: User


def api_token_parse(header: bytes, *, token: bool = True, basic: bool = False) -> str | None:
    """The raw API token of `Token <value>` (with `token`) or of Basic auth with the token as the password
    (with `basic`); None when the header is absent or of another scheme, so another method may try.
    A malformed header of an accepted scheme raises AuthenticationFailed."""
    parts = header.split()
    if not parts:
        return None
    scheme = parts[0].lower()
    if token and scheme == KEYWORD.lower().encode():
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header: expected 'Token <value>'.")
        try:
            return parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token header: the token must be ASCII.") from None
    if basic and scheme == b"basic" and len(parts) == 2:
        try:
            _, _, raw_token = base64.b64decode(parts[1], validate=True).decode("ascii").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Invalid basic credentials.") from None
        if not raw_token:
            raise AuthenticationFailed("Invalid or revoked token.")
        return raw_token
    return None


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, None] | None:
        raw_token = api_token_parse(get_authorization_header(request))
        # Another scheme (or none) is not ours: let the next authentication class try.
        if raw_token is None:
            return None
        user = api_token_authenticate(raw_token=raw_token)
        # One message for unknown, revoked and inactive so the answer reveals nothing about the token.
        if user is None:
            raise AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 rather than 403 to unauthenticated calls.
        return KEYWORD
