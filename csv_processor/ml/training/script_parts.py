"""The text of the reproduction script (script.py fills it in): the frame, then one part per column role.

Each part is the public-API twin of a column step in preprocess.py, for the storage the script accepts
(numbers stored as numbers, dates as dates); tests/ml/test_script.py checks that both give the same arrays.
"""

from string import Template

TEMPLATE = Template(
    '''"""Reproduce training run $run_id: $title.

Reads the dataset version's Parquet file (downloadable beside this script), keeps the rows the app trained
on, draws the same held-out test split and the same cross-validation folds, rebuilds the chosen pipeline
(or each member of the chosen blend) with the same parameters and seed, and prints the cross-validation
scores the run page shows.

Needs only scikit-learn, pandas and pyarrow (use the versions the app ran, for identical numbers).
Usage: python run-$run_id.py [PATH_TO_PARQUET]
"""

import sys
import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
$imports
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline

PARQUET = "$parquet_name"
TARGET = $target
PROBLEM_TYPE = $problem_type
SEED = $seed
TEST_SIZE = $test_size
FOLDS = $folds
MIN_CLASS_ROWS = $min_class_rows
METRIC = $metric
$columns
FEATURES = CATEGORICAL + NUMERIC + DATETIME + TEXT
$to_float$parts

def pipeline(steps, model):
    prepare = ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("prepare", prepare), ("model", model)])


def build_pipelines():
    """(pipeline, weight) of each model the run chose: the one model, or the members of its blend."""
    return [
$pipelines
    ]


def read_rows(path):
    """The feature columns and the target of the rows the app trains on: usable target, classes of 2+ rows."""
    data = pd.read_parquet(path)
    y = data[TARGET]
    if PROBLEM_TYPE == "regression":
        y = to_float(y)
        y = y.where(np.isfinite(y.to_numpy()))
    elif ptypes.is_numeric_dtype(y.dtype) and not ptypes.is_bool_dtype(y.dtype):
        y = y.where(np.isfinite(y.to_numpy(dtype="float64", na_value=np.nan)))
    elif ptypes.is_string_dtype(y.dtype) or ptypes.is_object_dtype(y.dtype):
        y = y.where(y.notna() & (y.astype("str").str.strip() != ""))
    keep = y.notna()
    if PROBLEM_TYPE == "regression":
        y = y[keep].astype("float64")
    else:
        counts = y[keep].value_counts()
        keep &= ~y.isin(counts[counts < MIN_CLASS_ROWS].index)
        y = y[keep]
        text = ptypes.is_string_dtype(y.dtype) or ptypes.is_object_dtype(y.dtype)
        if text or isinstance(y.dtype, pd.CategoricalDtype):
            y = y.astype("str").str.strip().astype(object)
    return data.loc[keep, FEATURES], y


def training_split(y):
    """Positions of the training rows: the same seeded split as the app, stratified when classes allow."""
    positions = np.arange(len(y))
    stratify = y.to_numpy() if PROBLEM_TYPE != "regression" and y.value_counts().min() >= 2 else None
    try:
        train, _ = train_test_split(positions, test_size=TEST_SIZE, random_state=SEED, stratify=stratify)
    except ValueError:
        train, _ = train_test_split(positions, test_size=TEST_SIZE, random_state=SEED)
    return np.sort(train)


def folds(y):
    n_splits = max(2, min(FOLDS, len(y)))
    if PROBLEM_TYPE != "regression" and y.value_counts().min() >= 2:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=SEED)
        return list(splitter.split(np.zeros(len(y)), y.to_numpy()))
    return list(KFold(n_splits=n_splits, shuffle=True, random_state=SEED).split(np.zeros(len(y))))


def score(model, X, y):
    """Accuracy from the most likely class, or R²: the run page's main metric."""
    if PROBLEM_TYPE == "regression":
        return r2_score(y.to_numpy(), model.predict(X))
    predicted = model.classes_[np.argmax(model.predict_proba(X), axis=1)]
    return float(np.mean(predicted == y.to_numpy()))


def blend_scores(models, X, y, splits):
    """Per fold: every member fitted on the other folds, their predictions (values, or probabilities per
    class) averaged with the blend's weights, then scored as the app scores the blend."""
    classes = None if PROBLEM_TYPE == "regression" else np.unique(y.to_numpy())
    scores = []
    for train, val in splits:
        total = 0.0
        for model, weight in models:
            fitted = clone(model).fit(X.iloc[train], y.iloc[train])
            if classes is None:
                part = fitted.predict(X.iloc[val])
            else:
                part = np.zeros((len(val), len(classes)))
                part[:, np.searchsorted(classes, fitted.classes_)] = fitted.predict_proba(X.iloc[val])
            total = total + weight * part
        truth = y.iloc[val].to_numpy()
        if classes is None:
            scores.append(r2_score(truth, total))
        else:
            scores.append(float(np.mean(classes[np.argmax(total, axis=1)] == truth)))
    return np.array(scores)


def main(path):
    X, y = read_rows(path)
    train = training_split(y)
    X_train, y_train = X.iloc[train], y.iloc[train]
    models = build_pipelines()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        if len(models) == 1:
            scores = cross_validate(models[0][0], X_train, y_train, cv=folds(y_train), scoring=score)["test_score"]
        else:
            scores = blend_scores(models, X_train, y_train, folds(y_train))
    print(f"{METRIC}, {len(scores)}-fold cross-validation on {len(y_train)} training rows:")
    for i, value in enumerate(scores, 1):
        print(f"fold {i}: {value:.15g}")
    print(f"mean: {np.mean(scores):.15g}")
    print(f"std: {np.std(scores):.15g}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else PARQUET)
'''
)

