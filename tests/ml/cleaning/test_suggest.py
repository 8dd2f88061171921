"""SimpleCleanModel: accuracy on held-out real columns, sensible suggestions on real files, reproducibility."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.suggest.features import FEATURES, column_features
from csv_processor.ml.cleaning.suggest.model import (
    ACTIONS,
    SuggestionModel,
    evaluate_on_labelled,
    labelled_features,
    train_suggestion_model,
)
from csv_processor.ml.cleaning.suggest.synth import synthetic_features
from tests.shared_datasets import SHARED_DATASETS, read_csv_options


@pytest.fixture(scope="module")
def model() -> SuggestionModel:
    return train_suggestion_model(seed=0)


def _read(name: str, **overrides) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATASETS / name, **(overrides or read_csv_options(name)))


def _actions(model: SuggestionModel, df: pd.DataFrame) -> dict[str, str]:
    return {s.column: s.action for s in model.suggest(df)}


def test_clean_model_accuracy_on_held_out_labelled_set(model):
    accuracy = evaluate_on_labelled(model)
    assert accuracy >= 0.90, accuracy


def test_labelled_set_keeps_held_out_files_apart_and_uses_known_actions():
    table = labelled_features()
    files = table.groupby("split")["file"].unique()
    assert not set(files["train"]) & set(files["held_out"])
    assert set(table["label"]) <= set(ACTIONS)
    assert len(table.query("split == 'held_out'")) >= 100


@pytest.mark.slow
def test_clean_model_is_reproducible_and_round_trips_through_bytes(model):
    features = labelled_features()
    again = train_suggestion_model(seed=0)
    assert (again.predict_labels(features) == model.predict_labels(features)).all()
    restored = SuggestionModel.from_bytes(model.to_bytes())
    assert (restored.predict_labels(features) == model.predict_labels(features)).all()
    assert synthetic_features(per_action=3, seed=5).equals(synthetic_features(per_action=3, seed=5))


def test_column_features_are_finite_floats_for_odd_columns():
    odd = [
        pd.Series([], dtype="float64"),
        pd.Series([None, None], dtype="object"),
        pd.Series([np.inf, 1.0, -np.inf]),
        pd.Series([True, False]),
        pd.Series(pd.to_datetime(["2020-01-01", None])),
    ]
    for series in odd:
        features = column_features(series)
        assert list(features) == list(FEATURES)
        assert all(np.isfinite(v) for v in features.values())


def test_suggestions_on_a_small_frame_carry_steps_and_reasons(model):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "id": np.arange(500),
            "income": np.where(rng.random(500) < 0.3, np.nan, rng.lognormal(10, 1, 500)),
            "size": np.where(rng.random(500) < 0.05, "Varies with device", "19M"),
        }
    )
    suggestions = {s.column: s for s in model.suggest(df)}
    assert suggestions["id"].action == "drop_column"
    assert suggestions["id"].step == {"op": "drop_columns", "params": {"columns": ["id"]}}
    assert suggestions["income"].action == "fill_median"
    assert suggestions["income"].reason.startswith(f"{df['income'].isna().mean():.0%} of the values are missing.")
    assert "the median" in suggestions["income"].reason
    assert f"{df['income'].isna().mean():.0%} missing values" in suggestions["income"].detail
    assert suggestions["income"].detail.endswith("fill with the median")
    assert suggestions["id"].reason.startswith("Every value is different, like an ID")
    assert suggestions["size"].action == "to_number"
    assert all(0 < s.confidence <= 1 for s in suggestions.values())


@pytest.mark.needs_shared_datasets
def test_suggestions_on_titanic_make_sense(model):
    df = _read("titanic_train.csv")
    actions = _actions(model, df)
    assert actions["PassengerId"] == "drop_column"
    assert actions["Cabin"] in ("drop_column", "fill_most_frequent")
    assert actions["Age"] == "fill_median"
    assert actions["Name"] == "drop_column"
    for suggestion in model.suggest(df):
        if suggestion.step is not None:
            fit_step(df, suggestion.step["op"], suggestion.step["params"])


@pytest.mark.needs_shared_datasets
def test_suggestions_find_formatted_numbers(model):
    apps = _actions(model, _read("googleplaystore.csv"))
    assert apps["Installs"] == "to_number"
    assert apps["Price"] == "to_number"
    assert _actions(model, _read("telco_customer_churn.csv"))["TotalCharges"] == "to_number"


@pytest.mark.needs_shared_datasets
def test_suggestions_find_missing_value_codes(model):
    air = _read("airquality_uci_eu_excel.csv", sep=";", decimal=",")
    suggestions = {s.column: s for s in model.suggest(air)}
    assert suggestions["CO(GT)"].action == "replace_sentinels"
    assert suggestions["CO(GT)"].step == {"op": "replace_values", "params": {"column": "CO(GT)", "values": [-200]}}
    assert suggestions["Date"].action == "to_datetime"
    bank = _actions(model, _read("bank-additional-full.csv"))
    assert bank["pdays"] == "replace_sentinels"
    assert bank["education"] == "replace_sentinels"
