"""Retraining: score the active and the candidate pipelines on exactly the same held-out rows."""

import pandas as pd
from sklearn.pipeline import Pipeline

from csv_processor.ml.training.evaluation import main_score
from csv_processor.ml.training.prepare import prepare
from csv_processor.ml.training.train_config import TrainConfig


def compare_on_rows(pipelines: dict[str, Pipeline], frame: pd.DataFrame, config: TrainConfig, test_index: list) -> dict:
    """{name: score} of each pipeline on the rows of `frame` labelled by `test_index`, plus the row count.

    `config` is the candidate's training config: the target is cleaned the same way training did."""
    prepared = prepare(frame, config)
    wanted = prepared.y.index.isin(list(test_index))
    X, y = prepared.X[wanted], prepared.y[wanted]
    if not len(y):
        raise ValueError("None of the held-out rows of the active model are in the new data.")
    scores = {name: float(main_score(config.problem_type, y.to_numpy(), p.predict(X))) for name, p in pipelines.items()}
    return {"scores": scores, "rows": len(y)}
