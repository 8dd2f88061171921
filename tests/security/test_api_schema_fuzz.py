"""schemathesis against /api/schema/, in process through the WSGI app on the test database.

The owner's calls, generated from the schema (valid and invalid), on the owner's model: no server
error and every documented answer matches its schema. The same calls with another user's token: 404
and none of the owner's data (the staff user is in the access matrix).
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

from tests.security.estate import CATEGORY, COLUMN, MARKER

pytestmark = pytest.mark.django_db

MISSING_ID = 2**31 - 1
PREDICT = "POST /api/models/{model_id}/predict"
RECORD = {"x1": 0.5, "x2": -0.2, COLUMN: CATEGORY}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


# The schema view reads no database, so the schema loads at collection, through the app like any client.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # As Django's test client does: a request's start and end must not close the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _auth(token: str) -> dict:
    return {"Authorization": f"Token {token}"}


def _with_valid_records(case) -> None:
    """Valid predict bodies get records the model accepts (plus whatever else was generated), so that
    successful answers are checked against their schema too; random records only earn a 400."""
    mode = getattr(getattr(case.meta, "generation", None), "mode", None)
    body = case.body
    if case.operation.label != PREDICT or mode != GenerationMode.POSITIVE or not isinstance(body, dict):
        return
    if isinstance(body.get("records"), list):
        body["records"] = [{**record, **RECORD} for record in body["records"] if isinstance(record, dict)] or [RECORD]


@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_answers_by_its_schema_and_only_to_the_owner(case, estate):
    # Ids in the path are the owner's objects: the fuzzing is of what follows them, and of another user.
    owned = {"model_id": estate.model.pk, "run_id": estate.run.pk}
    taken = [name for name in owned if name in (case.path_parameters or {})]
    takes_model = bool(taken)
    for name in taken:
        case.path_parameters[name] = owned[name]
    _with_valid_records(case)

    response = case.call(headers=_auth(estate.tokens["owner"]))
    case.validate_response(response, checks=CHECKS)

    if takes_model:
        foreign = case.call(headers=_auth(estate.tokens["other"]))
        where = f"{case.method} {case.formatted_path} with another user's token"
        assert MARKER.encode() not in foreign.content.lower(), where
        if case.method.upper() == case.operation.method.upper():
            assert foreign.status_code == 404, where
        else:
            # OPTIONS and unsupported methods: the same answer as for a model that does not exist.
            for name in taken:
                case.path_parameters[name] = MISSING_ID
            missing = case.call(headers=_auth(estate.tokens["other"]))
            assert (foreign.status_code, foreign.content) == (missing.status_code, missing.content), where
