"""Test-split metrics and plot points, as plain dicts of floats, lists and strings (JSON-ready).

The main metric, used to rank trials and shown first, is accuracy for classification (what "right
84% of the time" means to a reader) and R² for regression. Class labels become strings in every dict.
"""

import logging

import numpy as np
from sklearn import metrics

from csv_processor.ml.training.card import model_card

logger = logging.getLogger(__name__)

__all__ = ["MAIN_METRIC", "classification_report", "main_score", "model_card", "regression_report"]

MAIN_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
# Test metrics where less is better; every other one is better higher.
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
MAX_CURVE_POINTS = 200
MAX_SCATTER_POINTS = 500


def main_score(problem_type: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Accuracy or R², higher is better for both."""
    if problem_type == "regression":
        return float(metrics.r2_score(y_true, y_pred))
    return float(metrics.accuracy_score(y_true, y_pred))


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list
) -> tuple[dict, dict]:
    """(metrics, plots) for a classifier on the test split; `proba` columns follow `classes`."""
    labels = [str(c) for c in classes]
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    result = {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)),
        "precision_macro": float(np.mean(precision)),
        "recall_macro": float(np.mean(recall)),
        "f1_macro": float(np.mean(f1)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "roc_auc": _roc_auc(y_true, proba, classes),
        "log_loss": float(metrics.log_loss(y_true, proba, labels=classes)) if proba is not None else None,
        "confusion_matrix": {
            "labels": labels,
            "matrix": metrics.confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        },
    }
    return result, _curves(y_true, proba, classes) if proba is not None else {}


def _roc_auc(y_true: np.ndarray, proba: np.ndarray | None, classes: list) -> float | None:
    present = set(np.unique(y_true).tolist())
    if proba is None or len(present) < 2:
        return None
    if len(classes) == 2:
        return float(metrics.roc_auc_score(y_true == classes[1], proba[:, 1]))
    if present != set(classes):
        # One-vs-rest AUC is undefined for a class missing from the test split.
        return None
    return float(metrics.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))


def _curves(y_true: np.ndarray, proba: np.ndarray, classes: list) -> dict:
    """ROC and precision-recall points per class (the positive class only for binary), thinned."""
    shown = [1] if len(classes) == 2 else range(len(classes))
    roc, pr = {}, {}
    for i in shown:
        positive = y_true == classes[i]
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = metrics.roc_curve(positive, proba[:, i])
        precision, recall, _ = metrics.precision_recall_curve(positive, proba[:, i])
        roc[str(classes[i])] = {"fpr": _thin(fpr), "tpr": _thin(tpr)}
        pr[str(classes[i])] = {"precision": _thin(precision), "recall": _thin(recall)}
    return {"roc": roc, "precision_recall": pr}


def _thin(values: np.ndarray) -> list[float]:
    """At most MAX_CURVE_POINTS evenly spaced points, keeping both ends of the curve."""
    if len(values) > MAX_CURVE_POINTS:
        values = values[np.unique(np.linspace(0, len(values) - 1, MAX_CURVE_POINTS).round().astype(int))]
    return [round(float(v), 6) for v in values]


def regression_report(y_true: np.ndarray, y_pred: np.ndarray, seed: int) -> tuple[dict, dict]:
    """(metrics, plots) for a regressor on the test split; plots use a seeded sample of points."""
    result = {
        "r2": float(metrics.r2_score(y_true, y_pred)),
        "rmse": float(metrics.root_mean_squared_error(y_true, y_pred)),
        "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
    }
    shown = np.arange(len(y_true))
    if len(shown) > MAX_SCATTER_POINTS:
        shown = np.sort(np.random.default_rng(seed).choice(shown, MAX_SCATTER_POINTS, replace=False))
    actual, predicted = np.asarray(y_true, dtype=float)[shown], np.asarray(y_pred, dtype=float)[shown]
    plots = {
        "predicted_vs_actual": {"actual": actual.tolist(), "predicted": predicted.tolist()},
        "residuals": {"predicted": predicted.tolist(), "residual": (actual - predicted).tolist()},
    }
    return result, plots
