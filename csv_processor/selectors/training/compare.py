"""Side by side: 2-4 finished runs of one user on the same dataset and target (issue 18, "compare runs").

Only reads: the runs' stored metrics, settings, leaderboards and test-split curves. A run of another user is
a 404, like every object named in a URL; a choice that cannot be compared is a ValidationError (a 400).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from csv_processor.ml.training.evaluation import LOWER_IS_BETTER
from csv_processor.models import DeployedModel, TrainingRun
from users.models import User

MIN_RUNS, MAX_RUNS = 2, 4
BOARD_ROWS = 5


@dataclass(frozen=True)
class MetricRow:
    name: str
    values: list[float | None]
    best: int | None  # the column holding the best value; None when fewer than two runs have one


@dataclass(frozen=True)
class Comparison:
    runs: list[TrainingRun]
    metrics: list[MetricRow]
    deployed: list[bool]
    boards: list[list[dict]]
    curves: dict[str, Any]
    # Every run held out the same test rows (same version, seed and test share): scores compare exactly.
    same_split: bool


def training_runs_compare(*, user: User, run_ids: list[str]) -> Comparison:
    ids = _ids(run_ids)
    runs = list(TrainingRun.objects.filter(owner=user, pk__in=ids).select_related("dataset_version__dataset"))
    if len(runs) != len(ids):
        raise Http404("No such training run.")
    runs.sort(key=lambda run: ids.index(run.pk))
    unfinished = [f"#{run.pk}" for run in runs if run.status != TrainingRun.Status.SUCCEEDED]
    if unfinished:
        raise ValidationError(f"Only finished runs can be compared; {', '.join(unfinished)} did not succeed.")
    if len({(run.dataset_version.dataset_id, run.target) for run in runs}) > 1:
        raise ValidationError("Pick runs on the same dataset that predict the same column.")
    # Deployed: the version a deployed model answers with now came from the run.
    active = set(
        DeployedModel.objects.filter(owner=user, active_version__run__in=runs).values_list(
            "active_version__run_id", flat=True
        )
    )
    return Comparison(
        runs=runs,
        metrics=_metric_rows(runs),
        deployed=[run.pk in active for run in runs],
        boards=[run.leaderboard[:BOARD_ROWS] for run in runs],
        curves=_curves(runs),
        same_split=len({(run.dataset_version_id, run.seed, run.test_size) for run in runs}) == 1,
    )


def _ids(run_ids: list[str]) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(value) for value in run_ids))
    except ValueError:
        raise ValidationError("Runs are picked by their numbers.") from None
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise ValidationError(f"Pick {MIN_RUNS} to {MAX_RUNS} runs to compare (you picked {len(ids)}).")
    return ids


def _metric_rows(runs: list[TrainingRun]) -> list[MetricRow]:
    names = list(dict.fromkeys(name for run in runs for name, _, _ in run.scalar_metrics))
    rows = []
    for name in names:
        values = [_number(run.metrics.get(name)) for run in runs]
        present = [(value, i) for i, value in enumerate(values) if value is not None]
        best = None
        if len(present) > 1 and len({value for value, _ in present}) > 1:
            pick = min if name in LOWER_IS_BETTER else max
            best = pick(present)[1]
        rows.append(MetricRow(name=name, values=values, best=best))
    return rows


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _curves(runs: list[TrainingRun]) -> dict[str, Any]:
    """Each run's test-split curves, named by run, for the overlaid charts."""
    overlay: dict[str, list[dict]] = {"roc": [], "precision_recall": [], "predicted_vs_actual": [], "residuals": []}
    for run in runs:
        label = f"#{run.pk} {run.best_algorithm}"
        for kind in ("roc", "precision_recall"):
            curves = run.plots.get(kind) or {}
            for name, points in curves.items():
                overlay[kind].append({"name": label if len(curves) == 1 else f"{label} · {name}", **points})
        for kind in ("predicted_vs_actual", "residuals"):
            if run.plots.get(kind):
                overlay[kind].append({"name": label, **run.plots[kind]})
    return overlay
