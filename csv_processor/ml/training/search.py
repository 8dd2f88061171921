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
from sklearn.metrics import log_loss

from csv_processor.ml.training.algorithms import BASELINE, PORTFOLIOS, AlgorithmSpec, algorithm_spec
from csv_processor.ml.training.evaluation import main_score
from csv_processor.ml.training.pipeline import build_pipeline
from csv_processor.ml.training.progress import Reporter

logger = logging.getLogger(__name__)

# Rounds end early when the budget or the untried configurations run out.
MAX_ROUNDS = 30
MAX_TRIAL_SHARE = 0.25
# The leading algorithm gets this many configurations per round, the others one each.
LEADER_DRAWS = 2
DRAWS_PER_CONFIG = 8


@dataclass(frozen=True)
class Trial:
    algorithm: str
    params: dict[str, Any]
    cv_scores: tuple[float, ...]
    fold_fit_seconds: float
    predict_ms_per_row: float
    complete: bool
    cv_loss: float = float("nan")
    # Mean boosting rounds where early stopping ended the fold fits (NaN when it was not used).
    stopped_rounds: float = float("nan")

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.cv_scores))

    def rank_key(self) -> tuple:
        """Best first: complete, higher score, then lower log loss (accuracy ties often on small data)."""
        loss = self.cv_loss if np.isfinite(self.cv_loss) else np.inf
        return (not self.complete, -round(self.cv_mean, 9), loss, self.algorithm)

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


def run_trial(data: SearchData, algorithm: str, params: dict[str, Any], reporter: Reporter, limit: float) -> Trial:
    """Cross-validate one configuration; stop between folds once the rest would take it past `limit` seconds."""
    folds: list[tuple[float, ...]] = []  # score, loss, fit seconds, predict seconds, early-stopped rounds
    start_trial, rows = time.perf_counter(), 0
    for train_pos, val_pos in data.folds:
        reporter.check_cancel()
        folds.append(_fold(data, data.pipeline(algorithm, params), train_pos, val_pos))
        rows += len(val_pos)
        per_fold = (time.perf_counter() - start_trial) / len(folds)
        if len(folds) < len(data.folds) and per_fold * len(data.folds) > limit:
            break
    scores, losses, fits, predicts, stopped = (np.array(column) for column in zip(*folds, strict=True))
    data.fold_seconds[algorithm] = float(fits.mean() + predicts.mean()) / size_ratio(
        algorithm_spec(data.task, algorithm), params
    )
    loss = float(losses.mean()) if np.isfinite(losses).all() else float("nan")
    complete = len(folds) == len(data.folds)
    return Trial(
        algorithm,
        dict(params),
        tuple(scores.tolist()),
        float(fits.mean()),
        1000 * predicts.sum() / rows,
        complete,
        loss,
        float(stopped.mean()) if np.isfinite(stopped).all() else float("nan"),
    )


def _fold(
    data: SearchData, model: Any, train_pos: np.ndarray, val_pos: np.ndarray
) -> tuple[float, float, float, float, float]:
    start = time.perf_counter()
    model.fit(data.X.iloc[train_pos], data.y.iloc[train_pos])
    fitted = time.perf_counter()
    y_val = data.y.iloc[val_pos].to_numpy()
    predicted, loss = _predict(model, data.task, data.X.iloc[val_pos], y_val)
    predicted_at = time.perf_counter()
    estimator = model.named_steps["model"]
    stopped = float(estimator.n_iter_) if getattr(estimator, "do_early_stopping_", False) else float("nan")
    return main_score(data.task, y_val, predicted), loss, fitted - start, predicted_at - fitted, stopped


def _predict(model: Any, task: str, X: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Predictions and, for classifiers, the log loss; one predict_proba call gives both."""
    if task == "regression":
        return model.predict(X), float("nan")
    proba = model.predict_proba(X)
    predicted = model.classes_[np.argmax(proba, axis=1)]
    try:
        return predicted, float(log_loss(y, proba, labels=model.classes_))
    except ValueError:
        # A class missing from this fold's training rows: the loss is undefined, the accuracy is not.
        return predicted, float("nan")


def sample_params(spec: AlgorithmSpec, seed: int, round_: int, index: int, tried: set[str]) -> dict[str, Any] | None:
    """The first untried portfolio configuration, else a seeded draw from the space not tried yet; None
    when the draws keep repeating."""
    for params in PORTFOLIOS.get(spec.name, ()):
        if _key(spec.name, params) not in tried:
            return dict(params)
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
    tried: set[str] = {_key(spec.name, {}) for spec in specs}
    total = len(specs) + sum(max(1, len(specs) - r) + LEADER_DRAWS - 1 for r in range(MAX_ROUNDS))
    plan: list[tuple[str, dict[str, Any]]] = [(spec.name, {}) for spec in specs]
    done = 0
    for round_ in range(MAX_ROUNDS + 1):
        for name, params in plan:
            done += 1
            has_model = any(t.complete for t in trials)
            trial = _maybe_run(data, name, params, reporter, reserve(trials), (done, total), has_model)
            if trial is not None:
                trials.append(trial)
        ranking = _ranking(trials, [s.name for s in specs if s.space])
        plan = _next_round(data, ranking[: max(1, len(ranking) - round_)], round_, algorithms, tried)
        if not plan or reporter.clock.remaining() - reserve(trials) <= 0:
            break
    return trials


def _next_round(
    data: SearchData, leaders: list[str], round_: int, algorithms: list[str], tried: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Seeded draws for this round: LEADER_DRAWS for the best algorithm so far, one for each other leader."""
    plan = []
    for rank, name in enumerate(leaders):
        spec = algorithm_spec(data.task, name)
        for draw in range(LEADER_DRAWS if rank == 0 else 1):
            params = sample_params(spec, data.seed, round_, algorithms.index(name) * 10 + draw, tried)
            if params is not None:
                tried.add(_key(name, params))
                plan.append((name, params))
    return plan


def _maybe_run(
    data: SearchData,
    name: str,
    params: dict[str, Any],
    reporter: Reporter,
    reserve: float,
    index: tuple[int, int],
    has_model: bool,
) -> Trial | None:
    reporter.check_cancel()
    estimate = estimate_fold_seconds(data, name, params)
    available = reporter.clock.remaining() - reserve
    if has_model:
        # One slow configuration must not eat the budget the others could use better.
        available = min(available, MAX_TRIAL_SHARE * reporter.clock.budget)
    if (estimate is not None and estimate * len(data.folds) > available) or available <= 0:
        logger.debug(
            "skip %s %s: needs about %.1fs, %.1fs left", name, params, (estimate or 0) * len(data.folds), available
        )
        return None
    reporter.report("search", index[0], index[1], f"{name} {params or 'defaults'}")
    return run_trial(data, name, params, reporter, available)


def _ranking(trials: list[Trial], names: list[str]) -> list[str]:
    """Algorithms that can still be tuned, best first by their best complete trial."""
    best = {}
    for trial in sorted(trials, key=lambda t: t.rank_key()):
        if trial.complete and trial.algorithm in names:
            best.setdefault(trial.algorithm, trial)
    return list(best)
