"""The REST API's error answers, for the OpenAPI schema only: the bodies DRF (and the lean prediction views,
which copy it) send with each error status, and the headers that come with 401 and 429.

Both apps' API views document their errors with these; the views themselves never use them.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

MESSAGES = {"type": "array", "items": {"type": "string"}}


class ErrorBodySerializer(serializers.Serializer):
    """An error body. Subclasses say which keys beyond their fields it may hold (none by default)."""

    additional_properties: dict | bool = False


class ErrorBodyScheme(OpenApiSerializerExtension):
    """Error bodies keyed by the caller's field names: a serializer alone cannot say `additionalProperties`."""

    target_class = ErrorBodySerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: object, direction: str) -> dict:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": self.target.additional_properties}


class ErrorDetailSerializer(ErrorBodySerializer):
    """DRF's answer to an error that is not about one field: `{"detail": message}`."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "ErrorDetail"


# What each status means on this API, whatever the endpoint.
DESCRIPTIONS = {
    400: "The body is not valid JSON or not what the endpoint expects; the messages say why.",
    401: "No credentials, or an unknown or revoked token or an inactive account (WWW-Authenticate: Token).",
    403: "A call authenticated by the browser session without the CSRF token.",
    404: "No such model, or another user's (the two answer alike).",
    409: "The model cannot predict yet: no active version, or its file cannot be served.",
    413: "The body is larger than CSVA_PREDICT_MAX_BYTES.",
    415: "The body's Content-Type is not one the endpoint reads.",
    429: (
        "Over the prediction rate (CSVA_API_PREDICT_RATE, per token; per user for the browser session); "
        "retry after Retry-After seconds."
    ),
}


def _header(name: str, kind: OpenApiTypes, status: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.HEADER, response=[status], description=description)


WWW_AUTHENTICATE = _header("WWW-Authenticate", OpenApiTypes.STR, 401, "The scheme to authenticate with: `Token`.")
RETRY_AFTER = _header("Retry-After", OpenApiTypes.INT, 429, "Seconds until the rate limit lets another call through.")


def error_responses(*statuses: int, body: type[serializers.Serializer] = ErrorDetailSerializer) -> dict:
    """The documented answers for `statuses`, each with `body` (DRF's `{"detail"}` unless told)."""
    return {status: OpenApiResponse(body, description=DESCRIPTIONS[status]) for status in statuses}
