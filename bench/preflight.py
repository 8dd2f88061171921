"""Training set-up on a target or features change: the set-up fragment against the old full recomputation
(bars: 1 s, 2 s).

Imports adult.data (32,561 rows, parse options sniffed as the manifest gives them: no header, ", ",
"?" missing) and the 1,010,328-row flights file (three copies, bench/flights.py) through the real import
path into a throwaway database and media folder. The page is opened once per dataset (this computes the
version's cached table facts; its time is reported as `first_s`). Then, REPEATS rounds over TARGETS,
"ours" is a GET of the htmx set-up fragment for the next target, through Django's test client, and the
baseline is the computation the fragment did before: read the whole Parquet file, infer types, suggest
targets, detect the problem type, `preflight` twice and `dataset_checks` on the used columns. The two alternate.
Both must agree on every check but leakage (leakage now says how many rows it checked); `agree` reports it.
After each target change, a features change: the pre-flight fragment alone for the target's default features
less one (a different one each round, so each is a feature set not seen before); `median_s_features` must
meet the same bar.
The baseline shares today's leakage trees (AUC read off leaf tables, faster than the scikit-learn scorer
used before), so it understates the old cost: the speedup printed is a lower bound.
The bar: the median target change is under 1 s on adult and under 2 s on flights.
The last line printed is one JSON object.
Run from the project root: .venv/bin/python bench/preflight.py
"""

import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPEATS = 5
BARS = {"adult": 1.0, "flights": 2.0}
TARGETS = {
    "adult": ["column_15", "column_14", "column_1", "column_4", "column_7"],
    "flights": ["arr_delay", "carrier", "hour", "dest", "time_hour"],
}
LEAKAGE = ("leakage_suspect", "target_copy", "possible_leakage")


def _setup_django(workdir: Path) -> None:
    """The preview bench's throwaway database and media folder, plus response contexts and quiet logs."""
    from bench.preview import _setup_django as setup_preview_django

    setup_preview_django(workdir)
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client then keeps each response's context
    logging.disable(logging.INFO)


def baseline_checks(path: Path, target: str) -> list[tuple[str, str]]:
    """The set-up checks as computed before the table facts: everything from the full table, per target."""
    from csv_processor.ml.cleaning.checks import dataset_checks
    from csv_processor.ml.training import detect_problem_type, preflight, suggest_targets
    from csv_processor.ml.types import infer_column_types

    frame = pd.read_parquet(path)
    types = infer_column_types(frame)
    suggest_targets(frame, types)
    problem_type = detect_problem_type(frame[target]).problem_type
    default = preflight(frame, target=target, problem_type=problem_type, types=types)
    check = preflight(frame, target=target, problem_type=problem_type, features=list(default.features), types=types)
    items = [(i.code, i.message) for i in check.problems + check.warnings]
    if not check.problems:
        used = frame[[*check.features, target]].replace([np.inf, -np.inf], np.nan)
        seen = {message for _, message in items}
        items += [
            (c.code, c.message)
            for c in dataset_checks(used, target=target)
            if c.severity != "info" and c.message not in seen
        ]
    return items


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _ours(client, url: str, target: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(checks, default features) of the set-up fragment for `target`."""
    response = client.get(url, {"target": target}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.status_code
    setup = response.context["setup"]
    return [(i.code, i.message) for i in setup.blockers + setup.warnings], setup.default_features


def _features_change(client, url: str, target: str, features: list[str]) -> None:
    query = {"target": target, "features": features, "features_chosen": "1"}
    response = client.get(url, query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preflight-checks")
    assert response.status_code == 200, response.status_code
    assert response.context["setup"].features == features


def _same_but_leakage(ours: list, base: list) -> bool:
    return sorted(i for i in ours if i[0] not in LEAKAGE) == sorted(i for i in base if i[0] not in LEAKAGE)


def _measure(client, version, name: str) -> dict:
    from django.urls import reverse

    from csv_processor.storage import stored_local_path

    url = reverse("csv_processor:training-setup", args=[version.dataset_id, version.number])
    page = reverse("csv_processor:training-new", args=[version.dataset_id, version.number])
    first, response = _timed(lambda: client.get(page))
    assert response.status_code == 200, response.status_code
    path = stored_local_path(version.file)
    baseline_checks(path, TARGETS[name][0])  # warm-up
    times: dict[str, list[float]] = {"ours": [], "baseline": [], "features": []}
    agree = True
    for round_ in range(REPEATS):
        for target in TARGETS[name]:
            ours_s, (ours, defaults) = _timed(lambda t=target: _ours(client, url, t))
            base_s, base = _timed(lambda t=target: baseline_checks(path, t))
            times["ours"].append(ours_s)
            times["baseline"].append(base_s)
            agree &= _same_but_leakage(ours, base)
            fewer = [f for i, f in enumerate(defaults) if i != round_ % len(defaults)] or defaults
            times["features"].append(_timed(lambda t=target, f=fewer: _features_change(client, url, t, f))[0])
    median = {side: statistics.median(values) for side, values in times.items()}
    return {
        "rows": version.row_count,
        "first_s": round(first, 3),
        "median_s_ours": round(median["ours"], 3),
        "median_s_baseline": round(median["baseline"], 3),
        "max_s_ours": round(max(times["ours"]), 3),
        "median_s_features": round(median["features"], 3),
        "max_s_features": round(max(times["features"]), 3),
        "speedup": round(median["baseline"] / median["ours"], 2),
        "bar_s": BARS[name],
        "agree": agree,
        "pass": max(median["ours"], median["features"]) < BARS[name] and agree,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        _setup_django(workdir)
        from django.contrib.auth import get_user_model
        from django.test import Client

        from bench.flights import SHARED, flights_csv
        from csv_processor.services.datasets.imports import dataset_import_file

        user = get_user_model().objects.create_user("bench", password="bench-password-1")
        datasets = {
            "adult": dataset_import_file(owner=user, path=SHARED / "adult.data.csv", name="adult"),
            "flights": dataset_import_file(owner=user, path=flights_csv(workdir), name="flights"),
        }
        client = Client()
        client.force_login(user)
        results = {name: _measure(client, d.current_version, name) for name, d in datasets.items()}
    for name, result in results.items():
        print(name, result)
    summary = {"bench": "preflight", "repeats": REPEATS, "targets": TARGETS, **results}
    summary["pass"] = all(result["pass"] for result in results.values())
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
