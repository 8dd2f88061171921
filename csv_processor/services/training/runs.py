"""Start, repeat and cancel training runs. The work itself is in training_execute (run by the worker)."""

import logging
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from csv_processor.ml.training.problem_type import PROBLEM_TYPES
from csv_processor.models import DatasetVersion, TrainingRun
from csv_processor.selectors.training.setup import TrainingSetup, algorithm_names, training_setup
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.services.training.execute import training_run_counted
from users.models import User

logger = logging.getLogger(__name__)

MIN_BUDGET_SECONDS = 5
MAX_BUDGET_SECONDS = 3600
MIN_FOLDS, MAX_FOLDS = 2, 10
MIN_TEST_SIZE, MAX_TEST_SIZE = 0.05, 0.5
MIN_TRIALS, MAX_TRIALS = 1, 500


@dataclass(frozen=True)
class TrainingOptions:
    """What the user asks for; `problem_type` None means the detected one, `features` None the default set,
    `algorithms` empty means Auto (all that apply). `max_trials` set makes the run exact: that many
    candidates of the deterministic plan, never cut by the budget (ml/training/automl.py)."""

    target: str
    problem_type: str | None = None
    features: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] = ()
    test_size: float = 0.2
    cv_folds: int = 5
    seed: int = 0
    budget_seconds: int = 60
    max_trials: int | None = None
    refit_all: bool = True


def _validate_numbers(options: TrainingOptions) -> None:
    errors = []
    if not MIN_BUDGET_SECONDS <= options.budget_seconds <= MAX_BUDGET_SECONDS:
        errors.append(f"The time budget must be between {MIN_BUDGET_SECONDS} and {MAX_BUDGET_SECONDS} seconds.")
    if not MIN_FOLDS <= options.cv_folds <= MAX_FOLDS:
        errors.append(f"Cross-validation folds must be between {MIN_FOLDS} and {MAX_FOLDS}.")
    if not MIN_TEST_SIZE <= options.test_size <= MAX_TEST_SIZE:
        errors.append(f"The test share must be between {MIN_TEST_SIZE:.0%} and {MAX_TEST_SIZE:.0%}.")
    if options.max_trials is not None and not MIN_TRIALS <= options.max_trials <= MAX_TRIALS:
        errors.append(f"Candidates to try must be between {MIN_TRIALS} and {MAX_TRIALS}.")
    if options.seed < 0:
        errors.append("The seed must be 0 or more.")
    if options.problem_type is not None and options.problem_type not in PROBLEM_TYPES:
        errors.append(f"Unknown task {options.problem_type!r}: choose one of {', '.join(PROBLEM_TYPES)}.")
    if errors:
        raise ValidationError(errors, code="invalid")


def _validate_choices(options: TrainingOptions, problem_type: str, columns: list[str]) -> None:
    if options.target not in columns:
        raise ValidationError(f"There is no column named {options.target!r}.", code="target")
    unknown = [name for name in options.algorithms if name not in algorithm_names()[problem_type]]
    if unknown:
        raise ValidationError(
            f"Not available for {problem_type}: {', '.join(unknown)}. "
            f"Choose from {', '.join(algorithm_names()[problem_type])}.",
            code="algorithms",
        )
    if options.features is not None and not options.features:
        raise ValidationError("Pick at least one feature column.", code="no_features")


def training_run_create(
    *,
    owner: User,
    version: DatasetVersion,
    options: TrainingOptions,
    idempotency_key: str = "",
    enqueue: bool = True,
) -> TrainingRun:
    """Check the settings and the data, then queue a run; the same `idempotency_key` returns the first run.

    `enqueue=False` leaves the run for the caller to execute in-process (the `train` command)."""
    if version.dataset.owner_id != owner.pk:
        raise ValidationError("You can only train on your own datasets.", code="owner")
    if idempotency_key:
        existing = TrainingRun.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    _validate_numbers(options)
    setup = training_setup(
        version=version,
        target=options.target,
        problem_type=options.problem_type,
        features=list(options.features) if options.features is not None else None,
        cv_folds=options.cv_folds,
    )
    _validate_choices(options, setup.problem_type, setup.columns)
    if not setup.ok:
        raise ValidationError([item.message for item in setup.blockers], code="preflight")
    return _create(owner, version, options, setup, idempotency_key, enqueue)


