"""Cross-validated trials within a time budget: the engine of Auto mode.

The plan is deterministic: the default HistGradientBoosting first (the reference a data scientist would
fit first, so Auto mode never trails it for lack of time), with a log-transformed target next to it when
the target suits one (target.py); whichever cross-validates better sets the target for every later
configuration. Then scikit-learn's defaults for the other algorithms (cheapest first), then rounds of
seeded random configurations for the algorithms that rank best so far, one fewer algorithm per round.
Only the budget cuts the plan short, so the same seed and settings give the same leaderboard whenever
the plan finishes in time. A trial starts only when its estimated cost (from the per-fold times seen so
far) fits in what is left after the reserve for the final refit and evaluation, and stops between
folds when it runs over.

With `max_trials` the search is exact instead: it runs the first `max_trials` configurations of the
plan, each on every fold, and the clock never skips or stops one, so the same seed, settings and
`max_trials` give the same trials on any machine. Only the hard cap (the clock's budget, set by the
caller) ends such a run, with an error rather than a shorter plan.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from csv_processor.ml.training.algorithms import BASELINE, AlgorithmSpec, algorithm_spec
from csv_processor.ml.training.configs import LEADER_DRAWS, config_key, next_round
from csv_processor.ml.training.evaluation import MAIN_METRIC, main_score
from csv_processor.ml.training.pipeline import LOG_TARGET, build_pipeline
from csv_processor.ml.training.progress import Board, Cancelled, Reporter, Standing
from csv_processor.ml.training.target import inner_estimator

logger = logging.getLogger(__name__)

# Rounds end early when the budget or the untried configurations run out.
MAX_ROUNDS = 30
MAX_TRIAL_SHARE = 0.25
LOSS_EPS = 1e-15
# Fitted first when selected: the model every comparison starts from.
FIRST = "HistGradientBoosting"


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
    # Out-of-fold predictions (probabilities in `SearchData.classes` order, or values) of a complete trial.
    oof: np.ndarray | None = field(default=None, compare=False, repr=False)

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
    problem_type: str
    kinds: dict[str, str]
    folds: list[tuple[np.ndarray, np.ndarray]]
    seed: int
    n_jobs: int
    recipe_steps: list[dict] | None = None
    # Whether the target suits a log transform (target.log_target_suits); the search then tries one.
    log_target: bool = False
    fold_seconds: dict[str, float] = field(default_factory=dict)

    @cached_property
    def classes(self) -> np.ndarray:
        return np.unique(self.y.to_numpy())

    def pipeline(self, algorithm: str, params: dict[str, Any], *, recipe: bool = True):
        return build_pipeline(
            algorithm=algorithm,
            problem_type=self.problem_type,
            feature_types=self.kinds,
            params=params,
            recipe_steps=self.recipe_steps if recipe else None,
            seed=self.seed,
            n_jobs=self.n_jobs,
        )


def size_ratio(spec: AlgorithmSpec, params: dict[str, Any]) -> float:
    if spec.size_param is None:
        return 1.0
    return float(params.get(spec.size_param, spec.size_default)) / spec.size_default


def estimate_fold_seconds(data: SearchData, algorithm: str, params: dict[str, Any]) -> float | None:
    """Seconds to fit one fold, from this algorithm's past folds or, failing that, from the others."""
    spec = algorithm_spec(data.problem_type, algorithm)
    if algorithm in data.fold_seconds:
        return data.fold_seconds[algorithm] * size_ratio(spec, params)
    seen = [
        seconds / algorithm_spec(data.problem_type, name).cost
        for name, seconds in data.fold_seconds.items()
        if name != BASELINE
    ]
    return float(np.median(seen)) * spec.cost * size_ratio(spec, params) if seen else None


