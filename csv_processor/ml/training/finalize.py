"""After the search: refit the chosen configurations on the whole training split and score them on the
held-out test split, which no trial has seen, so the test metrics are honest. Then (`refit_all`, the
default) the chosen one is fitted once more on every row, training and test: the model a user deploys
learns from all the data, while the figures shown stay those of the evaluated model."""

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from csv_processor.ml.training.blend import BlendPlan
from csv_processor.ml.training.ensemble import Blend
from csv_processor.ml.training.evaluation import classification_report, main_score, regression_report
from csv_processor.ml.training.importance import importance_seconds
from csv_processor.ml.training.inspection import inspection_seconds
from csv_processor.ml.training.pipeline import with_recipe
from csv_processor.ml.training.progress import Reporter
from csv_processor.ml.training.search import SearchData, Trial

logger = logging.getLogger(__name__)

# Share of the budget kept free for evaluation, plots and bookkeeping: on a busy shared machine the
# final refit and evaluation run slower than the folds they were estimated from.
MARGIN_SHARE = 0.05
MARGIN_SECONDS = 0.3
# Kept free for refitting a blend's other members: the refits of the next best algorithms, capped.
BLEND_MEMBERS = 2
BLEND_SHARE = 0.1

Choice = Trial | BlendPlan


@dataclass(frozen=True)
class Candidate:
    """One leaderboard row: `test_score` is None when the budget left no time to refit it."""

    algorithm: str
    params: dict[str, Any]
    cv_mean: float
    cv_std: float
    test_score: float | None
    fit_seconds: float
    predict_ms_per_row: float
    # The score of each cross-validation fold, in fold order (the mean and spread summarise them).
    cv_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class Scored:
    pipeline: Pipeline
    candidate: Candidate
    predicted: np.ndarray
    proba: np.ndarray | None


def best_trials(trials: list[Trial]) -> list[Trial]:
    """The best trial of each algorithm, best first; complete trials beat interrupted ones."""
    ranked = sorted(trials, key=lambda t: t.rank_key())
    seen: dict[str, Trial] = {}
    for trial in ranked:
        seen.setdefault(trial.algorithm, trial)
    return list(seen.values())


def refit_seconds(trial: Choice, n_folds: int) -> float:
    # A fold trains on (k-1)/k of the rows; the refit on all of them takes about k/(k-1) as long.
    return trial.fold_fit_seconds * n_folds / max(n_folds - 1, 1)


def reserve_seconds(
    trials: list[Trial], data: SearchData, budget: float, n_test: int, *, refit_all: bool = False
) -> float:
    """What to keep free for the final refit (and the refit on all rows), the test evaluation, the
    importance and the inspection."""
    margin = MARGIN_SHARE * budget + MARGIN_SECONDS
    leaders = [t for t in best_trials(trials) if t.algorithm != "Dummy"]
    if not leaders:
        return margin
    best = leaders[0]
    importance = importance_seconds(len(data.kinds), n_test, best.predict_ms_per_row, budget)
    importance += inspection_seconds(best.predict_ms_per_row, budget)
    others = sum(refit_seconds(t, len(data.folds)) for t in leaders[1 : 1 + BLEND_MEMBERS])
    refit = refit_seconds(best, len(data.folds))
    if refit_all:
        refit *= 1 + (len(data.y) + n_test) / max(len(data.y), 1)
    return margin + refit + importance + min(others, BLEND_SHARE * budget)


def final_choice(trials: list[Trial], plan: BlendPlan | None, data: SearchData, seconds_left: float) -> Choice:
    """The blend when cross-validation chose one and its refit fits in `seconds_left`, else the best trial."""
    best = best_trials(trials)[0]
    if plan is None:
        return best
    if refit_seconds(plan, len(data.folds)) > seconds_left:
        logger.info("blend skipped: its refit would not fit in the %.1fs left", seconds_left)
        return best
    return plan


