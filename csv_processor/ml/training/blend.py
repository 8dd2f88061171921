"""A weighted average of the best configurations, kept only when cross-validation says it beats the best one.

Every complete trial keeps its out-of-fold predictions (class probabilities, or values for regression).
Greedy ensemble selection (Caruana et al., 2004) adds, with replacement, whichever of the best trials
improves the out-of-fold score of the average most; the counts become the weights. The blend is chosen
only if its mean score over the same folds beats the best single trial's, so on data where one model is
all there is to learn, Auto mode still returns that one model. Everything here is deterministic.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csv_processor.ml.training.evaluation import main_score
from csv_processor.ml.training.search import SearchData, Trial

logger = logging.getLogger(__name__)

ENSEMBLE = "Ensemble"
# The best trials the selection may pick from, how many picks it makes, and how many distinct members.
POOL = 12
STEPS = 20
MAX_MEMBERS = 5


@dataclass(frozen=True)
class BlendPlan:
    """Looks like a Trial to the leaderboard: algorithm, params, cv scores, fit and predict cost."""

    members: tuple[Trial, ...]
    weights: tuple[float, ...]
    cv_scores: tuple[float, ...]
    algorithm: str = ENSEMBLE
    complete: bool = True
    stopped_rounds: float = float("nan")
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.cv_scores))

    @property
    def cv_std(self) -> float:
        return float(np.std(self.cv_scores))

    @property
    def fold_fit_seconds(self) -> float:
        return float(sum(m.fold_fit_seconds for m in self.members))

    @property
    def predict_ms_per_row(self) -> float:
        return float(sum(m.predict_ms_per_row for m in self.members))


def plan_blend(trials: list[Trial], data: SearchData) -> BlendPlan | None:
    """The greedy blend of the best trials, or None when it does not beat the best single trial in CV."""
    pool = [t for t in sorted(trials, key=lambda t: t.rank_key()) if t.oof is not None][:POOL]
    if len(pool) < 2:
        return None
    # Class labels as codes into data.classes: scoring 240 candidate averages on text labels would sort
    # the labels in every metric call, which took longer than the search on 30,000 rows.
    y = data.y.to_numpy() if data.problem_type == "regression" else np.searchsorted(data.classes, data.y.to_numpy())
    counts = np.zeros(len(pool), dtype=int)
    total = np.zeros_like(pool[0].oof)
    for step in range(1, STEPS + 1):
        full = np.count_nonzero(counts) >= MAX_MEMBERS
        keys = [
            _key(data, y, (total + t.oof) / step) if not (full and counts[i] == 0) else (-np.inf,)
            for i, t in enumerate(pool)
        ]
        pick = max(range(len(pool)), key=lambda i: (keys[i], -i))
        counts[pick] += 1
        total += pool[pick].oof
    chosen = np.flatnonzero(counts)
    if len(chosen) < 2:
        return None
    blended = total / STEPS
    scores = tuple(_score(data, y, blended, val) for _, val in data.folds)
    if np.mean(scores) <= pool[0].cv_mean:
        logger.info("blend %.5f does not beat the best single %.5f", np.mean(scores), pool[0].cv_mean)
        return None
    members = tuple(pool[i] for i in chosen)
    weights = tuple(float(counts[i] / STEPS) for i in chosen)
    params = {"members": [_describe(m, w) for m, w in zip(members, weights, strict=True)]}
    return BlendPlan(members, weights, scores, params=params)


def _score(data: SearchData, y: np.ndarray, predictions: np.ndarray, rows: np.ndarray) -> float:
    """The main score (R², or accuracy on class codes) of `predictions` on `rows`."""
    if data.problem_type == "regression":
        return main_score(data.problem_type, y[rows], predictions[rows])
    return float(np.mean(np.argmax(predictions[rows], axis=1) == y[rows]))


def _key(data: SearchData, y: np.ndarray, predictions: np.ndarray) -> tuple[float, ...]:
    """Higher is better: the main score, then (classification, where accuracy often ties) minus log loss."""
    main = _score(data, y, predictions, np.arange(len(y)))
    if data.problem_type == "regression":
        return (main,)
    picked = predictions[np.arange(len(y)), y]
    return (main, float(np.mean(np.log(np.clip(picked, 1e-15, 1)))))


def _describe(member: Trial, weight: float) -> dict[str, Any]:
    return {"algorithm": member.algorithm, "params": dict(member.params), "weight": round(weight, 4)}
