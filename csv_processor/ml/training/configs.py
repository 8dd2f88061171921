"""The configurations a search round tries: portfolio entries first, then seeded random draws.

A configuration is identified by its algorithm and sorted parameters (`config_key`), so nothing is
tried twice and the same seed always draws the same sequence.
"""

import logging
from typing import Any

import numpy as np

from csv_processor.ml.training.algorithms import PORTFOLIOS, AlgorithmSpec, algorithm_spec

logger = logging.getLogger(__name__)

# The leading algorithm gets this many configurations per round, the others one each.
LEADER_DRAWS = 2
DRAWS_PER_CONFIG = 8


def config_key(algorithm: str, params: dict[str, Any]) -> str:
    return f"{algorithm}:{sorted(params.items(), key=lambda item: item[0])!r}"


def sample_params(
    spec: AlgorithmSpec, seed: int, round_: int, index: int, tried: set[str], extra: dict[str, Any]
) -> dict[str, Any] | None:
    """The first untried portfolio configuration, else a seeded draw from the space not tried yet; None
    when the draws keep repeating. `extra` (the target transform) is part of every configuration."""
    for params in PORTFOLIOS.get(spec.name, ()):
        if config_key(spec.name, {**params, **extra}) not in tried:
            return dict(params)
    rng = np.random.default_rng([seed, round_, index])
    for _ in range(DRAWS_PER_CONFIG):
        params = {name: values[int(rng.integers(len(values)))] for name, values in spec.space.items()}
        if config_key(spec.name, {**params, **extra}) not in tried:
            return params
    return None


def next_round(
    problem_type: str,
    seed: int,
    leaders: list[str],
    round_: int,
    algorithms: list[str],
    tried: set[str],
    extra: dict[str, Any],
) -> list[tuple[str, dict[str, Any]]]:
    """Seeded draws for this round: LEADER_DRAWS for the best algorithm so far, one for each other leader."""
    plan = []
    for rank, name in enumerate(leaders):
        spec = algorithm_spec(problem_type, name)
        for draw in range(LEADER_DRAWS if rank == 0 else 1):
            params = sample_params(spec, seed, round_, algorithms.index(name) * 10 + draw, tried, extra)
            if params is not None:
                params = {**params, **extra}
                # Reserved now so the next draw of this round cannot repeat it.
                plan.append((name, params))
                tried.add(config_key(name, params))
    return plan
