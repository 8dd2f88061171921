"""Cross-validated trials within a time budget: the engine of Auto mode.

The plan is deterministic: scikit-learn's defaults for every algorithm (cheapest first), then rounds of
seeded random configurations for the algorithms that rank best so far, one fewer algorithm per round.
Only the budget cuts the plan short, so the same seed and settings give the same leaderboard whenever
the plan finishes in time. A trial starts only when its estimated cost (from the per-fold times seen so
far) fits in what is left after the reserve for the final refit and evaluation, and stops between
folds when it runs over.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csv_processor.ml.training.algorithms import BASELINE, AlgorithmSpec, algorithm_spec
from csv_processor.ml.training.evaluation import main_score
from csv_processor.ml.training.pipeline import build_pipeline
from csv_processor.ml.training.progress import Reporter

logger = logging.getLogger(__name__)

MAX_ROUNDS = 12
DRAWS_PER_CONFIG = 8


@dataclass(frozen=True)
class Trial:
    algorithm: str
    params: dict[str, Any]
    cv_scores: tuple[float, ...]
    fold_fit_seconds: float
    predict_ms_per_row: float
    complete: bool

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.cv_scores))

    @property
    def cv_std(self) -> float:
        return float(np.std(self.cv_scores))


@dataclass
class SearchData:
    """What every trial fits on: the training split, its folds and how the pipeline is built."""

    X: pd.DataFrame
    y: pd.Series
    task: str
    kinds: dict[str, str]
    folds: list[tuple[np.ndarray, np.ndarray]]
    seed: int
    n_jobs: int
    recipe_steps: list[dict] | None = None
    fold_seconds: dict[str, float] = field(default_factory=dict)

    def pipeline(self, algorithm: str, params: dict[str, Any]):
        return build_pipeline(
            algorithm=algorithm,
            task=self.task,
            feature_types=self.kinds,
            params=params,
            recipe_steps=self.recipe_steps,
            seed=self.seed,
            n_jobs=self.n_jobs,
        )


def size_ratio(spec: AlgorithmSpec, params: dict[str, Any]) -> float:
    if spec.size_param is None:
        return 1.0
    return float(params.get(spec.size_param, spec.size_default)) / spec.size_default


def estimate_fold_seconds(data: SearchData, algorithm: str, params: dict[str, Any]) -> float | None:
    """Seconds to fit one fold, from this algorithm's past folds or, failing that, from the others."""
    spec = algorithm_spec(data.task, algorithm)
    if algorithm in data.fold_seconds:
        return data.fold_seconds[algorithm] * size_ratio(spec, params)
    seen = [
        seconds / algorithm_spec(data.task, name).cost
        for name, seconds in data.fold_seconds.items()
        if name != BASELINE
    ]
    return float(np.median(seen)) * spec.cost * size_ratio(spec, params) if seen else None


def run_trial(data: SearchData, algorithm: str, params: dict[str, Any], reporter: Reporter, reserve: float) -> Trial:
    """Cross-validate one configuration; stop between folds if the rest would not fit in the budget."""
    scores, fit_times, predict_times, rows = [], [], [], 0
    for train_pos, val_pos in data.folds:
        reporter.check_cancel()
        model = data.pipeline(algorithm, params)
        start = time.perf_counter()
        model.fit(data.X.iloc[train_pos], data.y.iloc[train_pos])
        fit_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        predicted = model.predict(data.X.iloc[val_pos])
        predict_times.append(time.perf_counter() - start)
        rows += len(val_pos)
        scores.append(main_score(data.task, data.y.iloc[val_pos].to_numpy(), predicted))
        left = len(data.folds) - len(scores)
        if left and reporter.clock.remaining() - reserve < left * float(np.mean(fit_times) + np.mean(predict_times)):
            break
    spec = algorithm_spec(data.task, algorithm)
    per_fold = float(np.mean(fit_times) + np.mean(predict_times))
    data.fold_seconds[algorithm] = per_fold / size_ratio(spec, params)
    complete = len(scores) == len(data.folds)
    return Trial(
        algorithm, dict(params), tuple(scores), float(np.mean(fit_times)), 1000 * sum(predict_times) / rows, complete
    )


def sample_params(spec: AlgorithmSpec, seed: int, round_: int, index: int, tried: set[str]) -> dict[str, Any] | None:
    """A seeded draw from the space that was not tried yet; None when the draws keep repeating."""
    rng = np.random.default_rng([seed, round_, index])
    for _ in range(DRAWS_PER_CONFIG):
        params = {name: values[int(rng.integers(len(values)))] for name, values in spec.space.items()}
        if _key(spec.name, params) not in tried:
            return params
    return None


def _key(algorithm: str, params: dict[str, Any]) -> str:
    return f"{algorithm}:{sorted(params.items(), key=lambda item: item[0])!r}"


def search(
    data: SearchData,
    algorithms: list[str],
    reporter: Reporter,
    reserve: Callable[[list[Trial]], float],
) -> list[Trial]:
    """All trials run, in order: defaults first, then seeded random rounds over the leading algorithms."""
    specs = sorted((algorithm_spec(data.task, name) for name in algorithms), key=lambda s: (s.cost, s.name))
    trials: list[Trial] = []
    tried: set[str] = set()
    total = len(specs) + sum(max(1, len(specs) - r) for r in range(MAX_ROUNDS))
    plan = [(spec.name, {}) for spec in specs]
    for round_ in range(MAX_ROUNDS + 1):
        for name, params in plan:
            tried.add(_key(name, params))
            trial = _maybe_run(data, name, params, reporter, reserve(trials), index=(len(tried), total))
            if trial is not None:
                trials.append(trial)
        ranking = _ranking(trials, [s.name for s in specs if s.space])
        leaders = ranking[: max(1, len(ranking) - round_)]
        plan = [
            (name, sample_params(algorithm_spec(data.task, name), data.seed, round_, algorithms.index(name), tried))
            for name in leaders
        ]
        plan = [(name, params) for name, params in plan if params is not None]
        if not plan or reporter.clock.remaining() - reserve(trials) <= 0:
            break
    return trials


def _maybe_run(
    data: SearchData, name: str, params: dict[str, Any], reporter: Reporter, reserve: float, index: tuple[int, int]
) -> Trial | None:
    reporter.check_cancel()
    estimate = estimate_fold_seconds(data, name, params)
    available = reporter.clock.remaining() - reserve
    if estimate is not None and estimate * len(data.folds) > available:
        logger.debug("skip %s %s: needs about %.1fs, %.1fs left", name, params, estimate * len(data.folds), available)
        return None
    if estimate is None and available <= 0:
        return None
    reporter.report("search", index[0], index[1], f"{name} {params or 'defaults'}")
    return run_trial(data, name, params, reporter, reserve)


def _ranking(trials: list[Trial], names: list[str]) -> list[str]:
    """Algorithms that can still be tuned, best cross-validated score first (name breaks ties)."""
    best = {
        name: max((t.cv_mean for t in trials if t.algorithm == name and t.complete), default=None) for name in names
    }
    scored = [name for name in names if best[name] is not None]
    return sorted(scored, key=lambda name: (-best[name], name))
