"""The run pages: remaining budget while training, per-class figures, the leaderboard's numbers and the
model card's data (dataset, version and recipe) on the run page and the deployed model's page."""

import re
from dataclasses import dataclass

import numpy as np
import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from csv_processor.models import TrainingRun
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.datasets.manage import dataset_delete
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.execute import training_run_execute
from csv_processor.templatetags.training_words import PER_CLASS_SHOWN, budget_left, per_class_table
from tests.csv_processor.helpers import UNREACHABLE_MLFLOW, make_dataset, queue_run
from tests.factories import UserFactory
from users.services import api_token_create

pytestmark = pytest.mark.django_db

ANIMALS = ("bird", "cat", "dog")


def pets_csv(rows: int = 240, seed: int = 0) -> bytes:
    """id, two numbers (x2 with a few blanks), a colour and a three-way text label driven by x1 and colour."""
    rng = np.random.default_rng(seed)
    lines = ["id,x1,x2,colour,kind"]
    for i in range(rows):
        x1, x2 = rng.normal(), rng.normal()
        colour = ("red", "green", "blue")[int(rng.integers(3))]
        score = x1 + (1.0 if colour == "red" else 0.0) + rng.normal(scale=0.3)
        kind = ANIMALS[0] if score < -0.3 else ANIMALS[1] if score < 0.8 else ANIMALS[2]
        lines.append(f"{5000 + i},{x1:.4f},{'' if i % 17 == 0 else f'{x2:.4f}'},{colour},{kind}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Trained:
    user: object
    run: TrainingRun
    model: object
    token: str


@pytest.fixture(scope="module")
def trained(django_db_setup, django_db_blocker, tmp_path_factory):
    """One multiclass run on version 3 of pets.csv (drop "id", then fill "x2"), deployed; trained once."""
    media = tmp_path_factory.mktemp("run-results-media")
    with override_settings(MEDIA_ROOT=media, MLFLOW_TRACKING_URI=UNREACHABLE_MLFLOW), django_db_blocker.unblock():
        user = UserFactory()
        data = make_dataset(user, media, pets_csv(), name="pets.csv")
        for op, params in (
            ("drop_columns", {"columns": ["id"]}),
            ("fill_missing", {"column": "x2", "strategy": "median"}),
        ):
            data.refresh_from_db()
            cleaning_job_create(owner=user, version=data.current_version, op=op, params=params, confirm_loss=False)
        data.refresh_from_db()
        run = queue_run(user, data.current_version, target="kind", algorithms=("LogisticRegression", "DecisionTree"))
        done = training_run_execute(run_id=run.pk)
        assert done.status == TrainingRun.Status.SUCCEEDED, done.error
        model = deployed_model_deploy(owner=user, run=done)
        _, token = api_token_create(user=user, name="tests")
        yield Trained(user, done, model, token)
        # Versions protect their parents: the service deletes them newest first, with the runs and models.
        dataset_delete(dataset=data)
        user.delete()


@pytest.fixture
def owner_client(client, trained):
    client.force_login(trained.user)
    return client


def _section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def _running(run: TrainingRun, **progress) -> None:
    # A time-boxed run: the budget left is what the fragment shows.
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING, budget_seconds=60, max_trials=None, progress=progress
    )