def run_trial(data: SearchData, algorithm: str, params: dict[str, Any], reporter: Reporter, limit: float) -> Trial:
    """Cross-validate one configuration; stop between folds once the rest would take it past `limit` seconds."""
    folds: list[tuple[float, ...]] = []  # score, loss, fit seconds, predict seconds, early-stopped rounds
    oof: np.ndarray | None = _empty_oof(data)
    start_trial, rows = time.perf_counter(), 0
    for train_pos, val_pos in data.folds:
        reporter.check_cancel()
        *measured, predictions = _fold(data, data.pipeline(algorithm, params), train_pos, val_pos)
        folds.append(tuple(measured))
        if oof is not None and predictions is not None:
            oof[val_pos] = predictions
        else:
            oof = None
        rows += len(val_pos)
        per_fold = (time.perf_counter() - start_trial) / len(folds)
        if len(folds) < len(data.folds) and per_fold * len(data.folds) > limit:
            break
    scores, losses, fits, predicts, stopped = (np.array(column) for column in zip(*folds, strict=True))
    data.fold_seconds[algorithm] = float(fits.mean() + predicts.mean()) / size_ratio(
        algorithm_spec(data.problem_type, algorithm), params
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
        oof if complete else None,
    )


def _empty_oof(data: SearchData) -> np.ndarray:
    if data.problem_type == "regression":
        return np.full(len(data.y), np.nan)
    return np.full((len(data.y), len(data.classes)), np.nan)


def _fold(data: SearchData, model: Any, train_pos: np.ndarray, val_pos: np.ndarray) -> tuple:
    """(score, loss, fit seconds, predict seconds, early-stopped rounds, out-of-fold predictions or None)."""
    start = time.perf_counter()
    model.fit(data.X.iloc[train_pos], data.y.iloc[train_pos])
    fitted = time.perf_counter()
    y_val = data.y.iloc[val_pos].to_numpy()
    predicted, loss, raw = _predict(model, data, data.X.iloc[val_pos], y_val)
    predicted_at = time.perf_counter()
    estimator = inner_estimator(model.named_steps["model"])
    stopped = float(estimator.n_iter_) if getattr(estimator, "do_early_stopping_", False) else float("nan")
    # Accuracy as a plain comparison, for the same reason as the loss (`main_score` is accuracy or R²).
    score = (
        main_score(data.problem_type, y_val, predicted)
        if data.problem_type == "regression"
        else float(np.mean(predicted == y_val))
    )
    return score, loss, fitted - start, predicted_at - fitted, stopped, raw