def pipeline_for(data: SearchData, choice: Choice, *, rows: int | None = None) -> Pipeline:
    """The unfitted Pipeline of a trial's configuration or of a blend of them, to be fitted on `rows` rows
    (default: the training split, as refitted for the test)."""
    growth = (rows or len(data.y)) / max(len(data.y), 1)
    if isinstance(choice, Trial):
        return data.pipeline(choice.algorithm, refit_params(choice, len(data.folds), growth))
    members = [
        (f"{i}-{m.algorithm}", data.pipeline(m.algorithm, refit_params(m, len(data.folds), growth), recipe=False))
        for i, m in enumerate(choice.members)
    ]
    return with_recipe([("model", Blend(members, list(choice.weights), data.problem_type))], data.recipe_steps)


def score(data: SearchData, trial: Choice, X_test: pd.DataFrame, y_test: pd.Series) -> Scored:
    """Refit `trial`'s configuration (or blend) on the training split and predict the test split."""
    pipeline = pipeline_for(data, trial)
    start = time.perf_counter()
    pipeline.fit(data.X, data.y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = pipeline.predict(X_test)
    proba = pipeline.predict_proba(X_test) if data.problem_type != "regression" else None
    predict_ms = 1000 * (time.perf_counter() - start) / max(len(X_test), 1)
    test_score = main_score(data.problem_type, y_test.to_numpy(), predicted)
    candidate = Candidate(
        trial.algorithm,
        trial.params,
        trial.cv_mean,
        trial.cv_std,
        test_score,
        fit_seconds,
        predict_ms,
        tuple(trial.cv_scores),
    )
    return Scored(pipeline, candidate, predicted, proba)


def refit_params(trial: Trial, n_folds: int, growth: float = 1.0) -> dict[str, Any]:
    """The trial's parameters, with early stopping replaced by the rounds it chose in cross-validation.

    Early stopping holds out 10% of the rows on a random draw; the refit instead learns from all the
    training rows, for the mean stopped rounds scaled up for the larger sample (k/(k-1), times `growth`
    when the refit learns from more rows than the training split), as usual.
    """
    if not np.isfinite(trial.stopped_rounds):
        return dict(trial.params)
    rounds = max(1, round(trial.stopped_rounds * n_folds / max(n_folds - 1, 1) * growth))
    return {**trial.params, "early_stopping": False, "max_iter": rounds}


def unscored(trial: Trial) -> Candidate:
    return Candidate(
        trial.algorithm,
        trial.params,
        trial.cv_mean,
        trial.cv_std,
        None,
        trial.fold_fit_seconds,
        trial.predict_ms_per_row,
        tuple(trial.cv_scores),
    )


def leaderboard(
    data: SearchData,
    others: list[Trial],
    best: Scored,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    reporter: Reporter,
    *,
    score_all: bool = False,
) -> tuple[Candidate, ...]:
    """The chosen model, then the best row of each other algorithm, test-scored while the budget allows
    (every one with `score_all`, so an exact run's leaderboard does not depend on the clock)."""
    rows = [best.candidate]
    for trial in others:
        if score_all or reporter.clock.remaining() > refit_seconds(trial, len(data.folds)) * 1.5 + MARGIN_SECONDS:
            reporter.check_cancel()
            rows.append(score(data, trial, X_test, y_test).candidate)
        else:
            rows.append(unscored(trial))
    return tuple(rows)


def test_report(data: SearchData, scored: Scored, y_test: pd.Series, classes: list) -> tuple[dict, dict]:
    if data.problem_type == "regression":
        return regression_report(y_test.to_numpy(), scored.predicted, data.seed)
    return classification_report(y_test.to_numpy(), scored.predicted, scored.proba, classes)


def refit_on_all(data: SearchData, choice: Choice, X: pd.DataFrame, y: pd.Series) -> Pipeline:
    """The chosen configuration (or blend) fitted on every row: the training split and the test split."""
    pipeline = pipeline_for(data, choice, rows=len(y))
    pipeline.fit(X, y)
    return pipeline
