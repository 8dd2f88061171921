from django.conf import settings
from django.db import models
from django.db.models import Q

from csv_processor.models.jobs import Job


class TrainingRun(Job):
    """One training job on a dataset version: its settings, its live progress and, once done, its results.

    A run is a status row (QUEUED → RUNNING → SUCCEEDED / FAILED / CANCELLED) worked by one task. The
    worker writes `heartbeat_at` while it trains; a RUNNING run whose heartbeat went stale belongs to a
    dead worker and is re-queued once, then failed (`attempts` counts the claims).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Training"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class ProblemType(models.TextChoices):
        BINARY = "binary", "Binary classification"
        MULTICLASS = "multiclass", "Multiclass classification"
        REGRESSION = "regression", "Regression"

    class Tracking(models.TextChoices):
        PENDING = "pending", "Pending"
        LOGGING = "logging", "Logging"
        TRACKED = "tracked", "Tracked"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_runs")
    # A deleted dataset takes its runs with it: a queued run of a deleted dataset is simply gone.
    dataset_version = models.ForeignKey("DatasetVersion", on_delete=models.CASCADE, related_name="training_runs")
    idempotency_key = models.CharField(
        max_length=64, blank=True, help_text="Sent with the start form, so a double click starts one run."
    )

    target = models.CharField(max_length=300)
    # The columns keep their first names (task, task_reason): renaming the fields left the schema alone.
    problem_type = models.CharField(max_length=16, choices=ProblemType.choices, db_column="task")
    problem_type_reason = models.CharField(max_length=300, blank=True, db_column="task_reason")
    features = models.JSONField(default=list, blank=True, help_text="Requested feature columns; empty: default set.")
    algorithms = models.JSONField(default=list, blank=True, help_text="Requested algorithms; empty: Auto (all).")
    test_size = models.FloatField(default=0.2)
    cv_folds = models.PositiveSmallIntegerField(default=5)
    seed = models.IntegerField(default=0)
    budget_seconds = models.PositiveIntegerField(default=60)
    refit_all = models.BooleanField(
        default=True, help_text="Deploy the chosen model refitted on every row (else the evaluated one)."
    )
    max_trials = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Exact mode: run this many candidates of the plan; the budget does not cut it."
    )

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.JSONField(default=dict, blank=True, help_text="stage, candidate, total, elapsed, remaining.")
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    best_algorithm = models.CharField(max_length=64, blank=True)
    main_metric = models.CharField(max_length=32, blank=True)
    leaderboard = models.JSONField(default=list, blank=True)
    trials = models.JSONField(default=list, blank=True, help_text="Every cross-validated configuration tried.")
    metrics = models.JSONField(default=dict, blank=True)
    baseline_metrics = models.JSONField(default=dict, blank=True)
    plots = models.JSONField(default=dict, blank=True)
    importance = models.JSONField(default=list, blank=True)
    model_card = models.JSONField(default=dict, blank=True)
    feature_schema = models.JSONField(default=dict, blank=True)
    used_features = models.JSONField(default=list, blank=True)
    class_labels = models.JSONField(default=list, blank=True)
    split = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    recipe_digest = models.CharField(max_length=64, blank=True)
    elapsed_seconds = models.FloatField(null=True, blank=True)
    candidates_tried = models.PositiveIntegerField(
        null=True, blank=True, help_text="Candidates of the plan the search reached (a budget may skip a few)."
    )

    tracking_status = models.CharField(max_length=16, choices=Tracking.choices, blank=True)
    tracking_error = models.TextField(blank=True)
    tracking_attempts = models.PositiveSmallIntegerField(default=0)
    tracking_started_at = models.DateTimeField(null=True, blank=True)
    mlflow_experiment_id = models.CharField(max_length=64, blank=True)
    mlflow_run_id = models.CharField(max_length=64, blank=True)
    registered_model_name = models.CharField(max_length=200, blank=True)
    registered_model_version = models.CharField(max_length=32, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["tracking_status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="training_run_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(test_size__gt=0) & Q(test_size__lt=1), name="training_run_test_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk}: {self.target} ({self.get_status_display()})"

    @property
    def scalar_metrics(self) -> list[tuple[str, float, float | None]]:
        """(name, test value, baseline value) for the single-number test metrics, in stored order."""
        return [
            (name, value, self.baseline_metrics.get(name))
            for name, value in self.metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]


class TrainedModel(models.Model):
    """The best fitted Pipeline of a run, as a joblib file under MEDIA_ROOT (generated name, checked SHA-256)."""

    run = models.OneToOneField(TrainingRun, on_delete=models.CASCADE, related_name="trained_model")
    file = models.FileField(upload_to="models/", max_length=255)
    sha256 = models.CharField(max_length=64)
    # The model the test metrics come from (fitted on the training split) when `file` is the one refitted
    # on every row: comparisons on held-out rows (retraining) must use a model that never saw them.
    evaluated_file = models.FileField(upload_to="models/", max_length=255, blank=True)
    evaluated_sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField()
    algorithm = models.CharField(max_length=64)
    sklearn_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.algorithm} model of run {self.run_id}"
