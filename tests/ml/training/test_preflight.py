"""Preflight: the problems that block training and the warnings shown beside the result."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.training import preflight


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "x": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "constant": ["same"] * n,
            "y": rng.choice(["a", "b"], n),
        }
    )


def _codes(issues) -> set[str]:
    return {issue.code for issue in issues}


def test_preflight_passes_with_default_features_and_explains_exclusions(frame):
    check = preflight(frame, target="y", problem_type="binary", features=None)
    assert check.ok
    assert check.features == ("x", "colour")
    assert {"identifiers_excluded", "constant_excluded"} <= _codes(check.warnings)


def test_preflight_blocks_a_target_with_one_class(frame):
    frame["y"] = "a"
    check = preflight(frame, target="y", problem_type="binary", features=None)
    assert not check.ok
    assert _codes(check.problems) == {"one_class"}
    assert "only one class" in check.problems[0].message


def test_preflight_blocks_an_all_missing_target(frame):
    frame["y"] = np.nan
    check = preflight(frame, target="y", problem_type="regression", features=None)
    assert _codes(check.problems) == {"target_all_missing"}
    assert check.rows_dropped_missing_target == len(frame)


def test_preflight_blocks_an_identifier_target(frame):
    check = preflight(frame, target="id", problem_type="multiclass", features=None)
    assert _codes(check.problems) == {"target_identifier"}


def test_preflight_blocks_one_row_and_too_few_rows(frame):
    assert _codes(preflight(frame.head(1), target="x", problem_type="regression").problems) == {"one_row"}
    assert _codes(preflight(frame.head(5), target="x", problem_type="regression").problems) == {"too_few_rows"}


def test_preflight_blocks_an_empty_feature_set(frame):
    check = preflight(frame[["id", "constant", "y"]], target="y", problem_type="binary", features=None)
    assert _codes(check.problems) == {"no_features"}
    assert check.features == ()


def test_preflight_blocks_unknown_target_and_features(frame):
    assert _codes(preflight(frame, target="nope", problem_type="binary").problems) == {"target_not_found"}
    assert "unknown_features" in _codes(
        preflight(frame, target="y", problem_type="binary", features=["x", "nope"]).problems
    )


def test_preflight_blocks_binary_with_three_classes(frame):
    frame["y"] = ["a", "b", "c"] * 20
    assert _codes(preflight(frame, target="y", problem_type="binary").problems) == {"not_binary"}


def test_preflight_counts_missing_and_non_finite_targets(frame):
    frame["x"] = frame["x"].astype("float64")
    frame.loc[:4, "x"] = np.nan
    frame.loc[5:6, "x"] = np.inf
    frame.loc[7, "x"] = -np.inf
    check = preflight(frame, target="x", problem_type="regression")
    assert check.ok
    assert check.rows_dropped_missing_target == 8
    assert "missing_target" in _codes(check.warnings)


def test_preflight_drops_single_row_classes_and_warns_small_ones(frame):
    frame["y"] = ["a"] * 50 + ["b"] * 9 + ["c"]
    check = preflight(frame, target="y", problem_type="multiclass")
    assert check.ok
    assert check.rows_dropped_small_classes == 1
    assert {"tiny_class", "small_class"} <= _codes(check.warnings)


def test_preflight_warns_about_leakage_suspects(frame):
    frame["y_copy"] = frame["y"].map({"a": "yes", "b": "no"})
    frame["score"] = np.where(frame["y"] == "a", 1.0, 0.0) + np.linspace(0, 0.5, len(frame))
    check = preflight(frame, target="y", problem_type="binary")
    leaks = [issue.message for issue in check.warnings if issue.code == "leakage_suspect"]
    assert any("'y_copy'" in text for text in leaks)
    assert any("'score'" in text for text in leaks)
    assert not any("'colour'" in text for text in leaks)


def test_preflight_keeps_chosen_identifiers_with_a_warning(frame):
    check = preflight(frame, target="y", problem_type="binary", features=["id", "x"])
    assert check.features == ("id", "x")
    assert "identifier_feature" in _codes(check.warnings)
