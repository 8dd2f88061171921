"""A fitted Pipeline flattened for small requests: the same arithmetic without the per-call plumbing.

On one row, `pipeline.predict` spends milliseconds in scikit-learn's generic machinery (the column
step's job dispatch and column indexing, input validation repeated by every step, a pandas Series per
column) around a model that needs a tenth of a millisecond. `compile_pipeline` walks the fitted steps
once and returns a predictor that runs the steps it knows (our column readers, SimpleImputer,
StandardScaler, OneHotEncoder) as numpy on tables computed once, calls any other step's own
`transform`, and calls the estimator directly (a linear model: its product and link, unvalidated). It
returns None for a shape it does not know.

A compiled predictor is only used after `agrees_with_pipeline` found the same answers as the pipeline
on probe rows built from the input spec, so a difference falls back to the pipeline, never to a user.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from csv_processor.ml.serving.estimators import fast_estimator
from csv_processor.ml.serving.inputs import InputSpec, PreparedRows
from csv_processor.ml.serving.predict import Predicted, predict_frame, predict_with
from csv_processor.ml.training.ensemble import Blend
from csv_processor.ml.training.preprocess import CategoryCodes, NumberColumns, unusable_to_nan

Op = Callable[[np.ndarray], np.ndarray]
UNSEEN = "\x00csva-unseen"


class Columns:
    """A request's input columns by name, from a dict of arrays (what the request checks build) or a
    DataFrame; a DataFrame is built only for a step that needs one."""

    def __init__(self, source: Mapping[str, Any] | pd.DataFrame) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source) if isinstance(self.source, pd.DataFrame) else len(next(iter(self.source.values())))

    def array(self, name: str) -> np.ndarray:
        value = self.source[name]
        return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)

    def values(self, name: str) -> list:
        return self.source[name].tolist()

    def frame(self, names: list[str] | None = None) -> pd.DataFrame:
        if isinstance(self.source, pd.DataFrame):
            return self.source if names is None else self.source[names]
        names = list(self.source) if names is None else names
        return pd.DataFrame({name: self.source[name] for name in names}, copy=False)


Reader = Callable[[Columns], np.ndarray]


@dataclass(frozen=True)
class Branch:
    """One part of the column step: read its columns from the frame, then apply its steps in order."""

    read: Reader
    ops: tuple[Op, ...]

    def __call__(self, columns: Columns) -> np.ndarray:
        out = self.read(columns)
        for op in self.ops:
            out = op(out)
        return out


class _Compiled:
    """The estimator protocol `predict_with` uses (`predict`, `predict_proba`, `classes_`), over Columns."""

    problem_type: str

    def answer(self, inputs: Mapping[str, Any] | pd.DataFrame) -> Predicted:
        """Predict rows given as columns by name (arrays of equal length) or as a DataFrame."""
        with config_context(assume_finite=True, skip_parameter_validation=True):
            return predict_with(self, Columns(inputs), problem_type=self.problem_type)


def _apply(steps: tuple, columns: Columns) -> Columns:
    for step in steps:
        columns = Columns(step.transform(columns.frame()))
    return columns


@dataclass(frozen=True)
class CompiledPipeline(_Compiled):
    before: tuple[Any, ...]  # fitted steps that map the raw frame to a frame (a cleaning recipe)
    branches: tuple[Branch, ...]
    after: tuple[Op, ...]
    estimator: Any
    problem_type: str

    @property
    def classes_(self) -> np.ndarray | None:
        return getattr(self.estimator, "classes_", None)

    def features(self, columns: Columns) -> np.ndarray:
        columns = _apply(self.before, columns)
        parts = [branch(columns) for branch in self.branches]
        features = parts[0] if len(parts) == 1 else np.hstack(parts)
        for op in self.after:
            features = op(features)
        return features

    def predict(self, columns: Columns) -> np.ndarray:
        return self.estimator.predict(self.features(columns))

    def predict_proba(self, columns: Columns) -> np.ndarray:
        return self.estimator.predict_proba(self.features(columns))


@dataclass(frozen=True)
class CompiledBlend(_Compiled):
    """Auto mode's Blend (ml/training/ensemble.py) of compiled member pipelines, weighted as it does."""

    before: tuple[Any, ...]
    members: tuple[CompiledPipeline, ...]
    weights: tuple[float, ...]
    problem_type: str

    @property
    def classes_(self) -> np.ndarray | None:
        return self.members[0].classes_

    def predict(self, columns: Columns) -> np.ndarray:
        columns = _apply(self.before, columns)
        # asarray: the sum of no arrays would be 0, but a blend has members.
        return np.asarray(
            sum(w * member.predict(columns) for w, member in zip(self.weights, self.members, strict=True))
        )

    def predict_proba(self, columns: Columns) -> np.ndarray:
        columns = _apply(self.before, columns)
        return np.asarray(
            sum(w * member.predict_proba(columns) for w, member in zip(self.weights, self.members, strict=True))
        )


