from django.contrib import admin
from django.urls import include, path

from csv_analyzer import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("users.urls")),
    path("api/", include("users.api_urls")),
    path("", include("csv_processor.urls")),
]
