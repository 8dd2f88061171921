"""The "Download as Python" script of a succeeded run, from the facts the run and its version stored."""

from csv_processor.ml.training.script import NotReproducible, ScriptFacts, script_refusal, write_script
from csv_processor.models import TrainingRun
from csv_processor.selectors.datasets import dataset_version_download_name

__all__ = ["NotReproducible", "training_run_script", "training_run_script_refusal"]


def _facts(run: TrainingRun) -> ScriptFacts:
    version = run.dataset_version
    chosen = run.leaderboard[0] if run.leaderboard else {}
    return ScriptFacts(
        run_id=run.pk,
        dataset=version.dataset.name,
        version=version.number,
        parquet_name=dataset_version_download_name(version=version, suffix=".parquet"),
        target=run.target,
        problem_type=run.problem_type,
        kinds={name: run.feature_schema[name]["kind"] for name in run.used_features},
        dtypes={column["name"]: column.get("dtype", "") for column in version.schema},
        algorithm=chosen.get("algorithm", run.best_algorithm),
        params=dict(chosen.get("params") or {}),
        seed=run.seed,
        test_size=run.test_size,
        cv_folds=run.cv_folds,
        main_metric=run.main_metric,
        replayed_split=bool(run.split.get("replay")),
    )


def training_run_script_refusal(*, run: TrainingRun) -> str | None:
    """Why the run offers no script (not finished, or not reproducible exactly), or None."""
    if run.status != TrainingRun.Status.SUCCEEDED:
        return "Only a run that succeeded can be reproduced."
    return script_refusal(_facts(run))


def training_run_script(*, run: TrainingRun) -> str:
    """The script's text; raises NotReproducible with the reason when there is none."""
    reason = training_run_script_refusal(run=run)
    if reason is not None:
        raise NotReproducible(reason)
    return write_script(_facts(run))
