"""Every write on accounts goes through one of these functions."""

import logging
import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from users.models import ApiToken, User
from users.selectors import api_token_get_for_user, api_token_name_taken, user_email_taken, user_username_taken

logger = logging.getLogger(__name__)

# A recognisable marker so leaked tokens are easy to spot (e.g. by secret scanners); not a secret.
TOKEN_PREFIX = "csva_"  # noqa: S105
# Recording every use would turn each API read into a write; a minute is precise enough for humans.
LAST_USED_RESOLUTION = timedelta(minutes=1)

DUPLICATE_USERNAME = "A user with that username already exists."
DUPLICATE_EMAIL = "A user with that email address already exists."
DUPLICATE_TOKEN_NAME = "You already have an active token with that name."  # noqa: S105 - a message


def session_cleanup() -> int:
    """Delete expired sessions; return how many were removed."""
    engine = import_module(settings.SESSION_ENGINE)
    before = Session.objects.filter(expire_date__lt=timezone.now()).count()
    engine.SessionStore.clear_expired()
    logger.info("session cleanup removed %d expired sessions", before)
    return before


def _check_user_unique(*, username: str, email: str) -> None:
    errors: dict[str, str] = {}
    if user_username_taken(username=username):
        errors["username"] = DUPLICATE_USERNAME
    if user_email_taken(email=email):
        errors["email"] = DUPLICATE_EMAIL
    if errors:
        raise ValidationError(errors)


def user_create(*, username: str, email: str, password: str) -> User:
    """Create an account; duplicates (even racing ones) become a ValidationError keyed by field."""
    email = User.objects.normalize_email(email)
    _check_user_unique(username=username, email=email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        # Another sign-up won the race between the check above and the insert; say which field clashed.
        if user_email_taken(email=email):
            raise ValidationError({"email": DUPLICATE_EMAIL}) from None
        raise ValidationError({"username": DUPLICATE_USERNAME}) from None
    logger.info("user created user_id=%s", user.pk)
    return user


def user_update(*, user: User, email: str) -> User:
    """Change the profile fields a user may edit themselves."""
    email = User.objects.normalize_email(email)
    if user_email_taken(email=email, exclude_user_id=user.pk):
        raise ValidationError({"email": DUPLICATE_EMAIL})
    user.email = email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        raise ValidationError({"email": DUPLICATE_EMAIL}) from None
    logger.info("user updated user_id=%s fields=email", user.pk)
    return user


def _generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is never stored and cannot be shown again."""
    name = name.strip()
    max_length = ApiToken.NAME_MAX_LENGTH
    if not name or len(name) > max_length:
        # Callers other than the form (shell, future API) must not reach the database with a bad name.
        raise ValidationError({"name": f"Give the token a name of 1 to {max_length} characters."})
    if api_token_name_taken(user=user, name=name):
        raise ValidationError({"name": DUPLICATE_TOKEN_NAME})
    raw_token = _generate_token()
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=raw_token[: ApiToken.PREFIX_LENGTH],
                key_hash=ApiToken.hash_key(raw_token),
            )
    except IntegrityError:
        # The same name was created concurrently (e.g. a double-submitted form).
        raise ValidationError({"name": DUPLICATE_TOKEN_NAME}) from None
    logger.info("api token created token_id=%s user_id=%s", token.pk, user.pk)
    return token, raw_token


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens; revoking twice keeps the first revocation time."""
    token = api_token_get_for_user(user=user, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        logger.info("api token revoked token_id=%s user_id=%s", token.pk, user.pk)
    return token


def api_token_authenticate(*, raw_token: str) -> User | None:
    """Return the active user owning this active token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(raw_token), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    _touch_last_used(token)
    return token.user


def api_token_touch(*, token_id: int) -> None:
    """Record that the token was used now, unless that was recorded in the last LAST_USED_RESOLUTION
    (for callers that looked the token up themselves)."""
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token_id).update(last_used_at=now)


def _touch_last_used(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # A filtered UPDATE keeps concurrent requests from each writing within the same minute.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
