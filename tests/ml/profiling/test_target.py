"""Every column against a target (issue 18 point 1): the ranking, the measures and the plot data."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames
from scipy.stats.contingency import association
from sklearn.metrics import mutual_info_score

from csv_processor.ml.profiling import target as explore
from csv_processor.ml.profiling.target import explore_target


def _classes(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    label = np.where(signal + (colour == "red") * 0.8 + rng.normal(scale=0.5, size=rows) > 0.3, "yes", "no")
    return pd.DataFrame(
        {
            "row_id": np.arange(rows),
            "signal": signal,
            "colour": colour,
            "noise": rng.normal(size=rows),
            "when": pd.date_range("2024-01-01", periods=rows, freq="h"),
            "label": label,
        }
    )


def _by_name(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["columns"]}


def test_columns_are_ranked_by_what_they_tell_about_the_target():
    result = explore_target(_classes(), "label", "binary", kinds={"row_id": "identifier"})

    names = [c["name"] for c in result["columns"]]
    assert names[0] == "signal"
    assert names.index("colour") < names.index("noise")
    assert set(names) == {"row_id", "signal", "colour", "noise", "when"}
    scores = [c["score"] for c in result["columns"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert _by_name(result)["noise"]["score"] < 0.01  # the bias correction leaves pure noise near 0
    assert result["rows"] == 2000
    assert result["rows_left_out"] == 0
    assert "mutual information" in result["method"]
    json.dumps(result)  # stored as JSON


def test_measures_are_named_and_fit_the_pair():
    columns = _by_name(explore_target(_classes(), "label", "binary"))

    assert columns["signal"]["measure"]["name"] == "correlation ratio"
    assert columns["colour"]["measure"]["name"] == "Cramér's V"
    assert columns["colour"]["measure"]["label"] == "Cramér's V"
    assert columns["signal"]["measure"]["value"] > columns["noise"]["measure"]["value"]
    assert "signal" in columns["signal"]["sentence"]
    assert "label" in columns["signal"]["sentence"]


def test_mutual_information_is_the_plug_in_estimate_less_its_bias():
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 5, size=3000), rng.integers(0, 3, size=3000)
    y = np.where(rng.random(3000) < 0.5, x % 3, y)

    plug_in = mutual_info_score(x, y) / math.log(2)
    bias = (5 - 1) * (3 - 1) / (2 * 3000 * math.log(2))

    assert explore._mutual_information(x, 5, y, 3) == pytest.approx(plug_in - bias, rel=1e-9)


def test_cramers_v_and_correlation_ratio_equal_their_definitions():
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 4, size=500), rng.integers(0, 3, size=500)
    values = rng.normal(size=500) + x

    table = pd.crosstab(x, y).to_numpy()
    groups = [values[x == g] for g in range(4)]
    between = sum(len(g) * (g.mean() - values.mean()) ** 2 for g in groups)
    total = ((values - values.mean()) ** 2).sum()

    assert explore._cramers_v(x, 4, y, 3) == pytest.approx(association(table, method="cramer"), rel=1e-9)
    assert explore._correlation_ratio(x, values) == pytest.approx(math.sqrt(between / total), rel=1e-9)


def test_plots_fit_the_pair_of_kinds():
    columns = _by_name(explore_target(_classes(), "label", "binary"))

    box = columns["signal"]["plot"]
    assert box["type"] == "box"
    assert {g["label"] for g in box["groups"]} == {"yes", "no"}
    for group in box["groups"]:
        assert group["low"] <= group["q1"] <= group["median"] <= group["q3"] <= group["high"]
    rate = columns["colour"]["plot"]
    assert rate["type"] == "rate"
    assert rate["classes"] in (["yes"], ["no"])  # the less common class
    red = rate["values"].index("red")
    assert rate["shares"][0][red] == max(rate["shares"][0]) or rate["shares"][0][red] == min(rate["shares"][0])
    assert sum(rate["counts"]) == 2000
    when = columns["when"]["plot"]
    assert when["type"] == "rate"
    assert when["ordered"]
    assert when["values"][0].startswith("2024-01-01")


def test_regression_plots_binned_means_and_boxes_per_value():
    rng = np.random.default_rng(3)
    size = rng.uniform(30, 200, size=1000)
    town = rng.choice(["a", "b", "c"], size=1000)
    price = 3 * size + (town == "a") * 10 + rng.normal(scale=2, size=1000)
    frame = pd.DataFrame({"size": size, "town": town, "price": price})

    columns = _by_name(explore_target(frame, "price", "regression"))

    binned = columns["size"]["plot"]
    assert binned["type"] == "binned_mean"
    assert len(binned["bins"]) == explore.BINS
    assert binned["mean"] == sorted(binned["mean"])  # price grows with size
    assert sum(binned["counts"]) == 1000
    assert columns["size"]["measure"] == {
        "name": "Pearson's r",
        "symbol": "r",
        "label": "Pearson's r",
        "value": pytest.approx(0.99, abs=0.01),
    }
    assert columns["town"]["plot"]["type"] == "box"
    assert columns["town"]["measure"]["name"] == "correlation ratio"


def test_numbers_of_few_values_keep_a_code_per_value():
    rng = np.random.default_rng(4)
    flag = rng.integers(0, 2, size=1000)
    label = np.where(rng.random(1000) < np.where(flag == 1, 0.8, 0.2), "yes", "no")

    column = _by_name(explore_target(pd.DataFrame({"flag": flag, "label": label}), "label", "binary"))["flag"]

    assert column["score"] > 0.1  # one bin for 0 and 1 would hide it
    assert column["plot"]["type"] == "rate"
    assert column["plot"]["values"] == ["0", "1"]
    assert column["measure"]["label"] == "correlation ratio η"


def test_missing_values_count_as_a_value_and_unusable_targets_are_left_out():
    frame = pd.DataFrame(
        {
            "x": [1.0, None, 2.0, None, 3.0, None, 4.0, None] * 25,
            "label": ["a", "b", "a", "b", "a", "b", None, " "] * 25,
        }
    )

    result = explore_target(frame, "label", "binary")

    x = _by_name(result)["x"]
    assert result["rows_left_out"] == 50
    assert result["rows"] == 150
    assert x["score"] > 0.9  # missing or not gives the class away
    assert x["missing_share"] == pytest.approx(75 / 150)


def test_flags_mark_leakage_and_identifiers():
    frame = _classes()
    frame["outcome_code"] = np.where(frame["label"] == "yes", 1, 0)

    columns = _by_name(explore_target(frame, "label", "binary", kinds={"row_id": "identifier"}))

    assert [f["code"] for f in columns["outcome_code"]["flags"]] == ["leakage"]
    assert "outcome_code" in columns["outcome_code"]["flags"][0]["message"]
    assert [f["code"] for f in columns["row_id"]["flags"]] == ["identifier"]
    assert columns["noise"]["flags"] == []


def test_a_target_with_one_usable_value_says_there_is_nothing_to_compare():
    result = explore_target(pd.DataFrame({"x": [1, 2, 3], "y": ["a", "a", None]}), "y", "binary")

    assert result["columns"] == []
    assert "fewer than two" in result["empty_reason"]


def test_text_keeps_its_most_common_values_and_pools_the_rest():
    values = [f"v{i}" for i in range(100)] * 3
    frame = pd.DataFrame({"many": values, "y": ["a", "b", "c"] * 100})

    plot = _by_name(explore_target(frame, "y", "multiclass"))["many"]["plot"]

    assert len(plot["classes"]) == 3
    assert len(plot["shares"]) == 3
    assert len(plot["values"]) == explore.PLOT_VALUES
    coded = explore._text_codes(frame["many"])
    assert coded.labels[-1] == explore.OTHER_LABEL
    assert len(coded.labels) == explore.TOP_VALUES + 1


def test_progress_reaches_the_end():
    seen = []
    explore_target(_classes(200), "label", "binary", on_progress=seen.append)

    assert seen[-1] == 1.0
    assert seen == sorted(seen)


frames = data_frames(
    [
        column("n", elements=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()), dtype=object),
        column("t", elements=st.one_of(st.text(max_size=5), st.none()), dtype=object),
        column("y", elements=st.sampled_from(["a", "b", "c", None, ""])),
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_any_table_gives_a_json_ranking_with_scores_in_range(frame):
    result = explore_target(frame, "y", "multiclass")

    json.dumps(result, allow_nan=False)
    assert all(0 <= c["score"] <= 1 for c in result["columns"])
    if result["columns"]:
        assert {c["name"] for c in result["columns"]} == {"n", "t"}
