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
from sklearn.metrics import r2_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
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
    checks = [*row_count_checks(len(df)), *duplicate_checks(int(df.duplicated().sum()), len(df))]
    checks += _column_checks(df, target)
    if target is not None and target in df.columns and len(df) >= BLOCKER_ROWS:
        checks.extend(leakage_checks(df, target))
    return by_severity(checks)


def by_severity(checks: list[Check]) -> list[Check]:
    return sorted(checks, key=lambda c: -SEVERITIES.index(c.severity))


def row_count_checks(rows: int) -> list[Check]:
    if rows < BLOCKER_ROWS:
        return [Check("too_few_rows", "blocker", f"Only {rows} rows: training needs at least {BLOCKER_ROWS}.")]
    if rows < WARNING_ROWS:
        return [Check("few_rows", "warning", f"Only {rows} rows: scores on so few rows vary a lot.")]
    return []


def duplicate_checks(count: int, rows: int) -> list[Check]:
    if not count:
        return []
    share = count / rows
    return [
        Check(
            "duplicate_rows", "warning", f"{count} row{'s' * (count != 1)} ({share:.1%}) repeat an earlier row exactly."
        )
    ]


def _column_checks(df: pd.DataFrame, target: str | None) -> list[Check]:
    columns = []
    for column_type in infer_column_types(df):
        series = df[column_type.name]
        constant = None
        if series.nunique(dropna=False) <= 1:
            constant = "missing" if series.isna().all() else f'"{series.iloc[0]}"' if len(series) else "empty"
        columns.append((column_type.name, column_type.kind, constant))
    return column_checks(columns, target=target)


def column_checks(columns: list[tuple[str, str, str | None]], *, target: str | None) -> list[Check]:
    """Per column (name, kind, its one value as shown when it never varies, else None): constants, identifiers."""
    checks = []
    for name, kind, constant in columns:
        if name == str(target):
            continue
        if constant is not None:
            checks.append(Check("constant_column", "warning", f'"{name}" is {constant} in every row.', (name,)))
        elif kind == "identifier":
            checks.append(
                Check("identifier_column", "warning", f'"{name}" looks like an identifier: drop it.', (name,))
            )
    return checks


def leakage_checks(df: pd.DataFrame, target: str, *, rows: int | None = None) -> list[Check]:
    """Single-column leakage on at most SAMPLE_ROWS rows with a target; `rows`: how many such rows the whole
    table has when `df` is already a sample of it (the messages then say so)."""
    sample = df[df[target].notna()]
    rows = len(sample) if rows is None else rows
    if len(sample) > SAMPLE_ROWS:
        sample = sample.sample(SAMPLE_ROWS, random_state=0)
    note = sample_note(len(sample), rows)
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
            text = (
                f'"{name}" alone predicts "{target}" almost perfectly (score {score:.3f}{note}): a copy of the target.'
            )
            checks.append(Check("target_copy", "blocker", text, (name,)))
        elif classify and y.nunique() == 2 and score >= LEAK_AUC:
            text = (
                f'"{name}" alone predicts "{target}" with AUC {score:.2f}{note}: check that it is known before the '
                "outcome (a value recorded only once the outcome is known, such as a closing date or a final "
                "status, is not)."
            )
            checks.append(Check("possible_leakage", "warning", text, (name,)))
    return checks


def cv_class_proba(features: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold class probabilities of a small tree, as `cross_val_predict(tree, cv=3)` gives them, and
    the leaf (numbered across the folds) each row fell in."""
    proba = np.zeros((len(codes), int(codes.max()) + 1))
    leaves = np.zeros(len(codes), dtype=np.int64)
    offset = 0
    for train, test in StratifiedKFold(n_splits=3).split(features, codes):
        tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=0)
        tree.fit(features[train], codes[train])
        proba[np.ix_(test, tree.classes_)] = tree.predict_proba(features[test])
        leaves[test] = offset + tree.apply(features[test])
        offset += tree.tree_.node_count
    return proba, leaves


def tree_auc(proba: np.ndarray, codes: np.ndarray, leaves: np.ndarray) -> float:
    """`roc_auc_score(codes, proba[:, 1])` for two classes, its one-vs-rest macro mean for more.

    Rows in one leaf share their probabilities, so the AUC is read off a small table of classes per leaf:
    the same value as scikit-learn's (ties count half) at a fraction of the cost when there are many classes."""
    _, first, groups = np.unique(leaves, return_index=True, return_inverse=True)
    rows = proba[first]
    n_classes = proba.shape[1]
    cells = groups.ravel() * n_classes + codes
    table = np.bincount(cells, minlength=len(rows) * n_classes).reshape(len(rows), n_classes)
    totals = table.sum(axis=1)
    classes = [1] if n_classes == 2 else range(n_classes)
    return float(np.mean([_binary_auc(rows[:, k], table[:, k], totals - table[:, k]) for k in classes]))


def _binary_auc(scores: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    values, where = np.unique(scores, return_inverse=True)
    pos = np.bincount(where, weights=positives, minlength=len(values))
    neg = np.bincount(where, weights=negatives, minlength=len(values))
    below = np.cumsum(neg) - neg
    return float((pos * (below + neg / 2)).sum() / (pos.sum() * neg.sum()))


def sample_note(checked: int, rows: int) -> str:
    """ ", checked on 20,000 of 1,010,328 rows" when a check saw only part of the rows, else nothing."""
    return f", checked on {checked:,} of {rows:,} rows" if checked < rows else ""


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
        proba, leaves = cv_class_proba(features, codes)
        return tree_auc(proba, codes, leaves)
    tree = DecisionTreeRegressor(max_depth=6, min_samples_leaf=5, random_state=0)
    predicted = cross_val_predict(tree, features, y.to_numpy(dtype="float64"), cv=3)
    return float(r2_score(y, predicted))
