"""Who calls a prediction endpoint and which of their models they mean, in one fixed SQL statement.

Compiling the equivalent ORM queries (token, user, model, active version, model file) costs more than
a small model's prediction, so the hot path runs one prepared statement: by API token (the token's
user, then their model) or, for the browser session, by the already known user. Another user's model
and an unknown one look the same: no row, a 404. The model comes back as a small read-only
`ServingTarget` rather than model instances, which would cost more to build than the query.
"""

import time
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404

from csv_processor.models import DeployedModel, ModelVersion, TrainedModel
from csv_processor.process_cache import LruCache
from users.models import ApiToken, User
from users.services import LAST_USED_RESOLUTION, api_token_touch

# m.task is the column of DeployedModel.problem_type (db_column).
_MODEL_COLUMNS = "m.id, m.task, v.id, v.number, v.run_id, f.file, f.sha256"
# When this process last recorded each token's use (by key hash), bounded like every process cache.
_touched: LruCache[str, float] = LruCache(10_000)


@cache
def _model_joins() -> str:
    version, trained = ModelVersion._meta.db_table, TrainedModel._meta.db_table
    # Table names come from our own models' metadata, never from input; the values are parameters.
    return f'LEFT JOIN "{version}" v ON v.id = m.active_version_id LEFT JOIN "{trained}" f ON f.run_id = v.run_id '


@cache
def _by_user_sql() -> str:
    model = DeployedModel._meta.db_table
    # Table names come from our own models' metadata (as in every statement here); values are parameters.
    return (
        f'SELECT {_MODEL_COLUMNS} FROM "{model}" m {_model_joins()}'  # noqa: S608  # nosec B608
        "WHERE m.id = %s AND m.owner_id = %s"
    )


@cache
def _by_token_sql() -> str:
    token, user, model = ApiToken._meta.db_table, get_user_model()._meta.db_table, DeployedModel._meta.db_table
    return (
        f'SELECT t.id, u.id, u.username, {_MODEL_COLUMNS} FROM "{token}" t '  # noqa: S608  # nosec B608
        f'JOIN "{user}" u ON u.id = t.user_id '
        f'LEFT JOIN "{model}" m ON m.id = %s AND m.owner_id = u.id '
        f"{_model_joins()}"
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active = %s"
    )


@dataclass(frozen=True)
class ServingVersion:
    pk: int
    number: int
    run_id: int


@dataclass(frozen=True)
class ServingTarget:
    """What answering needs of a deployed model: its id and problem type, the active version and that version's
    model file name and hash (a DeployedModel's attribute names, so either can be served)."""

    pk: int
    owner_id: int
    problem_type: str
    active_version: ServingVersion | None
    model_file: str | None
    model_sha256: str | None

    @property
    def active_version_id(self) -> int | None:
        return self.active_version.pk if self.active_version is not None else None


@dataclass(frozen=True)
class TokenCaller:
    """The active user owning an active token, and their model (None: no such model of theirs)."""

    user: User
    token_id: int
    model: ServingTarget | None


def _target_from_row(owner_id: int, row: tuple) -> ServingTarget | None:
    model_pk, problem_type, version_pk, number, run_id, file, sha256 = row
    if model_pk is None:
        return None
    version = ServingVersion(version_pk, number, run_id) if version_pk is not None else None
    return ServingTarget(model_pk, owner_id, problem_type, version, file, sha256)


def deployed_model_for_serving(*, user: User, model_id: int) -> ServingTarget:
    """The caller's model with its active version and that version's model file name and hash."""
    with connection.cursor() as cursor:
        cursor.execute(_by_user_sql(), [int(model_id), user.pk])
        row = cursor.fetchone()
    found = _target_from_row(user.pk, row) if row is not None else None
    if found is None:
        raise Http404("No such model.")
    return found


def serving_token_caller(*, raw_token: str, model_id: int) -> TokenCaller | None:
    """The token's caller and their model `model_id`; None for an unknown, revoked or inactive token.

    The token's last use is recorded at most once per LAST_USED_RESOLUTION per process (and the
    UPDATE itself skips a token recorded recently by another process)."""
    with connection.cursor() as cursor:
        key_hash = ApiToken.hash_key(raw_token)
        cursor.execute(_by_token_sql(), [int(model_id), key_hash, True])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, user_id, username, *model_row = row
    _touch(token_id, key_hash)
    user = get_user_model()(id=user_id, username=username, is_active=True)
    return TokenCaller(user, token_id, _target_from_row(user_id, tuple(model_row)))


def _touch(token_id: int, key_hash: str) -> None:
    now = time.monotonic()
    last = _touched.get(key_hash)
    if last is not None and now - last < LAST_USED_RESOLUTION.total_seconds():
        return
    _touched.put(key_hash, now)
    api_token_touch(token_id=token_id)
