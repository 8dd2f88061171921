"""The held-out test split and the cross-validation folds.

The split is recorded by row label (the DataFrame index) together with a hash of those labels, so a
later retrain can hold out exactly the same rows (`TrainConfig.test_index`) and compare fairly.
"""

import hashlib
import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from csv_processor.ml.json_values import json_value

logger = logging.getLogger(__name__)


def split_rows(
    y: pd.Series, *, problem_type: str, test_size: float, seed: int, test_index: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train positions, test positions, split info). Stratified for classification when every class
    has at least two rows; `test_index` (row labels) overrides the random split."""
    positions = np.arange(len(y))
    stratified = False
    if test_index is not None:
        wanted = y.index.isin(list(test_index))
        train_pos, test_pos = positions[~wanted], positions[wanted]
    else:
        stratify = y.to_numpy() if problem_type != "regression" and y.value_counts().min() >= 2 else None
        try:
            train_pos, test_pos = train_test_split(positions, test_size=test_size, random_state=seed, stratify=stratify)
            stratified = stratify is not None
        except ValueError:
            # Too few rows per class for the requested share: fall back to a plain shuffled split.
            train_pos, test_pos = train_test_split(positions, test_size=test_size, random_state=seed)
        train_pos, test_pos = np.sort(train_pos), np.sort(test_pos)
    if not len(train_pos) or not len(test_pos):
        raise ValueError("The split leaves no rows for training or for testing.")
    labels = [json_value(v) for v in y.index[test_pos]]
    info = {
        "test_index": labels,
        "test_hash": hashlib.sha256(repr(labels).encode()).hexdigest(),
        "n_train": len(train_pos),
        "n_test": len(test_pos),
        "stratified": stratified,
        "test_size": test_size,
        "seed": seed,
    }
    return train_pos, test_pos, info


def cv_folds(y: pd.Series, *, problem_type: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded folds over the training rows, stratified for classification when the classes allow it."""
    n_splits = max(2, min(folds, len(y)))
    if problem_type != "regression":
        smallest = int(y.value_counts().min())
        if smallest >= 2:
            splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            with warnings.catch_warnings():
                # Classes smaller than the fold count are spread as well as they can be; preflight warned.
                warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
                return list(splitter.split(np.zeros(len(y)), y.to_numpy()))
    return list(KFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y))))