# How the script reads a number column: as stored, or, when the version holds numbers as text ("1,000",
# "$4.99", " "), with a copy of the app's parser (ml/numbers.py, for its default decimal point).
TO_FLOAT = {
    "plain": '''

def to_float(values):
    """A column as float64, missing values as NaN."""
    return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index, name=values.name)
''',
    "text": r'''
import pyarrow as pa
import pyarrow.compute as pc

# Numbers as people write them: "1,000", "$4.99", "19M", "(42)", "12%"; anything else is missing.
MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
CURRENCY = "$€£¥₩₹"
SPACES = " \t\n\r\f\u00a0\u202f"
WS = r"[\s\x{00A0}\x{202F}]*"
NUMBER = r"(?:(?:\d{1,3}(?:[,]\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
MULTIPLIER = f"[{''.join(MULTIPLIERS)}]?"
BODY = WS.join([r"[-+]?", f"[{CURRENCY}]?", r"[-+]?", NUMBER, MULTIPLIER, r"\+?", "%?", f"[{CURRENCY}]?"])
PATTERN = rf"^{WS}(?:\({WS}{BODY}{WS}\)|{BODY}){WS}$"


def parse_strings(values):
    ok = pc.fill_null(pc.match_substring_regex(values, pattern=PATTERN), False)
    text = pc.utf8_trim(values, characters=SPACES)
    negative = pc.or_(pc.starts_with(text, "("), pc.match_substring_regex(text, pattern=rf"^[{CURRENCY}]?{WS}-"))
    core = pc.utf8_ltrim(text, characters="(-+" + CURRENCY + SPACES)
    core = pc.utf8_rtrim(core, characters=")+%" + CURRENCY + SPACES)
    factor_index = pc.index_in(pc.utf8_slice_codeunits(core, -1), value_set=pa.array(list(MULTIPLIERS)))
    core = pc.if_else(pc.is_valid(factor_index), pc.utf8_slice_codeunits(core, 0, -1), core)
    core = pc.utf8_rtrim(core, characters=SPACES)
    core = pc.replace_substring(core, pattern=",", replacement="")
    number = pc.cast(pc.if_else(ok, core, pa.scalar(None, pa.string())), pa.float64())
    factors = np.append(np.array(list(MULTIPLIERS.values())), 1.0)
    factor = factors[pc.fill_null(factor_index, len(MULTIPLIERS)).to_numpy(zero_copy_only=False)]
    sign = np.where(pc.fill_null(negative, False).to_numpy(zero_copy_only=False), -1.0, 1.0)
    return sign * number.to_numpy(zero_copy_only=False) * factor


def to_float(values):
    """A column as float64, numbers written as text read as the app reads them, anything else NaN."""
    if ptypes.is_bool_dtype(values.dtype) or ptypes.is_numeric_dtype(values.dtype):
        return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index, name=values.name)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if ptypes.is_string_dtype(uniques.dtype) and not ptypes.is_object_dtype(uniques.dtype):
        texts = pa.array(uniques, type=pa.string())
    else:
        texts = pa.array([v if isinstance(v, str) else str(v) for v in np.asarray(uniques, dtype=object)], pa.string())
    parsed = parse_strings(texts)
    taken = np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)
    return pd.Series(taken, index=values.index, name=values.name, dtype="float64")
''',
}

