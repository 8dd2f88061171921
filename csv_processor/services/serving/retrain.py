"""Retrain a deployed model with its settings on a newer dataset version, compare the candidate with the
active version on the same held-out rows, then promote it or keep the old one.

Automatic retraining (issue 18 point 7): a model retrains on its dataset's newest version every day or
week, or when its drift alert fires (`model_retrains_automatic`, from the worker's serving maintenance).
The comparison then decides: the candidate replaces the active version only when it scores strictly
better on the same held-out rows; otherwise the active version stays. A dataset version already tried
against the active version is not tried again: the schedule waits for newer data.

The candidate's run is queued with the active run's test rows (`split.test_index`, replayed by the
training job), so neither model has seen the rows they are compared on. Both runs stay in the MLflow
registry under the same registered model name (training logs every run there).
"""

import datetime as dt
import logging
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csv_processor.ml.cleaning.recipe import Recipe
from csv_processor.ml.serving.compare import compare_on_rows
from csv_processor.ml.serving.drift import alert_fires
from csv_processor.ml.training import TrainConfig
from csv_processor.models import DatasetVersion, DeployedModel, ModelRetrain, ModelVersion, TrainingRun
from csv_processor.selectors.serving import model_retrain_open, retrain_next_check
from csv_processor.selectors.training.setup import training_frame
from csv_processor.services.jobs.queue import task_enqueue
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.model_store import ModelFileError, trained_model_load
from csv_processor.services.training.runs import TrainingOptions, training_options_for, training_run_create

logger = logging.getLogger(__name__)


def _options(run: TrainingRun) -> TrainingOptions:
    # The features the model was trained on, whatever the new version's default set would be.
    return replace(training_options_for(run), features=tuple(run.used_features) or None)


def model_retrain_start(
    *,
    deployed_model: DeployedModel,
    version: DatasetVersion | None = None,
    trigger: str = ModelRetrain.Trigger.MANUAL,
) -> ModelRetrain:
    """Queue the candidate's training on `version` (default: the dataset's current version).

    A second request while that retraining is open (a double click) returns it; once the user promoted or
    kept it, a new request starts a new one. `trigger` other than manual: decided by the comparison."""
    base = deployed_model.active_version
    if base is None:
        raise ValidationError("Deploy a version first; there is nothing to retrain.", code="not_ready")
    version = version or deployed_model.dataset.current_version
    if version is None or version.dataset_id != deployed_model.dataset_id:
        raise ValidationError("Retrain on a version of the model's own dataset.", code="version")
    _check_newer(version, base)
    open_retrain = model_retrain_open(deployed_model=deployed_model)
    if open_retrain is not None:
        return _same_or_refuse(open_retrain, base, version)
    # The count of earlier retrainings makes the key new once the last one is decided, and the same for two
    # concurrent clicks (the unique key then keeps one run).
    key = f"retrain-{deployed_model.pk}-{base.pk}-{version.pk}-{deployed_model.retrains.count()}"
    with transaction.atomic():
        run = training_run_create(
            owner=deployed_model.owner, version=version, options=_options(base.run), idempotency_key=key
        )
        # Read by the training job before the task can start (it is enqueued on commit).
        TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
            split={"test_index": base.run.split.get("test_index", []), "replay": True}
        )
        retrain, _ = ModelRetrain.objects.get_or_create(
            run=run, defaults={"deployed_model": deployed_model, "base_version": base, "trigger": trigger}
        )
    logger.info("model %s: retraining queued as run %s on dataset version %s", deployed_model.pk, run.pk, version.pk)
    return retrain


def _check_newer(version: DatasetVersion, base: ModelVersion) -> None:
    """Refuse data that is not newer than what the active version learnt from: the candidate would be the
    same model again (or an older one)."""
    trained_on = base.run.dataset_version
    older = (
        version.number <= trained_on.number
        if version.dataset_id == trained_on.dataset_id
        else version.created_at <= trained_on.created_at
    )
    if older:
        raise ValidationError(
            f"Dataset version {version.number} is not newer than the data active version {base.number} was "
            f"trained on (version {trained_on.number} of {trained_on.dataset.name!r}). Upload or clean newer "
            "data first, then retrain.",
            code="not_newer",
        )


def _same_or_refuse(open_retrain: ModelRetrain, base: ModelVersion, version: DatasetVersion) -> ModelRetrain:
    if open_retrain.status == ModelRetrain.Status.READY:
        raise ValidationError(
            f"Retraining run #{open_retrain.run_id} is waiting for your decision: promote or keep it first.",
            code="undecided",
        )
    if (open_retrain.base_version_id, open_retrain.run.dataset_version_id) != (base.pk, version.pk):
        raise ValidationError(
            f"Retraining run #{open_retrain.run_id} on dataset version "
            f"{open_retrain.run.dataset_version.number} is still running: wait for it, then decide.",
            code="busy",
        )
    return open_retrain


