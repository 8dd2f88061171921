"""Leakage suspects: single features that give the target away almost perfectly.

A feature that alone predicts the target nearly perfectly is usually recorded after the fact (a
closing date, a final status) or is the target in disguise. Cheap univariate checks on a seeded sample:
* numbers vs a binary target: ROC AUC of the raw values >= 0.99 (either direction);
* numbers vs a numeric target: |Pearson r| >= 0.99;
* few-valued columns vs classes: each value maps to one class for >= 99% of rows, while guessing the
  majority class would be right far less often.
"""

import logging

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from csv_processor.ml.cleaning.checks import sample_note
from csv_processor.ml.numbers import numeric_share, parse_numbers

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 20_000
SEED = 0
STRONG = 0.99
NUMERIC_SHARE = 0.95
# A column with more distinct values than this share of rows is checked as a number, not by purity.
PURITY_MAX_RATIO = 0.5
SUSPECT_PHRASE = "predicts the target almost perfectly on its own"


def leakage_suspects(
    df: pd.DataFrame, y: pd.Series, problem_type: str, features: list[str], *, rows: int | None = None
) -> list[str]:
    """One sentence per suspect feature, naming it and the evidence. `rows`: how many rows the table has
    when `df` is already a sample of it (the sentences then say how many were checked)."""
    return list(leakage_evidence(df, y, problem_type, features, rows=rows).values())


def leakage_evidence(
    df: pd.DataFrame, y: pd.Series, problem_type: str, features: list[str], *, rows: int | None = None
) -> dict[str, str]:
    """`leakage_suspects`, keyed by the suspect feature's name."""
    rows = len(df) if rows is None else rows
    if len(df) > SAMPLE_ROWS:
        df = df.sample(SAMPLE_ROWS, random_state=SEED)
        y = y.loc[df.index]
    note = sample_note(len(df), rows)
    messages = {}
    for name in features:
        evidence = _evidence(df[name], y, problem_type)
        if evidence:
            messages[name] = f"{name!r} {SUSPECT_PHRASE} ({evidence}{note}): check that it is known before the outcome."
    return messages


def suspects_named(messages: list[str], names: list[str]) -> list[str]:
    """The names among `names` that one of `messages` (a run's stored warnings) calls a leakage suspect."""
    return [name for name in names if any(message.startswith(f"{name!r} {SUSPECT_PHRASE}") for message in messages)]


def _evidence(feature: pd.Series, y: pd.Series, problem_type: str) -> str | None:
    present = feature.notna() & y.notna()
    feature, y = feature[present], y[present]
    if len(feature) < 10:
        return None
    numbers = parse_numbers(feature) if numeric_share(feature) >= NUMERIC_SHARE else None
    if problem_type == "regression":
        return _correlation(numbers, y) if numbers is not None else None
    if numbers is not None and feature.nunique() > PURITY_MAX_RATIO * len(feature):
        return _auc(numbers, y) if problem_type == "binary" else None
    return _purity(feature.astype("str"), y)


def _correlation(numbers: pd.Series, y: pd.Series) -> str | None:
    x, t = numbers.to_numpy(), parse_numbers(y).to_numpy()
    finite = np.isfinite(x) & np.isfinite(t)
    if finite.sum() < 10 or np.std(x[finite]) == 0 or np.std(t[finite]) == 0:
        return None
    r = float(np.corrcoef(x[finite], t[finite])[0, 1])
    return f"correlation {r:.3f}" if abs(r) >= STRONG else None


def _auc(numbers: pd.Series, y: pd.Series) -> str | None:
    x = numbers.to_numpy()
    finite = np.isfinite(x)
    labels = y.to_numpy()[finite]
    if len(np.unique(labels)) != 2:
        return None
    auc = float(roc_auc_score(labels == np.unique(labels)[1], x[finite]))
    auc = max(auc, 1 - auc)
    return f"ROC AUC {auc:.3f}" if auc >= STRONG else None


def _purity(feature: pd.Series, y: pd.Series) -> str | None:
    if feature.nunique() > PURITY_MAX_RATIO * len(feature):
        return None
    values, _ = pd.factorize(feature)
    classes, _ = pd.factorize(y)
    n_classes = int(classes.max()) + 1
    pairs = np.bincount(values * n_classes + classes, minlength=(int(values.max()) + 1) * n_classes)
    purity = float(pairs.reshape(-1, n_classes).max(axis=1).sum() / len(feature))
    majority = float(np.bincount(classes).max() / len(classes))
    if purity >= STRONG and majority < STRONG - 0.05:
        return f"each value maps to one class for {purity:.1%} of rows"
    return None
