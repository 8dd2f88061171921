"""The reproduction script: refusals, the estimator as the app builds it, and its column steps and scores
equal to the app's (the script runs in this process here; tests/csv_processor/test_run_script.py runs it in
a clean virtualenv)."""

import contextlib
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.training import TrainConfig, train
from csv_processor.ml.training.preprocess import CategoryCodes, DateParts, NumberColumns, TextStats
from csv_processor.ml.training.script import NotReproducible, ScriptFacts, script_refusal, write_script
from csv_processor.ml.training.target import LogTarget
from csv_processor.ml.types import infer_column_types

SEED = 3


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 240
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "city": rng.choice(["a", "b", "c", None], n),
            "when": pd.date_range("2020-01-01", periods=n, freq="13h"),
            "note": rng.choice(["short", "a longer note here", None], n),
            "price": rng.lognormal(3, 1, n),
        }
    )
    df.loc[::7, "age"] = np.nan
    df.loc[5, "age"] = np.inf
    df["label"] = np.where(df["age"].fillna(40) + (df["city"] == "a") * 20 > 55, "yes", "no")
    return df


def _facts(df: pd.DataFrame, result, **overrides) -> ScriptFacts:
    best = result.leaderboard[0]
    facts = ScriptFacts(
        run_id=7,
        dataset="people",
        version=1,
        parquet_name="people-v1.parquet",
        target=result.config.target,
        problem_type=result.config.problem_type,
        kinds={name: result.feature_schema[name]["kind"] for name in result.features},
        dtypes={column.name: column.dtype for column in infer_column_types(df)},
        algorithm=best.algorithm,
        params=best.params,
        seed=SEED,
        test_size=0.2,
        cv_folds=4,
        main_metric=result.main_metric,
    )
    return replace(facts, **overrides)


def _run(script: str, path: Path) -> tuple[list[float], str]:
    """Execute the script as __main__ would, on `path`; the fold scores and everything it printed."""
    namespace: dict = {"__name__": "reproduce"}
    exec(compile(script, "run-7.py", "exec"), namespace)  # noqa: S102 - our own generated script, in a test
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace["main"](str(path))
    folds = [float(line.split(":")[1]) for line in out.getvalue().splitlines() if line.startswith("fold ")]
    return folds, out.getvalue()


@pytest.mark.parametrize(
    ("target", "problem_type", "algorithm"),
    [
        ("label", "binary", "HistGradientBoosting"),
        ("label", "binary", "LogisticRegression"),
        pytest.param("label", "binary", "RandomForest", marks=pytest.mark.slow),
        ("price", "regression", "HistGradientBoosting"),
        ("price", "regression", "Ridge"),
    ],
)
def test_write_script_prints_the_runs_cv_scores(tmp_path, target, problem_type, algorithm):
    df = _frame()
    df.to_parquet(tmp_path / "people-v1.parquet")
    df = pd.read_parquet(tmp_path / "people-v1.parquet")
    config = TrainConfig(
        target=target, problem_type=problem_type, algorithms=(algorithm,), max_trials=2, seed=SEED, cv_folds=4
    )
    result = train(df, config)

    folds, printed = _run(write_script(_facts(df, result)), tmp_path / "people-v1.parquet")

    assert folds == pytest.approx(list(result.leaderboard[0].cv_scores), abs=1e-9)
    assert len(folds) == 4
    assert ("R²" if problem_type == "regression" else "Accuracy") in printed
    assert f"mean: {np.mean(folds):.15g}" in printed


