"""Meta-features of one column: the numbers the clean model decides from, all floats, in FEATURES order.

Most features are computed on a seeded sample of SAMPLE_ROWS values, so a column of a million rows
costs about as much as one of five thousand. The missing ratio and the identifier test see every row.
"""

import logging

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.numbers import numeric_share
from csv_processor.ml.types import detect_datetime_format, infer_column_type

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 5_000
SAMPLE_SEED = 0
TEXT_SENTINELS = frozenset(
    {"?", "??", "unknown", "na", "n/a", "none", "null", "nan", "-", "--", "missing", "", "undefined", "not available"}
)
NUMERIC_SENTINELS = (-200.0, -999.0, -99.0, -9999.0, -1.0, 999.0, 9999.0, 99999.0, 999999.0)
FEATURES = (
    "missing_ratio",
    "unique_ratio",
    "log_unique",
    "is_numeric",
    "is_text",
    "is_datetime",
    "is_bool",
    "numeric_share",
    "date_share",
    "whitespace_share",
    "sentinel_share",
    "outlier_share",
    "far_outlier_share",
    "constant",
    "identifier",
    "mean_length",
    "mean_words",
    "skew",
    "integer_valued",
    "any_missing",
    "any_padding",
    "any_sentinel",
)
# Whether a problem occurs at all matters more than its share: one missing value still needs a fill.
PRESENCE = {"any_missing": "missing_ratio", "any_padding": "whitespace_share", "any_sentinel": "sentinel_share"}


def column_features(series: pd.Series) -> dict[str, float]:
    """The meta-features of `series` (see FEATURES)."""
    present = series.dropna()
    sample = _sample(present)
    text = ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype)
    numeric = ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)
    unique = int(sample.nunique())
    out = dict.fromkeys(FEATURES, 0.0) | {
        "missing_ratio": float(series.isna().mean()) if len(series) else 0.0,
        "unique_ratio": unique / len(sample) if len(sample) else 0.0,
        "log_unique": float(np.log10(1 + unique)),
        "is_numeric": float(numeric),
        "is_text": float(text),
        "is_datetime": float(ptypes.is_datetime64_any_dtype(series.dtype)),
        "is_bool": float(ptypes.is_bool_dtype(series.dtype)),
        "constant": float(present.nunique() <= 1),
    }
    # Only a mostly-distinct column can be an identifier: skip the costlier test for the rest.
    if len(present) > 1 and out["unique_ratio"] >= 0.5:
        out["identifier"] = float(infer_column_type(series).kind == "identifier")
    texts = sample.astype("str") if text else None
    if texts is not None:
        out |= _text_features(texts)
    values = sample.to_numpy(dtype="float64", na_value=np.nan) if numeric else None
    if values is not None:
        out |= _number_features(values)
    out["numeric_share"] = 1.0 if numeric else out["numeric_share"]
    out |= {flag: float(out[share] > 0) for flag, share in PRESENCE.items()}
    return {name: float(out[name]) for name in FEATURES}


def _sample(present: pd.Series) -> pd.Series:
    if len(present) <= SAMPLE_ROWS:
        return present
    return present.sample(SAMPLE_ROWS, random_state=SAMPLE_SEED)


_TEXT_KEYS = ("numeric_share", "date_share", "whitespace_share", "mean_length", "mean_words")
_NUMBER_KEYS = ("outlier_share", "far_outlier_share", "skew", "integer_valued")


def _text_features(texts: pd.Series) -> dict[str, float]:
    if texts.empty:
        return dict.fromkeys(_TEXT_KEYS, 0.0) | {"sentinel_share": 0.0}
    stripped = texts.str.strip()
    numbers = max(numeric_share(texts, decimal="."), numeric_share(texts, decimal=","))
    # Dates have digits and are not mostly numbers: skip the costlier date detection for the rest.
    maybe_dates = numbers < 0.5 and _digit_share(texts) >= 0.5
    guess = detect_datetime_format(texts) if maybe_dates else None
    return {
        "numeric_share": numbers,
        "date_share": guess.share if guess is not None else 0.0,
        # Blank cells are an emptiness problem, not a padding one: count padding around real text only.
        "whitespace_share": float(((stripped != texts) & (stripped != "")).mean()),
        "sentinel_share": float(stripped.str.lower().isin(TEXT_SENTINELS).mean()),
        "mean_length": float(np.log1p(texts.str.len().mean())),
        "mean_words": float(stripped.str.count(r"\s+").mean() + 1),
    }


def _digit_share(texts: pd.Series) -> float:
    distinct = texts.value_counts()
    has_digit = distinct.index.str.contains(r"\d", regex=True)
    return float(distinct[has_digit].sum() / distinct.sum())


def _number_features(values: np.ndarray) -> dict[str, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return dict.fromkeys(_NUMBER_KEYS, 0.0) | {"sentinel_share": 0.0}
    sentinel = _sentinel_mask(values)
    clean = values[~sentinel]
    out = {"sentinel_share": float(sentinel.mean()), "integer_valued": float(np.all(np.mod(values, 1) == 0))}
    if clean.size < 4:
        return out | {"outlier_share": 0.0, "far_outlier_share": 0.0, "skew": 0.0}
    q1, q3 = np.percentile(clean, [25, 75])
    iqr = q3 - q1
    std = clean.std()
    skew = float(np.mean(((clean - clean.mean()) / std) ** 3)) if std > 0 else 0.0
    out["outlier_share"] = float(((clean < q1 - 1.5 * iqr) | (clean > q3 + 1.5 * iqr)).mean()) if iqr > 0 else 0.0
    out["far_outlier_share"] = float(((clean < q1 - 3 * iqr) | (clean > q3 + 3 * iqr)).mean()) if iqr > 0 else 0.0
    out["skew"] = float(np.clip(skew, -20, 20))
    return out


def _sentinel_mask(values: np.ndarray) -> np.ndarray:
    """Codes like -200 or 999 standing apart from the other values, as missing-value codes do."""
    mask = np.zeros(values.size, dtype=bool)
    for code in NUMERIC_SENTINELS:
        hits = values == code
        if not hits.any() or hits.all():
            continue
        others = values[~(hits | mask)]
        if others.size == 0:
            continue
        low, high = others.min(), others.max()
        spread = max(high - low, 1.0)
        apart = (code > high and code - high > spread) or (code < low and low - code > spread)
        # A negative code among otherwise non-negative values (pdays = -1) is a code, not a measurement.
        if apart or (code < 0 <= low):
            mask |= hits
    return mask


def sentinel_values(series: pd.Series) -> list:
    """The sentinel codes present in `series`, for a replace step (numbers or the original text)."""
    present = series.dropna()
    if ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype):
        values = present.to_numpy(dtype="float64")
        found = np.unique(values[_sentinel_mask(values)])
        return [int(v) if float(v).is_integer() else float(v) for v in found]
    texts = present.astype("str")
    hits = texts[texts.str.strip().str.lower().isin(TEXT_SENTINELS)]
    return sorted(hits.unique().tolist())