def model_retrain_compare(*, retrain_id: int) -> ModelRetrain | None:
    """Score the active and the candidate pipelines on the held-out rows; READY when done, FAILED if not."""
    claimed = ModelRetrain.claim(retrain_id)
    if not claimed:
        return None
    retrain = ModelRetrain.objects.select_related("run__trained_model", "base_version__run__trained_model").get(
        pk=retrain_id
    )
    try:
        comparison = _compare(retrain)
    except (ModelFileError, ValueError, OSError) as exc:
        logger.warning("retrain %s: comparison failed: %s", retrain.pk, exc)
        return _set(retrain, ModelRetrain.Status.FAILED, error=f"The comparison failed: {exc}")
    retrain = _set(retrain, ModelRetrain.Status.READY, comparison=comparison)
    if retrain.trigger != ModelRetrain.Trigger.MANUAL:
        return _decide_automatically(retrain)
    return retrain


def _decide_automatically(retrain: ModelRetrain) -> ModelRetrain:
    """Promote the candidate when it is strictly better on the held-out rows, else keep the active version.
    A better candidate that is itself no better than its baseline is kept out too, with the reason."""
    scores = retrain.comparison["scores"]
    if scores["candidate"] <= scores["active"]:
        logger.info("retrain %s: active version kept, the candidate is not better (%s)", retrain.pk, scores)
        return model_retrain_keep(retrain=retrain)
    try:
        model_retrain_promote(retrain=retrain, confirm_not_better=False)
    except ValidationError as exc:
        reason = " ".join(exc.messages)
        if exc.code != "not_better":
            return _set(retrain, ModelRetrain.Status.FAILED, error=reason)
        logger.info("retrain %s: active version kept, the better candidate is no better than its baseline", retrain.pk)
        return _set(retrain, ModelRetrain.Status.KEPT, decided_at=timezone.now(), error=reason)
    logger.info("retrain %s: candidate promoted automatically (%s)", retrain.pk, scores)
    retrain.refresh_from_db()
    return retrain


def _compare(retrain: ModelRetrain) -> dict:
    candidate, active = retrain.run, retrain.base_version.run
    frame, steps = training_frame(version=candidate.dataset_version)
    config = TrainConfig(
        target=candidate.target,
        problem_type=candidate.problem_type,
        features=tuple(candidate.used_features),
        recipe_steps=tuple(steps),
        test_size=candidate.test_size,
    )
    pipelines = {
        # The evaluated models: the deployed ones may have been refitted on every row, these rows included.
        "active": trained_model_load(trained_model=active.trained_model, evaluated=True),
        "candidate": trained_model_load(trained_model=candidate.trained_model, evaluated=True),
    }
    result = compare_on_rows(pipelines, frame, config, active.split.get("test_index") or [])
    better = result["scores"]["candidate"] >= result["scores"]["active"]
    return {
        **result,
        "metric": "r2" if candidate.problem_type == "regression" else "accuracy",
        "candidate_better": better,
        "recipe_digest": Recipe.from_list(steps).digest() if steps else "",
    }


def _set(retrain: ModelRetrain, status: str, **fields: object) -> ModelRetrain:
    for name, value in fields.items():
        setattr(retrain, name, value)
    retrain.status = status
    retrain.save(update_fields=["status", *fields])
    return retrain


def model_retrain_promote(*, retrain: ModelRetrain, confirm_not_better: bool = True) -> DeployedModel:
    """Deploy the candidate as the new active version; the old version stays for a rollback. The user's
    click on "Promote" confirms it; an automatic decision never deploys a model no better than its
    baseline (`confirm_not_better=False`)."""
    if retrain.status != ModelRetrain.Status.READY:
        raise ValidationError("Only a compared candidate can be promoted.", code="state")
    model = deployed_model_deploy(
        owner=retrain.deployed_model.owner,
        run=retrain.run,
        deployed_model=retrain.deployed_model,
        confirm_not_better=confirm_not_better,
    )
    retrain.decided_at = timezone.now()
    _set(retrain, ModelRetrain.Status.PROMOTED, decided_at=retrain.decided_at)
    return model


