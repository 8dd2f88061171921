from django.contrib.auth.decorators import login_not_required
from django.urls import path

from csv_processor.api import views as api

app_name = "csv_processor_api"

# DRF authenticates API calls itself (token, session) and answers 401 JSON, never a login redirect.
urlpatterns = [
    path("models/", login_not_required(api.ModelListApi.as_view()), name="model-list"),
    path("models/<int:model_id>/", login_not_required(api.ModelDetailApi.as_view()), name="model-detail"),
    path("models/<int:model_id>/predict", login_not_required(api.PredictionCreateApi.as_view()), name="predict"),
    path(
        "models/<int:model_id>/invocations",
        login_not_required(api.ModelInvocationsApi.as_view()),
        name="invocations",
    ),
    path("models/<int:model_id>/ping", login_not_required(api.ModelPingApi.as_view()), name="ping"),
    path("runs/<int:run_id>/", login_not_required(api.RunDetailApi.as_view()), name="run-detail"),
    path("models/<int:model_id>/feedback", login_not_required(api.FeedbackCreateApi.as_view()), name="feedback"),
]
