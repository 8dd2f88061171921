"""Recipe replay on hostile input, beyond tests/ml/cleaning/test_recipe.py (which replays recipes fitted by
the app): here the recipes are arbitrary JSON (as a stored recipe or a model file could hold) and the
frames have every column kind, odd names, no rows or no values.

Whatever comes in, Recipe.from_list, fit_step, apply_recipe and RecipeTransformer return a result or raise
CleaningError, whose message the app shows as is; never another exception.
"""

import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.recipe import Recipe, RecipeTransformer, apply_recipe
from csv_processor.ml.cleaning.schema import OPS, CleaningError
from csv_processor.ml.cleaning.step import Step

FUZZ = settings(
    max_examples=int(os.environ.get("CSVA_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = ["num", "int", "txt", "cat", "when", "flag", "empty", "", " ", "<script>", "num_2"]
ODD = st.sampled_from(
    [None, math.nan, math.inf, -math.inf, 10**30, -1, 0, 1.5, True, "", " ", "%Q%", "%", "ISO8601", "nan", "\x00",
     "<b>", [], {}, [None], ["num"], ["year", "year"], "a" * 300]
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8), ODD)


DATES = ["2024-01-02 00:00", "1999-12-31 23:59", None]


def _value_for(param: object) -> st.SearchStrategy:
    """A value of roughly the parameter's kind: right often enough to reach the operation, wrong often."""
    kind = param.kind
    right = {
        "column": st.sampled_from(NAMES),
        "columns": st.lists(st.sampled_from(NAMES), max_size=3),
        "columns_opt": st.one_of(st.none(), st.lists(st.sampled_from(NAMES), max_size=3)),
        "text": st.text(max_size=10),
        "text_opt": st.one_of(st.none(), st.text(max_size=10)),
        "number": st.one_of(st.floats(), st.integers(-(2**70), 2**70)),
        "scalar": SCALARS,
        "scalars": st.lists(SCALARS, max_size=4),
        "positions": st.lists(st.integers(-2, 2**66), max_size=4),
        "choice": st.sampled_from([*param.choices, "other"]),
        "choices": st.lists(st.sampled_from([*param.choices, "other"]), max_size=4),
        "formats": st.lists(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Q", "%", "ISO8601", "", "%H"]), max_size=3),
    }[kind]
    return st.one_of(right, right, ODD)


@st.composite
def raw_steps(draw: st.DrawFn) -> object:
    op = draw(st.one_of(st.sampled_from(sorted(OPS)), st.sampled_from(["explode", "", None, 5])))
    spec = OPS.get(op) if isinstance(op, str) else None
    params: object = {}
    if spec is not None:
        params = {p.name: draw(_value_for(p)) for p in spec.params if draw(st.integers(0, 5))}
    if draw(st.integers(0, 20)) == 0:
        params = draw(st.one_of(st.none(), st.lists(st.integers(), max_size=2), st.text(max_size=3)))
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.none(), st.text(max_size=3), st.just({"op": op}), st.just([op, params])))
    return {"op": op, "params": params}


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    floats = st.one_of(st.none(), st.floats(allow_infinity=True), st.floats(-1e3, 1e3))
    texts = st.one_of(
        st.none(), st.sampled_from([" a", "B", "1,000", "$2", "?", "2024-01-02", "yes", ""]), st.text(max_size=5)
    )
    columns = {
        "num": pd.array(draw(st.lists(floats, min_size=n, max_size=n)), dtype="float64"),
        "int": pd.array(draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)), dtype="int64"),
        "txt": pd.array(draw(st.lists(texts, min_size=n, max_size=n)), dtype="str"),
        "cat": pd.Categorical(draw(st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n))),
        "when": pd.to_datetime(draw(st.lists(st.sampled_from(DATES), min_size=n, max_size=n)), utc=True),
        "flag": pd.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean"),
        "empty": pd.array([None] * n, dtype="float64"),
    }  # fmt: skip
    keep = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, max_size=7, unique=True))
    return pd.DataFrame({name: columns[name] for name in keep})


def _quietly(call, *args, **kwargs):
    """The result, or None after a CleaningError (with a message for the user)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a user's extreme numbers is theirs
        try:
            return call(*args, **kwargs)
        except CleaningError as error:
            message = str(error)
    assert message.strip()
    return None


@pytest.mark.slow
@FUZZ
@given(steps=st.lists(raw_steps(), max_size=5), df=frames(), training=st.booleans())
def test_any_stored_recipe_replays_or_raises_cleaning_error(steps, df, training):
    note(f"steps={steps!r}")
    recipe = _quietly(Recipe.from_list, steps)
    if recipe is None:
        return
    out = _quietly(apply_recipe, df, recipe, training=training)
    if out is not None:
        assert isinstance(out, pd.DataFrame)
        assert len(out) <= len(df) or not training
        assert out.columns.is_unique
    transformed = _quietly(RecipeTransformer(recipe.to_list()).fit_transform, df)
    if transformed is not None and out is not None and not training:
        pd.testing.assert_frame_equal(transformed, out)


@pytest.mark.slow
@FUZZ
@given(step=raw_steps(), df=frames(), other=frames())
def test_any_request_fits_or_raises_cleaning_error_and_replays_on_other_data(step, df, other):
    note(f"step={step!r}")
    if not isinstance(step, dict) or not isinstance(step.get("params"), dict):
        return
    fitted = _quietly(fit_step, df, step["op"], step["params"])
    if fitted is None:
        return
    assert Step.from_dict(fitted.to_dict()) == fitted
    assert fitted.describe()
    applied = _quietly(apply_step, df, fitted)
    if applied is not None:
        assert applied.columns.is_unique
    _quietly(apply_recipe, other, Recipe(steps=(fitted,)))
    _quietly(apply_recipe, other, Recipe(steps=(fitted,)), training=True)


def test_numpy_scalars_in_a_stored_recipe_are_refused_or_kept_as_plain_json():
    # A recipe read back from a model file may carry numpy numbers; they must not crash the JSON copy.
    step = _quietly(Step, "fill_missing", {"column": "num", "strategy": "constant", "value": np.float64(2.5)})
    assert step is None or step.params["value"] == 2.5
