"""Reads on accounts; every token reached by id goes through an ownership gate here."""

from django.db.models import QuerySet
from django.http import Http404

from users.models import ApiToken, User


def user_email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another account uses this address, ignoring case as the database constraint does."""
    users = User.objects.filter(email__iexact=email)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def user_username_taken(*, username: str) -> bool:
    # Usernames differing only in case would be confusable at login, so treat them as taken.
    return User.objects.filter(username__iexact=username).exists()


def api_token_name_taken(*, user: User, name: str) -> bool:
    return ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included so the history stays visible."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken:
    """Return the user's token; another user's token is indistinguishable from a missing one."""
    try:
        return api_token_list(user=user).get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such API token.") from None