def _blend_frame() -> pd.DataFrame:
    """Classes that follow a line in one column and a wave in another: a blend beats each single model."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=400), rng.normal(size=400)
    colour = rng.choice(["red", "green", "blue"], size=400)
    score = x1 + 0.8 * (colour == "red") + np.sin(3 * x2) + rng.normal(scale=0.6, size=400)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "label": np.where(score > 0.3, "yes", "no")})


@pytest.mark.parametrize(
    ("frame", "target", "problem_type", "members"),
    [(_blend_frame, "label", "binary", 4), (_frame, "price", "regression", 3)],
)
def test_write_script_prints_a_blends_cv_scores(tmp_path, frame, target, problem_type, members):
    df = frame()
    df.to_parquet(tmp_path / "people-v1.parquet")
    df = pd.read_parquet(tmp_path / "people-v1.parquet")
    config = TrainConfig(target=target, problem_type=problem_type, max_trials=4, seed=SEED, cv_folds=4)
    result = train(df, config)
    blend = result.leaderboard[0]
    assert blend.algorithm == "Ensemble"
    assert len(blend.params["members"]) == members

    script = write_script(_facts(df, result))
    folds, printed = _run(script, tmp_path / "people-v1.parquet")

    assert folds == pytest.approx(list(blend.cv_scores), abs=1e-9)
    assert "a blend of " in script
    assert f"mean: {np.mean(folds):.15g}" in printed


def test_write_script_column_steps_equal_the_apps():
    df = _frame()
    train_rows, new_rows = df.iloc[:150], df.iloc[150:]
    namespace: dict = {"__name__": "reproduce"}
    facts = _base_facts(
        target="price",
        problem_type="regression",
        kinds={"city": "categorical", "age": "float", "when": "datetime", "note": "text"},
        dtypes={"city": "object", "age": "float64", "when": "datetime64[ns]", "note": "object", "price": "float64"},
        algorithm="Ridge",
        params={"log_target": True},
        main_metric="r2",
    )
    exec(compile(write_script(facts), "d.py", "exec"), namespace)  # noqa: S102 - our own generated script
    pairs = [
        (namespace["CategoryCodes"](unknown=-1.0), CategoryCodes(unknown=-1.0), ["city"]),
        (namespace["CategoryCodes"](max_categories=2), CategoryCodes(max_categories=2), ["city"]),
        (namespace["Numbers"](), NumberColumns(), ["age"]),
        (namespace["DateParts"](), DateParts(), ["when"]),
        (namespace["TextStats"](), TextStats(), ["note"]),
    ]
    for ours, apps, columns in pairs:
        expected = apps.fit(train_rows[columns]).transform(new_rows[columns])
        np.testing.assert_array_equal(ours.fit(train_rows[columns]).transform(new_rows[columns]), expected)
    y = df["price"].to_numpy()
    ours, apps = namespace["LogTarget"]().fit(y[:150]), LogTarget().fit(y[:150])
    np.testing.assert_array_equal(
        ours.inverse_transform(np.linspace(-5, 10, 7)), apps.inverse_transform(np.linspace(-5, 10, 7))
    )


def _base_facts(**overrides) -> ScriptFacts:
    facts = ScriptFacts(
        run_id=1,
        dataset="d",
        version=1,
        parquet_name="d.parquet",
        target="y",
        problem_type="binary",
        kinds={"n": "float", "c": "categorical"},
        dtypes={"n": "float64", "c": "object", "y": "object"},
        algorithm="HistGradientBoosting",
        params={"learning_rate": 0.05},
        seed=4,
        test_size=0.25,
        cv_folds=5,
        main_metric="accuracy",
    )
    return replace(facts, **overrides)


def test_write_script_builds_the_estimator_with_the_apps_parameters():
    script = write_script(_base_facts())

    assert "HistGradientBoostingClassifier(categorical_features=[0], learning_rate=0.05, random_state=4)" in script
    assert "from sklearn.ensemble import HistGradientBoostingClassifier" in script
    assert "csv_processor" not in script
    assert "LogisticRegression(max_iter=2000, random_state=4)" in write_script(
        _base_facts(algorithm="LogisticRegression", params={})
    )


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"algorithm": "Ensemble", "params": {}}, "members were not recorded"),
        ({"algorithm": "Ensemble", "params": {"members": [{"algorithm": "SVC", "weight": 1.0}]}}, "SVC is not"),
        ({"replayed_split": True}, "earlier model"),
        ({"kinds": {"d": "datetime"}, "dtypes": {"d": "object", "y": "object"}}, "dates stored as text"),
    ],
)
def test_script_refusal_names_what_cannot_be_reproduced(overrides, words):
    facts = _base_facts(**overrides)

    with pytest.raises(NotReproducible) as refused:
        write_script(facts)

    assert words in str(refused.value)
    assert script_refusal(facts) == str(refused.value)


def _to_float(**overrides):
    namespace: dict = {"__name__": "reproduce"}
    exec(compile(write_script(_base_facts(**overrides)), "d.py", "exec"), namespace)  # noqa: S102 - our own script
    return namespace["to_float"]


TRICKY = ["1,000", "$4.99", "19M", "(42)", "12%", " ", "", "1,00", "1e3", "-$5", "€ 7", "1.5.2", "abc", "(42", None]


def test_script_reads_numbers_stored_as_text_as_the_app_does():
    to_float = _to_float(dtypes={"n": "object", "c": "object", "y": "object"})
    values = pd.Series(TRICKY * 3 + [12, 3.5], dtype=object)

    np.testing.assert_array_equal(to_float(values).to_numpy(), parse_numbers(values).to_numpy())
    assert "import pyarrow.compute as pc" in write_script(_base_facts(dtypes={"n": "object", "c": "object"}))
    assert "import pyarrow" not in write_script(_base_facts())  # numbers stored as numbers: no parser


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789,.$€()%-+ eEkMBT\u00a0", max_size=12), st.text(max_size=6))))
def test_script_number_parser_equals_the_apps_on_any_text(texts):
    to_float = _to_float(problem_type="regression", algorithm="Ridge", params={})
    values = pd.Series(texts, dtype=object)

    np.testing.assert_array_equal(to_float(values).to_numpy(), parse_numbers(values).to_numpy())
