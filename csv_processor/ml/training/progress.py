"""Progress reports, cancellation and the budget clock shared by the training stages."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised between trials and folds once `should_cancel()` returns True."""


@dataclass(frozen=True)
class Standing:
    """An algorithm's best complete trial so far: the live leaderboard's row."""

    algorithm: str
    cv_mean: float
    cv_std: float
    trials: int


@dataclass(frozen=True)
class Board:
    """The leaderboard so far, best first, ranked by cross-validated `metric`."""

    metric: str
    rows: tuple[Standing, ...]


@dataclass(frozen=True)
class Progress:
    """One report: `stage` is preflight, search, refit, evaluate, importance or done; `candidate` of
    `total` counts trials in the search plan (the budget may end it before `total`); `board` is the
    leaderboard so far, best first."""

    stage: str
    candidate: int
    total: int
    elapsed: float
    remaining: float
    message: str = ""
    board: Board | None = None


class Clock:
    """Seconds since the start and what is left of the budget (never negative)."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget = float(budget_seconds)
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return max(0.0, self.budget - self.elapsed())


class Reporter:
    def __init__(
        self,
        clock: Clock,
        progress: Callable[[Progress], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.clock = clock
        self._progress = progress
        self._should_cancel = should_cancel
        # Kept up to date by the search; every later report carries it.
        self.board: Board | None = None

    def check_cancel(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            logger.info("training cancelled after %.1fs", self.clock.elapsed())
            raise Cancelled("Training was cancelled.")

    def report(self, stage: str, candidate: int = 0, total: int = 0, message: str = "") -> None:
        if self._progress is not None:
            elapsed, remaining = self.clock.elapsed(), self.clock.remaining()
            self._progress(Progress(stage, candidate, total, elapsed, remaining, message, self.board))
