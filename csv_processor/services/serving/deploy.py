"""Deploy models from training runs, activate versions (redeploy, roll back) and delete deployments.

Deploying precomputes what serving needs once per version: the pipeline's raw input columns with their
training dtypes, and the training distribution of each feature for drift. Requests never redo it.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from csv_processor.ml.serving.drift import reference_profile
from csv_processor.models import DeployedModel, ModelVersion, TrainingRun
from csv_processor.selectors.serving import input_spec_of
from csv_processor.selectors.training.setup import training_frame
from csv_processor.services.training.model_store import ModelFileError, trained_model_load
from users.models import User

logger = logging.getLogger(__name__)

REFERENCE_MAX_ROWS = 200_000


def _check_run(owner: User, run: TrainingRun) -> None:
    if run.owner_id != owner.pk:
        raise ValidationError("You can only deploy your own training runs.", code="owner")
    if run.status != TrainingRun.Status.SUCCEEDED or not hasattr(run, "trained_model"):
        raise ValidationError("Only a finished, successful run has a model to deploy.", code="not_ready")


def _version_inputs(run: TrainingRun) -> tuple[list[dict], dict]:
    """(input columns with dtypes, drift reference) from the run's pipeline and its training rows."""
    try:
        pipeline = trained_model_load(trained_model=run.trained_model)
    except ModelFileError as exc:
        raise ValidationError(str(exc), code="model_file") from exc
    frame, _ = training_frame(version=run.dataset_version)
    names = [str(c) for c in getattr(pipeline, "feature_names_in_", run.used_features)]
    columns = [{"name": n, "dtype": str(frame[n].dtype) if n in frame.columns else "object"} for n in names]
    test_rows = set(run.split.get("test_index") or [])
    train = frame[~frame.index.isin(list(test_rows))] if test_rows else frame
    if len(train) > REFERENCE_MAX_ROWS:
        train = train.sample(REFERENCE_MAX_ROWS, random_state=0)
    spec = input_spec_of(run=run, columns=columns)
    return columns, reference_profile(train, spec)


def deployed_model_deploy(
    *,
    owner: User,
    run: TrainingRun,
    deployed_model: DeployedModel | None = None,
    name: str = "",
    confirm_not_better: bool = False,
) -> DeployedModel:
    """Deploy `run`'s model as the active version of `deployed_model` (a new deployment when None).

    A model no better than its baseline (the card says so) is deployed only with `confirm_not_better`."""
    _check_run(owner, run)
    useless = (run.model_card or {}).get("not_better_than_baseline")
    if useless and not confirm_not_better:
        raise ValidationError(f"{useless} Tick “Deploy it anyway” to deploy it all the same.", code="not_better")
    if deployed_model is not None:
        if deployed_model.owner_id != owner.pk:
            raise ValidationError("You can only deploy to your own models.", code="owner")
        if (deployed_model.target, deployed_model.problem_type) != (run.target, run.problem_type):
            raise ValidationError(
                f"This model predicts {deployed_model.target!r} ({deployed_model.problem_type}); the run predicts "
                f"{run.target!r} ({run.problem_type}). Deploy it as a new model instead.",
                code="mismatch",
            )
    columns, reference = _version_inputs(run)
    with transaction.atomic():
        if deployed_model is None:
            dataset = run.dataset_version.dataset
            deployed_model = DeployedModel.objects.create(
                owner=owner,
                dataset=dataset,
                name=(name or f"{run.target} from {dataset.name}")[:200],
                problem_type=run.problem_type,
                target=run.target,
            )
        locked = DeployedModel.objects.select_for_update().get(pk=deployed_model.pk)
        number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            deployed_model=locked, number=number, run=run, input_columns=columns, reference=reference
        )
        locked.active_version = version
        locked.save(update_fields=["active_version", "updated_at"])
    logger.info("deployed run %s as model %s v%s", run.pk, locked.pk, number)
    return locked


def model_version_activate(*, deployed_model: DeployedModel, version: ModelVersion) -> DeployedModel:
    """Make `version` the one that answers: a redeploy or a rollback, effective on the next request."""
    if version.deployed_model_id != deployed_model.pk:
        raise ValidationError("That version belongs to another model.", code="version")
    deployed_model.active_version = version
    deployed_model.save(update_fields=["active_version", "updated_at"])
    logger.info("model %s: version %s is now active", deployed_model.pk, version.number)
    return deployed_model


def deployed_model_delete(*, deployed_model: DeployedModel) -> None:
    """Remove the endpoint and its log; the training runs, their models and MLflow entries stay."""
    deployed_model.delete()
