"""Task detection reasons and target suggestions."""

import numpy as np
import pandas as pd

from csv_processor.ml.training import detect_problem_type, suggest_targets
from csv_processor.ml.types import infer_column_types


def test_detect_task_two_values_is_binary_whatever_their_type():
    for values in ([0, 1, 1, 0], ["yes", "no", "no", "no"], [1, 2, 2, 1], [True, False, True, True]):
        guess = detect_problem_type(pd.Series(values))
        assert guess.problem_type == "binary"
        assert guess.reason == "2 values: binary classification"


def test_detect_task_few_integers_are_multiclass_with_the_count_in_the_reason():
    series = pd.Series(np.arange(700) % 7)
    guess = detect_problem_type(series)
    assert guess.problem_type == "multiclass"
    assert guess.reason == "integers with 7 values: multiclass classification"


def test_detect_task_floats_and_many_integers_are_regression():
    assert detect_problem_type(pd.Series(np.linspace(0, 1, 50))) == detect_problem_type(pd.Series([0.5, 1.5, 2.25]))
    assert detect_problem_type(pd.Series([0.5, 1.5, 2.25])).reason == "floats: regression"
    many = detect_problem_type(pd.Series(np.arange(300)))
    assert many.problem_type == "regression"
    assert many.reason == "integers with 300 values: regression"


def test_detect_task_text_classes_and_numbers_written_as_text():
    text = detect_problem_type(pd.Series(["a", "b", "c", None, "a"]))
    assert (text.problem_type, text.reason) == ("multiclass", "text with 3 values: multiclass classification")
    money = detect_problem_type(pd.Series(["$1,000.50", "$2,000.25", "$30.75", "$4.10"]))
    assert money.problem_type == "regression"


def test_detect_task_single_value_says_it_cannot_train():
    assert "cannot train" in detect_problem_type(pd.Series([3, 3, None])).reason


def test_suggest_targets_prefers_target_names_and_skips_identifiers():
    df = pd.DataFrame(
        {
            "customer_id": range(100),
            "age": np.arange(100) % 50 + 20.5,
            "churn": ["yes", "no"] * 50,
            "plan": ["a", "b", "c", "d"] * 25,
        }
    )
    suggested = suggest_targets(df, infer_column_types(df))
    assert suggested[0] == "churn"
    assert "customer_id" not in suggested
    assert "plan" in suggested