PARTS = {
    "categorical": '''

class CategoryCodes(TransformerMixin, BaseEstimator):
    """Categories as numeric codes, most frequent first (ties in text order), read as text; codes from
    max_categories - 1 up share one code."""

    def __init__(self, max_categories=None, missing=np.nan, unknown=np.nan):
        self.max_categories = max_categories
        self.missing = missing
        self.unknown = unknown

    def fit(self, X, y=None):
        self.categories_ = []
        for i in range(X.shape[1]):
            codes, uniques = pd.factorize(X.iloc[:, i], use_na_sentinel=True)
            counts = {}
            for value, count in zip(uniques, np.bincount(codes[codes >= 0], minlength=len(uniques))):
                counts[str(value)] = counts.get(str(value), 0) + int(count)
            self.categories_.append(sorted(counts, key=lambda text: (-counts[text], text)))
        return self

    def transform(self, X):
        out = np.empty(X.shape, dtype="float64")
        for i, categories in enumerate(self.categories_):
            lookup = {value: code for code, value in enumerate(categories)}
            codes, uniques = pd.factorize(X.iloc[:, i], use_na_sentinel=True)
            mapped = np.array([lookup.get(str(v), self.unknown) for v in uniques] + [self.missing], dtype="float64")
            if self.max_categories is not None:
                mapped[mapped >= self.max_categories] = self.max_categories - 1
            out[:, i] = mapped[codes]
        return out
''',
    "numeric": '''

class Numbers(TransformerMixin, BaseEstimator):
    """Numbers as float64; infinities and values beyond float32's range (trees refuse them) become missing."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        out = np.column_stack([to_float(X.iloc[:, i]).to_numpy() for i in range(X.shape[1])])
        out = out.reshape(len(X), X.shape[1])
        out[~(np.abs(out) <= float(np.finfo(np.float32).max))] = np.nan
        return out
''',
    "datetime": '''

class DateParts(TransformerMixin, BaseEstimator):
    """Dates as days since 1970, year, month, day, weekday, and hour when the training dates have a time."""

    def fit(self, X, y=None):
        self.has_time_ = [bool((X.iloc[:, i].dropna().dt.hour != 0).any()) for i in range(X.shape[1])]
        return self

    def transform(self, X):
        blocks = []
        for i, has_time in enumerate(self.has_time_):
            dates = X.iloc[:, i]
            dt = dates.dt
            naive = dt.tz_convert(None) if dt.tz is not None else dates
            days = (naive - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
            parts = [days, dt.year, dt.month, dt.day, dt.day_of_week] + ([dt.hour] if has_time else [])
            blocks.append(np.column_stack([pd.Series(p).to_numpy(dtype="float64", na_value=np.nan) for p in parts]))
        return np.column_stack(blocks)
''',
    "text": '''

class TextStats(TransformerMixin, BaseEstimator):
    """Free text as its length in characters and in words."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        blocks = []
        for i in range(X.shape[1]):
            text = X.iloc[:, i].astype("object").where(X.iloc[:, i].notna())
            as_str = text.dropna().astype("str")
            chars = as_str.str.len().reindex(text.index)
            words = as_str.str.split().str.len().reindex(text.index)
            blocks += [
                chars.to_numpy(dtype="float64", na_value=np.nan),
                words.to_numpy(dtype="float64", na_value=np.nan),
            ]
        return np.column_stack(blocks)
''',
    "log_target": '''

class LogTarget(TransformerMixin, BaseEstimator):
    """log(y) forwards; exp back, clipped to the training log range widened by 1."""

    def fit(self, y, _=None):
        logs = np.log(np.asarray(y, dtype="float64"))
        self.low_, self.high_ = float(logs.min()) - 1.0, float(logs.max()) + 1.0
        return self

    def transform(self, y):
        return np.log(np.asarray(y, dtype="float64"))

    def inverse_transform(self, z):
        return np.exp(np.clip(np.asarray(z, dtype="float64"), self.low_, self.high_))
''',
}
