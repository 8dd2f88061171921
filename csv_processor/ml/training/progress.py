"""Progress reports, cancellation and the budget clock shared by the training stages."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised between trials and folds once `should_cancel()` returns True."""


@dataclass(frozen=True)
class Progress:
    """One report: `stage` is preflight, search, refit, evaluate, importance or done; `candidate` of
    `total` counts trials in the search plan (the budget may end it before `total`)."""

    stage: str
    candidate: int
    total: int
    elapsed: float
    remaining: float
    message: str = ""


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

    def check_cancel(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            logger.info("training cancelled after %.1fs", self.clock.elapsed())
            raise Cancelled("Training was cancelled.")

    def report(self, stage: str, candidate: int = 0, total: int = 0, message: str = "") -> None:
        if self._progress is not None:
            self._progress(Progress(stage, candidate, total, self.clock.elapsed(), self.clock.remaining(), message))
