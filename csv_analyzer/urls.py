from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from csv_analyzer import health
from csv_processor.views.metrics import metrics_export

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_export, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("users.urls")),
    path("api/", include("users.api_urls")),
    # --- Serving: the models API, its OpenAPI schema and Swagger UI (assets from
    # drf-spectacular-sidecar; the split view serves its start-up script as a file, as the CSP requires).
    path("api/", include("csv_processor.api.urls")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("api/docs/", login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("csv_processor.urls")),
]
