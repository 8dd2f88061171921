"""What a user asked Auto mode for: its own module, so data preparation (prepare.py) and the search
(automl.py) both read it without importing each other."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """`features` None means every column but the target and identifier-like ones; `algorithms` None
    means all for the problem type; `test_index` (row labels) replays an earlier split instead of drawing one."""

    target: str
    problem_type: str
    features: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] | None = None
    test_size: float = 0.2
    cv_folds: int = 5
    seed: int = 0
    budget_seconds: float = 60.0
    recipe_steps: tuple[dict, ...] = ()
    test_index: tuple | None = None
    # Exact mode (module docstring): the number of plan configurations to run, the baseline not counted.
    max_trials: int | None = None
    # After the held-out evaluation, refit the chosen model on every row (training + test) and return that
    # one; False returns the evaluated model, fitted on the training split only.
    refit_all: bool = True

    @property
    def exact(self) -> bool:
        return self.max_trials is not None
