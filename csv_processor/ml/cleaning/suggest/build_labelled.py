"""Build labelled_columns.csv: meta-features of the real columns in ../shared/datasets with their labels.

Run by hand from the project root (the product never reads ../shared):
    .venv/bin/python -m csv_processor.ml.cleaning.suggest.build_labelled

Each label was given by a person reading the column, helped by the written policy below: the
script proposes the policy's action, and HAND_LABELS records every column where the person chose
differently. Policy, first rule that applies:
 1. one value (or none) in every row -> drop_column
 2. text that is mostly (>= 80%) numbers -> to_number; mostly dates -> to_datetime
 3. an identifier (every value distinct: row numbers, ids, names, codes) -> drop_column
 4. more than half missing -> drop_column
 5. missing-value codes (-200, 999, -1 among non-negatives, ?, unknown, ...) -> replace_sentinels
 6. text with padding spaces -> trim
 7. some values missing -> fill_median (numbers) or fill_most_frequent (anything else)
 8. numbers with a few (<= 2%) values beyond 3 IQR of the quartiles -> clip_outliers
 9. text with at most 50 distinct values, or under 5% distinct -> to_category
10. otherwise keep.
Files in HELD_OUT are the evaluation set: the model never trains on their columns.
"""

import json
import logging
from pathlib import Path

import pandas as pd

from csv_processor.ml.cleaning.suggest.features import column_features

logger = logging.getLogger(__name__)

DATASETS = Path(__file__).resolve().parents[5] / "shared" / "datasets"
OUTPUT = Path(__file__).resolve().parent / "labelled_columns.csv"
HELD_OUT = (
    "titanic_train.csv",
    "telco_customer_churn.csv",
    "googleplaystore.csv",
    "bank-full.csv",
    "penguins.csv",
    "seattle-weather.csv",
    "superstore_eu_cp1252.csv",
    "house_prices_train.csv",
)
# Reading options that differ from the manifest: keep the -200 codes, which the manifest turns into NaN.
READ_OVERRIDES = {"airquality_uci_eu_excel.csv": {"sep": ";", "decimal": ","}}
HAND_LABELS: dict[tuple[str, str], str] = {
    # Counts of relatives (0-8): the large values are real families, not errors.
    ("titanic_train.csv", "SibSp"): "keep",
}


def policy_action(f: dict[str, float]) -> str:
    """The written labelling policy (module docstring) as code."""
    text = f["is_text"] == 1.0
    if f["constant"]:
        return "drop_column"
    if text and f["numeric_share"] >= 0.8:
        return "to_number"
    if text and f["date_share"] >= 0.8:
        return "to_datetime"
    if f["identifier"] or f["missing_ratio"] > 0.5:
        return "drop_column"
    if f["sentinel_share"] > 0:
        return "replace_sentinels"
    if text and f["whitespace_share"] > 0:
        return "trim"
    if f["missing_ratio"] > 0:
        return "fill_median" if f["is_numeric"] else "fill_most_frequent"
    if f["is_numeric"] and 0 < f["far_outlier_share"] <= 0.02:
        return "clip_outliers"
    if text and (f["log_unique"] <= 1.71 or f["unique_ratio"] < 0.05):
        return "to_category"
    return "keep"


def _read(entry: dict) -> pd.DataFrame:
    options = READ_OVERRIDES.get(entry["file"], entry["read_csv"])
    frame = pd.read_csv(DATASETS / entry["file"], **options)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def build() -> pd.DataFrame:
    manifest = json.loads((DATASETS / "manifest.json").read_text())
    rows = []
    for entry in manifest:
        frame = _read(entry)
        for name in frame.columns:
            features = column_features(frame[name])
            label = HAND_LABELS.get((entry["file"], name), policy_action(features))
            split = "held_out" if entry["file"] in HELD_OUT else "train"
            rows.append({"file": entry["file"], "column": name, "split": split, "label": label, **features})
        logger.info("labelled %s (%d columns)", entry["file"], frame.shape[1])
    return pd.DataFrame(rows)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    table = build()
    table.to_csv(OUTPUT, index=False, float_format="%.6g")
    logger.info("wrote %d columns to %s", len(table), OUTPUT)
