"""Profile cost on ~1M rows: profile_frame (type inference included) against DataFrame.describe().

The bar: the median profile time is at most 3x the median describe() time on the same frame.
Builds the 1,010,328 x 19 flights frame in memory (never written to disk), alternates the two
calls REPEATS times after one warm-up each, and prints one JSON object as the last line.
Run from the project root: .venv/bin/python bench/profile.py
"""

import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flights import flights_frame
from csv_processor.ml.profiling.profile import profile_frame

REPEATS = 7
BAR = 3.0


def _seconds(call) -> float:
    gc.collect()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    frame = flights_frame()
    assert frame.shape == (1_010_328, 19), frame.shape
    assert frame["time_hour"].dtype == "str", frame["time_hour"].dtype
    calls = {"profile": lambda: profile_frame(frame), "describe": frame.describe}
    for call in calls.values():
        call()  # warm-up: imports, caches, first-touch of the arrays
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(REPEATS):
        for name, call in calls.items():
            times[name].append(_seconds(call))
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["profile"] / median["describe"]
    print(
        json.dumps(
            {
                "bench": "profile",
                "rows": len(frame),
                "columns": frame.shape[1],
                "median_s_profile": round(median["profile"], 4),
                "median_s_describe": round(median["describe"], 4),
                "ratio": round(ratio, 3),
                "bar": BAR,
                "repeats": REPEATS,
                "pass": ratio <= BAR,
            }
        )
    )


if __name__ == "__main__":
    main()
