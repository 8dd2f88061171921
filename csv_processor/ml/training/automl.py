"""Auto mode: preflight, split, time-boxed search, then refit, test metrics, importance and model card.

Budget: `budget_seconds` covers everything from the call to the return. Trials start only when their
estimated cost fits after a reserve for the final refit and evaluation, so a run ends within about
budget + 10%; the fixed part that cannot be cut (type inference, preflight, the first trial of each
stage on very large data) is the "small fixed overhead" in the tests.

Exact runs: with `max_trials` the budget does not cut the plan. The first `max_trials` configurations
run on every fold, the blend, the leaderboard's test scores and the importance (IMPORTANCE_ROWS rows,
REPEATS shuffles) are never sized or skipped by time, so the same seed, settings and `max_trials` give
the same leaderboard on any machine. EXACT_CAP_SECONDS replaces the budget as a hard cap that ends
the run with an error instead of a shorter plan.

Threads follow `fit.threads_for`: one below 20,000 training rows or on a busy machine.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from csv_processor.ml.json_values import json_value
from csv_processor.ml.training.algorithms import ALGORITHMS, BASELINE
from csv_processor.ml.training.blend import plan_blend
from csv_processor.ml.training.evaluation import MAIN_METRIC, model_card
from csv_processor.ml.training.finalize import (
    Candidate,
    Choice,
    Scored,
    best_trials,
    final_choice,
    leaderboard,
    refit_on_all,
    refit_seconds,
    reserve_seconds,
    score,
    test_report,
    unscored,
)
from csv_processor.ml.training.fit import threads_for
from csv_processor.ml.training.importance import BUDGET_SHARE, importance_plan, predict_cost, raw_importance
from csv_processor.ml.training.inspection import PD_ROWS, inspection_rows, inspection_seconds, model_inspection
from csv_processor.ml.training.prepare import TrainingData, prepare
from csv_processor.ml.training.progress import Cancelled, Clock, Progress, Reporter
from csv_processor.ml.training.search import SearchData, Trial, run_trial, search
from csv_processor.ml.training.split import cv_folds, split_rows
from csv_processor.ml.training.target import log_target_suits
from csv_processor.ml.training.train_config import TrainConfig

logger = logging.getLogger(__name__)

# The hard cap of an exact run (max_trials set): one hour, the largest budget a user can ask for.
EXACT_CAP_SECONDS = 3600.0

__all__ = ["Cancelled", "Candidate", "Progress", "TrainConfig", "TrainResult", "train"]


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    main_metric: str
    leaderboard: tuple[Candidate, ...]
    best: Candidate
    baseline: Candidate
    pipeline: Pipeline
    metrics: dict
    baseline_metrics: dict
    plots: dict
    importance: list[dict]
    model_card: dict
    split: dict
    feature_schema: dict[str, dict]
    class_labels: list
    features: tuple[str, ...]
    warnings: tuple[str, ...]
    trials: tuple[Candidate, ...] = field(default=())
    # The model to store and deploy is `pipeline`: refitted on all rows unless `config.refit_all` is off.
    # `evaluated_pipeline` is the one the test metrics come from (fitted on the training split), kept for
    # comparisons on the held-out rows; None when it is `pipeline` itself.
    evaluated_pipeline: Pipeline | None = None
    refit_rows: int = 0
    elapsed_seconds: float = 0.0
    # Plan configurations the search reached: all run in exact mode; some may be skipped for time otherwise.
    candidates_tried: int = 0


def train(
    df: pd.DataFrame,
    config: TrainConfig,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train and evaluate within `config.budget_seconds`; raises TrainingBlocked or Cancelled."""
    clock = Clock(EXACT_CAP_SECONDS if config.exact else config.budget_seconds)
    reporter = Reporter(clock, progress, should_cancel)
    reporter.report("preflight", message="checking the data")
    prepared = prepare(df, config)
    train_pos, test_pos, split = split_rows(
        prepared.y,
        problem_type=config.problem_type,
        test_size=config.test_size,
        seed=config.seed,
        test_index=config.test_index,
    )
    n_jobs = threads_for(len(train_pos))
    with threadpool_limits(limits=n_jobs):
        return _fit_all(prepared, config, reporter, (train_pos, test_pos, split), n_jobs)


