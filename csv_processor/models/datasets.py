import hashlib

from django.conf import settings
from django.db import models

from csv_processor.models.jobs import Job


class Upload(Job):
    """An uploaded original file (CSV, Excel workbook or Parquet) and the job that parses it into a dataset's
    first version."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel workbook"
        PARQUET = "parquet", "Parquet"

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", "Awaiting confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Parsing"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    original_name = models.CharField(max_length=255, help_text="The browser's file name, for display only.")
    file = models.FileField(upload_to="uploads/", max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=16, choices=Format.choices, default=Format.CSV)
    # A CSV's parse settings; a workbook's sheets and the one chosen; nothing for Parquet.
    parse_options = models.JSONField(default=dict)
    dataset_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.AWAITING_CONFIRMATION)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    dataset = models.ForeignKey("Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class Dataset(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    dismissed_suggestions = models.JSONField(default=list, blank=True, help_text="Cleaning suggestions set aside.")
    source_upload = models.OneToOneField(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The original file."
    )
    current_version = models.ForeignKey(
        "DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """An immutable table stored as Parquet. Version 1 is the parse of the upload; cleaning adds more."""

    class ProfileStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Computing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to="versions/", max_length=255)
    size_bytes = models.BigIntegerField()
    row_count = models.BigIntegerField()
    column_count = models.PositiveIntegerField()
    schema = models.JSONField(default=list, help_text="Per column: name, kind, dtype, missing, suggestion.")
    profile = models.JSONField(null=True, blank=True)
    suggestions = models.JSONField(null=True, blank=True, help_text="SimpleCleanModel suggestions, per column.")
    profile_status = models.CharField(max_length=16, choices=ProfileStatus.choices, default=ProfileStatus.PENDING)
    produced_by = models.JSONField(default=dict, help_text="What made this version: the parse or a cleaning step.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"


class TargetExploration(Job):
    """Every column of a version against one target (issue 18 point 1), computed once in the worker and kept
    with the version: the ranking, the measures and the plot data (`ml.profiling.target`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Computing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="explorations")
    target = models.TextField()
    target_key = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the target: a column name of any length fits the unique index.",
    )
    problem_type = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "target_key", "problem_type"], name="target_exploration_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version} against {self.target} ({self.get_status_display()})"


def target_key_of(target: str) -> str:
    """The key a target exploration is unique by (with its version and problem type)."""
    return hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()
