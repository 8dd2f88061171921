"""Deployed models, their versions, the prediction log, batch jobs and retraining (see docs/architecture.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from csv_processor.models.jobs import Job


class DeployedModel(models.Model):
    """A named endpoint that answers with its active version; redeploying or rolling back moves the pointer."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployed_models")
    dataset = models.ForeignKey("Dataset", on_delete=models.CASCADE, related_name="deployed_models")
    name = models.CharField(max_length=200)
    # binary, multiclass or regression; the column keeps its first name, task.
    problem_type = models.CharField(max_length=16, db_column="task")
    target = models.CharField(max_length=300)
    active_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    drift = models.JSONField(default=dict, blank=True, help_text="Latest drift report: verdict, rows, features.")
    drift_computed_at = models.DateTimeField(null=True, blank=True)

    class RetrainSchedule(models.TextChoices):
        OFF = "off", "Never on a schedule"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"

    # Automatic retraining (services/serving/retrain.py): on the dataset's newest version, kept only when
    # it beats the active version on the same held-out rows.
    retrain_schedule = models.CharField(max_length=8, choices=RetrainSchedule.choices, default=RetrainSchedule.OFF)
    retrain_on_drift = models.BooleanField(default=False, help_text="Retrain when the drift alert fires.")
    retrain_checked_at = models.DateTimeField(null=True, blank=True, help_text="When the schedule last looked.")
    retrain_check_note = models.CharField(max_length=500, blank=True, help_text="What the last look found.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ready(self) -> bool:
        return self.active_version_id is not None


class ModelVersion(models.Model):
    """One training run's model under a deployed model, with what serving precomputes once at deploy."""

    deployed_model = models.ForeignKey(DeployedModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    run = models.ForeignKey("TrainingRun", on_delete=models.CASCADE, related_name="model_versions")
    input_columns = models.JSONField(default=list, help_text="The pipeline's raw input columns and their dtypes.")
    reference = models.JSONField(default=dict, blank=True, help_text="Training distribution per feature, for drift.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployed_model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["deployed_model", "number"], name="model_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.deployed_model.name} v{self.number}"


class Prediction(models.Model):
    """A logged prediction (a sample of them): inputs bounded in size, the answer, and any reported outcome."""

    class Channel(models.TextChoices):
        FORM = "form", "Form"
        API = "api", "API"
        BATCH = "batch", "Batch"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    deployed_model = models.ForeignKey(DeployedModel, on_delete=models.CASCADE, related_name="predictions")
    version = models.ForeignKey(ModelVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    inputs = models.JSONField(default=dict)
    output = models.JSONField(null=True)
    actual = models.JSONField(null=True, blank=True)
    actual_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["deployed_model", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.public_id} of model {self.deployed_model_id}"


class BatchPrediction(Job):
    """An uploaded CSV of raw rows predicted in the worker; the result is the input plus prediction columns."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Predicting"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batch_predictions")
    deployed_model = models.ForeignKey(DeployedModel, on_delete=models.CASCADE, related_name="batches")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    original_name = models.CharField(max_length=255, help_text="The browser's file name, for display only.")
    file = models.FileField(upload_to="batches/", max_length=255)
    size_bytes = models.BigIntegerField()
    parse_options = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    rows = models.BigIntegerField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    result_file = models.FileField(upload_to="batches/", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class ModelRetrain(Job):
    """A retraining of a deployed model on a newer dataset version, compared with the active version on
    the same held-out rows; the user promotes the candidate or keeps the old one (an automatic retraining
    promotes it only when it is strictly better)."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        COMPARING = "comparing", "Comparing"
        READY = "ready", "Ready to compare"
        PROMOTED = "promoted", "Promoted"
        KEPT = "kept", "Kept the old version"
        FAILED = "failed", "Failed"

    CLAIM_FROM = Status.TRAINING
    CLAIM_TO = Status.COMPARING
    IN_PROGRESS = frozenset({Status.TRAINING, Status.COMPARING})

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Started by hand"
        SCHEDULE = "schedule", "On schedule"
        DRIFT = "drift", "On the drift alert"

    deployed_model = models.ForeignKey(DeployedModel, on_delete=models.CASCADE, related_name="retrains")
    base_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    # An automatic retraining is decided by the comparison: promoted when strictly better, else kept.
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.MANUAL)
    run = models.OneToOneField("TrainingRun", on_delete=models.CASCADE, related_name="retrain")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    comparison = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Retrain of {self.deployed_model.name} ({self.get_status_display()})"


class PredictRateWindow(models.Model):
    """Prediction calls granted to one API token (or, for calls from the browser session, to its user) in
    one fixed rate window, shared by every web process.

    Processes take the calls in small leases (services/serving_rate.py), so the row is written once per
    lease rather than once per call."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(
        "users.ApiToken",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The token counted; empty for the user's calls from the browser session.",
    )
    window = models.BigIntegerField(help_text="Start of the window, in seconds since the epoch.")
    granted = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "window"],
                condition=Q(token__isnull=False),
                name="predict_rate_window_token_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "window"],
                condition=Q(token__isnull=True),
                name="predict_rate_window_session_unique",
            ),
        ]

    def __str__(self) -> str:
        caller = f"token {self.token_id}" if self.token_id else f"user {self.user_id}"
        return f"{caller}@{self.window}: {self.granted}"
