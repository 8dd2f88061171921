"""HTTP plumbing of the REST API: request parsers with size and depth limits, and token-as-password Basic
auth so MLflow's own clients (which cannot set headers) can call."""

import contextlib
import gc
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from users.authentication import api_token_parse
from users.services import api_token_authenticate


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def _read_limited(stream: Any, parser_context: Mapping[str, Any] | None) -> bytes:
    limit = settings.PREDICT_MAX_BYTES
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a valid JSON number; send null for a missing value.")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


class LimitedJSONParser(BaseParser):
    """Strict JSON (no NaN or Infinity), at most PREDICT_MAX_BYTES and PREDICT_MAX_DEPTH levels deep."""

    media_type = "application/json"
    constant = staticmethod(_reject_constant)

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        body = _read_limited(stream, parser_context)
        try:
            with _no_collection():
                data = json.loads(body.decode("utf-8"), parse_constant=self.constant)
        except RecursionError:
            raise exceptions.ParseError("The JSON is nested too deeply.") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from None
        if _depth(data) > settings.PREDICT_MAX_DEPTH:
            raise exceptions.ParseError(f"The JSON is nested more than {settings.PREDICT_MAX_DEPTH} levels deep.")
        if _UNSTORABLE_ESCAPE.search(body):
            _require_storable_text(data)
        return data


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while the C decoder may be near the recursion limit (a body nested
    100,000 levels deep): a collection starting there runs unrelated objects' finalizers at that depth,
    where they fail with RecursionError ("exception ignored"). Parsing only allocates, so nothing is lost."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# json.loads turns "\u0000" into a NUL, which PostgreSQL cannot store, and an unpaired "\ud800" into a
# str that cannot be encoded at all; only a body with such an escape needs the walk below.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _require_storable_text(data: Any) -> None:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise exceptions.ParseError("Text in the JSON cannot contain the NUL character (\\u0000).")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise exceptions.ParseError(
                    "The JSON holds an unpaired surrogate escape (\\ud800 to \\udfff), which is not valid text."
                ) from None


def _nan_is_missing(name: str) -> None:
    if name != "NaN":
        _reject_constant(name)


class ScoringJSONParser(LimitedJSONParser):
    """As LimitedJSONParser, but NaN reads as a missing value: MLflow's clients write DataFrame gaps that way."""

    constant = staticmethod(_nan_is_missing)


class CSVBodyParser(BaseParser):
    """A `text/csv` body, returned as bytes for the scoring-protocol reader."""

    media_type = "text/csv"

    # DRF lets a parser return any value; the stubs allow only a mapping or DataAndFiles.
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> bytes:
        return _read_limited(stream, parser_context)


class TokenBasicAuthentication(BaseAuthentication):
    """`Authorization: Basic base64(<any name>:<API token>)`: how a netrc file lets MLflow's
    ScoringServerClient (which sends no custom headers) authenticate with a personal API token."""

    def authenticate(self, request: Request) -> tuple[object, None] | None:
        token = api_token_parse(get_authorization_header(request), token=False, basic=True)
        if token is None:
            return None
        user = api_token_authenticate(raw_token=token)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="api"'
