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
from typing import TYPE_CHECKING, Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from csv_processor.services.serving.access import ServingTarget, deployed_model_for_serving, serving_token_caller
from csv_processor.services.serving.rate import predict_rate_check
from users.authentication import AuthenticatedHttpRequest, api_token_parse
from users.models import User

JSON = "application/json"


class PredictionApiView(APIView):
    """Subclasses define `post(request, model_id)`, reading `request.user`, `self.model` and `self.data()`."""

    parser_classes: list[type[BaseParser]] = []
    basic_auth = False
    counted = True
    token_id: int | None = None  # the calling API token (None: the browser session), set by authenticate

    if TYPE_CHECKING:

        def post(self, request: AuthenticatedHttpRequest, model_id: int) -> HttpResponse: ...

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)  # 405, OPTIONS: DRF's answers, rarely asked
        # Django's request, not a DRF Request: none is built here (ADR 0006).
        self.request = request  # type: ignore[assignment]
        self.args, self.kwargs, self.headers = args, kwargs, {}
        try:
            # DRF's order: authentication, rate limit, then the handler (404, body, validation).
            user, model = self.authenticate(request, kwargs["model_id"])
            if self.counted:
                wait = predict_rate_check(user_id=user.pk, token_id=self.token_id)
                if wait is not None:
                    raise exceptions.Throttled(wait)
            if model is None:
                raise Http404("No such model.")
            self.model = model
            # authenticate set request.user to the caller.
            return self.post(cast(AuthenticatedHttpRequest, request), *args, **kwargs)
        except (exceptions.APIException, Http404) as exc:
            return self.error(exc)

    def authenticate(self, request: HttpRequest, model_id: int) -> tuple[User, ServingTarget | None]:
        """The calling user (also set as `request.user`) and their model (None: no such model of theirs)."""
        raw_token = self._token(request)
        self.token_id = None
        if raw_token is not None:
            caller = serving_token_caller(raw_token=raw_token, model_id=model_id)
            if caller is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked token.")
            request.user, self.token_id = caller.user, caller.token_id
            return caller.user, caller.model
        user = getattr(request, "user", None)
        # AnonymousUser is not a User (and is never active).
        if not isinstance(user, User) or not user.is_active:
            raise exceptions.NotAuthenticated()
        # As DRF's SessionAuthentication: a session-authenticated call must carry the CSRF token. The
        # middleware's response callbacks are never called (the stubs want real ones).
        check = CSRFCheck(lambda _: None)  # type: ignore[arg-type]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")
        try:
            return user, deployed_model_for_serving(user=user, model_id=model_id)
        except Http404:
            return user, None

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
                # The request is the file-like stream (read), as DRF hands its parsers.
                return parser_class().parse(request, content_type, {"request": request})  # type: ignore[arg-type]
        raise exceptions.UnsupportedMediaType(content_type)

    def error(self, raised: exceptions.APIException | Http404) -> HttpResponse:
        """DRF's answer to the exception: its status, `{"detail": ...}` (or the field messages) and the
        WWW-Authenticate, Retry-After and Allow headers."""
        exc = exceptions.NotFound(*raised.args) if isinstance(raised, Http404) else raised
        detail = exc.detail
        body = detail if isinstance(detail, list | dict) else {"detail": detail}
        response = self.respond(self.error_body(exc.status_code, body), status=exc.status_code)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = "Token"
        wait = getattr(exc, "wait", None)
        if wait is not None:
            response["Retry-After"] = str(int(wait))
        if isinstance(exc, exceptions.MethodNotAllowed):
            response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def error_body(self, status: int, body: dict | list) -> Any:
        return body

    @staticmethod
    def respond(body: Any, status: int = 200) -> HttpResponse:
        return HttpResponse(json.dumps(body, separators=(",", ":")), status=status, content_type=JSON)
