"""The run page's charts as PNG images, drawn with matplotlib from what a run stores (metrics, plots,
importance), for MLflow to keep beside the JSON data.

Figures are built with matplotlib's object API (`Figure` on an Agg canvas), never through pyplot: no global
figure registry to leak into or to close, and safe in a worker thread. Each chart is drawn on its own, so
data a chart cannot use (an older run's shape, say) costs that chart, not the others.
"""

import io
import logging
import sys
from collections.abc import Callable

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # A server has no display: the non-interactive backend, unless pyplot (a notebook's) is already up.
    matplotlib.use("Agg")

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

SIZE_INCHES = (6.4, 4.8)
DPI = 100
MAX_MATRIX_CLASSES = 15
MAX_CURVES = 8
MAX_IMPORTANCE_BARS = 20
LABEL_CHARS = 24
COLOUR = "#2457d6"
CHANCE = {"linestyle": ":", "color": "#999999"}
# What a lost chart may raise from odd stored data; anything else is a bug and should surface.
_DATA_ERRORS = (KeyError, IndexError, TypeError, ValueError)


def run_figures(
    *, problem_type: str, target: str, metrics: dict, plots: dict, importance: list[dict]
) -> dict[str, bytes]:
    """{file name: PNG bytes} for the charts this run has data for: confusion matrix, ROC and
    precision-recall curves (classification) or predicted vs actual and residuals (regression), and the
    permutation importance of the columns."""
    charts: dict[str, Callable[[], Figure | None]]
    if problem_type == "regression":
        charts = {
            "predicted_vs_actual.png": lambda: _predicted_vs_actual(plots["predicted_vs_actual"], target),
            "residuals.png": lambda: _residuals(plots["residuals"], target),
        }
    else:
        charts = {
            "confusion_matrix.png": lambda: _confusion(metrics["confusion_matrix"], target),
            "roc_curve.png": lambda: _roc(plots["roc"], metrics, target),
            "precision_recall_curve.png": lambda: _precision_recall(plots["precision_recall"], metrics, target),
        }
    charts["permutation_importance.png"] = lambda: _importance(importance, problem_type, target)
    images = {}
    for name, draw in charts.items():
        try:
            figure = draw()
        except _DATA_ERRORS as exc:
            logger.warning("chart %s not drawn: %s: %s", name, type(exc).__name__, exc)
            continue
        if figure is not None:
            images[name] = _png(figure)
    return images


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI)
    figure.clear()
    return buffer.getvalue()


def _figure(title: str, xlabel: str, ylabel: str, size: tuple[float, float] = SIZE_INCHES):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return figure, axes


