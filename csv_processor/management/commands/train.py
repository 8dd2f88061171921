"""`manage.py train FILE_OR_DATASET_ID --target COL --owner USERNAME [--budget S] [--algorithms ...] [--seed N]
[--trials N] [--deploy]`.

Runs the same services as the web (import, checks, training, MLflow logging, deploying) in this process,
with a progress bar on stderr, and prints a JSON summary as the only line of stdout: the app's log lines
and what MLflow prints go to stderr while it runs, so `manage.py train ... | jq` works. `--deploy` deploys a
successful run's model as the next version of the owner's newest model of that dataset, target and problem type,
or as a new model when there is none; a failed run deploys nothing.
"""

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.urls import reverse

from csv_processor.models import Dataset, DeployedModel, TrainingRun
from csv_processor.selectors.datasets import dataset_get_for_user
from csv_processor.selectors.serving import deploy_target_for_run
from csv_processor.selectors.training.runs import training_run_summary
from csv_processor.services.datasets.imports import dataset_import_file
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.runs import TrainingOptions, training_run_create
from users.models import User


class Command(BaseCommand):
    help = "Train a model on a CSV file or an existing dataset, as the web's Train button does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="A CSV file to import first, or the id of one of the owner's datasets.")
        parser.add_argument("--target", required=True, help="The column to predict.")
        parser.add_argument("--owner", required=True, help="Username of the owner.")
        parser.add_argument("--task", choices=["binary", "multiclass", "regression"], help="Default: detected.")
        parser.add_argument("--budget", type=int, default=60, help="Time budget in seconds (5 to 3600).")
        parser.add_argument("--algorithms", nargs="*", default=[], help="Default: Auto (all that apply).")
        parser.add_argument("--features", nargs="*", help="Default: all but identifier-like columns.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--trials",
            type=int,
            default=None,
            help="Run exactly this many candidates (1 to 500) for a repeatable leaderboard; the budget then does "
            "not cut the plan (a run stops after 1 hour). Default: as many as the budget allows.",
        )
        parser.add_argument(
            "--keep-evaluated",
            action="store_true",
            help="Keep the model as evaluated (fitted on the training split) instead of refitting it on all rows.",
        )
        parser.add_argument("--cv-folds", type=int, default=5)
        parser.add_argument("--test-size", type=float, default=0.2)
        parser.add_argument(
            "--deploy",
            action="store_true",
            help="Deploy the model once trained: the next version of the owner's model of this dataset and target, "
            "else a new model.",
        )
        parser.add_argument(
            "--deploy-anyway",
            action="store_true",
            help="With --deploy: deploy even a model no better than always answering the baseline's guess.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with _stdout_to_stderr():
            summary, failure = self._train(options)
        self.stdout.write(json.dumps(summary))
        if failure:
            raise CommandError(failure)

    def _train(self, options: dict[str, Any]) -> tuple[dict, str]:
        """(the JSON summary, the error to end with or "")."""
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user named {options['owner']!r}.")
        dataset = self._dataset(owner, options["source"])
        try:
            run = training_run_create(
                owner=owner, version=dataset.current_version, options=_options(options), enqueue=False
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        run = training_run_execute(run_id=run.pk, on_progress=self._progress) or TrainingRun.objects.get(pk=run.pk)
        self.stderr.write("")
        summary = training_run_summary(run=run)
        if run.status != TrainingRun.Status.SUCCEEDED:
            not_deployed = " Nothing was deployed." if options["deploy"] else ""
            return summary, f"Training {run.get_status_display().lower()}: {run.error}{not_deployed}"
        if options["deploy"]:
            try:
                summary["deployed"] = _deployed(_deploy(owner, run, confirm_not_better=options["deploy_anyway"]))
            except ValidationError as exc:
                return summary, f"Trained, but not deployed: {' '.join(exc.messages)}"
        return summary, ""

    def _dataset(self, owner: User, source: str) -> Dataset:
        path = Path(source)
        if path.is_file():
            try:
                return dataset_import_file(owner=owner, path=path, on_progress=self._import_progress)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        if not source.isdigit():
            raise CommandError(f"{source!r} is neither a file nor a dataset id.")
        try:
            dataset = dataset_get_for_user(user=owner, dataset_id=int(source))
        except Http404 as exc:
            raise CommandError(f"{owner} has no dataset {source}.") from exc
        if dataset.current_version is None:
            raise CommandError(f"Dataset {source} has no data yet.")
        return dataset

    def _import_progress(self, share: float) -> None:
        self.stderr.write(f"\rimporting [{'#' * int(share * 30):<30}] {share:4.0%}", ending="")

    def _progress(self, state: dict) -> None:
        total = (state.get("elapsed") or 0) + (state.get("remaining") or 0)
        share = min((state.get("elapsed") or 0) / total, 1.0) if total else 0.0
        bar = "#" * int(share * 30)
        stage = state.get("stage", "")
        self.stderr.write(f"\rtraining [{bar:<30}] {state.get('elapsed', 0):6.1f}s {stage:<10}", ending="")


def _options(options: dict) -> TrainingOptions:
    return TrainingOptions(
        target=options["target"],
        problem_type=options["task"],
        features=tuple(options["features"]) if options["features"] is not None else None,
        algorithms=tuple(options["algorithms"]),
        test_size=options["test_size"],
        cv_folds=options["cv_folds"],
        seed=options["seed"],
        budget_seconds=options["budget"],
        max_trials=options["trials"],
        refit_all=not options["keep_evaluated"],
    )


def _deploy(owner: User, run: TrainingRun, *, confirm_not_better: bool) -> DeployedModel:
    target = deploy_target_for_run(user=owner, run=run)
    return deployed_model_deploy(owner=owner, run=run, deployed_model=target, confirm_not_better=confirm_not_better)


def _deployed(model: DeployedModel) -> dict:
    return {
        "model_id": model.pk,
        "name": model.name,
        "version": model.active_version.number,
        "endpoint": reverse("csv_processor_api:predict", args=[model.pk]),
        "invocations": reverse("csv_processor_api:invocations", args=[model.pk]),
    }


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what the run prints (MLflow's hints and registry messages) and the log lines the settings send
    to stdout to stderr instead, so stdout carries the JSON line alone."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict))]
    moved = []
    for handler in {handler for logger in loggers for handler in logger.handlers}:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.__stdout__):
            moved.append((handler, handler.setStream(sys.stderr)))
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)
