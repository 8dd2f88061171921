from django.contrib import admin
from django.urls import include, path

from csv_analyzer import health
from csv_processor.views.metrics import metrics_export

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_export, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("users.urls")),
    path("api/", include("users.api_urls")),
    path("", include("csv_processor.urls")),
]
