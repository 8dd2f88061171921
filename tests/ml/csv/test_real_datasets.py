"""Every real, messy dataset in ../shared/datasets reads exactly like its documented ``pandas.read_csv`` parse.

Detection alone must find the options; the few files that also need a user's choice in the confirm-parse step
list it in CONFIRMED_BY_USER. Column names differ only by design: ``column_<i>`` for header-less files and
empty header cells.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from csv_processor.ml.csv.reader import ParseOptions, csv_to_parquet, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason
from tests.shared_datasets import SHARED_DATASETS, manifest_params

pytestmark = pytest.mark.needs_shared_datasets
SLOW_BYTES = 20 * 1024 * 1024

# Choices only a person can make, entered in the confirm-parse step. Which spelling means "missing" is
# domain knowledge: "?" is a missing value in UCI adult but could be a real answer elsewhere, and -200 is a
# sensor's "no reading" code in Air Quality but an ordinary number in most files.
CONFIRMED_BY_USER: dict[str, dict[str, Any]] = {
    "adult.data.csv": {"na_values": ("?",)},
    "adult.test.csv": {"na_values": ("?",)},
    "airquality_uci_eu_excel.csv": {"na_values": ("-200",)},
}


def _params() -> list[Any]:
    return manifest_params(
        lambda entry: pytest.param(entry, id=entry["file"], marks=[pytest.mark.slow] if _is_big(entry["file"]) else [])
    )


def _is_big(name: str) -> bool:
    return (SHARED_DATASETS / name).stat().st_size > SLOW_BYTES


def _expected_options(read_csv: dict[str, Any]) -> dict[str, Any]:
    """The manifest's read_csv keywords as ParseOptions fields, NA markers left out (see CONFIRMED_BY_USER)."""
    renamed = {"sep": "delimiter", "skipinitialspace": "skip_initial_space"}
    expected = {}
    for key, value in read_csv.items():
        if key == "header":
            expected["has_header"] = value is not None
        elif key != "na_values":
            expected[renamed.get(key, key)] = value
    return expected


def _reference(path: Path, read_csv: dict[str, Any]) -> pd.DataFrame:
    frame = pd.read_csv(path, **read_csv)
    if read_csv.get("header", 0) is None:
        frame.columns = [f"column_{i}" for i in range(1, frame.shape[1] + 1)]
    else:
        # Our rule for an empty header cell: column_<position>; pandas calls it "Unnamed: <index>".
        frame.columns = [
            f"column_{i}" if name.startswith("Unnamed: ") else name for i, name in enumerate(frame.columns, 1)
        ]
    return frame


@pytest.mark.parametrize("entry", _params())
def test_real_dataset_reads_like_documented_pandas_parse(entry: dict[str, Any], tmp_path: Path) -> None:
    path = SHARED_DATASETS / entry["file"]
    with path.open("rb") as fh:
        assert refuse_reason(fh.read(8192)) is None

    detected = detect_parse_options(path)
    for key, value in _expected_options(entry["read_csv"]).items():
        assert getattr(detected, key) == value, f"{entry['file']}: detected {key}={getattr(detected, key)!r}"
    options: ParseOptions = replace(detected, **CONFIRMED_BY_USER.get(entry["file"], {}))

    ours = read_csv_sniffed(path, options)
    expected = _reference(path, entry["read_csv"])
    pd.testing.assert_frame_equal(ours, expected, check_exact=True)

    out = tmp_path / "data.parquet"
    summary = csv_to_parquet(path, options, out)
    assert (summary.rows, summary.columns) == expected.shape
    assert summary.column_names == tuple(expected.columns)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_exact=True)


@pytest.mark.parametrize("entry", _params())
def test_real_dataset_preview_matches_first_rows(entry: dict[str, Any]) -> None:
    path = SHARED_DATASETS / entry["file"]
    options = replace(detect_parse_options(path), **CONFIRMED_BY_USER.get(entry["file"], {}))
    preview = read_csv_sniffed(path, options, nrows=50)
    expected = _reference(path, {**entry["read_csv"], "nrows": 50})
    pd.testing.assert_frame_equal(preview, expected, check_exact=True)
