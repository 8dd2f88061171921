"""Seeded synthetic columns with one known defect each, labelled with the action that fixes it."""

import logging
import string
from collections.abc import Callable

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.suggest.features import column_features

logger = logging.getLogger(__name__)

Maker = Callable[[np.random.Generator, int], pd.Series]
WORDS = ["red", "green", "blue", "north", "south", "cash", "card", "gold", "silver", "A11", "A12", "Yes", "No"]


def _categories(rng: np.random.Generator, n: int) -> pd.Series:
    levels = rng.choice(WORDS, size=int(rng.integers(2, len(WORDS))), replace=False)
    return pd.Series(rng.choice(levels, size=n), dtype="str")


def _numbers(rng: np.random.Generator, n: int) -> pd.Series:
    kind = rng.integers(4)
    if kind == 0:
        return pd.Series(rng.normal(rng.uniform(-50, 500), rng.uniform(1, 100), n).round(int(rng.integers(0, 3))))
    if kind == 1:
        return pd.Series(rng.integers(0, int(rng.integers(3, 5000)), n))
    if kind == 2:
        return pd.Series(rng.uniform(0, rng.uniform(1, 1e4), n))
    return pd.Series(rng.gamma(rng.uniform(2, 10), rng.uniform(1, 50), n).round(2))


def _share(rng: np.random.Generator, low: float, high: float) -> float:
    """Log-uniform between max(low, 0.0001) and high: tiny shares (one gap in 10,000) are as common as large."""
    return float(10 ** rng.uniform(np.log10(max(low, 1e-4)), np.log10(high)))


def _with_missing(series: pd.Series, rng: np.random.Generator, low: float, high: float) -> pd.Series:
    out = series.astype("float64") if series.dtype.kind in "iu" else series.copy()
    gone = rng.random(len(out)) < _share(rng, low, high)
    # Real files often miss just one or two values: make sure even the lowest share leaves one gap.
    gone[int(rng.integers(len(out)))] = True
    out[gone] = None
    return out


def _many_levels(rng: np.random.Generator, *, repeats: tuple[int, int]) -> pd.Series:
    """Text with 60-400 levels (cities, customer names, genres), each level repeated about `repeats` times."""
    syllables = np.array(["an", "bo", "ker", "li", "mo", "sa", "tu", "ve", "ri", "do", "en", "ha"])
    levels = [" ".join(["".join(rng.choice(syllables, 3)).title()] * int(rng.integers(1, 3))) for _ in range(400)]
    size = int(rng.integers(60, 400))
    return pd.Series(rng.choice(levels[:size], size=size * int(rng.integers(*repeats))), dtype="str")


def _heavy_tail(rng: np.random.Generator, n: int) -> pd.Series:
    return pd.Series(rng.lognormal(rng.uniform(0, 5), rng.uniform(1.2, 2.5), n).round(2))


def _keep(rng: np.random.Generator, n: int) -> pd.Series:
    if rng.random() < 0.2:
        # Under 20 rows per level (over 5% distinct): too many levels for a category.
        return _many_levels(rng, repeats=(3, 18))
    if rng.random() < 0.2:
        return _heavy_tail(rng, n)
    if rng.random() < 0.15:
        return pd.Series(pd.date_range("2020-01-01", periods=n, freq=f"{int(rng.integers(1, 48))}h"))
    if rng.random() < 0.1:
        return pd.Series(rng.random(n) < 0.3)
    return _numbers(rng, n)


def _tickets(rng: np.random.Generator, n: int) -> pd.Series:
    """Codes that are partly plain numbers ("347082") and partly prefixed ("A/5 21171"), mostly distinct."""
    numbers = rng.integers(1_000, 4_000_000, n).astype(str)
    prefixed = rng.random(n) < rng.uniform(0.25, 0.45)
    prefixes = rng.choice(["A/5 ", "PC ", "STON/O2. ", "C.A. ", "SC/PARIS "], n)
    return pd.Series(np.where(prefixed, np.char.add(prefixes, numbers), numbers), dtype="str")


def _drop(rng: np.random.Generator, n: int) -> pd.Series:
    kind = rng.integers(6)
    if kind == 5:
        return _tickets(rng, n)
    if kind == 0:
        return pd.Series(np.arange(n) + int(rng.integers(0, 1000)), name="row_id")
    if kind == 1:
        letters = np.array(list(string.ascii_uppercase + string.digits))
        return pd.Series(["".join(rng.choice(letters, 10)) for _ in range(n)], dtype="str", name="code")
    if kind == 2:
        return pd.Series([rng.choice(WORDS)] * n, dtype="str")
    if kind == 3:
        return _with_missing(_numbers(rng, n), rng, 0.55, 0.99)
    return _with_missing(_categories(rng, n), rng, 0.55, 0.99)


