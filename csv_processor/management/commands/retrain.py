"""`manage.py retrain MODEL_ID [--dataset-version N] [--owner USERNAME] [--promote]`: retrain a deployed model
in this process and compare.

The candidate trains with the active version's settings and held-out rows on the dataset's current
version (or --dataset-version N), then both are scored on those rows. Promote it from the model page, or with
`--promote` here when the candidate scores at least as well.
"""

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from csv_processor.models import DatasetVersion, DeployedModel, ModelRetrain
from csv_processor.services.serving.retrain import model_retrain_compare, model_retrain_promote, model_retrain_start
from csv_processor.services.training.execute import training_run_execute


class Command(BaseCommand):
    help = "Retrain a deployed model on a newer dataset version and compare it with the active version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model_id", type=int)
        parser.add_argument(
            "--dataset-version",
            type=int,
            help="Number of a newer version of the model's dataset (default: the current one).",
        )
        parser.add_argument("--owner", help="Username the model must belong to (a check against a wrong id).")
        parser.add_argument("--promote", action="store_true", help="Promote the candidate if it is at least as good.")

    def handle(self, *args: str, **options: Any) -> None:
        model = self._model(options["model_id"], options["owner"])
        version = None
        if options["dataset_version"] is not None:
            version = _dataset_version(model, options["dataset_version"])
        try:
            retrain = model_retrain_start(deployed_model=model, version=version)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        # Runs now unless a worker already took it; either way the comparison needs a finished run.
        run = training_run_execute(run_id=retrain.run_id) or retrain.run
        run.refresh_from_db()
        while run.is_in_progress:
            time.sleep(1)
            run.refresh_from_db()
        if run.status != run.Status.SUCCEEDED:
            raise CommandError(f"Training run {run.pk} did not succeed ({run.status}): {run.error}")
        retrain = model_retrain_compare(retrain_id=retrain.pk) or ModelRetrain.objects.get(pk=retrain.pk)
        self._report(retrain, options["promote"])

    def _model(self, model_id: int, owner: str | None) -> DeployedModel:
        models = DeployedModel.objects.select_related("owner", "dataset", "active_version__run__dataset_version")
        model = models.filter(pk=model_id).first()
        if model is None:
            raise CommandError(f"No deployed model {model_id}.")
        if owner is not None and model.owner.get_username() != owner:
            raise CommandError(f"Deployed model {model_id} does not belong to {owner!r}.")
        return model

    def _report(self, retrain: ModelRetrain, promote: bool) -> None:
        if retrain.status == ModelRetrain.Status.FAILED:
            raise CommandError(retrain.error)
        comparison = retrain.comparison
        scores = comparison.get("scores", {})
        self.stdout.write(
            f"retrain {retrain.pk}: on {comparison.get('rows')} held-out rows, {comparison.get('metric')} "
            f"active {scores.get('active', float('nan')):.4f}, candidate {scores.get('candidate', float('nan')):.4f}"
        )
        if promote and retrain.status == ModelRetrain.Status.READY and comparison.get("candidate_better"):
            model = model_retrain_promote(retrain=retrain)
            self.stdout.write(self.style.SUCCESS(f"promoted: version {model.active_version.number} is active"))
        elif retrain.status == ModelRetrain.Status.READY:
            self.stdout.write("decide on the model page (promote or keep)")


def _dataset_version(model: DeployedModel, number: int) -> DatasetVersion:
    version = DatasetVersion.objects.filter(dataset=model.dataset, number=number).first()
    if version is None:
        numbers = list(model.dataset.versions.values_list("number", flat=True))
        known = f"it has {', '.join(map(str, numbers))}" if numbers else "it has none"
        raise CommandError(f"Dataset {model.dataset.name!r} has no version {number} ({known}).")
    return version
