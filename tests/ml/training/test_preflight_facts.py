"""The training form's checks from cached table facts: the same verdict as the full-table checks, exact
counts of missing targets, and leakage that says how many rows it checked when it saw a sample."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.cleaning.checks import dataset_checks
from csv_processor.ml.training import preflight
from csv_processor.ml.training.preflight_facts import dataset_checks_from_facts, preflight_from_facts
from csv_processor.ml.training.table_facts import table_facts


def _frame(n: int = 300, seed: int = 0, *, rare: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = np.where(x + rng.normal(scale=1.5, size=n) > 0, "yes", "no").astype(object)
    y[: n // 10] = None  # rows without a target
    if rare:
        y[n // 10] = "rare"  # a class with a single row
    only_where_no_target = np.full(n, "kept", dtype=object)
    only_where_no_target[: n // 10] = "dropped"  # varies overall, constant on the kept rows
    gappy = np.where(np.arange(n) < n // 2 + 5, np.nan, 1.0) + rng.normal(size=n)  # mostly missing, but not when kept
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "x": x,
            "with_inf": np.where(np.arange(n) % 7 == 0, np.inf, rng.normal(size=n)),
            "colour": rng.choice(["red", "green", "blue"], n),
            "only_where_no_target": only_where_no_target,
            "gappy": gappy,
            "constant": ["same"] * n,
            "leak": np.where(y == "yes", 1.0, 0.0) + rng.normal(scale=0.01, size=n),
            "y": y,
        }
    )


def _reader(df: pd.DataFrame):
    return lambda names: df[names]


def _issues(check) -> list[tuple[str, str]]:
    return [(i.code, i.message) for i in check.problems + check.warnings]


@pytest.mark.parametrize("features", [None, ["x", "colour", "only_where_no_target", "gappy", "id"]])
def test_preflight_from_facts_gives_the_full_table_verdict(features):
    df = _frame()
    full = preflight(df, target="y", problem_type="multiclass", features=features)

    fast = preflight_from_facts(
        table_facts(df), df["y"], target="y", problem_type="multiclass", features=features, read_columns=_reader(df)
    )

    assert _issues(fast) == _issues(full)
    assert fast.features == full.features
    assert "only_where_no_target" not in fast.features
    assert "gappy" in fast.features
    assert (fast.rows_dropped_missing_target, fast.rows_dropped_small_classes) == (30, 1)


def test_preflight_from_facts_counts_missing_targets_exactly_and_says_leakage_was_sampled():
    df = _frame(n=30_000, seed=1, rare=False)
    facts = table_facts(df, sample_rows=1_000)

    check = preflight_from_facts(facts, df["y"], target="y", problem_type="binary", read_columns=_reader(df))

    assert facts.sampled
    assert check.rows_dropped_missing_target == 3_000
    assert ("missing_target", "3000 rows have no target value and are dropped.") in _issues(check)
    leaks = [message for code, message in _issues(check) if code == "leakage_suspect"]
    kept_in_sample = int(df["y"].iloc[facts.sample.index].isin(["yes", "no"]).sum())
    assert len(leaks) == 1
    assert "'leak'" in leaks[0]
    assert f"checked on {kept_in_sample:,} of 27,000 rows" in leaks[0]


def test_dataset_checks_from_facts_match_the_full_table_checks():
    df = _frame(rare=False)
    df = pd.concat([df, df.head(12)], ignore_index=True)  # duplicate rows
    used = ["x", "with_inf", "colour", "constant", "leak", "y"]
    full = dataset_checks(df[used].replace([np.inf, -np.inf], np.nan), target="y")

    fast = dataset_checks_from_facts(table_facts(df), df["y"], target="y", features=used[:-1], read_columns=_reader(df))

    assert [(c.code, c.message) for c in fast] == [(c.code, c.message) for c in full]
    assert {"duplicate_rows", "constant_column", "target_copy"} <= {c.code for c in fast}


def test_dataset_checks_from_facts_say_how_many_rows_leakage_checked_when_sampled():
    df = _frame(n=30_000, seed=2, rare=False)
    facts = table_facts(df, sample_rows=2_000)

    checks = dataset_checks_from_facts(facts, df["y"], target="y", features=["x", "leak"], read_columns=_reader(df))

    copy = [c.message for c in checks if c.code == "target_copy"]
    assert len(copy) == 1
    with_target = int(df["y"].iloc[facts.sample.index].notna().sum())
    assert f"checked on {with_target:,} of 27,000 rows" in copy[0]


def test_table_facts_sample_is_bounded_and_seeded():
    df = _frame(n=30_000)

    first, second = table_facts(df, sample_rows=500), table_facts(df, sample_rows=500)

    assert len(first.sample) == 500
    assert first.sample.index.equals(second.sample.index)
    assert not table_facts(_frame()).sampled
