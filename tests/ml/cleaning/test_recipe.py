"""Recipes: JSON round trip, digest, replay equal to the recorded chain, and the Pipeline transformer."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.recipe import Recipe, RecipeTransformer, apply_recipe
from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.cleaning.step import Step

TEXT = [" a", "b ", "B", "1,000", "$2", "?", "unknown", "", None]


def _recipe_on(df: pd.DataFrame, requests: list[tuple[str, dict]]) -> tuple[Recipe, pd.DataFrame]:
    """Fit each request on the result of the previous steps, as the web app does; skip the invalid ones."""
    recipe, current = Recipe(), df
    for op, params in requests:
        if op == "delete_rows":
            params = {"positions": sorted({p % max(len(current), 1) for p in params["positions"]})}
        try:
            step = fit_step(current, op, params)
        except CleaningError:
            continue
        recipe, current = recipe.then(step), apply_step(current, step)
    return recipe, current


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [22.0, np.nan, 35.0, 58.0, np.nan, 4.0, 30.0, 41.0],
            "city": [" Oslo", "Rome", "rome", None, "Oslo ", "Rome", "Rome", "Oslo"],
            "paid": ["1,000", "$20", "?", "7", "8", "9", "10", "11"],
            "survived": [1, 0, 1, 0, 1, 0, 1, 0],
        }
    )


REQUESTS = [
    ("drop_duplicates", {}),
    ("trim_whitespace", {"column": "city"}),
    ("change_case", {"column": "city", "case": "title"}),
    ("fill_missing", {"column": "age", "strategy": "median"}),
    ("replace_values", {"column": "paid", "values": ["?"]}),
    ("to_number", {"column": "paid"}),
    ("delete_rows_where", {"column": "paid", "condition": "greater_than", "value": 100}),
    ("fill_missing", {"column": "survived", "strategy": "most_frequent"}),
    ("to_category", {"column": "city"}),
]


def test_recipe_round_trips_through_json_with_a_stable_digest(people):
    recipe, _ = _recipe_on(people, REQUESTS)
    again = Recipe.from_list(recipe.to_list())
    assert again == recipe
    assert again.digest() == recipe.digest()
    reordered = [{"params": dict(reversed(list(s["params"].items()))), "op": s["op"]} for s in recipe.to_list()]
    assert Recipe.from_list(reordered).digest() == recipe.digest()
    assert Recipe().digest() == "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    assert Recipe.from_list(recipe.to_list()[:-1]).digest() != recipe.digest()


def test_for_prediction_drops_the_row_filters(people):
    recipe, _ = _recipe_on(people, REQUESTS)
    kept = recipe.for_prediction()
    assert [s.op for s in recipe.steps if s.training_only] == ["drop_duplicates", "delete_rows_where"]
    assert not any(step.training_only for step in kept.steps)
    assert len(kept.steps) == len(recipe.steps) - 2


def test_apply_recipe_skips_steps_on_an_absent_target_only_at_prediction(people):
    recipe, _ = _recipe_on(people, [*REQUESTS, ("drop_columns", {"columns": ["survived", "age"]})])
    rows = people.drop(columns=["survived"]).head(3)
    out = apply_recipe(rows, recipe)
    assert list(out.columns) == ["city", "paid"]
    assert out["paid"].tolist()[:2] == [1000.0, 20.0]
    assert np.isnan(out["paid"].iloc[2])
    with pytest.raises(CleaningError, match="survived"):
        apply_recipe(rows, recipe, training=True)


def test_recipe_transformer_in_a_pipeline_takes_raw_rows_without_the_target(people):
    extra = [("fill_missing", {"column": "paid", "strategy": "median"}), ("drop_columns", {"columns": ["city"]})]
    recipe, _ = _recipe_on(people, [*REQUESTS[1:], *extra])
    pipeline = Pipeline([("clean", RecipeTransformer(recipe.to_list())), ("model", LogisticRegression())])
    train = apply_recipe(people, recipe, training=True)
    pipeline.fit(people.loc[train.index].drop(columns=["survived"]), train["survived"])
    raw = pd.DataFrame({"age": [np.nan, 60.0], "city": ["Oslo", "Paris"], "paid": ["?", "$1,000"]})
    assert pipeline.predict(raw).shape == (2,)
    restored = pickle.loads(pickle.dumps(pipeline))  # noqa: S301 (our own object, in memory)
    assert (restored.predict(raw) == pipeline.predict(raw)).all()
    assert clone(pipeline).get_params()["clean__recipe_steps"] == recipe.to_list()


def test_recipe_transformer_params_and_bad_steps():
    transformer = RecipeTransformer([])
    transformer.set_params(recipe_steps=[{"op": "drop_columns", "params": {"columns": ["a"]}}])
    out = transformer.fit_transform(pd.DataFrame({"a": [1], "b": [2]}))
    assert list(out.columns) == ["b"]
    with pytest.raises(CleaningError, match="Unknown cleaning operation"):
        RecipeTransformer([{"op": "explode", "params": {}}]).fit(pd.DataFrame({"a": [1]}))


# Property: replaying the recipe equals the chain of steps it was recorded from -------------------

columns = st.sampled_from(["num", "int", "txt", "cat"])
requests = st.one_of(
    st.tuples(
        st.just("fill_missing"),
        st.fixed_dictionaries(
            {"column": columns, "strategy": st.sampled_from(["mean", "median", "most_frequent", "ffill"])}
        ),
    ),
    st.tuples(
        st.just("delete_rows_where"),
        st.fixed_dictionaries(
            {
                "column": columns,
                "condition": st.sampled_from(["equals", "less_than", "greater_than", "is_missing", "contains"]),
                "value": st.sampled_from([0, 1.5, "a"]),
            }
        ),
    ),
    st.tuples(st.just("delete_rows"), st.fixed_dictionaries({"positions": st.lists(st.integers(0, 50), max_size=3)})),
    st.tuples(st.sampled_from(["drop_duplicates", "drop_missing"]), st.just({})),
    st.tuples(st.just("drop_columns"), st.fixed_dictionaries({"columns": st.lists(columns, min_size=1, max_size=1)})),
    st.tuples(st.just("rename_column"), st.fixed_dictionaries({"column": columns, "new_name": st.just("renamed")})),
    st.tuples(
        st.sampled_from(["to_number", "to_category", "trim_whitespace"]), st.fixed_dictionaries({"column": columns})
    ),
    st.tuples(st.just("change_case"), st.fixed_dictionaries({"column": columns, "case": st.just("upper")})),
    st.tuples(
        st.just("replace_values"), st.fixed_dictionaries({"column": columns, "values": st.just(["?", "unknown"])})
    ),
    st.tuples(
        st.sampled_from(["clip_outliers", "remove_outliers"]),
        st.fixed_dictionaries({"column": columns, "method": st.sampled_from(["iqr", "zscore"])}),
    ),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    floats = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False))
    return pd.DataFrame(
        {
            "num": pd.array(draw(st.lists(floats, min_size=n, max_size=n)), dtype="float64"),
            "int": draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)),
            "txt": pd.array(draw(st.lists(st.sampled_from(TEXT), min_size=n, max_size=n)), dtype="str"),
            "cat": draw(st.lists(st.sampled_from(["x", "y", "x y"]), min_size=n, max_size=n)),
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), reqs=st.lists(requests, max_size=8))
def test_replaying_a_recipe_equals_the_chain_it_was_recorded_from(df, reqs):
    recipe, chain = _recipe_on(df, reqs)
    pd.testing.assert_frame_equal(apply_recipe(df, recipe, training=True), chain)
    without_filters = df
    for step in recipe.steps:
        if not step.training_only:
            without_filters = apply_step(without_filters, step)
    pd.testing.assert_frame_equal(apply_recipe(df, recipe.for_prediction()), without_filters)
    pd.testing.assert_frame_equal(apply_recipe(df, recipe), without_filters)
    assert Recipe.from_list(recipe.to_list()) == recipe
    assert all(Step.from_dict(s.to_dict()) == s for s in recipe.steps)
