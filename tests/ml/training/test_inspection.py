"""Inside the model: calibration, cumulative gain and partial dependence with ICE, each with its sentence."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import is_classifier, is_regressor

from csv_processor.ml.training import TrainConfig, train
from csv_processor.ml.training.ensemble import Blend
from csv_processor.ml.training.inspection import ICE_LINES, binary_inspection

CLASSES = ["no", "yes"]


def _outcomes(chance: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).uniform(size=len(chance)) < chance, "yes", "no")


def _proba(score: np.ndarray) -> np.ndarray:
    return np.column_stack([1 - score, score])


def test_probabilities_that_match_the_outcomes_can_be_taken_at_their_word():
    chance = np.random.default_rng(1).uniform(size=20_000)

    calibration = binary_inspection(_outcomes(chance), _proba(chance), CLASSES)["calibration"]

    assert calibration["gap"] <= 0.02
    assert calibration["sentence"].startswith("Its probabilities can be taken at their word")
    assert len(calibration["predicted"]) == len(calibration["observed"]) == 10
    assert sum(calibration["rows"]) == 20_000


def test_probabilities_that_run_high_are_read_with_care_and_said_to_be_higher():
    chance = np.random.default_rng(2).uniform(0, 0.7, size=20_000)
    inflated = np.clip(chance + 0.25, 0, 1)

    calibration = binary_inspection(_outcomes(chance), _proba(inflated), CLASSES)["calibration"]

    assert calibration["gap"] == pytest.approx(0.25, abs=0.03)
    assert "25% off on average, mostly higher" in calibration["sentence"]


def test_a_perfect_ranking_finds_twice_what_random_picking_finds_at_half_prevalence():
    truth = np.array(["yes", "no"] * 500)
    score = np.where(truth == "yes", 0.9, 0.1)

    gain = binary_inspection(truth, _proba(score), CLASSES)["gain"]

    assert "hold 40% of all “yes” rows: 2.0 times" in gain["sentence"]
    assert gain["share"][0] == gain["gain"][0] == 0.0
    assert gain["gain"][-1] == pytest.approx(1.0)
    assert gain["gain"] == sorted(gain["gain"])


def test_one_class_on_the_test_rows_gives_no_curves():
    assert binary_inspection(np.array(["yes"] * 20), _proba(np.full(20, 0.7)), CLASSES) == {}


def _regression_frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x, z = rng.uniform(0, 10, rows), rng.uniform(0, 10, rows)
    colour = rng.choice(["red", "blue"], rows)
    noise = rng.uniform(0, 10, rows)
    price = 3 * x - 2 * z + np.where(colour == "red", 8, 0) + rng.normal(scale=0.5, size=rows)
    return pd.DataFrame({"x": x, "z": z, "colour": colour, "noise": noise, "price": price})


def test_partial_dependence_reads_rising_falling_and_categorical_effects_of_the_top_columns():
    config = TrainConfig(target="price", problem_type="regression", algorithms=("LinearRegression",), max_trials=1)

    result = train(_regression_frame(), config)
    by_feature = {item["feature"]: item for item in result.plots["partial_dependence"]}

    assert set(by_feature) == {"x", "z", "colour"}  # the three that matter, not the noise
    assert by_feature["x"]["sentence"].startswith("Higher x tends to raise the predicted price")
    assert by_feature["z"]["sentence"].startswith("Higher z tends to lower the predicted price")
    assert by_feature["colour"]["sentence"].startswith("colour = red gives the highest predicted price")
    assert 1 < len(by_feature["x"]["ice"]) <= ICE_LINES
    assert all(len(line) == len(by_feature["x"]["grid"]) for line in by_feature["x"]["ice"])
    # The average line is the mean of every row's line (the ICE lines shown are the first of them).
    assert np.ptp(by_feature["x"]["average"]) == pytest.approx(3 * np.ptp(by_feature["x"]["grid"]), rel=0.05)
    assert "calibration" not in result.plots


def test_a_column_the_model_ignores_barely_moves_the_chance_and_binary_runs_get_curves():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"signal": rng.normal(size=600), "other": rng.normal(size=600)})
    frame["label"] = np.where(frame["signal"] + rng.normal(scale=0.5, size=600) > 0, "yes", "no")
    config = TrainConfig(target="label", problem_type="binary", algorithms=("DecisionTree",), max_trials=1)

    result = train(frame, config)
    sentences = {item["feature"]: item["sentence"] for item in result.plots["partial_dependence"]}

    assert sentences["signal"].startswith("Higher signal tends to raise the chance of “yes”")
    assert {"calibration", "gain"} <= set(result.plots)


def test_a_blend_is_a_classifier_or_a_regressor_for_scikit_learns_tools():
    assert is_classifier(Blend(members=[], weights=[], task="binary"))
    assert is_regressor(Blend(members=[], weights=[], task="regression"))
    assert not is_regressor(Blend(members=[], weights=[], task="multiclass"))


def test_integer_and_number_as_text_columns_get_their_partial_dependence():
    rng = np.random.default_rng(5)
    age = rng.integers(18, 90, 500)
    income = rng.uniform(1_000, 9_000, 500)
    frame = pd.DataFrame(
        {
            "age": age,
            "income": [f"{value:,.0f}" for value in income],  # "4,512": numbers written as text
            "label": np.where(age + income / 100 + rng.normal(scale=5, size=500) > 100, "yes", "no"),
        }
    )
    config = TrainConfig(target="label", problem_type="binary", algorithms=("DecisionTree",), max_trials=1)

    result = train(frame, config)
    shown = {item["feature"]: item for item in result.plots["partial_dependence"]}

    assert set(shown) == {"age", "income"}
    assert all(isinstance(value, float) for value in shown["income"]["grid"])
    assert shown["income"]["sentence"].startswith("Higher income tends to raise the chance of “yes”")


def test_the_inspection_takes_a_small_share_of_a_budget_and_fewer_rows_when_short():
    from csv_processor.ml.training.inspection import MIN_PD_ROWS, PD_ROWS, inspection_rows, inspection_seconds

    assert inspection_seconds(0.001, budget=5) == pytest.approx(0.25)  # capped at 5% of a 5 s budget
    assert inspection_seconds(0.001, budget=3600) < 1
    assert inspection_rows(10.0, 0.001) == PD_ROWS
    assert inspection_rows(0.25, 0.05) == MIN_PD_ROWS
    assert MIN_PD_ROWS < inspection_rows(0.35, 0.005) < PD_ROWS


@pytest.mark.parametrize(
    ("problem_type", "algorithm", "target"),
    [("binary", "RandomForest", "label"), ("multiclass", "LogisticRegression", "kind"), ("regression", "Ridge", "y")],
)
def test_the_lines_are_scikit_learns_partial_dependence_in_one_prediction_call(problem_type, algorithm, target):
    from sklearn.inspection import partial_dependence

    from csv_processor.ml.training.inspection import individual_lines

    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"x": rng.normal(size=300), "colour": rng.choice(["red", "blue", "green"], 300)})
    score = frame["x"] + (frame["colour"] == "red")
    frame["label"] = np.where(score > 0.5, "yes", "no")
    frame["kind"] = np.select([score < 0, score < 1], ["a", "b"], "c")
    frame["y"] = 2 * score + rng.normal(scale=0.1, size=300)
    config = TrainConfig(target=target, problem_type=problem_type, algorithms=(algorithm,), max_trials=1)
    pipeline = train(frame[["x", "colour", target]], config).pipeline
    X = frame[["x", "colour"]].head(60)
    focus = 2 if problem_type == "multiclass" else 0

    for feature, grid, categorical in (
        ("x", np.linspace(-1, 1, 7), False),
        ("colour", np.array(["red", "blue"], dtype=object), True),
    ):
        ours = individual_lines(pipeline, X, feature, grid, problem_type=problem_type, focus=focus)
        theirs = partial_dependence(
            pipeline,
            X,
            [feature],
            categorical_features=[feature] if categorical else None,
            custom_values={feature: grid},
            kind="both",
        )
        output = focus if problem_type == "multiclass" else 0

        assert ours == pytest.approx(np.asarray(theirs["individual"])[output], abs=1e-9)
        assert ours.mean(axis=0) == pytest.approx(np.asarray(theirs["average"])[output], abs=1e-9)
