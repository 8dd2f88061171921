"""Fit one model outside Auto mode (a user-picked algorithm and parameters), with the thread policy.

Threads: below PARALLEL_ROWS rows every fit is single-threaded (OpenMP and BLAS start-up costs more
than it gains there, and two threads per fit oversubscribe a 2-core machine); above it the estimators
use every core, one fit at a time, unless the machine is already busy (load average). Thread counts
never change the results, only the speed.
"""

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from csv_processor.ml.training.pipeline import build_pipeline

logger = logging.getLogger(__name__)

PARALLEL_ROWS = 20_000


def threads_for(n_rows: int) -> int:
    """How many threads the numeric libraries and n_jobs may use for a fit on `n_rows` rows."""
    cpus = os.cpu_count() or 1
    if n_rows < PARALLEL_ROWS or cpus == 1:
        return 1
    # When other work already holds the cores, OpenMP threads spin against it and a fit slows down
    # several times over: stay on one thread then.
    return cpus if os.getloadavg()[0] < cpus - 0.5 else 1


@dataclass(frozen=True)
class FittedModel:
    pipeline: Pipeline
    fit_seconds: float
    threads: int


def fit_model(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    problem_type: str,
    algorithm: str,
    feature_types: dict[str, str],
    params: dict[str, Any] | None = None,
    recipe_steps: list[dict] | None = None,
    seed: int = 0,
) -> FittedModel:
    """Build and fit one Pipeline on raw rows `X`; the caller has run the preflight."""
    threads = threads_for(len(X))
    pipeline = build_pipeline(
        algorithm=algorithm,
        problem_type=problem_type,
        feature_types=feature_types,
        params=params or {},
        recipe_steps=recipe_steps,
        seed=seed,
        n_jobs=threads,
    )
    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        pipeline.fit(X, y)
        seconds = time.perf_counter() - start
    logger.info("fitted %s on %d rows in %.2fs with %d thread(s)", algorithm, len(X), seconds, threads)
    return FittedModel(pipeline=pipeline, fit_seconds=seconds, threads=threads)