def _short(label: object) -> str:
    text = str(label)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _capped_matrix(labels: list[str], matrix: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The MAX_MATRIX_CLASSES - 1 classes with most test rows, the rest summed into one "other" class."""
    if len(labels) <= MAX_MATRIX_CLASSES:
        return labels, matrix
    kept = sorted(np.argsort(-matrix.sum(axis=1), kind="stable")[: MAX_MATRIX_CLASSES - 1])
    rest = [i for i in range(len(labels)) if i not in set(kept)]
    groups = [[i] for i in kept] + [rest]
    capped = np.array([[matrix[np.ix_(rows, cols)].sum() for cols in groups] for rows in groups])
    return [labels[i] for i in kept] + [f"other ({len(rest)} classes)"], capped


def _confusion(confusion: dict, target: str) -> Figure:
    labels, matrix = _capped_matrix([str(label) for label in confusion["labels"]], np.asarray(confusion["matrix"]))
    side = max(4.8, 0.45 * len(labels) + 2.5)
    figure, axes = _figure(f"Confusion matrix: {_short(target)} (test rows)", "predicted", "actual", (side + 1, side))
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, label="rows")
    ticks = range(len(labels))
    turned = len(labels) > 3
    names = [_short(label) for label in labels]
    axes.set_xticks(ticks, names, rotation=45 if turned else 0, ha="right" if turned else "center")
    axes.set_yticks(ticks, names)
    if len(labels) <= MAX_MATRIX_CLASSES:
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, col), count in np.ndenumerate(matrix):
            colour = "white" if count > threshold else "black"
            axes.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=8)
    return figure


def _most_supported(curves: dict, metrics: dict) -> list[str]:
    """The classes to draw, those with most test rows first, at most MAX_CURVES."""
    support = {label: row.get("support", 0) for label, row in metrics.get("per_class", {}).items()}
    return sorted(curves, key=lambda label: -support.get(label, 0))[:MAX_CURVES]


def _curve_title(kind: str, curves: dict, shown: list[str], target: str) -> str:
    title = f"{kind}: {_short(target)}"
    return title + (f" ({len(shown)} of {len(curves)} classes)" if len(shown) < len(curves) else "")


def _roc(roc: dict, metrics: dict, target: str) -> Figure | None:
    if not roc:
        return None
    shown = _most_supported(roc, metrics)
    title = _curve_title("ROC curve", roc, shown, target)
    if metrics.get("roc_auc") is not None:
        title += f", AUC {metrics['roc_auc']:.3f}"
    figure, axes = _figure(title, "false positive rate", "true positive rate")
    for label in shown:
        axes.plot(roc[label]["fpr"], roc[label]["tpr"], label=_short(label))
    axes.plot([0, 1], [0, 1], label="chance", **CHANCE)
    axes.legend(loc="lower right", fontsize=8, title="positive class" if len(roc) == 1 else "class vs rest")
    axes.set(xlim=(0, 1), ylim=(0, 1.02))
    return figure


def _precision_recall(curves: dict, metrics: dict, target: str) -> Figure | None:
    if not curves:
        return None
    shown = _most_supported(curves, metrics)
    figure, axes = _figure(_curve_title("Precision-recall", curves, shown, target), "recall", "precision")
    for label in shown:
        axes.plot(curves[label]["recall"], curves[label]["precision"], label=_short(label))
    axes.legend(loc="lower left", fontsize=8, title="positive class" if len(curves) == 1 else "class vs rest")
    axes.set(xlim=(0, 1), ylim=(0, 1.02))
    return figure


def _predicted_vs_actual(points: dict, target: str) -> Figure:
    actual, predicted = np.asarray(points["actual"], float), np.asarray(points["predicted"], float)
    figure, axes = _figure(
        f"Predicted vs actual: {_short(target)} ({len(actual)} test rows)", f"actual {_short(target)}", "predicted"
    )
    axes.scatter(actual, predicted, s=10, alpha=0.6, color=COLOUR, label="rows")
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    axes.plot([low, high], [low, high], label="perfect", **CHANCE)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def _residuals(points: dict, target: str) -> Figure:
    predicted, residual = np.asarray(points["predicted"], float), np.asarray(points["residual"], float)
    figure, axes = _figure(
        f"Residuals: {_short(target)} ({len(predicted)} test rows)", f"predicted {_short(target)}", "actual - predicted"
    )
    axes.scatter(predicted, residual, s=10, alpha=0.6, color=COLOUR)
    axes.axhline(0, **CHANCE)
    return figure


def _importance(importance: list[dict], problem_type: str, target: str) -> Figure | None:
    rows = importance[:MAX_IMPORTANCE_BARS][::-1]
    if not rows:
        return None
    metric = "R²" if problem_type == "regression" else "accuracy"
    title = f"Permutation importance for {_short(target)}"
    if len(importance) > len(rows):
        title += f" (top {len(rows)} of {len(importance)})"
    height = max(3.0, 0.3 * len(rows) + 1.5)
    figure, axes = _figure(title, f"drop in {metric} when the column is shuffled", "", (SIZE_INCHES[0], height))
    positions = range(len(rows))
    widths = [row["importance"] for row in rows]
    axes.barh(positions, widths, xerr=[row.get("std", 0.0) for row in rows], color=COLOUR, capsize=2)
    axes.set_yticks(positions, [_short(row["feature"]) for row in rows])
    axes.axvline(0, color="#666666", linewidth=0.8)
    return figure
