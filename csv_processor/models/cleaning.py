from django.conf import settings
from django.db import models

from csv_processor.models.jobs import Job


class CleaningJob(Job):
    """One cleaning step applied to a dataset version; the result is a new version.

    Small datasets run the job inside the request; large ones in the worker (the page follows its status).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cleaning_jobs")
    dataset = models.ForeignKey("Dataset", on_delete=models.CASCADE, related_name="cleaning_jobs")
    base_version = models.ForeignKey("DatasetVersion", on_delete=models.CASCADE, related_name="+")
    step = models.JSONField(help_text="The fitted step (op and params).")
    description = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    result_version = models.ForeignKey(
        "DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.description} ({self.get_status_display()})"


class CleanModelArtifact(models.Model):
    """A trained SimpleCleanModel stored by the app, with the SHA-256 that every load checks."""

    file = models.FileField(upload_to="models/", max_length=255)
    sha256 = models.CharField(max_length=64)
    seed = models.IntegerField(default=0)
    held_out_accuracy = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"SimpleCleanModel {self.sha256[:12]}"
