"""REST views for deployed models: validate, call one service or selector, respond.

The prediction views answer with plain dicts rather than running an output serializer per request:
on a small model the serializer would cost more than the prediction. Their serializers still describe
the responses in the OpenAPI schema.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from csv_analyzer.api_errors import RETRY_AFTER, WWW_AUTHENTICATE, error_responses
from csv_processor.api.errors import (
    MLFLOW_ERROR_CODES,
    FeedbackErrorsSerializer,
    PredictionErrorsSerializer,
    mlflow_error_responses,
)
from csv_processor.api.http import CSVBodyParser, LimitedJSONParser, ScoringJSONParser, TokenBasicAuthentication
from csv_processor.api.prediction_dispatch import PredictionApiView
from csv_processor.api.serializers import (
    DeployedModelDetailSerializer,
    DeployedModelListSerializer,
    PredictionOutputSerializer,
)
from csv_processor.selectors.serving import (
    deployed_model_detail,
    deployed_model_get_for_user,
    deployed_model_list,
)
from csv_processor.selectors.training.runs import training_run_get_for_user, training_run_summary
from csv_processor.services.serving.predictions import prediction_feedback_record
from csv_processor.services.serving.protocol import ProtocolError, scoring_input_read
from csv_processor.services.serving.runtime import (
    InputError,
    ModelNotReady,
    deployed_model_for_serving,
    prediction_make,
)
from users.authentication import ApiTokenAuthentication, AuthenticatedHttpRequest, AuthenticatedRequest


class BasicTokenScheme(OpenApiAuthenticationExtension):
    target_class = "csv_processor.api.http.TokenBasicAuthentication"
    name = "basicToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        return {"type": "http", "scheme": "basic", "description": "Any user name; the API token as the password."}


class ModelNotReadyError(exceptions.APIException):
    status_code = 409
    default_detail = "This model is not ready to predict."
    default_code = "not_ready"


class ModelListApi(APIView):
    @extend_schema(
        responses={200: DeployedModelListSerializer(many=True), **error_responses(401)}, parameters=[WWW_AUTHENTICATE]
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(DeployedModelListSerializer(deployed_model_list(user=request.user), many=True).data)


class ModelDetailApi(APIView):
    @extend_schema(
        responses={200: DeployedModelDetailSerializer, **error_responses(401, 404)}, parameters=[WWW_AUTHENTICATE]
    )
    def get(self, request: AuthenticatedRequest, model_id: int) -> Response:
        model = deployed_model_get_for_user(user=request.user, model_id=model_id)
        return Response(DeployedModelDetailSerializer(deployed_model_detail(deployed_model=model)).data)


class RunDetailApi(APIView):
    """A training run as `manage.py train` prints it: problem type and why, features used and left out,
    warnings, metric, scores against the baseline, rows refitted on, time taken, candidates tried."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(401, 404)}, parameters=[WWW_AUTHENTICATE])
    def get(self, request: AuthenticatedRequest, run_id: int) -> Response:
        run = training_run_get_for_user(user=request.user, run_id=run_id)
        return Response(training_run_summary(run=run))


class PredictionCreateApi(PredictionApiView):
    """Predict records (objects of column: value) with the model's active version."""

    parser_classes = [LimitedJSONParser]

    class InputSerializer(serializers.Serializer):
        records = serializers.ListField(child=serializers.DictField(), allow_empty=False)
        explain = serializers.BooleanField(default=False)

        class Meta:
            ref_name = "PredictionInput"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: PredictionOutputSerializer,
            **error_responses(400, body=PredictionErrorsSerializer),
            **error_responses(401, 403, 404, 409, 413, 415, 429),
        },
        parameters=[WWW_AUTHENTICATE, RETRY_AFTER],
    )
    def post(self, request: AuthenticatedHttpRequest, model_id: int) -> HttpResponse:
        data = self.data()
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            # Only the envelope is checked here; the records are checked against the model's schema.
            raise exceptions.ValidationError({"records": ["Send a JSON object with a list of records."]})
        explain = data.get("explain", False)
        if not isinstance(explain, bool):
            raise exceptions.ValidationError({"explain": ["Must be true or false."]})
        try:
            result = prediction_make(
                deployed_model=self.model, owner=request.user, records=data["records"], channel="api", explain=explain
            )
        except InputError as exc:
            raise exceptions.ValidationError(exc.errors) from None
        except ModelNotReady as exc:
            raise ModelNotReadyError(str(exc)) from None
        body = {
            "model_id": self.model.pk,
            "version": result.version,
            "prediction_ids": result.ids,
            "predictions": result.predictions,
            "warnings": result.warnings,
        }
        if result.probabilities is not None:
            body["probabilities"] = result.probabilities
        if result.explanations is not None:
            body["explanations"] = result.explanations
        return self.respond(body)


