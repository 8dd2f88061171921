"""REST views for accounts: validate, call one service or selector, respond."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from csv_analyzer.api_errors import WWW_AUTHENTICATE, error_responses
from users.models import User


class MeApi(APIView):
    """Who the credentials belong to; the smallest call that proves token auth works."""

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = ["id", "username", "email"]

    @extend_schema(
        responses={200: OutputSerializer, **error_responses(401)},
        parameters=[WWW_AUTHENTICATE],
        summary="The account the credentials belong to",
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)