def test_progress_fragment_shows_the_remaining_budget_in_words(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    url = reverse("csv_processor:run-detail", args=[run.pk])
    _running(run, stage="search", candidate=3, total=12, elapsed=25.0, remaining=35.0)

    fragment = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress").content.decode()

    assert "candidate 3 of up to 12" in fragment
    assert "25.0 s of 60 s used · about 35 s left" in fragment


def test_progress_fragment_never_shows_a_negative_remaining_budget(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    url = reverse("csv_processor:run-detail", args=[run.pk])
    # An older report without "remaining", past the budget: the refit may run a little over.
    _running(run, stage="refit", candidate=1, total=1, elapsed=64.5)

    fragment = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress").content.decode()

    assert "time budget used up, finishing" in fragment
    assert "-4" not in fragment
    assert "s left" not in fragment


@pytest.mark.parametrize(
    ("progress", "budget", "words"),
    [
        ({"elapsed": 0.0, "remaining": 600.0}, 600, "about 10 min left"),
        ({"elapsed": 10.0}, 60, "about 50 s left"),
        ({}, 30, "about 30 s left"),
        ({"elapsed": 90.0, "remaining": -5.0}, 60, "time budget used up, finishing"),
    ],
)
def test_budget_left_reads_the_last_report_and_is_never_negative(progress, budget, words):
    assert budget_left(TrainingRun(progress=progress, budget_seconds=budget)) == words


def test_run_page_shows_per_class_figures_under_the_real_labels(owner_client, trained):
    page = owner_client.get(reverse("csv_processor:run-detail", args=[trained.run.pk])).content.decode()

    table = _section(page, "per-class-heading")
    rows = {cells[0]: cells[1:] for cells in map(_cells, re.findall(r"<tr>.*?</tr>", table, re.S)) if cells}
    per_class = trained.run.metrics["per_class"]
    assert sorted(rows) == list(ANIMALS) == sorted(per_class)
    for label, (precision, recall, f1, support) in rows.items():
        assert float(precision) == pytest.approx(per_class[label]["precision"], abs=5e-4)
        assert float(recall) == pytest.approx(per_class[label]["recall"], abs=5e-4)
        assert float(f1) == pytest.approx(per_class[label]["f1"], abs=5e-4)
        assert int(support) == per_class[label]["support"]
    assert sum(int(cells[3]) for cells in rows.values()) == trained.run.split["n_test"]
    assert "left out" not in table


def test_per_class_table_keeps_the_largest_classes_when_there_are_many():
    per_class = {f"c{i:02d}": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": i + 1} for i in range(25)}
    run = TrainingRun(metrics={"per_class": per_class}, problem_type="multiclass")

    table = per_class_table(run)
    html = render_to_string("csv_processor/partials/_run_results.html", {"run": run, "card": {}})

    assert [row["label"] for row in table["rows"]] == [f"c{i:02d}" for i in range(24, 24 - PER_CLASS_SHOWN, -1)]
    assert (table["total"], table["hidden"]) == (25, 5)
    assert "<td>c24</td>" in html
    assert "<td>c04</td>" not in html
    assert "Showing the 20 classes with the most test rows; the other 5 of 25 are left out here" in html


def test_regression_runs_have_no_per_class_table():
    run = TrainingRun(metrics={"r2": 0.5, "rmse": 1.0, "mae": 1.0}, problem_type="regression")

    html = render_to_string("csv_processor/partials/_run_results.html", {"run": run, "card": {}})

    assert "per-class-heading" not in html


def test_leaderboard_rows_carry_cv_spread_and_timings_and_render(owner_client, trained):
    board = trained.run.leaderboard
    page = owner_client.get(reverse("csv_processor:run-detail", args=[trained.run.pk])).content.decode()

    rows = [_cells(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", _section(page, "leaderboard-heading"), re.S)]
    shown = [cells for cells in rows if cells and not cells[0].startswith("Baseline")]
    assert [cells[0].replace(" chosen", "") for cells in shown] == [row["algorithm"] for row in board]
    assert len(board) >= 2
    for row, cells in zip(board, shown, strict=True):
        numbers = [row[key] for key in ("cv_mean", "cv_std", "fit_seconds", "predict_ms_per_row")]
        assert all(isinstance(value, float) for value in numbers), row
        assert all(np.isfinite(value) and value >= 0 for value in numbers), row
        assert 0 < row["cv_mean"] <= 1
        assert row["fit_seconds"] > 0
        mean, spread = (float(part) for part in cells[1].split("±"))
        assert (mean, spread) == (pytest.approx(row["cv_mean"], abs=5e-4), pytest.approx(row["cv_std"], abs=5e-4))
        assert float(cells[3]) == pytest.approx(row["fit_seconds"], abs=5e-4)
        assert float(cells[4]) == pytest.approx(row["predict_ms_per_row"], abs=5e-5)


def test_model_card_names_dataset_version_and_recipe_on_run_and_model_pages(owner_client, trained):
    run_page = owner_client.get(reverse("csv_processor:run-detail", args=[trained.run.pk])).content.decode()
    model_page = owner_client.get(reverse("csv_processor:model-detail", args=[trained.model.pk])).content.decode()
    api = owner_client.get(
        reverse("csv_processor_api:model-detail", args=[trained.model.pk]), HTTP_AUTHORIZATION=f"Token {trained.token}"
    ).json()

    card = api["model_card"]
    assert (card["dataset"], card["dataset_version"]) == ("pets", 3)
    assert card["recipe"][0] == 'Drop column "id"'
    assert card["recipe"][1].startswith('Fill missing "x2" with the median (')
    recipe = 'drop column "id"; fill missing "x2" with the median ('
    assert card["data_text"].startswith(f"Learnt from version 3 of 'pets', made from the upload by: {recipe}")
    for page in (run_page, model_page):
        assert escape(card["data_text"]) in _section(page, "card-heading")
        assert escape(trained.run.model_card["summary"]) in page


def test_model_card_of_an_uncleaned_version_says_so(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED, model_card={"summary": "Predicts 'label'."}
    )

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert escape(
        "Learnt from version 1 of 'clients', the file as parsed from the upload, no cleaning steps."
    ) in _section(page, "card-heading")


def test_model_card_marks_row_filters_as_training_only(user_client, user, dataset):
    cleaning_job_create(
        owner=user,
        version=dataset.current_version,
        op="delete_rows_where",
        params={"column": "x1", "condition": "less_than", "value": -2},
        confirm_loss=False,
    )
    dataset.refresh_from_db()
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.SUCCEEDED, model_card={"summary": "-"})

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert escape(
        "Learnt from version 2 of 'clients', made from the upload by: delete rows where \"x1\" < -2 (training only)."
    ) in _section(page, "card-heading")


def test_progress_fragment_shows_the_leaderboard_growing(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)
    url = reverse("csv_processor:run-detail", args=[run.pk])
    board = {
        "metric": "accuracy",
        "rows": [
            {"algorithm": "RandomForest", "cv_mean": 0.9125, "cv_std": 0.02, "trials": 2},
            {"algorithm": "DecisionTree", "cv_mean": 0.85, "cv_std": None, "trials": 1},
        ],
    }
    _running(run, stage="search", candidate=3, total=12, elapsed=5.0, remaining=55.0)
    before = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress").content.decode()
    _running(run, stage="search", candidate=4, total=12, elapsed=9.0, remaining=51.0, board=board)

    fragment = user_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-progress").content.decode()

    assert "Leaderboard so far" not in before
    assert "Leaderboard so far" in fragment
    assert "Accuracy (CV mean ± std)" in fragment
    assert fragment.index("RandomForest") < fragment.index("DecisionTree")
    assert "0.912 ± 0.020" in fragment or "0.913 ± 0.020" in fragment
    assert 'hx-trigger="every 1s"' in fragment


def test_run_page_shows_inside_the_model_with_a_sentence_per_chart(user, user_client, dataset):
    run = training_run_execute(run_id=queue_run(user, dataset.current_version, algorithms=["RandomForest"]).pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()
    shown = run.plots["partial_dependence"]

    assert "Inside the model" in page
    assert 'data-chart="calibration"' in page
    assert 'data-chart="gain"' in page
    assert escape(run.plots["calibration"]["sentence"]) in page
    assert shown[0]["feature"] == "x1"  # the column the label depends on most
    assert "Higher x1 tends to raise the chance of “yes”" in shown[0]["sentence"]
    for index, item in enumerate(shown):
        assert f'data-chart="pd-{index}"' in page
        assert escape(item["sentence"]) in page
