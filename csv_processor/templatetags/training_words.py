"""Words for the training pages: the problem type and its reason as one sentence, metrics as people name them.

Presentation only: the stored values (problem type keys, `problem_type_reason`, metric keys) and the API stay
as they are.
"""

import math
import re
from dataclasses import dataclass

from django import template

from csv_processor.ml.training.evaluation import LOWER_IS_BETTER
from csv_processor.models import TrainingRun

register = template.Library()

# The per-class table shows every class up to this many, else this many of the largest (by test rows).
PER_CLASS_SHOWN = 20


@dataclass(frozen=True)
class MetricWords:
    label: str
    lower_is_better: bool = False


LABELS = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision_macro": "Precision",
    "recall_macro": "Recall",
    "f1_macro": "F1 score",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
}
METRICS = {key: MetricWords(label, key in LOWER_IS_BETTER) for key, label in LABELS.items()}

# The reasons ml.training.problem_type writes: "<evidence>: <verdict>", with " (you chose <type>)" on an override.
_REASON = re.compile(r"^(?P<evidence>.+?): (?P<verdict>.+?)(?: \(you chose (?P<chosen>\w+)\))?$")
_EVIDENCE = (
    (re.compile(r"^(\d+) values?$"), "the target has {0} value{1}"),
    (re.compile(r"^text with (\d+) values$"), "the target is text with {0} different values"),
    (re.compile(r"^integers with (\d+) values$"), "the target holds whole numbers with {0} different values"),
    (re.compile(r"^floats$"), "the target holds numbers with decimals"),
)


def _problem_type_label(problem_type: str) -> str:
    return (
        TrainingRun.ProblemType(problem_type).label if problem_type in TrainingRun.ProblemType.values else problem_type
    )


def _evidence_words(evidence: str, verdict: str) -> str | None:
    for pattern, words in _EVIDENCE:
        match = pattern.match(evidence)
        if match is None:
            continue
        count = match.group(1) if match.groups() else ""
        if verdict.startswith("cannot train"):
            return f"the target has only {count} value{'' if count == '1' else 's'}: a model needs at least 2"
        return words.format(count, "" if count == "1" else "s")
    return None


@register.filter
def problem_type_summary(problem_type: str, reason: str) -> str:
    """'Binary classification — the target has 2 values' from the problem type key and the detector's reason."""
    label = _problem_type_label(problem_type)
    match = _REASON.match(reason or "")
    evidence = _evidence_words(match["evidence"], match["verdict"]) if match else None
    if evidence is None:
        return f"{label} — {reason}" if reason else label
    if match["chosen"]:
        return f"{label} — your choice (it looked like {match['verdict']}: {evidence})"
    return f"{label} — {evidence}"


@register.filter
def problem_type_label(problem_type: str) -> str:
    return _problem_type_label(problem_type)


@register.filter
def metric_label(key: str) -> str:
    """'Balanced accuracy' for 'balanced_accuracy'; an unknown key is shown as it is."""
    words = METRICS.get(key)
    return words.label if words else key


def _compare(value: float, baseline: float | None, lower_is_better: bool) -> str:
    """'worse', 'same' or 'better' than the baseline; '' when there is nothing to compare with."""
    if baseline is None or not (math.isfinite(value) and math.isfinite(baseline)):
        return ""
    if math.isclose(value, baseline, rel_tol=1e-9, abs_tol=1e-12):
        return "same"
    return "better" if (value < baseline) == lower_is_better else "worse"


@register.simple_tag
def metric_boxes(run: TrainingRun) -> list[dict]:
    """One box per single-number test metric: label, raw key, value, baseline, direction and comparison."""
    boxes = []
    for key, value, baseline in run.scalar_metrics:
        words = METRICS.get(key, MetricWords(key))
        boxes.append(
            {
                "key": key,
                "label": words.label,
                "value": value,
                "baseline": baseline,
                "lower_is_better": words.lower_is_better,
                "versus_baseline": _compare(value, baseline, words.lower_is_better),
            }
        )
    return boxes


@register.filter
def budget_left(run: TrainingRun) -> str:
    """'about 35 s left' of the run's time budget at its last progress report; never negative."""
    progress = run.progress or {}
    remaining = progress.get("remaining")
    if remaining is None:
        remaining = run.budget_seconds - float(progress.get("elapsed") or 0)
    left = max(0.0, float(remaining))
    if left < 1:
        # Refit and scoring of the chosen model run after the search budget: the run ends shortly.
        return "time budget used up, finishing"
    if left < 90:
        return f"about {left:.0f} s left"
    return f"about {left / 60:.0f} min left"


@register.simple_tag
def per_class_table(run: TrainingRun) -> dict:
    """Rows (label, precision, recall, f1, support) of the test split per class, labelled as in the data.

    Up to PER_CLASS_SHOWN classes keep the model's order; beyond that the largest classes come first and
    `hidden` counts the classes left out (the run's metrics.json in MLflow has them all).
    """
    per_class = run.metrics.get("per_class") or {}
    rows = [{"label": label, **figures} for label, figures in per_class.items()]
    if len(rows) > PER_CLASS_SHOWN:
        rows = sorted(rows, key=lambda row: -row["support"])[:PER_CLASS_SHOWN]
    return {"rows": rows, "total": len(per_class), "hidden": len(per_class) - len(rows)}
