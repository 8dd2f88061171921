"""Cleaning ops on the 1M-row flights frame against the plain pandas code that does the same (bar: ratio <= 1.5).

Each op's step is fitted once, then `apply_step` and the hand-written pandas alternate, REPEATS times
each, in the same process; the figures are medians of per-call time. Ops that take milliseconds are
called several times per sample (enough for ~0.1 s of the pandas code), or noise decides the ratio.
The last line printed is one JSON object.
Run from the project root: .venv/bin/python bench/cleaning.py
"""

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.flights import flights_frame
from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step

REPEATS = 9
MIN_SAMPLE_S = 0.1
BAR = 1.5


def _frame() -> pd.DataFrame:
    """The flights frame plus the text columns a cleaning user would meet: formatted numbers, yes/no, padding."""
    df = flights_frame(copies=3)
    df["distance_text"] = df["distance"].map("{:,}".format).astype("str")
    df["delayed"] = np.where(df["arr_delay"] > 0, "yes", "no")
    df["carrier_padded"] = " " + df["carrier"] + " "
    df["departed"] = pd.to_datetime(df["time_hour"], format="ISO8601", utc=True)
    return df


Case = tuple[str, dict, Callable[[pd.DataFrame], object] | None]


def _cases(df: pd.DataFrame) -> dict[str, Case]:
    return _row_cases(df) | _type_cases() | _value_cases(df)


def _row_cases(df: pd.DataFrame) -> dict[str, Case]:
    every_third = list(range(0, len(df), 3))
    return {
        "delete_rows": ("delete_rows", {"positions": every_third}, lambda d: d.drop(index=d.index[every_third])),
        "delete_rows_where": (
            "delete_rows_where",
            {"column": "dep_delay", "condition": "greater_than", "value": 60},
            lambda d: d[~(d["dep_delay"] > 60)],
        ),
        "drop_duplicates": ("drop_duplicates", {}, lambda d: d.drop_duplicates()),
        "drop_columns": (
            "drop_columns",
            {"columns": ["tailnum", "dest"]},
            lambda d: d.drop(columns=["tailnum", "dest"]),
        ),
        "rename_column": (
            "rename_column",
            {"column": "dest", "new_name": "destination"},
            lambda d: d.rename(columns={"dest": "destination"}),
        ),
    }


def _type_cases() -> dict[str, Case]:
    return {
        "to_number": (
            "to_number",
            {"column": "distance_text"},
            lambda d: d.assign(distance_text=pd.to_numeric(d["distance_text"].str.replace(",", ""), errors="coerce")),
        ),
        "to_datetime": (
            "to_datetime",
            {"column": "time_hour"},
            lambda d: d.assign(time_hour=pd.to_datetime(d["time_hour"], format="ISO8601", utc=True)),
        ),
        "to_category": ("to_category", {"column": "dest"}, lambda d: d.assign(dest=d["dest"].astype("category"))),
        "to_boolean": (
            "to_boolean",
            {"column": "delayed"},
            lambda d: d.assign(delayed=d["delayed"].map({"yes": True, "no": False}).astype("boolean")),
        ),
    }


def _value_cases(df: pd.DataFrame) -> dict[str, Case]:
    median = float(df["dep_time"].median())
    return {
        "fill_missing_median": (
            "fill_missing",
            {"column": "dep_time", "strategy": "median"},
            lambda d: d.assign(dep_time=d["dep_time"].fillna(median)),
        ),
        "fill_missing_ffill": (
            "fill_missing",
            {"column": "dep_time", "strategy": "ffill"},
            lambda d: d.assign(dep_time=d["dep_time"].ffill()),
        ),
        "drop_missing": ("drop_missing", {"columns": ["arr_delay"]}, lambda d: d.dropna(subset=["arr_delay"])),
        "replace_values": (
            "replace_values",
            {"column": "dep_delay", "values": [-1, 999]},
            lambda d: d.assign(dep_delay=d["dep_delay"].mask(d["dep_delay"].isin([-1, 999]))),
        ),
        "trim_whitespace": (
            "trim_whitespace",
            {"column": "carrier_padded"},
            lambda d: d.assign(carrier_padded=d["carrier_padded"].str.strip()),
        ),
        "change_case": (
            "change_case",
            {"column": "dest", "case": "lower"},
            lambda d: d.assign(dest=d["dest"].str.lower()),
        ),
        "clip_outliers": ("clip_outliers", {"column": "dep_delay", "method": "iqr"}, None),
        "remove_outliers": ("remove_outliers", {"column": "dep_delay", "method": "zscore"}, None),
        "extract_datetime": (
            "extract_datetime",
            {"column": "departed", "parts": ["year", "month", "day", "weekday", "hour"]},
            lambda d: d.assign(
                departed_year=d["departed"].dt.year,
                departed_month=d["departed"].dt.month,
                departed_day=d["departed"].dt.day,
                departed_weekday=d["departed"].dt.day_of_week,
                departed_hour=d["departed"].dt.hour,
            ),
        ),
    }


def _baseline_for_bounds(op: str, params: dict) -> Callable[[pd.DataFrame], object]:
    """Bounds come from the fitted step, so the plain code uses the same numbers."""
    lower, upper, name = params["lower"], params["upper"], params["column"]
    if op == "clip_outliers":
        return lambda d: d.assign(**{name: d[name].clip(lower, upper)})
    return lambda d: d[~((d[name] < lower) | (d[name] > upper))]


def _timed(fn: Callable[[], object], loops: int) -> float:
    """Seconds per call, over `loops` calls in a row."""
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def _loops(fn: Callable[[], object]) -> int:
    """Calls per sample so a sample lasts about MIN_SAMPLE_S: millisecond ops are otherwise all noise."""
    return max(1, min(200, round(MIN_SAMPLE_S / max(_timed(fn, 1), 1e-6))))


def main() -> None:
    df = _frame()
    results = {}
    for name, (op, params, plain) in _cases(df).items():
        step = fit_step(df, op, params)
        plain = plain or _baseline_for_bounds(op, step.params)
        ours, theirs = [], []
        pair = [(ours, lambda step=step: apply_step(df, step)), (theirs, lambda plain=plain: plain(df))]
        loops = _loops(pair[1][1])
        for i in range(REPEATS):
            # Swap who goes first each round, so neither side always runs on a warm cache.
            for times, fn in pair[:: 1 if i % 2 else -1]:
                times.append(_timed(fn, loops))
        ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
        results[name] = {
            "apply_s": round(ours_s, 4),
            "pandas_s": round(theirs_s, 4),
            "ratio": round(ours_s / theirs_s, 3),
        }
        print(
            f"{name:22s} ours {ours_s * 1000:8.1f} ms  pandas {theirs_s * 1000:8.1f} ms  ratio {ours_s / theirs_s:.2f}"
        )
    worst = max(r["ratio"] for r in results.values())
    summary = {"rows": len(df), "repeats": REPEATS, "bar": BAR, "worst_ratio": worst, "pass": worst <= BAR}
    print(json.dumps({**summary, "ops": results}, sort_keys=False))


if __name__ == "__main__":
    main()
