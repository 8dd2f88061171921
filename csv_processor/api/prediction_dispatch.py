"""The prediction endpoints' request handling, without DRF's per-request machinery.

A DRF request on a small model cost several times the prediction: the Request wrapper, content
negotiation, authenticator, permission and throttle objects, an ORM query for the token and one for
its last use, and the exception handler. `PredictionApiView` keeps the same contract with less: it is still
an APIView (drf-spectacular documents its `post`, and `as_view` exempts it from the CSRF middleware
for token calls exactly as DRF does), but its `dispatch` authenticates by token (header or Basic) with
the model in the same SQL statement, or by the browser session with DRF's CSRF check; counts the call
against the shared rate limit (per token; per user for the session); parses the body with the API's
limited parsers; and answers errors with DRF's exception classes, status codes and bodies. See
docs/decisions/0006-lean-prediction-endpoints.md.
"""

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from csv_processor.services.serving.access import ServingTarget, deployed_model_for_serving, serving_token_caller
from csv_processor.services.serving.rate import predict_rate_check
from users.authentication import api_token_parse

JSON = "application/json"


class PredictionApiView(APIView):
    """Subclasses define `post(request, model_id)`, reading `request.user`, `self.model` and `self.data()`."""

    parser_classes: list[type[BaseParser]] = []
    basic_auth = False
    counted = True
    token_id: int | None = None  # the calling API token (None: the browser session), set by authenticate

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)  # 405, OPTIONS: DRF's answers, rarely asked
        self.args, self.kwargs, self.request, self.headers = args, kwargs, request, {}
        try:
            # DRF's order: authentication, rate limit, then the handler (404, body, validation).
            model = self.authenticate(request, kwargs["model_id"])
            if self.counted:
                wait = predict_rate_check(user_id=request.user.pk, token_id=self.token_id)
                if wait is not None:
                    raise exceptions.Throttled(wait)
            if model is None:
                raise Http404("No such model.")
            self.model = model
            return self.post(request, *args, **kwargs)
        except (exceptions.APIException, Http404) as exc:
            return self.error(exc)

    def authenticate(self, request: HttpRequest, model_id: int) -> ServingTarget | None:
        raw_token = self._token(request)
        self.token_id = None
        if raw_token is not None:
            caller = serving_token_caller(raw_token=raw_token, model_id=model_id)
            if caller is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked token.")
            request.user, self.token_id = caller.user, caller.token_id
            return caller.model
        user = getattr(request, "user", None)
        if user is None or not user.is_active:
            raise exceptions.NotAuthenticated()
        # As DRF's SessionAuthentication: a session-authenticated call must carry the CSRF token.
        check = CSRFCheck(lambda _: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")
        try:
            return deployed_model_for_serving(user=user, model_id=model_id)
        except Http404:
            return None

    def _token(self, request: HttpRequest) -> str | None:
        """The API token of `Token <value>` or, where allowed, Basic auth with the token as password."""
        header = request.META.get("HTTP_AUTHORIZATION", "").encode("latin-1", "replace")
        return api_token_parse(header, basic=self.basic_auth)

    def data(self) -> Any:
        """The parsed body: `{}` when empty, else read by the parser of its content type (415 if none)."""
        request = self.request
        content_type = request.META.get("CONTENT_TYPE", "")
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) == 0:
            return {}
        media_type = content_type.split(";")[0].strip().lower()
        for parser_class in self.parser_classes:
            if parser_class.media_type == media_type:
                return parser_class().parse(request, content_type, {"request": request})
        raise exceptions.UnsupportedMediaType(content_type)

    def error(self, exc: Exception) -> HttpResponse:
        """DRF's answer to the exception: its status, `{"detail": ...}` (or the field messages) and the
        WWW-Authenticate, Retry-After and Allow headers."""
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(*exc.args)
        detail = exc.detail
        body = detail if isinstance(detail, list | dict) else {"detail": detail}
        response = self.respond(self.error_body(exc.status_code, body), status=exc.status_code)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = "Token"
        if getattr(exc, "wait", None) is not None:
            response["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.MethodNotAllowed):
            response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def error_body(self, status: int, body: dict | list) -> Any:
        return body

    @staticmethod
    def respond(body: Any, status: int = 200) -> HttpResponse:
        return HttpResponse(json.dumps(body, separators=(",", ":")), status=status, content_type=JSON)