def compile_pipeline(pipeline: Any, *, problem_type: str) -> CompiledPipeline | CompiledBlend | None:
    """[transformers on frames] -> ColumnTransformer -> [transformers] -> estimator, or
    [transformers on frames] -> a Blend of such pipelines; None for any other shape."""
    if not isinstance(pipeline, Pipeline):
        return None
    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    if steps and isinstance(steps[-1], Blend):
        compiled = [compile_pipeline(member, problem_type=problem_type) for member in steps[-1].fitted_]
        members = [member for member in compiled if isinstance(member, CompiledPipeline)]
        if not members or len(members) != len(compiled):
            return None
        return CompiledBlend(tuple(steps[:-1]), tuple(members), tuple(steps[-1].weights), problem_type)
    if len(steps) < 2:
        return None
    position = next((i for i, step in enumerate(steps) if isinstance(step, ColumnTransformer)), None)
    if position is None:
        return None
    estimator = steps[-1]
    if position == len(steps) - 1 or hasattr(estimator, "feature_names_in_"):
        return None
    branches = _branches(steps[position])
    if not branches:
        return None
    after = tuple(_op(step) for step in steps[position + 1 : -1])
    return CompiledPipeline(tuple(steps[:position]), branches, after, fast_estimator(estimator), problem_type)


