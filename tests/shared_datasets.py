"""Where the team's real datasets live, and what their manifest says (no tests here).

The folder `../shared/datasets` beside the checkout is optional (see the README). Tests that read it carry
the `needs_shared_datasets` marker (or take the `shared_datasets` fixture); tests/conftest.py alone decides
what happens when it is absent: skipped on a newcomer's machine, failed when CI=true.
"""

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
MANIFEST_PATH = SHARED_DATASETS / "manifest.json"
ABSENT_REASON = f"shared datasets absent: no {MANIFEST_PATH} (optional, see the README's Real datasets)"


def shared_datasets_present() -> bool:
    return MANIFEST_PATH.is_file()


@cache
def manifest() -> tuple[dict[str, Any], ...]:
    """The manifest's entries ({"file": ..., "read_csv": {...}}); none when the folder is absent."""
    if not shared_datasets_present():
        return ()
    return tuple(json.loads(MANIFEST_PATH.read_text(encoding="utf-8")))


def read_csv_options(file: str) -> dict[str, Any]:
    """The pandas.read_csv keywords the manifest documents for one file."""
    return next(entry["read_csv"] for entry in manifest() if entry["file"] == file)


def manifest_params(make_param: Callable[[dict[str, Any]], Any] | None = None) -> list[Any]:
    """One parameter per manifest entry, or a single placeholder when the folder is absent, so the test is
    collected and the marker gives its one reason (an empty parameter set would skip with pytest's own)."""
    if not shared_datasets_present():
        return [pytest.param(None, id="shared-datasets-absent")]
    return [make_param(entry) if make_param else pytest.param(entry, id=entry["file"]) for entry in manifest()]