def _fit_all(prepared: TrainingData, config: TrainConfig, reporter: Reporter, split: tuple, n_jobs: int) -> TrainResult:
    train_pos, test_pos, info = split
    data = _search_data(prepared, config, train_pos, n_jobs)
    X_test, y_test = prepared.X.iloc[test_pos], prepared.y.iloc[test_pos]
    baseline_limit = float("inf") if config.exact else reporter.clock.budget
    baseline_trial = run_trial(data, BASELINE, {}, reporter, limit=baseline_limit)
    trials, reached = search(
        data,
        list(config.algorithms or ALGORITHMS[config.problem_type]),
        reporter,
        lambda done: reserve_seconds(done, data, config.budget_seconds, len(test_pos), refit_all=config.refit_all),
        max_trials=config.max_trials,
    )
    if not trials:
        raise Cancelled("The time budget ran out before any model could be trained: raise the budget.")
    ranked = best_trials(trials)
    choice = _choose(trials, data, reporter, config, len(test_pos))
    reporter.report("refit", 1, len(ranked), f"refitting {choice.algorithm} on the training split")
    best = score(data, choice, X_test, y_test)
    baseline = score(data, baseline_trial, X_test, y_test)
    classes = list(best.pipeline.classes_) if config.problem_type != "regression" else []
    metrics, plots = test_report(data, best, y_test, classes)
    baseline_metrics, _ = test_report(data, baseline, y_test, classes)
    importance = _importance(best, prepared, X_test, y_test, config, reporter)
    reporter.report("inspect", message="drawing how the model uses its top columns")
    cost = best.candidate.predict_ms_per_row
    seconds = min(reporter.clock.remaining(), inspection_seconds(cost, config.budget_seconds))
    plots |= model_inspection(
        best.pipeline,
        X_test,
        y_test,
        best.proba,
        importance,
        prepared.kinds,
        problem_type=config.problem_type,
        classes=classes,
        target=config.target,
        seed=config.seed,
        rows=PD_ROWS if config.exact else inspection_rows(seconds, cost),
    )
    deployed, refit_rows = best.pipeline, len(train_pos)
    if config.refit_all:
        reporter.report("refit", message=f"refitting {choice.algorithm} on all {len(prepared.y)} rows")
        deployed, refit_rows = refit_on_all(data, choice, prepared.X, prepared.y), len(prepared.y)
    reporter.report("evaluate", message="scoring the other algorithms on the test split")
    others = ranked if choice is not ranked[0] else ranked[1:]
    board = leaderboard(data, others, best, X_test, y_test, reporter, score_all=config.exact)
    card = _card(
        config,
        prepared,
        best.candidate.algorithm,
        (metrics, baseline_metrics),
        importance,
        data.y,
        (len(test_pos), refit_rows),
    )
    reporter.report("done", message=f"best: {best.candidate.algorithm}")
    return TrainResult(
        config=config,
        main_metric=MAIN_METRIC[config.problem_type],
        leaderboard=board,
        best=best.candidate,
        baseline=baseline.candidate,
        pipeline=deployed,
        evaluated_pipeline=best.pipeline if deployed is not best.pipeline else None,
        refit_rows=refit_rows,
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        plots=plots,
        importance=importance,
        model_card=card,
        split={**info, "refit_rows": refit_rows},
        feature_schema=prepared.schema(train_pos),
        class_labels=[json_value(c) for c in classes],
        features=prepared.features,
        warnings=tuple(issue.message for issue in prepared.check.warnings),
        trials=tuple(unscored(t) for t in trials),
        elapsed_seconds=reporter.clock.elapsed(),
        candidates_tried=reached,
    )


def _choose(trials: list[Trial], data: SearchData, reporter: Reporter, config: TrainConfig, n_test: int) -> Choice:
    """A blend of the best configurations when it cross-validates better and its refit fits in the time left.
    A user who picked a single algorithm gets that algorithm, never a blend."""
    single = config.algorithms is not None and len(config.algorithms) == 1
    plan = None if single else plan_blend(trials, data)
    if config.exact:
        return final_choice(trials, plan, data, float("inf"))
    # What is left once the reserve for one refit is set aside goes to the blend's extra refits.
    left = reporter.clock.remaining() - reserve_seconds(
        trials, data, config.budget_seconds, n_test, refit_all=config.refit_all
    )
    return final_choice(trials, plan, data, left + refit_seconds(best_trials(trials)[0], len(data.folds)))


def _search_data(prepared: TrainingData, config: TrainConfig, train_pos: np.ndarray, n_jobs: int) -> SearchData:
    y_train = prepared.y.iloc[train_pos]
    return SearchData(
        X=prepared.X.iloc[train_pos],
        y=y_train,
        problem_type=config.problem_type,
        kinds=prepared.kinds,
        folds=cv_folds(y_train, problem_type=config.problem_type, folds=config.cv_folds, seed=config.seed),
        seed=config.seed,
        n_jobs=n_jobs,
        recipe_steps=list(config.recipe_steps) or None,
        log_target=config.problem_type == "regression" and log_target_suits(y_train),
    )


def _importance(
    best: Scored,
    prepared: TrainingData,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    config: TrainConfig,
    reporter: Reporter,
) -> list[dict]:
    reporter.report("importance", message="measuring which columns matter")
    sizing: dict[str, int] = {}
    if not config.exact:
        # Sized to what is left of the budget: fewer rows or a single repeat rather than running over.
        seconds = min(reporter.clock.remaining(), BUDGET_SHARE * config.budget_seconds)
        cost = predict_cost(best.pipeline, X_test)
        rows, repeats = importance_plan(seconds, len(prepared.kinds), len(X_test), cost)
        sizing = {"rows": rows, "repeats": repeats}
    return raw_importance(
        best.pipeline,
        X_test,
        y_test,
        problem_type=config.problem_type,
        features=prepared.features,
        seed=config.seed,
        **sizing,
    )


def _card(
    config: TrainConfig,
    prepared: TrainingData,
    algorithm: str,
    scores: tuple[dict, dict],
    importance: list[dict],
    y_train: pd.Series,
    rows: tuple[int, int],
) -> dict:
    n_test, refit_rows = rows
    return model_card(
        target=config.target,
        problem_type=config.problem_type,
        algorithm=algorithm,
        features=prepared.features,
        metrics=scores[0],
        baseline_metrics=scores[1],
        importance=importance,
        warnings=[issue.message for issue in prepared.check.warnings],
        class_counts={str(k): int(v) for k, v in y_train.value_counts().items()}
        if config.problem_type != "regression"
        else {},
        n_train=len(y_train),
        n_test=n_test,
        refit_rows=refit_rows,
        baseline_answer=f"{y_train.mean():.4g}"
        if config.problem_type == "regression"
        else str(y_train.value_counts().idxmax()),
    )
