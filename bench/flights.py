"""The ~1M-row test file the datasets README describes: three copies of the flights file, years shifted."""

from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
FLIGHTS = SHARED / "nycflights13_flights.csv"


def flights_frame(*, copies: int = 3, rows: int | None = None) -> pd.DataFrame:
    """`copies` copies of the flights table with `year` set to 2013, 2014, ... and `time_hour` shifted alike."""
    frame = pd.read_csv(FLIGHTS, nrows=rows)
    parts = []
    for offset in range(copies):
        part = frame.copy()
        part["year"] = 2013 + offset
        part["time_hour"] = part["time_hour"].str.replace("2013-", f"{2013 + offset}-", n=1, regex=False)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def flights_csv(folder: Path, *, copies: int = 3, rows: int | None = None) -> Path:
    path = folder / f"flights_{copies}x_{rows or 'all'}.csv"
    flights_frame(copies=copies, rows=rows).to_csv(path, index=False)
    return path
