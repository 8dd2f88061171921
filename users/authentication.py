from rest_framework.authentication import BaseAuthentication


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):  # noqa: ANN001, ANN201 - replaced by the accounts work
        return None
