"""The model card: what the model predicts and how well, in sentences a non-specialist can read."""

import logging

logger = logging.getLogger(__name__)

TOP_FEATURES = 3
SMALL_CLASS_ROWS = 30
SMALL_DATA_ROWS = 200
PROBLEM_TYPE_WORDS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
}


def model_card(
    *,
    target: str,
    problem_type: str,
    algorithm: str,
    features: tuple[str, ...],
    metrics: dict,
    baseline_metrics: dict,
    importance: list[dict],
    warnings: list[str],
    class_counts: dict[str, int],
    n_train: int,
    n_test: int,
    baseline_answer: str = "",
    refit_rows: int = 0,
) -> dict:
    """Short texts (summary, performance, baseline, strongest features, limits) and what they rest on.
    `baseline_answer`: what the baseline always answers (the most common class, or the average)."""
    performance, baseline = (_classification_text if problem_type != "regression" else _regression_text)(
        metrics, baseline_metrics, n_test
    )
    strongest = [row for row in importance if row["importance"] > 0][:TOP_FEATURES]
    useless = not_better_than_baseline(problem_type, metrics, baseline_metrics, baseline_answer)
    limits = _limits(problem_type, class_counts, warnings, n_train)
    return {
        "not_better_than_baseline": useless,
        "target": target,
        "task": problem_type,  # the stored card keeps its key: the API and old cards show it
        "algorithm": algorithm,
        "summary": f"Predicts {target!r} ({PROBLEM_TYPE_WORDS[problem_type]}) from {len(features)} columns "
        f"with {algorithm}, {_rows_text(n_train, n_test, refit_rows)}",
        "performance": performance,
        "baseline": useless or baseline,
        "strongest_features": [row["feature"] for row in strongest],
        "strongest_features_text": _features_text(strongest, problem_type),
        "limits": [useless, *limits] if useless else limits,
    }


# A model this close to its baseline only looks good (issue 13 point 4): 94.7% accuracy on a table with 5.3%
# positives can be "always no". Balanced accuracy sees through class shares; R² already compares with the mean.
BALANCED_ACCURACY_MARGIN = 0.02
MIN_USEFUL_R2 = 0.02


def not_better_than_baseline(problem_type: str, metrics: dict, baseline: dict, answer: str) -> str | None:
    """The sentence that says the model is no better than always answering one thing, or None."""
    if problem_type == "regression":
        r2 = metrics.get("r2")
        if r2 is None or r2 >= MIN_USEFUL_R2:
            return None
        average = f"the average ({answer})" if answer else "the average"
        return (
            f"Not better than always answering {average}: R² {r2:.3f} on the test rows, where 0 is that guess. "
            "The columns may not carry information about the target."
        )
    ours, guess = metrics.get("balanced_accuracy"), baseline.get("balanced_accuracy")
    if ours is None or guess is None or ours - guess >= BALANCED_ACCURACY_MARGIN:
        return None
    guess_words = f"“{answer}”" if answer else "the most common class"
    return (
        f"Not better than always answering {guess_words}: balanced accuracy {ours:.3f} on the test rows against "
        f"{guess:.3f} for that guess (accuracy alone hides it when one class is common)."
    )


def _rows_text(n_train: int, n_test: int, refit_rows: int) -> str:
    if refit_rows > n_train:
        return (
            f"scored on {n_test} held-out rows it never saw (trained on {n_train}), then refitted on all "
            f"{refit_rows} rows: the model you deploy learnt from every row."
        )
    return f"trained on {n_train} rows and tested on {n_test} rows it never saw."


def data_summary(*, dataset: str, version: int, steps: list[str]) -> dict:
    """What data the model learnt from: the dataset, its version and the cleaning steps that made that
    version from the upload (`steps` as the dataset page words them, oldest first)."""
    recipe = "; ".join(step[:1].lower() + step[1:] for step in steps)
    made = f"made from the upload by: {recipe}" if recipe else "the file as parsed from the upload, no cleaning steps"
    return {
        "dataset": dataset,
        "dataset_version": version,
        "recipe": list(steps),
        "data_text": f"Learnt from version {version} of {dataset!r}, {made}.",
    }


def card_markdown(card: dict) -> str:
    """The card's words as Markdown, in the order the run page shows them (`_model_card_text.html`)."""
    lines = ["# The model in plain words", ""]
    for key in ("summary", "data_text", "performance", "baseline", "strongest_features_text"):
        if card.get(key):
            lines += [card[key], ""]
    if card.get("limits"):
        lines += ["## Limits", "", *(f"- {item}" for item in card["limits"]), ""]
    return "\n".join(lines)


def _classification_text(metrics: dict, baseline: dict, n_test: int) -> tuple[str, str]:
    ours, guess = metrics["accuracy"], baseline["accuracy"]
    performance = f"Right {ours:.0%} of the time on the test rows; guessing the most common class is right {guess:.0%}."
    if metrics.get("roc_auc") is not None:
        performance += f" Ranking quality (ROC AUC) {metrics['roc_auc']:.2f}, where 0.5 is chance."
    return performance, _versus(ours - guess, "percentage points of accuracy", scale=100)


def _regression_text(metrics: dict, baseline: dict, n_test: int) -> tuple[str, str]:
    performance = (
        f"Explains {max(metrics['r2'], 0):.0%} of the variation in the test rows (R² {metrics['r2']:.3f}); "
        f"typical error (MAE) {metrics['mae']:.4g}, against {baseline['mae']:.4g} when always guessing the average."
    )
    gain = 1 - metrics["mae"] / baseline["mae"] if baseline["mae"] else 0.0
    return performance, _versus(gain, "% smaller typical error than guessing the average", scale=100)


def _versus(gain: float, unit: str, *, scale: float) -> str:
    if gain <= 0:
        return "No better than the baseline: the chosen columns may not carry information about the target."
    return f"Better than the baseline by {gain * scale:.0f}{'' if unit.startswith('%') else ' '}{unit}."


def _features_text(strongest: list[dict], problem_type: str) -> str:
    if not strongest:
        return "No single column matters much on its own."
    metric = "accuracy" if problem_type != "regression" else "R²"
    parts = [f"{row['feature']!r} (shuffling it costs {row['importance']:.3f} {metric})" for row in strongest]
    return "Strongest columns: " + ", ".join(parts) + "."


def _limits(problem_type: str, class_counts: dict[str, int], warnings: list[str], n_train: int) -> list[str]:
    limits = list(warnings)
    if n_train < SMALL_DATA_ROWS:
        limits.append(f"Trained on only {n_train} rows: expect scores on new data to vary.")
    small = [f"{label!r} ({count} rows)" for label, count in class_counts.items() if count < SMALL_CLASS_ROWS]
    if problem_type != "regression" and small:
        limits.append(f"Few training examples for {', '.join(small)}: predictions of these classes are less reliable.")
    limits.append(
        "Scores come from one held-back split of this file; data from another period or source may score lower."
    )
    return limits
