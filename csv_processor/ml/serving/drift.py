"""Population stability index (PSI) of live inputs against the training rows, per feature.

Numbers: ten bins at the training deciles (plus one for missing values); categories: the most common
training values, "other" and missing. PSI = sum((live - train) * ln(live / train)) over the bins, with
a small floor on empty bins. Rules of thumb: below 0.1 stable, 0.1 to 0.25 a moderate shift, above
0.25 a major shift.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.serving.inputs import InputSpec

BINS = 10
TOP_CATEGORIES = 20
FLOOR = 1e-4
MODERATE, MAJOR = 0.1, 0.25
# The drift alert (Prometheus rule CsvAnalyzerModelDrift in prometheus/alerts.yml) fires when the largest
# PSI of a model's features is above this; automatic retraining "on the drift alert" uses the same test.
ALERT_PSI = 0.3
MIN_LIVE_ROWS = 30


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    verdict: str


def reference_profile(frame: pd.DataFrame, spec: InputSpec) -> dict:
    """What drift is measured against, from the training rows: bin edges and shares per feature."""
    profile = {}
    for feature in spec.features:
        if feature.name not in frame.columns:
            continue
        column = frame[feature.name]
        if feature.role == "numeric":
            values = parse_numbers(column).to_numpy()
            finite = values[np.isfinite(values)]
            if not len(finite):
                continue
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, BINS + 1))[1:-1]).tolist()
            profile[feature.name] = {"kind": "numeric", "edges": edges, "shares": _numeric_shares(values, edges)}
        elif feature.role == "categorical":
            text = column.dropna().astype("str")
            top = text.value_counts().index[:TOP_CATEGORIES].tolist()
            profile[feature.name] = {"kind": "categorical", "categories": top, "shares": _category_shares(column, top)}
    return profile


def _numeric_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    missing = ~np.isfinite(values)
    bins = np.searchsorted(np.asarray(edges), values[~missing], side="right")
    counts = [*np.bincount(bins, minlength=len(edges) + 1).tolist(), int(missing.sum())]
    total = max(len(values), 1)
    return [c / total for c in counts]


def _category_shares(column: pd.Series, categories: list[str]) -> list[float]:
    present = column.notna()
    text = column[present].astype("str")
    counts = [int((text == c).sum()) for c in categories]
    other = int(len(text) - sum(counts))
    total = max(len(column), 1)
    return [c / total for c in [*counts, other, int((~present).sum())]]


def psi(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, FLOOR), max(a, FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def verdict(value: float) -> str:
    if value < MODERATE:
        return "stable"
    return "moderate shift" if value < MAJOR else "major shift"


def drift_report(profile: dict, live: pd.DataFrame) -> list[FeatureDrift]:
    """PSI per profiled feature present in `live`, worst first."""
    out = []
    for name, ref in profile.items():
        if name not in live.columns:
            continue
        if ref["kind"] == "numeric":
            shares = _numeric_shares(parse_numbers(live[name]).to_numpy(), ref["edges"])
        else:
            shares = _category_shares(live[name], ref["categories"])
        value = psi(ref["shares"], shares)
        out.append(FeatureDrift(name, round(value, 4), verdict(value)))
    return sorted(out, key=lambda d: -d.psi)


def overall_verdict(drifts: list[FeatureDrift], live_rows: int) -> str:
    """One sentence for the model page."""
    if live_rows < MIN_LIVE_ROWS:
        return f"Not enough recent predictions to judge drift ({live_rows} logged, {MIN_LIVE_ROWS} needed)."
    major = [d.feature for d in drifts if d.verdict == "major shift"]
    moderate = [d.feature for d in drifts if d.verdict == "moderate shift"]
    if major:
        return (
            f"Recent inputs differ strongly from the training data in {', '.join(major[:5])}: "
            "predictions may be less reliable; consider retraining on newer data."
        )
    if moderate:
        return f"Recent inputs have shifted somewhat in {', '.join(moderate[:5])}; keep an eye on them."
    return "Recent inputs look like the training data."


def alert_fires(features: list[dict], live_rows: int) -> bool:
    """Whether the drift alert fires for a stored report's features (each with its "psi")."""
    return live_rows >= MIN_LIVE_ROWS and any(feature["psi"] > ALERT_PSI for feature in features)
