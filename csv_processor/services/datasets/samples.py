"""Sample datasets for a new user to try, built from scikit-learn's bundled data."""

from pathlib import Path

from csv_processor.ml.samples import LOADERS, load_sample_frame
from csv_processor.models import Dataset
from csv_processor.services.datasets.imports import dataset_import_file
from users.models import User

SAMPLE_NAMES = tuple(LOADERS)
TITLES = {"iris": "Iris flowers", "wine": "Wine cultivars", "breast_cancer": "Breast cancer", "diabetes": "Diabetes"}


def dataset_samples_load(*, owner: User, folder: Path, names: tuple[str, ...] | list[str]) -> list[Dataset]:
    """Write each sample as a CSV and import it through the normal upload path."""
    created = []
    for name in names:
        path = folder / f"{name}.csv"
        load_sample_frame(name).to_csv(path, index=False)
        created.append(dataset_import_file(owner=owner, path=path, name=f"Sample: {TITLES[name]}"))
    return created
