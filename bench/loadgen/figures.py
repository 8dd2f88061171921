"""What bench/load.py measures besides the requests: server processes' memory and CPU, and the figures.

Samples from the locustfile are tuples (category, label, start epoch seconds, milliseconds, status,
failed). A "mark measure" sample says when every user had logged in: the measured window starts there.
"""

import statistics
import threading
import time
from pathlib import Path

PAGE_BAR_MS, PREDICT_BAR_MS = 300.0, 200.0
MEMORY_GROWTH_BAR = 0.10
SAMPLE_EVERY_SECONDS = 2.0
WINDOWS = 5
TICKS = 100  # /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on Linux


def _process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used), for every process on the machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the name: state, ppid, ... utime is field 14 and stime 15 of stat (11 and 12 here).
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return table


def _tree(root: int, table: dict[int, tuple[int, float]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ProcessSampler(threading.Thread):
    """Every 2 s: RSS of the gunicorn workers (the master's children, summed; the master only forks) and
    of the db_worker (with any children), CPU seconds used by both trees, and the machine's load average."""

    def __init__(self, web_pid: int, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.web_pid, self.worker_pid = web_pid, worker_pid
        self.samples: list[dict] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY_SECONDS):
            table = _process_table()
            web = [pid for pid in _tree(self.web_pid, table) if pid != self.web_pid]
            worker = _tree(self.worker_pid, table)
            self.samples.append(
                {
                    "at": time.time(),
                    "web_mb": sum(_rss_mb(pid) for pid in web),
                    "worker_mb": sum(_rss_mb(pid) for pid in worker),
                    "cpu_s": sum(table[pid][1] for pid in [self.web_pid, *web, *worker] if pid in table),
                    "load1": float(Path("/proc/loadavg").read_text().split()[0]),
                }
            )


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def measured_window(samples: list, seconds: float) -> tuple[float, float]:
    marks = [sample[2] for sample in samples if sample[0] == "mark"]
    start = marks[0] if marks else min(sample[2] for sample in samples)
    return start, start + seconds


def latency_figures(samples: list, window: tuple[float, float]) -> dict:
    """p50/p95 per category and per page inside the window, errors, and p95s of five equal sub-windows."""
    start, end = window
    inside = [s for s in samples if start <= s[2] < end and s[0] not in {"mark", "ingest"}]
    by_category: dict[str, list[float]] = {}
    by_page: dict[str, list[float]] = {}
    for category, label, _, ms, _, _ in inside:
        by_category.setdefault(category, []).append(ms)
        if category == "page":
            by_page.setdefault(label, []).append(ms)
    step = (end - start) / WINDOWS
    spread = {
        category: [
            percentile([s[3] for s in inside if s[0] == category and index <= (s[2] - start) // step < index + 1], 0.95)
            for index in range(WINDOWS)
        ]
        for category in ("page", "api", "baseline")
    }
    logins = [s[3] for s in samples if s[0] == "login"]
    ingests = [s for s in samples if s[0] == "ingest" and start <= s[2] < end]
    ingested = [s[3] / 1000 for s in ingests if s[1] == "done"]
    return {
        "requests": len(inside),
        "requests_per_second": round(len(inside) / (end - start), 1),
        "server_errors": sum(1 for s in samples if s[4] >= 500),
        "transport_errors": sum(1 for s in samples if s[4] == 0 and s[5] and s[0] not in {"ingest", "mark"}),
        "error_responses": _errors(samples),
        "count": {category: len(times) for category, times in by_category.items()},
        "p50_ms": {category: percentile(times, 0.50) for category, times in by_category.items()},
        "p95_ms": {category: percentile(times, 0.95) for category, times in by_category.items()},
        "p95_ms_by_page": {label: percentile(times, 0.95) for label, times in sorted(by_page.items())},
        "p95_ms_windows": spread,
        "logins": len(logins),
        "login_p95_ms_all_run": percentile(logins, 0.95),
        "uploads_ingested": len(ingested),
        "ingest_timeouts": sum(1 for s in ingests if s[1] == "timeout"),
        "ingest_seconds_median": round(statistics.median(ingested), 1) if ingested else None,
    }


def _errors(samples: list) -> dict[str, int]:
    """Responses of 400 or more and failed connections over the whole run (ramp included), by request."""
    counts: dict[str, int] = {}
    for category, label, _, _, status, failed in samples:
        if status >= 400 or (status == 0 and failed and category not in {"ingest", "mark"}):
            key = f"{status} {category} {label}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def process_figures(samples: list[dict], window: tuple[float, float], requests: int) -> dict:
    """Memory stability (median of the last third of the window vs the first), CPU and machine load."""
    kept = [sample for sample in samples if window[0] <= sample["at"] <= window[1]]
    third = max(1, len(kept) // 3)
    out: dict = {"samples": len(kept), "rule": "last-third median <= 1.10 x first-third median (RSS)"}
    for key, name in (("web_mb", "web_workers"), ("worker_mb", "db_worker")):
        first = statistics.median(sample[key] for sample in kept[:third])
        last = statistics.median(sample[key] for sample in kept[-third:])
        out[name] = {
            "first_third_mb": round(first, 1),
            "last_third_mb": round(last, 1),
            "peak_mb": round(max(sample[key] for sample in kept), 1),
            "growth": round(last / first - 1, 3) if first else None,
            "stable": bool(first) and last <= (1 + MEMORY_GROWTH_BAR) * first,
            # Medians of six equal slices of the window: a plateau and a steady climb look different.
            "series_mb": [round(statistics.median(part), 1) for part in _slices([s[key] for s in kept], 6) if part],
        }
    cpu = kept[-1]["cpu_s"] - kept[0]["cpu_s"] if len(kept) > 1 else 0.0
    out["server_cpu_seconds"] = round(cpu, 1)
    out["server_cpu_ms_per_request"] = round(1000 * cpu / requests, 1) if requests else None
    out["machine_load1_median"] = round(statistics.median(sample["load1"] for sample in kept), 1) if kept else None
    return out


def _slices(values: list[float], count: int) -> list[list[float]]:
    size = len(values) / count
    return [values[round(index * size) : round((index + 1) * size)] for index in range(count)]


def summarise(latency: dict, processes: dict, context: dict) -> dict:
    p95 = latency["p95_ms"]
    baseline = p95.get("baseline")
    checks = {
        "no_server_errors": latency["server_errors"] == 0 and latency["transport_errors"] == 0,
        "page_p95": (p95.get("page") or float("inf")) < PAGE_BAR_MS,
        "predict_p95": (p95.get("api") or float("inf")) < PREDICT_BAR_MS,
        "memory_stable": processes["web_workers"]["stable"] and processes["db_worker"]["stable"],
    }
    ratios = {
        f"ratio_{name}_p95_vs_healthz": round(p95[category] / baseline, 2) if p95.get(category) and baseline else None
        for name, category in (("page", "page"), ("predict", "api"))
    }
    return {
        **context,
        **latency,
        **ratios,
        "bars_ms": {"page_p95": PAGE_BAR_MS, "predict_p95": PREDICT_BAR_MS},
        "processes": processes,
        "checks": checks,
        "pass": all(checks.values()),
    }
