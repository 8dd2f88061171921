"""Training pages in plain words: the problem type with its reason, metric names, the baseline comparison and
algorithm choices that fit the problem type."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from csv_processor.forms.training import TrainingForm
from csv_processor.models import TrainingRun
from csv_processor.selectors.serving import LiveQuality
from csv_processor.selectors.training.setup import algorithm_names
from csv_processor.templatetags.training_words import metric_boxes, metric_label, problem_type_summary
from tests.csv_processor.helpers import queue_run

COLUMNS = ["id", "x1", "x2", "colour", "label"]


def _algorithm_choices(form: TrainingForm) -> list[str]:
    return [name for name, _ in form.fields["algorithms"].choices]


def _checkbox(page: str, value: str) -> str:
    """The <input> tag of the algorithms checkbox with `value`."""
    match = re.search(rf'<input[^>]*name="algorithms"[^>]*value="{value}"[^>]*>', page)
    assert match, f"no checkbox for {value}"
    return match.group(0)


def _form_data(**overrides) -> dict:
    data = {
        "target": "label",
        "task": "binary",
        "features": ["x1", "x2"],
        "test_size": "0.2",
        "cv_folds": "3",
        "seed": "0",
        "budget_seconds": "5",
    }
    return data | overrides


@pytest.mark.parametrize(
    ("problem_type", "reason", "expected"),
    [
        ("binary", "2 values: binary classification", "Binary classification — the target has 2 values"),
        (
            "multiclass",
            "integers with 7 values: multiclass classification",
            "Multiclass classification — the target holds whole numbers with 7 different values",
        ),
        (
            "multiclass",
            "text with 3 values: multiclass classification",
            "Multiclass classification — the target is text with 3 different values",
        ),
        ("regression", "floats: regression", "Regression — the target holds numbers with decimals"),
        (
            "regression",
            "integers with 6 values: multiclass classification (you chose regression)",
            "Regression — your choice (it looked like multiclass classification: "
            "the target holds whole numbers with 6 different values)",
        ),
        (
            "binary",
            "1 value: cannot train (needs 2 or more)",
            "Binary classification — the target has only 1 value: a model needs at least 2",
        ),
        ("regression", "something new", "Regression — something new"),
        ("binary", "", "Binary classification"),
    ],
)
def test_problem_type_summary_reads_as_one_sentence(problem_type, reason, expected):
    assert problem_type_summary(problem_type, reason) == expected


def test_metric_label_names_metrics_as_people_do_and_keeps_unknown_keys():
    labels = [metric_label(key) for key in ("balanced_accuracy", "log_loss", "roc_auc", "r2", "rmse", "mae", "new")]

    assert labels == ["Balanced accuracy", "Log loss", "ROC AUC", "R²", "RMSE", "MAE", "new"]


def test_metric_boxes_compare_with_the_baseline_in_the_metrics_direction():
    run = TrainingRun(
        metrics={"accuracy": 0.6, "balanced_accuracy": 0.5, "log_loss": 0.9, "rmse": 2.0, "per_class": {}},
        baseline_metrics={"accuracy": 0.7, "balanced_accuracy": 0.5, "log_loss": 0.6, "rmse": 3.0},
    )

    boxes = {box["key"]: box for box in metric_boxes(run)}

    assert set(boxes) == {"accuracy", "balanced_accuracy", "log_loss", "rmse"}
    assert boxes["accuracy"]["versus_baseline"] == "worse"
    assert boxes["balanced_accuracy"]["versus_baseline"] == "same"
    assert boxes["log_loss"]["versus_baseline"] == "worse"  # higher log loss is worse
    assert boxes["rmse"]["versus_baseline"] == "better"  # lower error is better
    assert boxes["log_loss"]["lower_is_better"]
    assert not boxes["accuracy"]["lower_is_better"]


def test_training_form_offers_only_the_algorithms_of_the_problem_type():
    binary = TrainingForm(columns=COLUMNS, algorithms=algorithm_names(), problem_type="binary")
    regression = TrainingForm(columns=COLUMNS, algorithms=algorithm_names(), problem_type="regression")

    assert _algorithm_choices(binary) == algorithm_names()["binary"]
    assert "LogisticRegression" in _algorithm_choices(binary)
    assert {"LinearRegression", "Ridge"}.isdisjoint(_algorithm_choices(binary))
    assert {"LinearRegression", "Ridge"} <= set(_algorithm_choices(regression))
    assert "LogisticRegression" not in _algorithm_choices(regression)


def test_training_form_refuses_an_algorithm_of_another_task_with_a_plain_message():
    form = TrainingForm(
        _form_data(algorithms=["Ridge"]), columns=COLUMNS, algorithms=algorithm_names(), problem_type="binary"
    )

    assert not form.is_valid()
    assert form.errors["algorithms"] == [
        "Ridge does not fit a binary classification problem: pick from "
        f"{', '.join(algorithm_names()['binary'])}, or none for Auto."
    ]


def test_training_form_without_a_task_leaves_the_check_to_the_service():
    form = TrainingForm(
        _form_data(task="", algorithms=["Ridge"]), columns=COLUMNS, algorithms=algorithm_names(), problem_type=None
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["algorithms"] == ["Ridge"]


def test_training_page_lists_only_algorithms_for_the_detected_problem_type(user_client, dataset):
    page = user_client.get(reverse("csv_processor:training-new", args=[dataset.pk, 1])).content.decode()

    assert 'value="LogisticRegression"' in page
    assert 'value="Ridge"' not in page
    assert 'value="LinearRegression"' not in page
    assert "Binary classification — the target has 2 values" in page
    assert "As detected (binary classification)" in page


def test_setup_partial_swaps_the_algorithms_with_the_task_and_keeps_ticks_that_fit(user_client, dataset):
    url = reverse("csv_processor:training-setup", args=[dataset.pk, 1])

    page = user_client.get(
        url, {"target": "x1", "algorithms": ["RandomForest", "LogisticRegression"]}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert 'value="Ridge"' in page
    assert 'value="LogisticRegression"' not in page
    assert "checked" in _checkbox(page, "RandomForest")
    assert "Regression — the target holds numbers with decimals" in page


def test_training_start_still_refuses_an_algorithm_that_does_not_fit_the_detected_problem_type(user_client, dataset):
    url = reverse("csv_processor:training-new", args=[dataset.pk, 1])

    detected = user_client.post(url, _form_data(task="", algorithms=["Ridge"], idempotency_key="a"))
    chosen = user_client.post(url, _form_data(task="binary", algorithms=["LinearRegression"], idempotency_key="b"))

    assert detected.status_code == chosen.status_code == 400
    assert "Not available for binary: Ridge" in detected.content.decode()
    assert "LinearRegression does not fit a binary classification problem" in chosen.content.decode()
    assert 'value="Ridge"' not in detected.content.decode()
    assert not TrainingRun.objects.exists()


def test_run_page_states_task_and_reason_naturally(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert run.problem_type_reason == "2 values: binary classification"
    assert "Binary classification — the target has 2 values" in page
    assert "(2 values: binary classification)" not in page


def test_run_page_names_metrics_gives_their_direction_and_says_when_worse_than_baseline(
    user_client,
    user,
    dataset,
):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED,
        main_metric="accuracy",
        metrics={"accuracy": 0.81, "balanced_accuracy": 0.52, "roc_auc": 0.8, "log_loss": 0.9},
        baseline_metrics={"accuracy": 0.62, "balanced_accuracy": 0.5, "roc_auc": 0.5, "log_loss": 0.66},
    )

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    for label in ("Balanced accuracy", "ROC AUC", "Log loss"):
        assert f">{label}" in page
    assert 'title="log_loss"' in page
    assert 'title="balanced_accuracy"' in page
    assert page.count("Worse than the baseline") == 1  # log loss 0.9 against 0.66; the others are better
    assert "(lower is better)" in page
    assert ">balanced_accuracy<" not in page


def test_run_page_names_regression_metrics(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED,
        problem_type=TrainingRun.ProblemType.REGRESSION,
        main_metric="r2",
        metrics={"r2": 0.7, "rmse": 3.5, "mae": 2.5},
        baseline_metrics={"r2": 0.0, "rmse": 6.0, "mae": 2.0},
    )

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    for label in ("R²", "RMSE", "MAE"):
        assert f">{label}" in page
    assert page.count("(lower is better)") == 2
    assert page.count("Worse than the baseline") == 1  # MAE 2.5 against 2.0
    assert "R² (CV mean ± std)" in page


def test_model_monitoring_names_the_live_metric_plainly():
    quality = LiveQuality(metric="mae", value=2.5, rows=4, test_value=2.0)

    html = render_to_string("csv_processor/partials/_model_monitoring.html", {"detail": {"live_quality": quality}})

    assert "MAE on the test rows" in html
    assert "MAE on live data" in html
    assert 'title="mae"' in html
    assert "test mae" not in html


def test_leaderboard_names_a_blends_members_and_their_weights(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    members = [
        {"algorithm": "HistGradientBoosting", "params": {"learning_rate": 0.1}, "weight": 0.6},
        {"algorithm": "LogisticRegression", "params": {"C": 1.0}, "weight": 0.4},
    ]
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED,
        main_metric="accuracy",
        metrics={"accuracy": 0.81},
        leaderboard=[
            {"algorithm": "Ensemble", "params": {"members": members}, "cv_mean": 0.8, "cv_std": 0.01},
            {"algorithm": "HistGradientBoosting", "params": {"learning_rate": 0.1}, "cv_mean": 0.79, "cv_std": 0.01},
        ],
    )

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert "Blend of HistGradientBoosting (60%), LogisticRegression (40%)" in page
    assert "members=" not in page
    assert "learning_rate=0.1" in page