def _branches(column_step: ColumnTransformer) -> tuple[Branch, ...] | None:
    if column_step.sparse_threshold != 0.0:
        return None
    branches = []
    for _, transformer, columns in column_step.transformers_:
        if isinstance(transformer, str):
            if transformer == "drop" or len(columns) == 0:
                continue
            return None  # "passthrough" columns: not a shape we build
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or not columns:
            return None
        steps = [s for _, s in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
        steps = [s for s in steps if s not in (None, "passthrough")]
        branch = _branch(steps, columns)
        if branch is None:
            return None
        branches.append(branch)
    return tuple(branches)


def _branch(steps: list, columns: list[str]) -> Branch | None:
    first, rest = steps[0], steps[1:]
    if isinstance(first, NumberColumns):
        read = _number_reader(first, columns)
    elif isinstance(first, CategoryCodes):
        read = _code_reader(first, columns)
        if rest and isinstance(rest[0], OneHotEncoder):
            onehot = _onehot(rest[0], first)
            if onehot is None:
                return None
            return Branch(read, (onehot, *(_op(s) for s in rest[1:])))
    else:
        read = _frame_reader(first, columns)
    return Branch(read, tuple(_op(step) for step in rest))


def _frame_reader(step: Any, names: list[str]) -> Reader:
    def read(columns: Columns) -> np.ndarray:
        return np.asarray(step.transform(columns.frame(names)), dtype="float64")

    return read


def _number_reader(step: NumberColumns, names: list[str]) -> Reader:
    """Numbers already numeric (what the request checks produce) skip NumberColumns' text parsing."""

    def read(columns: Columns) -> np.ndarray:
        arrays = [columns.array(name) for name in names]
        if not all(array.dtype.kind in "fiub" for array in arrays):
            return np.asarray(step.transform(columns.frame(names)), dtype="float64")
        return unusable_to_nan(np.column_stack(arrays).astype("float64", copy=False))

    return read


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _code_reader(step: CategoryCodes, names: list[str]) -> Reader:
    """CategoryCodes with its lookups built once. Equal values of different types (1, 1.0, True) share
    the text of the first one seen, as pandas' factorize in CategoryCodes.transform does."""
    lookups = [{value: float(code) for code, value in enumerate(categories)} for categories in step.categories_]
    unknown, missing, cap = float(step.unknown), float(step.missing), step.max_categories

    def read(columns: Columns) -> np.ndarray:
        out = np.empty((len(columns), len(names)), dtype="float64")
        for j, (name, lookup) in enumerate(zip(names, lookups, strict=True)):
            seen: dict = {}
            column = out[:, j]
            for i, value in enumerate(columns.values(name)):
                if _is_missing(value):
                    column[i] = missing
                    continue
                code = seen.get(value)
                if code is None:
                    code = seen[value] = lookup.get(str(value), unknown)
                column[i] = code
        if cap is not None:
            out[out >= cap] = cap - 1
        return out

    return read


def _onehot(encoder: OneHotEncoder, codes: CategoryCodes) -> Op | None:
    """OneHotEncoder after CategoryCodes sees a few possible codes per column: precompute each code's
    output block with the encoder itself, then answer by table lookup."""
    widths = getattr(encoder, "_n_features_outs", None)
    if encoder.sparse_output or widths is None or len(widths) != len(codes.categories_):
        return None
    unknown, missing = float(codes.unknown), float(codes.missing)
    domains = []
    for categories in codes.categories_:
        known = len(categories) if codes.max_categories is None else min(len(categories), codes.max_categories)
        if (not math.isnan(unknown) and 0 <= unknown < known) or (not math.isnan(missing) and 0 <= missing < known):
            return None
        domains.append([*map(float, range(known)), unknown, missing])
    tables, start = [], 0
    for j, (domain, width) in enumerate(zip(domains, widths, strict=True)):
        probe = np.array([[d[0] if d else 0.0 for d in domains]] * len(domain), dtype="float64")
        probe[:, j] = domain
        tables.append(np.asarray(encoder.transform(probe), dtype="float64")[:, start : start + width])
        start += width

    def op(features: np.ndarray) -> np.ndarray:
        blocks = []
        for j, table in enumerate(tables):
            column = features[:, j]
            known = len(table) - 2
            index = np.zeros(len(column), dtype=int)
            for code, row in ((unknown, known), (missing, known + 1)):
                index[np.isnan(column) if math.isnan(code) else column == code] = row
            inside = (column >= 0) & (column < known)
            index[inside] = column[inside].astype(int)
            blocks.append(table[index])
        return np.hstack(blocks)

    return op


def _op(step: Any) -> Op:
    if isinstance(step, SimpleImputer):
        imputer = _imputer(step)
        if imputer is not None:
            return imputer
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else None
        scale = step.scale_ if step.with_std else None

        def scale_op(features: np.ndarray) -> np.ndarray:
            out = features - mean if mean is not None else features.copy()
            return out / scale if scale is not None else out

        return scale_op

    def transform(features: np.ndarray) -> np.ndarray:
        return step.transform(features)

    return transform


def _imputer(step: SimpleImputer) -> Op | None:
    missing_value = step.missing_values
    if not (isinstance(missing_value, float) and math.isnan(missing_value)):
        return None
    statistics = np.asarray(step.statistics_, dtype="float64")
    if not np.isfinite(statistics).all():
        return None
    flagged = step.indicator_.features_ if step.add_indicator else None

    def op(features: np.ndarray) -> np.ndarray:
        missing = np.isnan(features)
        out = np.where(missing, statistics, features)
        return out if flagged is None else np.hstack([out, missing[:, flagged].astype("float64")])

    return op


def probe_records(spec: InputSpec, rows: int = 6) -> list[dict]:
    """Rows that reach every branch: each field's range ends, median, categories, an unseen value and
    a gap, in shifted combinations."""
    values = {f.name: _probe_values(f) for f in spec.fields}
    return [
        {name: options[(i + k) % len(options)] for k, (name, options) in enumerate(values.items())} for i in range(rows)
    ]


def _probe_values(field: Any) -> list:
    if field.role == "numeric":
        points = [v for v in (field.minimum, field.median, field.maximum) if v is not None] or [0.0, 1.0]
        return [*points, None]
    if field.role == "categorical":
        return [*field.categories[:4], UNSEEN, None]
    if field.role == "datetime":
        return [*(v for v in (field.date_min, field.date_max) if v), None]
    if field.role == "passthrough":
        return [None]
    return ["a few words", None]


def agrees_with_pipeline(
    compiled: CompiledPipeline | CompiledBlend, pipeline: Pipeline, prepared: PreparedRows
) -> bool:
    """The same classes and (to rounding) the same probabilities or values as the pipeline, on all the
    prepared rows and on the first one alone."""
    first = PreparedRows({name: values[:1] for name, values in prepared.columns.items()}, prepared.warnings[:1])
    for part in (prepared, first):
        expected = predict_frame(pipeline, part.frame, problem_type=compiled.problem_type)
        got = compiled.answer(part.columns)
        if not np.allclose(got.scores, expected.scores, rtol=1e-9, atol=1e-12):
            return False
        if compiled.problem_type != "regression" and got.labels != expected.labels:
            return False  # (regression labels are the scores, summed in another order: equal to rounding)
        if (got.probabilities is None) != (expected.probabilities is None):
            return False
        for mine, theirs in zip(got.probabilities or [], expected.probabilities or [], strict=True):
            if mine.keys() != theirs.keys() or not np.allclose(list(mine.values()), list(theirs.values()), rtol=1e-9):
                return False
    return True
