from collections.abc import Callable

from django.contrib import admin
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from csv_processor.models import (
    BatchPrediction,
    Dataset,
    DatasetVersion,
    DeployedModel,
    Prediction,
    TargetExploration,
    TrainedModel,
    TrainingRun,
    Upload,
    WorkerHeartbeat,
)
from csv_processor.storage import StoredFileMissing, StoreUnavailable, stored_size

# --- Stored files -----------------------------------------------------------------------------------
# Django shows a FileField as a link to MEDIA_URL, which answers 404 on purpose: files reach their owners
# only through owner-checking views, and those answer 404 to staff too (staff are not the owner). So the
# admin shows a stored file as text: its name and size, or that it is missing.


def stored_file_text(file: FieldFile) -> str:
    if not file:
        return "-"
    try:
        size = filesizeformat(stored_size(file))
    except StoredFileMissing:
        size = "missing from storage"
    except StoreUnavailable:
        size = "store unreachable"
    return f"{file.name} ({size})"


def stored_file(name: str) -> Callable[[models.Model], str]:
    """A read-only admin field for the FileField `name`, shown as text (see above)."""

    @admin.display(description=name.replace("_", " "))
    def display(obj: models.Model) -> str:
        return stored_file_text(getattr(obj, name))

    return display


def file_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The model's FileFields: excluded from the admin's forms, which would show them as links too."""
    return tuple(field.name for field in model._meta.fields if isinstance(field, models.FileField))


def read_only(model: type[models.Model]) -> list[str | Callable]:
    """Every field of `model`, for `readonly_fields`, with its stored files as text."""
    return [
        stored_file(field.name) if isinstance(field, models.FileField) else field.name for field in model._meta.fields
    ]


# --- Datasets ---------------------------------------------------------------------------------------


class DatasetVersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ("number", "row_count", "column_count", "size_bytes", "profile_status", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "current_version", "created_at", "updated_at")
    search_fields = ("name", "description", "owner__username", "owner__email")
    list_select_related = ("owner", "current_version")
    raw_id_fields = ("owner", "source_upload", "current_version")
    date_hierarchy = "created_at"
    inlines = [DatasetVersionInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ("dataset", "number", "row_count", "column_count", "size_bytes", "profile_status", "created_at")
    list_filter = ("profile_status",)
    search_fields = ("dataset__name", "dataset__owner__username")
    list_select_related = ("dataset",)
    # Versions are immutable: staff can look, not edit.
    readonly_fields = read_only(DatasetVersion)
    exclude = file_fields(DatasetVersion)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TargetExploration)
class TargetExplorationAdmin(admin.ModelAdmin):
    list_display = ("version", "target", "problem_type", "status", "created_at", "finished_at")
    list_filter = ("status", "problem_type")
    search_fields = ("target", "version__dataset__name", "version__dataset__owner__username")
    list_select_related = ("version__dataset",)
    # A cached result of the worker: staff can look or delete it (it is computed again on request).
    readonly_fields = read_only(TargetExploration)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("original_name", "owner", "status", "size_bytes", "created_at")
    list_filter = ("status",)
    search_fields = ("original_name", "owner__username", "sha256")
    list_select_related = ("owner",)
    readonly_fields = (stored_file("file"), "sha256", "size_bytes", "created_at", "updated_at")
    exclude = file_fields(Upload)
    raw_id_fields = ("owner", "dataset")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "last_seen_at")
    readonly_fields = ("worker_id", "hostname", "pid", "started_at", "last_seen_at")


# --- Training ---------------------------------------------------------------------------------------


class TrainedModelInline(admin.StackedInline):
    model = TrainedModel
    fields = (stored_file("file"), "sha256", "size_bytes", "algorithm", "sklearn_version", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "dataset_version",
        "target",
        "problem_type",
        "status",
        "best_algorithm",
        "created_at",
    )
    list_filter = ("status", "problem_type", "tracking_status", "best_algorithm")
    search_fields = ("target", "owner__username", "dataset_version__dataset__name", "mlflow_run_id")
    list_select_related = ("owner", "dataset_version__dataset")
    raw_id_fields = ("owner", "dataset_version")
    date_hierarchy = "created_at"
    # Results are written by the worker only; staff can look and cancel through the app.
    readonly_fields = read_only(TrainingRun)
    inlines = [TrainedModelInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("id", "run", "algorithm", "size_bytes", "sha256", "created_at")
    search_fields = ("sha256", "run__target", "run__owner__username")
    list_select_related = ("run",)
    readonly_fields = read_only(TrainedModel)
    exclude = file_fields(TrainedModel)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- Serving ----------------------------------------------------------------------------------------


@admin.register(DeployedModel)
class DeployedModelAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "owner",
        "problem_type",
        "target",
        "active_version",
        "drift_computed_at",
        "updated_at",
    )
    search_fields = ("name", "target", "owner__username")
    list_select_related = ("owner", "active_version")
    raw_id_fields = ("owner", "dataset", "active_version")
    readonly_fields = ("drift", "drift_computed_at")


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("public_id", "deployed_model", "channel", "created_at", "actual_at")
    list_filter = ("channel",)
    list_select_related = ("deployed_model",)
    # The log is written by the serving path only.
    readonly_fields = read_only(Prediction)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BatchPrediction)
class BatchPredictionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "deployed_model", "original_name", "status", "rows", "created_at")
    list_filter = ("status",)
    readonly_fields = read_only(BatchPrediction)
    exclude = file_fields(BatchPrediction)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
