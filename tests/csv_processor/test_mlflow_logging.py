"""What `mlflow_utils.training_log` writes to a real MLflow store: everything issue 5 asks for, in fewer calls."""

import json
from pathlib import Path

import mlflow.data
import numpy as np
import pandas as pd
import pytest
from mlflow.artifacts import download_artifacts
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from mlflow.types.utils import _infer_schema
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from csv_processor import mlflow_utils


def _frame(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    colour = pd.array(rng.choice(["red", "green", "blue"], rows), dtype="str")
    colour[3] = None
    x = rng.normal(size=rows)
    label = np.where(x + (colour == "red").astype(float) > 0.3, "yes", "no")
    return pd.DataFrame({"x": x, "count": rng.integers(0, 9, rows), "colour": colour, "label": label})


def _pipeline(frame: pd.DataFrame) -> Pipeline:
    prepare = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]), ("num", "passthrough", ["x", "count"])]
    )
    pipeline = Pipeline([("prepare", prepare), ("model", LogisticRegression())])
    features = frame[["x", "count", "colour"]].fillna({"colour": "red"})
    return pipeline.fit(features, frame["label"])


def _log(frame: pd.DataFrame) -> mlflow_utils.TrainingLog:
    return mlflow_utils.TrainingLog(
        experiment_name="dataset-7",
        run_name="run-1 label (LogisticRegression)",
        params={"target": "label", "best.C": 1.0},
        metrics={"test_accuracy": 0.9, "test_roc_auc": float("nan")},
        tags={"csv_analyzer.user_id": "3", "csv_analyzer.dataset_version": "2", "csv_analyzer.recipe_digest": "ab12"},
        children=[
            mlflow_utils.ChildRun(
                name=f"00{index} LogisticRegression",
                params={"algorithm": "LogisticRegression", "C": c},
                metrics={"cv_mean": 0.8 + index / 100, "cv_std": 0.01},
            )
            for index, c in enumerate([0.1, 1.0, 10.0], start=1)
        ],
        dataset=frame,
        dataset_name="dataset-7-v2",
        target="label",
        pipeline=_pipeline(frame),
        input_example=frame[["x", "count", "colour"]].head(5).fillna({"colour": "red"}),
        registered_model_name="csv-analyzer-dataset-7-label",
        pip_requirements=["scikit-learn", "pandas"],
        json_artifacts={"leaderboard.json": [{"algorithm": "LogisticRegression"}], "plots.json": {"roc": [0, 1]}},
    )


@pytest.mark.slow
def test_training_log_writes_parent_children_dataset_model_and_registration(mlflow_store):
    frame = _frame()

    tracked = mlflow_utils.training_log(_log(frame))

    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    parent = client.get_run(tracked.run_id)
    assert client.get_experiment(tracked.experiment_id).name == "dataset-7"
    assert parent.info.status == "FINISHED"
    assert parent.data.params == {"target": "label", "best.C": "1.0"}
    assert parent.data.metrics == {"test_accuracy": 0.9}
    assert parent.data.tags["csv_analyzer.recipe_digest"] == "ab12"
    assert parent.data.tags["mlflow.runName"] == "run-1 label (LogisticRegression)"
    children = client.search_runs(
        [tracked.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{tracked.run_id}'", order_by=["run_name"]
    )
    assert [child.info.run_name for child in children] == [
        "001 LogisticRegression",
        "002 LogisticRegression",
        "003 LogisticRegression",
    ]
    assert {child.info.status for child in children} == {"FINISHED"}
    assert children[1].data.params == {"algorithm": "LogisticRegression", "C": "1.0"}
    assert children[1].data.metrics == {"cv_mean": pytest.approx(0.82), "cv_std": 0.01}
    logged = parent.inputs.dataset_inputs[0].dataset
    assert (logged.name, logged.digest) == ("dataset-7-v2", mlflow.data.from_pandas(frame).digest)
    assert json.loads(logged.schema)["mlflow_colspec"] == _infer_schema(frame).to_dict()
    model = Model.load(f"runs:/{tracked.run_id}/model")
    assert [spec.name for spec in model.signature.inputs.inputs] == ["x", "count", "colour"]
    assert model.saved_input_example_info is not None
    assert model.flavors["sklearn"]["serialization_format"] == "skops"
    version = client.get_model_version("csv-analyzer-dataset-7-label", tracked.model_version)
    assert (version.run_id, version.status) == (tracked.run_id, "READY")
    artifacts = {item.path for item in client.list_artifacts(tracked.run_id)}
    assert {"leaderboard.json", "plots.json"} <= artifacts
    plots = download_artifacts(run_id=tracked.run_id, artifact_path="plots.json", tracking_uri=mlflow_store)
    assert json.loads(Path(plots).read_text()) == {"roc": [0, 1]}


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"name": pd.array(["a", None, "c"], dtype="str"), "age": [1.5, None, 3.0], "n": [1, 2, 3]}),
        pd.DataFrame({"name": pd.array(["a", "b", "c"], dtype="string"), "flag": [True, False, True]}),
        pd.DataFrame(
            {"when": pd.to_datetime(["2020-01-01", None, "2020-01-03"]), "n": pd.array([1, None, 3], "Int64")}
        ),
        pd.DataFrame({"text": pd.Series(["x", "y", None], dtype=object)}),
    ],
)
def test_dataset_schema_is_the_one_mlflow_infers(frame):
    assert mlflow_utils.dataset_schema(frame) == _infer_schema(frame)


def test_dataset_schema_is_none_where_mlflow_infers_none():
    frame = pd.DataFrame({"mixed": pd.Series(["x", 1, None], dtype=object), "name": pd.array(["a", "b", "c"], "str")})

    assert mlflow.data.from_pandas(frame).schema is None
    assert mlflow_utils.dataset_schema(frame) is None
