"""Dataset checks on small frames: row counts, duplicates, identifiers, constants, leakage."""

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.checks import dataset_checks


def _codes(checks) -> dict[str, tuple]:
    return {c.code: (c.severity, c.columns) for c in checks}


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "x": x,
            "noise": rng.normal(size=n),
            "country": ["NO"] * n,
            "target": np.where(x + rng.normal(scale=2.0, size=n) > 0, "yes", "no"),
        }
    )


def test_dataset_checks_flags_identifier_and_constant_columns():
    codes = _codes(dataset_checks(_frame(), target="target"))
    assert codes["identifier_column"] == ("warning", ("customer_id",))
    assert codes["constant_column"] == ("warning", ("country",))
    assert "target_copy" not in codes
    assert "possible_leakage" not in codes


def test_dataset_checks_blocks_a_copy_of_the_target():
    df = _frame()
    df["answer"] = df["target"].map({"yes": 1, "no": 0})
    checks = dataset_checks(df, target="target")
    assert checks[0].code == "target_copy"
    assert checks[0].severity == "blocker"
    assert checks[0].columns == ("answer",)


def test_dataset_checks_warns_about_a_column_that_nearly_determines_the_target():
    df = _frame(n=600)
    rng = np.random.default_rng(1)
    df["duration"] = np.where(df["target"] == "yes", 300, 100) + rng.normal(scale=90, size=len(df))
    codes = _codes(dataset_checks(df, target="target"))
    assert codes["possible_leakage"] == ("warning", ("duration",))


def test_dataset_checks_counts_rows_and_duplicates():
    tiny = pd.DataFrame({"a": [1, 1, 2], "b": [3, 3, 4]})
    codes = _codes(dataset_checks(tiny))
    assert codes["too_few_rows"][0] == "blocker"
    assert codes["duplicate_rows"][0] == "warning"
    few = _codes(dataset_checks(_frame(n=50)))
    assert few["few_rows"][0] == "warning"
    assert dataset_checks(_frame(n=50).drop(columns=["customer_id", "country"]).drop_duplicates())[0].code == "few_rows"


def test_leakage_check_handles_infinite_values():
    frame = pd.DataFrame({"x": [np.inf, -np.inf, *range(58)], "y": ["a", "b"] * 30})

    checks = dataset_checks(frame, target="y")

    assert all(check.code != "target_copy" for check in checks)


def test_leakage_check_handles_numbers_beyond_float32():
    # 1e39 overflows float32, the precision of scikit-learn's trees; the check still finds the copy.
    y = np.array(["a", "b"] * 40)
    frame = pd.DataFrame({"huge": np.where(y == "a", 1e39, -1e39), "y": y})

    checks = dataset_checks(frame, target="y")

    assert _codes(checks)["target_copy"] == ("blocker", ("huge",))
