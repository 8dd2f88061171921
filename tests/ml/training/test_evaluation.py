"""Metrics against scikit-learn's own functions, plot points, and the model card."""

import numpy as np
from sklearn import metrics

from csv_processor.ml.training.evaluation import (
    MAX_CURVE_POINTS,
    MAX_SCATTER_POINTS,
    classification_report,
    model_card,
    regression_report,
)


def _binary(n: int = 1000):
    rng = np.random.default_rng(0)
    y = rng.choice(np.array(["no", "yes"]), n, p=[0.62, 0.38])
    p_yes = np.clip((y == "yes") * 0.35 + rng.uniform(0, 0.65, n), 0, 1)
    proba = np.column_stack([1 - p_yes, p_yes])
    return y, np.where(p_yes > 0.5, "yes", "no"), proba


def test_classification_report_matches_sklearn():
    y, predicted, proba = _binary()
    result, plots = classification_report(y, predicted, proba, ["no", "yes"])
    assert result["accuracy"] == metrics.accuracy_score(y, predicted)
    assert result["balanced_accuracy"] == metrics.balanced_accuracy_score(y, predicted)
    assert result["f1_macro"] == np.float64(metrics.f1_score(y, predicted, average="macro"))
    assert np.isclose(result["precision_macro"], metrics.precision_score(y, predicted, average="macro"))
    assert result["roc_auc"] == metrics.roc_auc_score(y == "yes", proba[:, 1])
    assert result["log_loss"] == metrics.log_loss(y, proba, labels=["no", "yes"])
    assert result["confusion_matrix"]["matrix"] == metrics.confusion_matrix(y, predicted).tolist()
    assert result["per_class"]["yes"]["recall"] == metrics.recall_score(y, predicted, pos_label="yes")
    assert set(plots) == {"roc", "precision_recall"}
    assert list(plots["roc"]) == ["yes"]
    assert len(plots["roc"]["yes"]["fpr"]) <= MAX_CURVE_POINTS
    assert plots["roc"]["yes"]["fpr"][0] == 0.0
    assert plots["roc"]["yes"]["tpr"][-1] == 1.0


def test_classification_report_multiclass_auc_and_absent_class():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    proba = np.eye(3)[[0, 1, 2, 0, 2, 2, 1, 1]] * 0.8 + 0.2 / 3
    predicted = proba.argmax(axis=1)
    result, plots = classification_report(y, predicted, proba, [0, 1, 2])
    assert result["roc_auc"] == metrics.roc_auc_score(y, proba, multi_class="ovr")
    assert set(plots["roc"]) == {"0", "1", "2"}
    missing_class, _ = classification_report(y[y != 2], predicted[y != 2], proba[y != 2], [0, 1, 2])
    assert missing_class["roc_auc"] is None


def test_regression_report_matches_sklearn_and_subsamples_points():
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    predicted = y + rng.normal(scale=0.3, size=2000)
    result, plots = regression_report(y, predicted, seed=0)
    assert result["r2"] == metrics.r2_score(y, predicted)
    assert result["rmse"] == metrics.root_mean_squared_error(y, predicted)
    assert result["mae"] == metrics.mean_absolute_error(y, predicted)
    assert len(plots["predicted_vs_actual"]["actual"]) == MAX_SCATTER_POINTS
    residual = np.array(plots["residuals"]["residual"])
    assert np.allclose(residual, np.array(plots["predicted_vs_actual"]["actual"]) - plots["residuals"]["predicted"])


def test_model_card_compares_with_the_baseline_in_words():
    card = model_card(
        target="Survived",
        problem_type="binary",
        algorithm="RandomForest",
        features=("Sex", "Age"),
        metrics={"accuracy": 0.84, "roc_auc": 0.88},
        baseline_metrics={"accuracy": 0.62},
        importance=[
            {"feature": "Sex", "importance": 0.2, "std": 0.01},
            {"feature": "Age", "importance": -0.01, "std": 0.01},
        ],
        warnings=["'fare_paid_after' predicts the target almost perfectly on its own"],
        class_counts={"0": 400, "1": 20},
        n_train=420,
        n_test=100,
    )
    assert "right 84% of the time" in card["performance"].lower()
    assert "guessing the most common class is right 62%" in card["performance"]
    assert card["baseline"] == "Better than the baseline by 22 percentage points of accuracy."
    assert card["strongest_features"] == ["Sex"]
    assert any("fare_paid_after" in text for text in card["limits"])
    assert any("'1' (20 rows)" in text for text in card["limits"])


def test_model_card_says_when_the_model_is_no_better_than_guessing():
    card = model_card(
        target="price",
        problem_type="regression",
        algorithm="Ridge",
        features=("x",),
        metrics={"r2": -0.01, "mae": 10.0, "rmse": 12.0},
        baseline_metrics={"r2": 0.0, "mae": 9.5, "rmse": 11.0},
        importance=[],
        warnings=[],
        class_counts={},
        n_train=50,
        n_test=13,
        baseline_answer="101.5",
    )
    assert card["baseline"].startswith("Not better than always answering the average (101.5): R² -0.010")
    assert card["limits"][0] == card["baseline"]
    assert any("only 50 rows" in text for text in card["limits"])