def _predict(
    model: Any, data: SearchData, X: pd.DataFrame, y: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Predictions, the log loss for classifiers (one predict_proba call gives both) and what a blend
    averages: the values, or the probabilities in `data.classes` order (None if a class was missing)."""
    if data.problem_type == "regression":
        predicted = model.predict(X)
        return predicted, float("nan"), predicted
    proba = model.predict_proba(X)
    predicted = model.classes_[np.argmax(proba, axis=1)]
    if len(model.classes_) != len(data.classes):
        # A class missing from this fold's training rows: the loss is undefined, the accuracy is not.
        return predicted, float("nan"), None
    # The log loss from class codes: sklearn's log_loss sorts the (often text) labels on every call.
    truth = np.searchsorted(model.classes_, y)
    loss = -float(np.mean(np.log(np.clip(proba[np.arange(len(y)), truth], LOSS_EPS, 1.0))))
    return predicted, loss, proba


def search(
    data: SearchData,
    algorithms: list[str],
    reporter: Reporter,
    reserve: Callable[[list[Trial]], float],
    max_trials: int | None = None,
) -> tuple[list[Trial], int]:
    """All trials run, in order: the default HGB (and its log-target twin), the other defaults, then
    seeded random rounds over the leading algorithms. Returns the trials and how many configurations of
    the plan the search reached (run, or skipped for time in a budgeted search)."""
    specs = sorted(
        (algorithm_spec(data.problem_type, name) for name in algorithms),
        key=lambda s: (s.name != FIRST, s.cost, s.name),
    )
    trials: list[Trial] = []
    tried: set[str] = set()
    total = len(specs) + data.log_target + sum(max(1, len(specs) - r) + LEADER_DRAWS - 1 for r in range(MAX_ROUNDS))
    if max_trials is not None:
        total = min(total, max_trials)
    run = _Runner(data, reporter, reserve, trials, total, max_trials)
    first = specs[0].name
    run.all([(first, {})] + ([(first, {LOG_TARGET: True})] if data.log_target else []), tried)
    target = _target_params(trials)
    run.all([(spec.name, dict(target)) for spec in specs[1:]], tried)
    for round_ in range(MAX_ROUNDS):
        ranking = _ranking(trials, [s.name for s in specs if s.space])
        leaders = ranking[: max(1, len(ranking) - round_)]
        plan = next_round(data.problem_type, data.seed, leaders, round_, algorithms, tried, target)
        if not plan:
            # The leaders' spaces are used up (a one-parameter space is small): widen to every algorithm.
            plan = next_round(data.problem_type, data.seed, ranking, round_, algorithms, tried, target)
        if not plan or run.finished():
            break
        run.all(plan, tried)
    return trials, run.done


def _target_params(trials: list[Trial]) -> dict[str, Any]:
    """`{log_target: True}` when the log-target trial beat the plain one in cross-validation."""
    complete = sorted((t for t in trials if t.complete), key=lambda t: t.rank_key())
    return {LOG_TARGET: True} if complete and complete[0].params.get(LOG_TARGET) else {}


@dataclass
class _Runner:
    data: SearchData
    reporter: Reporter
    reserve: Callable[[list[Trial]], float]
    trials: list[Trial]
    total: int
    max_trials: int | None = None
    done: int = 0

    def finished(self) -> bool:
        if self.max_trials is not None:
            return self.done >= self.max_trials
        return self.reporter.clock.remaining() - self.reserve(self.trials) <= 0

    def all(self, plan: list[tuple[str, dict[str, Any]]], tried: set[str]) -> None:
        for name, params in plan:
            if self.max_trials is not None and self.done >= self.max_trials:
                return
            self.done += 1
            tried.add(config_key(name, params))
            index = (self.done, self.total)
            if self.max_trials is not None:
                self.trials.append(_run_exact(self.data, name, params, self.reporter, index))
            else:
                has_model = any(t.complete for t in self.trials)
                reserve = self.reserve(self.trials)
                trial = _maybe_run(self.data, name, params, self.reporter, reserve, index, has_model)
                if trial is None:
                    continue
                self.trials.append(trial)
            self.reporter.board = Board(MAIN_METRIC[self.data.problem_type], standings(self.trials))


def standings(trials: list[Trial]) -> tuple[Standing, ...]:
    """Each algorithm's best complete trial, best first, with how many of its trials ran."""
    counts: dict[str, int] = {}
    best: dict[str, Trial] = {}
    for trial in sorted(trials, key=lambda t: t.rank_key()):
        counts[trial.algorithm] = counts.get(trial.algorithm, 0) + 1
        if trial.complete:
            best.setdefault(trial.algorithm, trial)
    return tuple(Standing(name, t.cv_mean, t.cv_std, counts[name]) for name, t in best.items())


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


def _run_exact(
    data: SearchData, name: str, params: dict[str, Any], reporter: Reporter, index: tuple[int, int]
) -> Trial:
    """Every fold of the configuration, whatever the clock says; past the hard cap the run stops instead."""
    if reporter.clock.remaining() <= 0:
        raise Cancelled(
            f"The run reached its {reporter.clock.budget / 60:.0f}-minute cap after {index[0] - 1} of "
            f"{index[1]} candidates: ask for fewer candidates."
        )
    reporter.report("search", index[0], index[1], f"{name} {params or 'defaults'}")
    return run_trial(data, name, params, reporter, float("inf"))


def _ranking(trials: list[Trial], names: list[str]) -> list[str]:
    """Algorithms that can still be tuned, best first by their best complete trial."""
    best: dict[str, Trial] = {}
    for trial in sorted(trials, key=lambda t: t.rank_key()):
        if trial.complete and trial.algorithm in names:
            best.setdefault(trial.algorithm, trial)
    return list(best)
