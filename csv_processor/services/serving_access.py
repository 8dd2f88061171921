"""Who calls a prediction endpoint and which of their models they mean, in one fixed SQL statement.

Compiling the equivalent ORM queries (token, user, model, active version, model file) costs more than
a small model's prediction, so the hot path runs one prepared statement: by API token (the token's
user, then their model) or, for the browser session, by the already known user. Another user's model
and an unknown one look the same: no row, a 404. The instances returned are read-only views of the
rows, with just what serving needs.
"""

import threading
import time
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404

from csv_processor.models import DeployedModel, ModelVersion, TrainedModel
from users.models import ApiToken
from users.services import LAST_USED_RESOLUTION, api_token_touch

_MODEL_COLUMNS = "m.id, m.task, v.id, v.number, v.run_id, f.file, f.sha256"
_touched: dict[int, float] = {}
_touched_lock = threading.Lock()


@dataclass(frozen=True)
class TokenCaller:
    """The active user owning an active token, and their model (None: no such model of theirs)."""

    user: object
    token_id: int
    model: DeployedModel | None


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


def _model_from_row(owner_id: int, row: tuple) -> DeployedModel | None:
    model_pk, task, version_pk, number, run_id, file, sha256 = row
    if model_pk is None:
        return None
    found = DeployedModel(id=model_pk, owner_id=owner_id, task=task, active_version_id=version_pk)
    if version_pk is not None:
        found.active_version = ModelVersion(id=version_pk, number=number, run_id=run_id, deployed_model_id=model_pk)
    found.model_file, found.model_sha256 = file, sha256
    return found


def deployed_model_for_serving(*, user: object, model_id: int) -> DeployedModel:
    """The caller's model with its active version and that version's model file name and hash."""
    with connection.cursor() as cursor:
        cursor.execute(_by_user_sql(), [int(model_id), user.pk])
        row = cursor.fetchone()
    found = _model_from_row(user.pk, row) if row is not None else None
    if found is None:
        raise Http404("No such model.")
    return found


def serving_token_caller(*, raw_token: str, model_id: int) -> TokenCaller | None:
    """The token's caller and their model `model_id`; None for an unknown, revoked or inactive token.

    The token's last use is recorded at most once per LAST_USED_RESOLUTION per process (and the
    UPDATE itself skips a token recorded recently by another process)."""
    with connection.cursor() as cursor:
        cursor.execute(_by_token_sql(), [int(model_id), ApiToken.hash_key(raw_token), True])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, user_id, username, *model_row = row
    _touch(token_id)
    user = get_user_model()(id=user_id, username=username, is_active=True)
    return TokenCaller(user, token_id, _model_from_row(user_id, tuple(model_row)))


def _touch(token_id: int) -> None:
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(token_id, -1e9) < LAST_USED_RESOLUTION.total_seconds():
            return
        _touched[token_id] = now
    api_token_touch(token_id=token_id)
