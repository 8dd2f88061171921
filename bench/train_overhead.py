"""Training wrapper overhead: `fit_model` (our pipeline and thread policy) vs a bare Pipeline.fit (bar: 1.1x).

Same data (adult.data, 32,561 raw rows), same estimator and parameters, same thread limit. "Ours" is
`csv_processor.ml.training.fit.fit_model`: build_pipeline's column steps (numbers read with
parse_numbers, category codes, missing flags) plus the estimator, timed from the call to the return.
"Bare" is the textbook scikit-learn Pipeline for the same estimator (SimpleImputer, OneHotEncoder or
OrdinalEncoder in a ColumnTransformer) with Pipeline.fit called directly. The two alternate, REPEATS
times each, and the ratio of the medians is compared with the bar for every model.
Run from the project root: .venv/bin/python bench/train_overhead.py
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.automl import ADULT_NAMES, DATA
from csv_processor.ml.training.features import feature_kinds
from csv_processor.ml.training.fit import fit_model, threads_for
from csv_processor.ml.types import infer_column_types

REPEATS = 5
BAR = 1.1
MODELS = {
    "HistGradientBoosting": {},
    "LogisticRegression": {},
    "RandomForest": {"n_estimators": 50},
}


def load() -> tuple[pd.DataFrame, pd.Series, dict[str, str]]:
    frame = pd.read_csv(DATA / "adult.data.csv", names=ADULT_NAMES, header=None, skipinitialspace=True, na_values="?")
    frame = frame.dropna(subset=["income"])
    X, y = frame.drop(columns=["income"]), frame["income"].astype("str").astype(object)
    return X, y, feature_kinds(infer_column_types(X), tuple(X.columns))


def bare_pipeline(algorithm: str, params: dict, cats: list[str], nums: list[str], threads: int) -> Pipeline:
    if algorithm == "HistGradientBoosting":
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
        prepare = ColumnTransformer([("cat", encoder, cats), ("num", "passthrough", nums)])
        model = HistGradientBoostingClassifier(categorical_features=list(range(len(cats))), random_state=0, **params)
    elif algorithm == "LogisticRegression":
        onehot = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=5, max_categories=30, sparse_output=False
        )
        numbers = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
        prepare = ColumnTransformer([("cat", onehot, cats), ("num", numbers, nums)])
        model = LogisticRegression(max_iter=2000, random_state=0, **params)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
        numbers = SimpleImputer(strategy="median", add_indicator=True)
        prepare = ColumnTransformer([("cat", encoder, cats), ("num", numbers, nums)])
        model = RandomForestClassifier(random_state=0, n_jobs=threads, **params)
    return Pipeline([("prepare", prepare), ("model", model)])


def measure(algorithm: str, params: dict, X: pd.DataFrame, y: pd.Series, kinds: dict[str, str]) -> dict:
    cats = [c for c, k in kinds.items() if k in ("categorical", "boolean")]
    nums = [c for c in kinds if c not in cats]
    threads = threads_for(len(X))
    ours, bare = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fit_model(X, y, problem_type="binary", algorithm=algorithm, feature_types=kinds, params=params)
        ours.append(time.perf_counter() - start)
        pipeline = bare_pipeline(algorithm, params, cats, nums, threads)
        with threadpool_limits(limits=threads):
            start = time.perf_counter()
            pipeline.fit(X, y)
            bare.append(time.perf_counter() - start)
    ratio = statistics.median(ours) / statistics.median(bare)
    return {
        "ours_median_s": round(statistics.median(ours), 3),
        "bare_median_s": round(statistics.median(bare), 3),
        "ratio": round(ratio, 3),
        "threads": threads,
    }


def main() -> None:
    X, y, kinds = load()
    results = {}
    for algorithm, params in MODELS.items():
        results[algorithm] = measure(algorithm, params, X, y, kinds)
        print(json.dumps({algorithm: results[algorithm]}), flush=True)
    worst = max(r["ratio"] for r in results.values())
    summary = {
        "rows": len(X),
        "repeats": REPEATS,
        "models": results,
        "max_ratio": worst,
        "bar": BAR,
        "pass": worst <= BAR,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
