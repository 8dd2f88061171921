"""DRF authentication with personal API tokens: `Authorization: Token <value>`."""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from users.models import User
from users.services import api_token_authenticate

KEYWORD = "Token"


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, None] | None:
        parts = get_authorization_header(request).split()
        # Another scheme (or none) is not ours: let the next authentication class try.
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid token header: expected 'Token <value>'.")
        try:
            raw_token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token header: the token must be ASCII.") from None
        user = api_token_authenticate(raw_token=raw_token)
        # One message for unknown, revoked and inactive so the answer reveals nothing about the token.
        if user is None:
            raise AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 rather than 403 to unauthenticated calls.
        return KEYWORD
