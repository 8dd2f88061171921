"""The models API's error bodies, for the OpenAPI schema: the per-field messages of the prediction and
feedback endpoints and MLflow's `{"error_code", "message"}` on `/invocations`. See csv_analyzer/api_errors.py
for DRF's `{"detail"}` body and the statuses' meanings."""

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from csv_analyzer.api_errors import DESCRIPTIONS, MESSAGES, ErrorBodySerializer

# The MLflow error code `/invocations` answers with each status (as `mlflow models serve` would).
MLFLOW_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "INVALID_STATE",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    429: "REQUEST_LIMIT_EXCEEDED",
}
# A bad `params` is INVALID_PARAMETER_VALUE; a status missing above (405 from DRF) is INTERNAL_ERROR.
MLFLOW_CODES = sorted({*MLFLOW_ERROR_CODES.values(), "INVALID_PARAMETER_VALUE", "INTERNAL_ERROR"})


def _choices(values: list[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class PredictionErrorsSerializer(ErrorBodySerializer):
    """Messages by field: `records` and `explain` for the envelope, `records[<i>]` and
    `records[<i>].<column>` for a record; or `detail` when the body is not valid JSON."""

    additional_properties = MESSAGES
    detail = serializers.CharField(required=False)
    records = serializers.ListField(child=serializers.CharField(), required=False)
    explain = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        ref_name = "PredictionErrors"


@extend_schema_field(
    {
        "anyOf": [
            MESSAGES,
            {
                "type": "object",
                "properties": {"non_field_errors": MESSAGES},
                "additionalProperties": {"anyOf": [MESSAGES, {"type": "object", "additionalProperties": MESSAGES}]},
            },
        ],
        "description": "Messages about the field; or by outcome, keyed by its index in the list (DRF's "
        "format), with `non_field_errors` when it is not a non-empty list of at most 1000 outcomes.",
    }
)
class FeedbackListErrorsField(serializers.JSONField):
    pass


class FeedbackErrorsSerializer(ErrorBodySerializer):
    """DRF's validation messages for the feedback body; `detail` when it is not valid JSON."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    feedback = FeedbackListErrorsField(required=False)

    class Meta:
        ref_name = "FeedbackErrors"


class MLflowErrorSerializer(ErrorBodySerializer):
    """MLflow's error body; `errors` holds the per-field messages when the records do not fit the model."""

    error_code = serializers.ChoiceField(choices=_choices(MLFLOW_CODES))
    message = serializers.CharField()
    # A declared field named like the Serializer property `errors`; DRF keeps them apart.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )

    class Meta:
        ref_name = "MLflowError"


def mlflow_error_responses(*statuses: int) -> dict:
    """The documented answers of `/invocations` for `statuses`, each in MLflow's shape."""
    codes = {**MLFLOW_ERROR_CODES, 400: "BAD_REQUEST, or INVALID_PARAMETER_VALUE for a bad `params`"}
    return {
        status: OpenApiResponse(
            MLflowErrorSerializer, description=f"{DESCRIPTIONS[status]} error_code: {codes[status]}."
        )
        for status in statuses
    }
