"""A recipe: the recorded steps of a dataset, replayable on new data and inside a scikit-learn Pipeline.

Replay rules:
* training=True replays every step; a missing column raises CleaningError, as it did when recorded.
* training=False (prediction) skips the training-only row filters, and skips any step whose
  columns are all absent from the input (logged at INFO). The target column is never in rows to
  predict, so steps on it are skipped this way. drop_columns drops the listed columns that are
  present. A step with some of its columns present runs and raises CleaningError as usual.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.cleaning.step import Step

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    steps: tuple[Step, ...] = ()

    def to_list(self) -> list[dict]:
        return [step.to_dict() for step in self.steps]

    @classmethod
    def from_list(cls, data: object) -> "Recipe":
        if not isinstance(data, list | tuple):
            raise CleaningError("A recipe must be a list of steps.")
        return cls(steps=tuple(s if isinstance(s, Step) else Step.from_dict(s) for s in data))

    def digest(self) -> str:
        """SHA-256 of the canonical JSON (sorted keys, no spaces): equal recipes have equal digests."""
        text = json.dumps(self.to_list(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def for_prediction(self) -> "Recipe":
        return Recipe(steps=tuple(step for step in self.steps if not step.training_only))

    def then(self, step: Step) -> "Recipe":
        """This recipe with `step` appended."""
        return Recipe(steps=(*self.steps, step))


def apply_recipe(df: pd.DataFrame, recipe: Recipe, *, training: bool = False) -> pd.DataFrame:
    """Replay `recipe` on `df` (see the module docstring for what prediction mode skips)."""
    out = df
    for step in recipe.steps:
        if not training:
            if step.training_only:
                continue
            present = _present_part(out, step)
            if present is None:
                continue
            step = present
        out = apply_step(out, step)
    return out if out is not df else df.copy(deep=False)


def _present_part(df: pd.DataFrame, step: Step) -> Step | None:
    columns = step.columns
    present = [c for c in columns if c in df.columns]
    if columns and not present:
        logger.info("skipped at prediction, no column %s: %s", columns, step.describe())
        return None
    if step.op == "drop_columns" and len(present) < len(columns):
        return Step(op=step.op, params={**step.params, "columns": present})
    return step


class RecipeTransformer(TransformerMixin, BaseEstimator):
    """Replays a recipe (as plain dicts) in prediction mode, so a Pipeline can take raw rows.

    Stateless: fit only validates the steps. Holds plain data, so it pickles with the Pipeline.
    """

    def __init__(self, recipe_steps: list[dict] | None = None) -> None:
        self.recipe_steps = recipe_steps

    def fit(self, X: pd.DataFrame, y: object = None) -> "RecipeTransformer":
        self._recipe()
        if hasattr(X, "columns"):
            self.feature_names_in_ = list(map(str, X.columns))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise CleaningError("The cleaning recipe needs a table with column names.")
        return apply_recipe(X, self._recipe(), training=False)

    def _recipe(self) -> Recipe:
        return Recipe.from_list(list(self.recipe_steps or []))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = False
        return tags
