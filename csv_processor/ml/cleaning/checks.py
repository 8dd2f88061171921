"""Dataset-level checks shown before training: problems no single cleaning step reveals.

Leakage is judged from one column alone, on a seeded sample of at most 20,000 rows, with a small
decision tree under 3-fold cross-validation:
* "target_copy" (blocker): the column alone predicts the target almost perfectly (AUC or R² >= 0.99),
  as a copy or recoding of the target does.
* "possible_leakage" (warning): for a two-class target, AUC >= 0.79. Set so that bank marketing's
  `duration` (0.80-0.82, known only after the call) is flagged, and the strongest honest single
  columns among our reference datasets (titanic Sex 0.76, adult relationship 0.78) are not.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from csv_processor.ml.cleaning.columns import is_numeric
from csv_processor.ml.types import infer_column_types

logger = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "blocker")
BLOCKER_ROWS = 20
WARNING_ROWS = 100
SAMPLE_ROWS = 20_000
COPY_SCORE = 0.99
LEAK_AUC = 0.79
MAX_CLASSES = 20


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    message: str
    columns: tuple[str, ...] = ()


def dataset_checks(df: pd.DataFrame, *, target: str | None = None) -> list[Check]:
    """Checks in order of severity (blockers first)."""
    checks = [*_row_count(df), *_duplicates(df), *_column_checks(df, target)]
    if target is not None and target in df.columns and len(df) >= BLOCKER_ROWS:
        checks.extend(_leakage(df, target))
    return sorted(checks, key=lambda c: -SEVERITIES.index(c.severity))


def _row_count(df: pd.DataFrame) -> list[Check]:
    if len(df) < BLOCKER_ROWS:
        return [Check("too_few_rows", "blocker", f"Only {len(df)} rows: training needs at least {BLOCKER_ROWS}.")]
    if len(df) < WARNING_ROWS:
        return [Check("few_rows", "warning", f"Only {len(df)} rows: scores on so few rows vary a lot.")]
    return []


def _duplicates(df: pd.DataFrame) -> list[Check]:
    count = int(df.duplicated().sum())
    if not count:
        return []
    share = count / len(df)
    return [
        Check(
            "duplicate_rows", "warning", f"{count} row{'s' * (count != 1)} ({share:.1%}) repeat an earlier row exactly."
        )
    ]


def _column_checks(df: pd.DataFrame, target: str | None) -> list[Check]:
    checks = []
    for column_type in infer_column_types(df):
        name = column_type.name
        if name == str(target):
            continue
        series = df[name]
        if series.nunique(dropna=False) <= 1:
            value = "missing" if series.isna().all() else f'"{series.iloc[0]}"' if len(series) else "empty"
            checks.append(Check("constant_column", "warning", f'"{name}" is {value} in every row.', (name,)))
        elif column_type.kind == "identifier":
            checks.append(
                Check("identifier_column", "warning", f'"{name}" looks like an identifier: drop it.', (name,))
            )
    return checks


def _leakage(df: pd.DataFrame, target: str) -> list[Check]:
    sample = df[df[target].notna()]
    if len(sample) > SAMPLE_ROWS:
        sample = sample.sample(SAMPLE_ROWS, random_state=0)
    y = sample[target]
    classify = not is_numeric(y) or y.nunique() <= MAX_CLASSES
    checks = []
    for name in sample.columns:
        if name == target or sample[name].nunique() <= 1:
            continue
        score = _single_column_score(sample[name], y, classify)
        if score is None:
            continue
        if score >= COPY_SCORE:
            text = f'"{name}" alone predicts "{target}" almost perfectly (score {score:.3f}): a copy of the target.'
            checks.append(Check("target_copy", "blocker", text, (name,)))
        elif classify and y.nunique() == 2 and score >= LEAK_AUC:
            text = (
                f'"{name}" alone predicts "{target}" with AUC {score:.2f}: check that it is known before the outcome '
                "(a call's duration, for one, is not)."
            )
            checks.append(Check("possible_leakage", "warning", text, (name,)))
    return checks


def _single_column_score(x: pd.Series, y: pd.Series, classify: bool) -> float | None:
    """Cross-validated AUC (classes) or R² (numbers) of a small tree on one column."""
    if is_numeric(x):
        values = x.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        # Infinities count as missing here: a tree cannot split on them.
        values[~np.isfinite(values)] = np.nan
        if np.isnan(values).all():
            return None
        # A tree only sees the order of values, and scikit-learn's trees work in float32: ranks keep the
        # order and fit any magnitude (1e39 overflows float32). Missing values rank below every number.
        features = np.nan_to_num(pd.Series(values).rank(method="dense").to_numpy(), nan=0.0).reshape(-1, 1)
    else:
        features = pd.factorize(x.astype("str"))[0].reshape(-1, 1).astype("float64")
    if classify:
        codes = pd.factorize(y)[0]
        counts = np.bincount(codes)
        if len(counts) < 2 or counts.min() < 3:
            return None
        tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=0)
        proba = cross_val_predict(tree, features, codes, cv=3, method="predict_proba")
        if proba.shape[1] == 2:
            return float(roc_auc_score(codes, proba[:, 1]))
        return float(roc_auc_score(codes, proba, multi_class="ovr"))
    tree = DecisionTreeRegressor(max_depth=6, min_samples_leaf=5, random_state=0)
    predicted = cross_val_predict(tree, features, y.to_numpy(dtype="float64"), cv=3)
    return float(r2_score(y, predicted))
