"""SimpleCleanModel: a decision tree over column meta-features that suggests one cleaning action per column.

Trained on seeded synthetic columns plus the real columns of labelled_columns.csv outside the
held-out files; evaluated on the held-out files' columns.
"""

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from csv_processor.ml.cleaning.suggest.features import FEATURES, column_features, sentinel_values
from csv_processor.ml.cleaning.suggest.reasons import plain_reason, reason_for
from csv_processor.ml.cleaning.suggest.synth import synthetic_features

logger = logging.getLogger(__name__)

ACTIONS = (
    "keep",
    "drop_column",
    "fill_median",
    "fill_most_frequent",
    "to_number",
    "to_datetime",
    "to_category",
    "trim",
    "replace_sentinels",
    "clip_outliers",
)
LABELLED = Path(__file__).resolve().parent / "labelled_columns.csv"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Suggestion:
    column: str
    action: str
    confidence: float
    reason: str
    step: dict | None
    # The facts on the model's decision path ("20% missing values, no missing-value codes"), for the curious.
    detail: str = ""


@dataclass(frozen=True)
class SuggestionModel:
    tree: DecisionTreeClassifier
    seed: int

    def suggest(self, df: pd.DataFrame) -> list[Suggestion]:
        """One suggestion per column, in column order (action "keep" with step None when nothing is needed)."""
        if df.shape[1] == 0:
            return []
        names = [str(c) for c in df.columns]
        rows = [column_features(df.iloc[:, i]) for i in range(df.shape[1])]
        matrix = pd.DataFrame(rows, columns=list(FEATURES))
        proba = self.tree.predict_proba(matrix)
        paths = self.tree.decision_path(matrix)
        out = []
        for i, name in enumerate(names):
            action = str(self.tree.classes_[int(np.argmax(proba[i]))])
            nodes = paths.indices[paths.indptr[i] : paths.indptr[i + 1]]
            detail = reason_for(self.tree, nodes, rows[i], action)
            step = _step_for(action, name, df.iloc[:, i])
            reason = plain_reason(action, rows[i], step)
            out.append(Suggestion(name, action, float(proba[i].max()), reason, step, detail))
        return out

    def predict_labels(self, features: pd.DataFrame) -> np.ndarray:
        return self.tree.predict(features[list(FEATURES)])

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"version": FORMAT_VERSION, "features": FEATURES, "tree": self.tree, "seed": self.seed}, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "SuggestionModel":
        """Load bytes from to_bytes. Unpickles: only pass bytes whose SHA-256 the app recorded itself."""
        payload = joblib.load(io.BytesIO(data))
        if payload.get("version") != FORMAT_VERSION or tuple(payload.get("features", ())) != FEATURES:
            raise ValueError("The stored clean model was built for other features: train it again.")
        return cls(tree=payload["tree"], seed=payload["seed"])


def _step_for(action: str, column: str, series: pd.Series) -> dict | None:
    """The op and params to fit for `action` (None for keep, or when nothing concrete can be done)."""
    one = {"column": column}
    steps = {
        "drop_column": ("drop_columns", {"columns": [column]}),
        "fill_median": ("fill_missing", one | {"strategy": "median"}),
        "fill_most_frequent": ("fill_missing", one | {"strategy": "most_frequent"}),
        "to_number": ("to_number", one),
        "to_datetime": ("to_datetime", one),
        "to_category": ("to_category", one),
        "trim": ("trim_whitespace", one),
        "clip_outliers": ("clip_outliers", one | {"method": "iqr", "factor": 3.0}),
    }
    if action == "replace_sentinels":
        values = sentinel_values(series)
        return {"op": "replace_values", "params": one | {"values": values}} if values else None
    if action not in steps:
        return None
    op, params = steps[action]
    return {"op": op, "params": params}


def labelled_features() -> pd.DataFrame:
    return pd.read_csv(LABELLED, keep_default_na=False)


def train_suggestion_model(*, seed: int = 0) -> SuggestionModel:
    """Fit the tree on synthetic columns (seeded) and the labelled real columns outside the held-out files."""
    real = labelled_features()
    train = pd.concat([synthetic_features(seed=seed), real[real["split"] == "train"]], ignore_index=True)
    tree = DecisionTreeClassifier(max_depth=10, min_samples_leaf=2, random_state=seed)
    tree.fit(train[list(FEATURES)], train["label"])
    logger.info("clean model trained on %d columns (seed %d)", len(train), seed)
    return SuggestionModel(tree=tree, seed=seed)


def evaluate_on_labelled(model: SuggestionModel) -> float:
    """Accuracy on the held-out real columns (files the model never trained on)."""
    held_out = labelled_features().query("split == 'held_out'")
    return float((model.predict_labels(held_out) == held_out["label"].to_numpy()).mean())