def _to_number(rng: np.random.Generator, n: int) -> pd.Series:
    values = rng.gamma(2, 10 ** rng.uniform(1, 6), n)
    style = rng.integers(5)
    formats = [
        lambda v: f"{v:,.0f}",
        lambda v: f"${v:,.2f}",
        lambda v: f"{v / 1e6:.1f}M",
        lambda v: f"{int(v):,}+",
        lambda v: f"{v:.2f}".replace(".", ","),
    ]
    texts = [formats[style](v) for v in values]
    bad = rng.random(n) < rng.uniform(0, 0.12)
    filler = rng.choice(["Varies with device", " ", "n/a"])
    column = pd.Series(np.where(bad, filler, texts), dtype="str")
    # Blank trailing rows leave gaps: converting comes first, filling after.
    return _with_missing(column, rng, 0.0, 0.1) if rng.random() < 0.3 else column


def _to_datetime(rng: np.random.Generator, n: int) -> pd.Series:
    stamps = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 4000, n), unit="D")
    fmt = rng.choice(["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%b-%y", "%Y-%m-%d %H:%M:%S", "%B %d, %Y"])
    values = pd.Series(stamps.strftime(str(fmt)), dtype="str")
    return _with_missing(values, rng, 0.0, 0.1) if rng.random() < 0.3 else values


def _to_category(rng: np.random.Generator, n: int) -> pd.Series:
    if rng.random() < 0.25:
        return _many_levels(rng, repeats=(25, 60))
    return _categories(rng, n)


def _trim(rng: np.random.Generator, n: int) -> pd.Series:
    values = _categories(rng, n)
    padded = rng.random(n) < _share(rng, 0.0, 0.9)
    padded[int(rng.integers(n))] = True
    return values.where(~padded, " " + values + rng.choice(["", " ", "  "]))


def _fill_median(rng: np.random.Generator, n: int) -> pd.Series:
    return _with_missing(_numbers(rng, n), rng, 0.0, 0.45)


def _fill_most_frequent(rng: np.random.Generator, n: int) -> pd.Series:
    return _with_missing(_categories(rng, n), rng, 0.0, 0.45)


def _replace_sentinels(rng: np.random.Generator, n: int) -> pd.Series:
    hits = rng.random(n) < _share(rng, 0.0, 0.6)
    hits[int(rng.integers(n))] = True
    if rng.random() < 0.4:
        return _categories(rng, n).where(~hits, rng.choice(["?", "unknown", "NA", "n/a", "-", "none"]))
    values = np.abs(_numbers(rng, n).astype("float64"))
    return pd.Series(np.where(hits, rng.choice([-200, -999, -1, 999, 9999]), values))


def _clip(rng: np.random.Generator, n: int) -> pd.Series:
    values = rng.normal(rng.uniform(10, 500), rng.uniform(1, 50), n)
    wild = rng.random(n) < rng.uniform(0.002, 0.018)
    return pd.Series(np.where(wild, values * rng.uniform(8, 100) * rng.choice([-1, 1]), values))


MAKERS: dict[str, Maker] = {
    "keep": _keep,
    "drop_column": _drop,
    "fill_median": _fill_median,
    "fill_most_frequent": _fill_most_frequent,
    "to_number": _to_number,
    "to_datetime": _to_datetime,
    "to_category": _to_category,
    "trim": _trim,
    "replace_sentinels": _replace_sentinels,
    "clip_outliers": _clip,
}


def synthetic_columns(*, per_action: int = 30, seed: int = 0) -> list[tuple[pd.Series, str]]:
    """`per_action` columns for every action, 50 to 1,500 rows each, fully determined by `seed`."""
    rng = np.random.default_rng(seed)
    out = []
    for action, make in MAKERS.items():
        for _ in range(per_action):
            out.append((make(rng, int(rng.integers(50, 1500))), action))
    return out


def synthetic_features(*, per_action: int = 30, seed: int = 0) -> pd.DataFrame:
    """One row of column_features per synthetic column, plus its `label`."""
    rows = [
        column_features(series) | {"label": action}
        for series, action in synthetic_columns(per_action=per_action, seed=seed)
    ]
    return pd.DataFrame(rows)
