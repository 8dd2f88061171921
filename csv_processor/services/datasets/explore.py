"""Writes for "explore against the target" (issue 18 point 1): ask for a version's columns ranked against a
target, and compute that ranking in the worker. One row per (version, target, problem type) keeps the
result: a version never changes, so it is computed once and then read from the row."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from csv_processor.ml.profiling.target import explore_target
from csv_processor.ml.training import detect_problem_type
from csv_processor.ml.training.problem_type import PROBLEM_TYPES
from csv_processor.models import DatasetVersion, TargetExploration
from csv_processor.models.datasets import target_key_of
from csv_processor.selectors.datasets import dataset_version_frame
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.storage import StoredFileMissing, StoreUnavailable

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def target_exploration_request(
    *, version: DatasetVersion, target: str, problem_type: str | None = None
) -> TargetExploration:
    """The exploration of `version` against `target`, queued when it does not exist yet or failed before.
    `problem_type` None: detected from the target's values, as the training form does."""
    columns = [column["name"] for column in version.schema]
    if target not in columns:
        raise ValidationError("Pick a column of this version as the target.", code="target")
    if problem_type is None:
        values = dataset_version_frame(version=version, columns=[target])[target]
        problem_type = detect_problem_type(values).problem_type
    if problem_type not in PROBLEM_TYPES:
        raise ValidationError("The problem type must be binary, multiclass or regression.", code="problem_type")
    key: dict[str, Any] = {"version": version, "target_key": target_key_of(target), "problem_type": problem_type}
    try:
        with transaction.atomic():
            exploration, created = TargetExploration.objects.get_or_create(**key, defaults={"target": target})
    except IntegrityError:  # two requests at once: the other one made the row
        exploration, created = TargetExploration.objects.get(**key), False
    if created or _requeue_failed(exploration):
        task_enqueue_on_commit("target_exploration_task", exploration.pk)
        exploration.refresh_from_db()
    return exploration


def _requeue_failed(exploration: TargetExploration) -> bool:
    waiting = {"status": TargetExploration.Status.QUEUED, "progress": 0.0, "error": "", "finished_at": None}
    failed = TargetExploration.objects.filter(pk=exploration.pk, status=TargetExploration.Status.FAILED)
    return bool(failed.update(**waiting))


def target_exploration_execute(*, exploration_id: int) -> TargetExploration | None:
    """Compute a queued exploration; idempotent: only a queued row is taken, once."""
    if not TargetExploration.claim(exploration_id, progress=0.0):
        logger.info("exploration %s is not queued (deleted or already taken); nothing to do", exploration_id)
        return None
    exploration = TargetExploration.objects.select_related("version").get(pk=exploration_id)
    version = exploration.version
    try:
        frame = dataset_version_frame(version=version)
        kinds = {column["name"]: column.get("kind") for column in version.schema}
        result = explore_target(
            frame,
            exploration.target,
            exploration.problem_type,
            kinds=kinds,
            on_progress=_progress_writer(exploration_id),
        )
    except StoredFileMissing:
        return _fail(exploration_id, "The version's file is missing from storage.")
    except StoreUnavailable:
        return _fail(exploration_id, "The file store could not be reached. Try again in a few minutes.")
    except (KeyError, ValueError, TypeError) as exc:
        logger.warning("exploration %s failed: %s", exploration_id, exc)
        return _fail(exploration_id, "The columns could not be compared with this target.")
    except BaseException:
        _fail(exploration_id, "An unexpected error stopped the exploration. Try again.")
        raise
    TargetExploration.objects.filter(pk=exploration_id).update(
        status=TargetExploration.Status.READY, progress=1.0, result=result, finished_at=timezone.now()
    )
    exploration.refresh_from_db()
    return exploration


def _progress_writer(exploration_id: int) -> Callable[[float], None]:
    state = {"written_at": 0.0}

    def write(share: float) -> None:
        now = time.monotonic()
        if now - state["written_at"] < PROGRESS_EVERY_SECONDS:
            return
        state["written_at"] = now
        TargetExploration.objects.filter(pk=exploration_id).update(progress=min(share, 0.99))

    return write


def _fail(exploration_id: int, message: str) -> TargetExploration | None:
    TargetExploration.objects.filter(pk=exploration_id).update(
        status=TargetExploration.Status.FAILED, error=message, finished_at=timezone.now()
    )
    return TargetExploration.objects.filter(pk=exploration_id).first()
