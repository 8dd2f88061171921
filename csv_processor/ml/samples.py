"""Small sample tables from scikit-learn's bundled data (no download)."""

import pandas as pd
from sklearn import datasets

LOADERS = {
    "iris": (datasets.load_iris, "species"),
    "wine": (datasets.load_wine, "cultivar"),
    "breast_cancer": (datasets.load_breast_cancer, "diagnosis"),
    "diabetes": (datasets.load_diabetes, "progression"),
}


def load_sample_frame(name: str) -> pd.DataFrame:
    """The sample as one table, the target last; classes as their names, not codes."""
    loader, target_name = LOADERS[name]
    bunch = loader(as_frame=True)
    frame = bunch.frame.rename(columns={"target": target_name})
    if hasattr(bunch, "target_names"):
        frame[target_name] = [str(bunch.target_names[code]) for code in bunch.target]
    return frame
