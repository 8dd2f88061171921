from django.contrib.auth.decorators import login_not_required
from django.urls import path

from users.api import MeApi

app_name = "users_api"

# DRF authenticates API calls itself and answers 401 JSON; LoginRequiredMiddleware must not redirect
# them to the login page. DRF >= 3.15 marks its views already; stating it keeps that explicit.
urlpatterns = [
    path("me/", login_not_required(MeApi.as_view()), name="me"),
]