def mlflow_error(status: int, body: dict | list) -> dict:
    """An error body in MLflow's shape: `{"error_code", "message"}`."""
    if isinstance(body, dict) and "error_code" in body:
        return body
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return {"error_code": MLFLOW_ERROR_CODES.get(status, "INTERNAL_ERROR"), "message": str(detail)}


class ModelInvocationsApi(PredictionApiView):
    """MLflow's scoring-server protocol: `dataframe_split`, `dataframe_records`, `instances` or `inputs`
    (JSON), or a CSV body; answers `{"predictions": [...]}`, errors as `{"error_code", "message"}`."""

    parser_classes = [ScoringJSONParser, CSVBodyParser]
    authentication_classes = [ApiTokenAuthentication, TokenBasicAuthentication, SessionAuthentication]
    basic_auth = True

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiTypes.OBJECT,
            **mlflow_error_responses(400, 401, 403, 404, 409, 413, 415, 429),
        },
        parameters=[WWW_AUTHENTICATE, RETRY_AFTER],
    )
    def post(self, request: AuthenticatedHttpRequest, model_id: int) -> HttpResponse:
        data = self.data()
        try:
            scoring = scoring_input_read(content_type=request.META.get("CONTENT_TYPE", ""), data=data)
            result = prediction_make(
                deployed_model=self.model,
                owner=request.user,
                records=scoring.records,
                channel="api",
                text_values=scoring.text_values,
            )
        except ProtocolError as exc:
            return self.respond({"error_code": exc.error_code, "message": str(exc)}, status=400)
        except InputError as exc:
            return self.respond({"error_code": "BAD_REQUEST", "message": str(exc), "errors": exc.errors}, status=400)
        except ModelNotReady as exc:
            raise ModelNotReadyError(str(exc)) from None
        return self.respond({"predictions": result.predictions})

    def error_body(self, status: int, body: dict | list) -> dict:
        return mlflow_error(status, body)

    def handle_exception(self, exc: Exception) -> Response:
        # Requests DRF answers (other methods) get the same error shape.
        response = super().handle_exception(exc)
        if response.status_code >= 400:
            response.data = mlflow_error(response.status_code, response.data)
        return response


class ModelPingApi(APIView):
    """`GET .../ping`, as MLflow's ScoringServerClient checks before it invokes."""

    authentication_classes = ModelInvocationsApi.authentication_classes

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(401, 404)}, parameters=[WWW_AUTHENTICATE])
    def get(self, request: AuthenticatedRequest, model_id: int) -> Response:
        deployed_model_for_serving(user=request.user, model_id=model_id)
        return Response({"status": "ok"})


class FeedbackCreateApi(APIView):
    """Report true outcomes of earlier predictions, by prediction id, for live accuracy."""

    parser_classes = [LimitedJSONParser]

    class InputSerializer(serializers.Serializer):
        class OutcomeSerializer(serializers.Serializer):
            prediction_id = serializers.UUIDField()
            actual = serializers.JSONField()

            class Meta:
                ref_name = "FeedbackOutcome"

        class Meta:
            ref_name = "FeedbackInput"

        # many=True hands max_length to the ListSerializer, which the stubs do not model.
        feedback = OutcomeSerializer(many=True, allow_empty=False, max_length=1000)  # type: ignore[call-arg]

    class OutputSerializer(serializers.Serializer):
        updated = serializers.IntegerField()
        unknown = serializers.ListField(child=serializers.CharField())

        class Meta:
            ref_name = "FeedbackResult"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **error_responses(400, body=FeedbackErrorsSerializer),
            **error_responses(401, 403, 404, 413, 415),
        },
        parameters=[WWW_AUTHENTICATE],
    )
    def post(self, request: AuthenticatedRequest, model_id: int) -> Response:
        model = deployed_model_get_for_user(user=request.user, model_id=model_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcomes = [(str(item["prediction_id"]), item["actual"]) for item in serializer.validated_data["feedback"]]
        try:
            result = prediction_feedback_record(deployed_model=model, outcomes=outcomes)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"feedback": exc.messages}) from None
        return Response(self.OutputSerializer({"updated": result.updated, "unknown": result.unknown}).data)
