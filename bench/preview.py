"""Preview-page latency: the 1M-row dataset page against a 1,000-row one (bar: p50 ratio <= 2).

Builds both datasets through the real import path in a throwaway database and media folder, then
alternates GETs of the two dataset pages through Django's test client, in-process, and compares p50s.
Run from the project root: .venv/bin/python bench/preview.py
"""

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 30
BAR = 2.0


def _setup_django(workdir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="csv_analyzer.settings",
        DJANGO_SECRET_KEY="bench-only",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _time_get(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        _setup_django(workdir)
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from bench.flights import flights_csv
        from csv_processor.services.datasets.imports import dataset_import_file

        user = get_user_model().objects.create_user("bench", password="bench-password-1")
        small = dataset_import_file(owner=user, path=flights_csv(workdir, copies=1, rows=1000), name="small")
        large = dataset_import_file(owner=user, path=flights_csv(workdir), name="large")
        client = Client()
        client.force_login(user)
        urls = {
            name: reverse("csv_processor:dataset-detail", args=[d.pk])
            for name, d in (("small", small), ("large", large))
        }
        for url in urls.values():
            _time_get(client, url)  # warm up
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(REPEATS):
            for name, url in urls.items():
                times[name].append(_time_get(client, url))
    p50 = {name: statistics.median(values) for name, values in times.items()}
    ratio = p50["large"] / p50["small"]
    result = {
        "bench": "preview",
        "rows": {"small": small.current_version.row_count, "large": large.current_version.row_count},
        "p50_ms_small": round(p50["small"] * 1000, 2),
        "p50_ms_large": round(p50["large"] * 1000, 2),
        "ratio": round(ratio, 3),
        "bar": BAR,
        "repeats": REPEATS,
        "pass": ratio <= BAR,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
