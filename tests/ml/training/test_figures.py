"""The run's charts as PNG: drawn from stored data, capped for many classes, one bad chart costs only itself."""

import io

import numpy as np
from matplotlib import image

from csv_processor.ml.training import figures
from csv_processor.ml.training.evaluation import classification_report

PNG = b"\x89PNG\r\n\x1a\n"
IMPORTANCE = [{"feature": "age", "importance": 0.2, "std": 0.01}, {"feature": "fare", "importance": 0.05, "std": 0.0}]


def _report(n_classes: int, rows: int = 600):
    rng = np.random.default_rng(0)
    classes = sorted(f"class {i:02d}" for i in range(n_classes))
    y = rng.choice(classes, rows)
    proba = rng.dirichlet(np.ones(n_classes), rows)
    return classification_report(y, np.asarray(classes)[proba.argmax(axis=1)], proba, classes)


def test_many_classes_keep_the_largest_and_sum_the_rest_into_one():
    labels = [f"c{i:02d}" for i in range(30)]
    matrix = np.arange(900).reshape(30, 30)

    shown, capped = figures._capped_matrix(labels, matrix)

    assert len(shown) == figures.MAX_MATRIX_CLASSES
    assert shown[-1] == f"other ({30 - figures.MAX_MATRIX_CLASSES + 1} classes)"
    assert shown[0] == "c16"  # rows grow down the matrix: the last ones have most test rows
    assert capped.sum() == matrix.sum()


def test_multiclass_charts_are_pngs_with_curves_capped():
    metrics, plots = _report(25)

    images = figures.run_figures(
        problem_type="multiclass", target="kind", metrics=metrics, plots=plots, importance=IMPORTANCE
    )

    assert set(images) == {
        "confusion_matrix.png",
        "roc_curve.png",
        "precision_recall_curve.png",
        "permutation_importance.png",
    }
    for content in images.values():
        assert content.startswith(PNG)
        assert image.imread(io.BytesIO(content)).std() > 0.05


def test_a_chart_without_usable_data_is_left_out_and_the_others_drawn():
    metrics, _ = _report(3)

    images = figures.run_figures(
        problem_type="binary", target="label", metrics=metrics, plots={"roc": {"yes": {"fpr": [0, 1]}}}, importance=[]
    )

    assert set(images) == {"confusion_matrix.png"}