def model_retrain_keep(*, retrain: ModelRetrain) -> ModelRetrain:
    """Keep the active version; the candidate's run and its MLflow entry stay."""
    if retrain.status not in (ModelRetrain.Status.READY, ModelRetrain.Status.FAILED):
        raise ValidationError("This retraining is not waiting for a decision.", code="state")
    return _set(retrain, ModelRetrain.Status.KEPT, decided_at=timezone.now())


def model_retrains_check() -> list[int]:
    """Move retrainings on once their training ended: compare (in the worker) or fail; return ids compared."""
    waiting = ModelRetrain.objects.filter(status=ModelRetrain.Status.TRAINING).select_related("run")
    queued = []
    for retrain in waiting:
        if retrain.run.status == TrainingRun.Status.SUCCEEDED:
            task_enqueue("model_retrain_compare_task", retrain.pk)
            queued.append(retrain.pk)
        elif retrain.run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED):
            _set(retrain, ModelRetrain.Status.FAILED, error=retrain.run.error or "Training did not finish.")
    return queued


def deployed_model_retrain_schedule_set(
    *, deployed_model: DeployedModel, schedule: str, on_drift: bool
) -> DeployedModel:
    """Set when the model retrains by itself. A new schedule counts from now: the first look is one period
    later (the "Retrain on the latest data" button is there for now)."""
    if schedule not in DeployedModel.RetrainSchedule.values:
        raise ValidationError("Choose never, every day or every week.", code="schedule")
    fields = ["retrain_schedule", "retrain_on_drift", "updated_at"]
    if schedule != deployed_model.retrain_schedule:
        deployed_model.retrain_checked_at = timezone.now()
        deployed_model.retrain_check_note = ""
        fields += ["retrain_checked_at", "retrain_check_note"]
    deployed_model.retrain_schedule = schedule
    deployed_model.retrain_on_drift = on_drift
    deployed_model.save(update_fields=fields)
    return deployed_model


def model_retrains_automatic(*, now: dt.datetime | None = None) -> list[int]:
    """Start the retrainings that are due: on schedule, or on a firing drift alert; return their ids.

    Run by the serving maintenance after the drift is computed. Each look is claimed with a conditional
    update of `retrain_checked_at`, so two workers never both start one; what the look found is kept in
    `retrain_check_note` for the model page."""
    now = now or timezone.now()
    started = []
    models = DeployedModel.objects.filter(active_version__isnull=False).exclude(
        retrain_schedule=DeployedModel.RetrainSchedule.OFF, retrain_on_drift=False
    )
    for model in models.select_related("active_version__run__dataset_version", "dataset__current_version"):
        trigger = _due(model, now)
        if trigger is None:
            continue
        claimed = DeployedModel.objects.filter(pk=model.pk, retrain_checked_at=model.retrain_checked_at).update(
            retrain_checked_at=now
        )
        if not claimed:
            continue
        retrain = _automatic_start(model, trigger)
        if retrain is not None:
            started.append(retrain.pk)
    return started


def _due(model: DeployedModel, now: dt.datetime) -> str | None:
    drift = model.drift or {}
    firing = model.retrain_on_drift and alert_fires(drift.get("features") or [], drift.get("rows", 0))
    # Looked at most once a drift computation: the alert stays up until the inputs change.
    unseen = model.retrain_checked_at is None or (
        model.drift_computed_at is not None and model.retrain_checked_at < model.drift_computed_at
    )
    if firing and unseen:
        return ModelRetrain.Trigger.DRIFT
    next_check = retrain_next_check(model)
    if next_check is not None and next_check <= now:
        return ModelRetrain.Trigger.SCHEDULE
    return None


def _automatic_start(model: DeployedModel, trigger: str) -> ModelRetrain | None:
    version = model.dataset.current_version
    base = model.active_version
    assert base is not None
    tried = (
        model.retrains.filter(base_version=base, run__dataset_version=version).select_related("run").first()
        if version is not None
        else None
    )
    retrain = None
    if tried is not None:
        assert version is not None
        note = (
            f"Dataset version {version.number} was already tried against active version "
            f"{base.number} (run #{tried.run_id}); waiting for newer data."
        )
    else:
        try:
            retrain = model_retrain_start(deployed_model=model, trigger=trigger)
        except ValidationError as exc:
            note = " ".join(exc.messages)
        else:
            label = ModelRetrain.Trigger(trigger).label.lower()
            note = (
                f"Retraining {label} started on dataset version {retrain.run.dataset_version.number} "
                f"(run #{retrain.run_id})."
            )
    DeployedModel.objects.filter(pk=model.pk).update(retrain_check_note=note[:500])
    logger.info("model %s: automatic retraining look (%s): %s", model.pk, trigger, note)
    return retrain
