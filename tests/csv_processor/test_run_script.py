""" "Download as Python": the run page's link, the owner-scoped download, and the script run in a clean
virtualenv with only scikit-learn, pandas and pyarrow printing the run's cross-validation scores."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import classification_csv, make_dataset, queue_run, regression_csv

# What the script may import, pinned to this environment's versions so the numbers agree.
PACKAGES = ("scikit-learn", "pandas", "pyarrow", "numpy", "scipy", "joblib", "threadpoolctl")


def _script_url(run) -> str:
    return reverse("csv_processor:run-download-python", args=[run.pk])


def _trained(user, version, **options):
    run = queue_run(user, version, **options)
    return training_run_execute(run_id=run.pk, defer_tracking=True)


def test_run_download_python_is_an_attachment_for_the_owner(user_client, user, dataset, media_root):
    run = _trained(user, dataset.current_version, algorithms=["LogisticRegression"])

    response = user_client.get(_script_url(run))
    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.pk}.py"'
    script = response.content.decode()
    assert "LogisticRegression(" in script
    assert "max_iter=2000" in script
    assert "random_state=0" in script
    assert _script_url(run) in page
    assert reverse("csv_processor:dataset-download-parquet", args=[dataset.pk, 1]) in page


def test_run_download_python_is_404_for_another_users_run(client, other_user, user, dataset):
    run = queue_run(user, dataset.current_version)
    client.force_login(other_user)

    response = client.get(_script_url(run))

    assert response.status_code == 404


def test_run_download_python_refuses_a_run_not_succeeded(user_client, user, dataset):
    run = queue_run(user, dataset.current_version)

    response = user_client.get(_script_url(run))

    assert response.status_code == 409
    assert "succeeded" in response.content.decode()


@pytest.fixture(scope="session")
def clean_python() -> Path:
    """A virtualenv with only the packages the script needs, at this environment's versions.

    Built once per machine and set of versions under the user's cache folder (into a temporary folder, then
    renamed, so a run that dies half-way leaves nothing that looks ready): each `make test` reuses it.
    """
    pins = [f"{name}=={metadata.version(name)}" for name in PACKAGES]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "csv-analyzer"
    folder = cache / f"clean-venv-{hashlib.sha256(' '.join(pins).encode()).hexdigest()[:16]}"
    python = folder / "bin" / "python"
    if python.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="clean-venv-", dir=cache))
    venv.create(building, with_pip=True)
    installed = subprocess.run(
        [building / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if installed.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        pytest.fail(f"could not install {pins} from the package index: {installed.stderr[-2000:]}")
    # Only `python -m pip` and `python` are used, which find their packages relative to themselves: the
    # folder can move. Another session that finished first keeps its copy.
    try:
        building.rename(folder)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
    return python


def _scores(printed: str, name: str) -> list[float]:
    return [float(line.split(":")[1]) for line in printed.splitlines() if line.startswith(name)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "target", "algorithm"),
    [(None, "label", "HistGradientBoosting"), (regression_csv(), "price", "RandomForest")],
)
def test_run_script_in_a_clean_virtualenv_prints_the_runs_cv_scores(
    user_client, user, tmp_path, media_root, clean_python, body, target, algorithm
):
    dataset = make_dataset(user, tmp_path, body or classification_csv(), name="data.csv")
    run = _trained(user, dataset.current_version, target=target, algorithms=[algorithm])
    parquet = user_client.get(reverse("csv_processor:dataset-download-parquet", args=[dataset.pk, 1]))
    # No argument: the script reads the Parquet file under the name the download gives it.
    (tmp_path / parquet.filename).write_bytes(b"".join(parquet.streaming_content))
    (tmp_path / f"run-{run.pk}.py").write_bytes(user_client.get(_script_url(run)).content)

    done = subprocess.run(
        [clean_python, "-I", f"run-{run.pk}.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stderr
    chosen = run.leaderboard[0]
    assert _scores(done.stdout, "fold ") == pytest.approx(chosen["cv_scores"], abs=1e-9)
    assert _scores(done.stdout, "mean") == pytest.approx([chosen["cv_mean"]], abs=1e-9)
    assert _scores(done.stdout, "std") == pytest.approx([chosen["cv_std"]], abs=1e-9)
    assert sys.executable not in done.stdout


def _messy_csv(rows: int = 240, seed: int = 5) -> bytes:
    """Amounts as text ("$1,234.50", a few unreadable), padded categories, missing values, outlying rows."""
    rng = np.random.default_rng(seed)
    lines = ["id,x1,amount,colour,x2,label"]
    for i in range(rows):
        x1, x2 = rng.normal(), rng.normal()
        amount = "unknown" if i % 37 == 0 else f'"${rng.uniform(10, 9999):,.2f}"'
        colour = rng.choice([" red", "green ", "blue"])
        label = "yes" if x1 + (colour == " red") + rng.normal(scale=0.4) > 0.4 else "no"
        lines.append(f"{i},{x1:.4f},{amount},{colour},{'' if i % 11 == 0 else f'{x2:.4f}'},{label}")
    return ("\n".join(lines) + "\n").encode()


CLEANING = [
    ("to_number", {"column": "amount"}),
    ("trim_whitespace", {"column": "colour"}),
    ("fill_missing", {"column": "x2", "strategy": "median"}),
    ("delete_rows_where", {"column": "x1", "condition": "less_than", "value": -2}),
    ("drop_columns", {"columns": ["id"]}),
]


@pytest.mark.slow
@pytest.mark.parametrize("steps", [CLEANING, []], ids=["cleaned", "numbers-as-text"])
def test_run_script_on_a_messy_version_prints_the_runs_cv_scores(user_client, user, tmp_path, clean_python, steps):
    """Cleaned: the model replays the cleaning steps on raw rows, and the cleaned version's Parquet holds what
    they give (the steps are fixed when applied), so the script fits on it. As parsed: "amount" holds numbers
    as text, which the script reads with its copy of the app's parser. Both print the run's scores."""
    dataset = make_dataset(user, tmp_path, _messy_csv(), name="messy.csv")
    for op, params in steps:
        dataset.refresh_from_db()
        cleaning_job_create(owner=user, version=dataset.current_version, op=op, params=params, confirm_loss=True)
    dataset.refresh_from_db()
    version = dataset.current_version
    run = _trained(user, version, target="label", algorithms=["RandomForest"])
    parquet = user_client.get(reverse("csv_processor:dataset-download-parquet", args=[dataset.pk, version.number]))
    (tmp_path / parquet.filename).write_bytes(b"".join(parquet.streaming_content))
    (tmp_path / f"run-{run.pk}.py").write_bytes(user_client.get(_script_url(run)).content)

    done = subprocess.run(
        [clean_python, "-I", f"run-{run.pk}.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )

    assert version.number == len(steps) + 1
    dtypes = {column["name"]: column["dtype"] for column in version.schema}
    assert (dtypes["amount"] == "float64") is bool(steps)  # as parsed, the amounts are text
    assert run.feature_schema["amount"]["kind"] == "float"
    assert done.returncode == 0, done.stderr
    chosen = run.leaderboard[0]
    assert _scores(done.stdout, "fold ") == pytest.approx(chosen["cv_scores"], abs=1e-9)
    assert _scores(done.stdout, "mean") == pytest.approx([chosen["cv_mean"]], abs=1e-9)