def _create(
    owner: User, version: DatasetVersion, options: TrainingOptions, setup: TrainingSetup, key: str, enqueue: bool
) -> TrainingRun:
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(
                owner=owner,
                dataset_version=version,
                idempotency_key=key,
                target=options.target,
                problem_type=setup.problem_type,
                problem_type_reason=setup.problem_type_reason[:300],
                features=list(options.features or []),
                algorithms=list(options.algorithms),
                test_size=options.test_size,
                cv_folds=options.cv_folds,
                seed=options.seed,
                budget_seconds=options.budget_seconds,
                max_trials=options.max_trials,
                refit_all=options.refit_all,
                progress={"stage": "queued"},
                warnings=[item.message for item in setup.warnings],
            )
            if enqueue:
                task_enqueue_on_commit("training_run_execute_task", run.pk)
    except IntegrityError:
        # A second click raced the first past the lookup above; the unique key kept one run.
        existing = TrainingRun.objects.filter(owner=owner, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing
    logger.info("training run %s queued: %s on dataset version %s", run.pk, run.target, version.pk)
    return run


def training_options_for(run: TrainingRun) -> TrainingOptions:
    """The options `run` was started with."""
    return TrainingOptions(
        target=run.target,
        problem_type=run.problem_type,
        features=tuple(run.features) or None,
        algorithms=tuple(run.algorithms),
        test_size=run.test_size,
        cv_folds=run.cv_folds,
        seed=run.seed,
        budget_seconds=run.budget_seconds,
        max_trials=run.max_trials,
        refit_all=run.refit_all,
    )


def training_run_repeat(*, owner: User, run: TrainingRun, idempotency_key: str = "") -> TrainingRun:
    """Queue an exact repeat of a finished run: its settings, with `max_trials` the candidates it reached,
    so the new run tries the same configurations whatever the machine's speed."""
    if run.status != TrainingRun.Status.SUCCEEDED or not run.candidates_tried:
        raise ValidationError("Only a finished run that recorded its candidates can be repeated.", code="not_done")
    options = replace(training_options_for(run), max_trials=min(run.candidates_tried, MAX_TRIALS))
    return training_run_create(
        owner=owner, version=run.dataset_version, options=options, idempotency_key=idempotency_key
    )


def training_run_without(
    *, owner: User, run: TrainingRun, columns: list[str], idempotency_key: str = ""
) -> TrainingRun:
    """Queue a run with `run`'s settings and its features less `columns` (the run page's "train again
    without these columns" when a leakage suspect is among its strongest)."""
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise ValidationError("Only a finished run can be trained again without some columns.", code="not_done")
    unknown = [name for name in columns if name not in run.used_features]
    if unknown or not columns:
        raise ValidationError("Pick columns the run used.", code="columns")
    features = tuple(name for name in run.used_features if name not in columns)
    if not features:
        raise ValidationError("Without these columns the run would have no features left.", code="no_features")
    options = replace(training_options_for(run), features=features)
    return training_run_create(
        owner=owner, version=run.dataset_version, options=options, idempotency_key=idempotency_key
    )


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cancel a queued run at once; ask a running one to stop (the worker ends it at the next check)."""
    now = timezone.now()
    stopped = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.CANCELLED, cancel_requested=True, finished_at=now, progress={"stage": "cancelled"}
    )
    if not stopped:
        asked = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).update(cancel_requested=True)
        if not asked:
            raise ValidationError("This run has already finished.", code="finished")
    run.refresh_from_db()
    if stopped:
        # No worker will see this run: count it here (a running one is counted by its worker when it stops).
        training_run_counted(run=run)
    return run
