"""What the training form needs before a run exists: the data to train on, likely targets, the detected
problem type with its reason, the default features and the pre-flight checks. Reads only; no writes.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from csv_processor.ml.training import ALGORITHMS, detect_problem_type
from csv_processor.ml.training.preflight_facts import dataset_checks_from_facts, preflight_from_facts
from csv_processor.ml.training.problem_type import PROBLEM_TYPES
from csv_processor.ml.training.table_facts import TableFacts
from csv_processor.models import DatasetVersion
from csv_processor.selectors.datasets import dataset_version_chain, dataset_version_frame, dataset_version_recipe
from csv_processor.selectors.training.facts import version_table_facts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckItem:
    code: str
    message: str


@dataclass(frozen=True)
class TrainingSetup:
    """The form's choices and the pre-flight verdict for one target (and problem type and features)."""

    columns: list[str]
    suggested_targets: list[str]
    target: str
    detected_problem_type: str
    problem_type: str
    problem_type_reason: str
    default_features: list[str]
    identifiers: list[str]
    features: list[str]
    algorithms: dict[str, list[str]]
    blockers: list[CheckItem] = field(default_factory=list)
    warnings: list[CheckItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blockers


def training_frame(*, version: DatasetVersion) -> tuple[pd.DataFrame, list[dict]]:
    """(raw rows, cleaning steps): the parse (version 1) and the recipe to replay on it, so the model takes
    raw rows; without cleaning steps, the version's own rows and no recipe."""
    steps = dataset_version_recipe(version=version)
    if not steps:
        return dataset_version_frame(version=version), []
    return dataset_version_frame(version=dataset_version_chain(version=version)[0]), steps


def algorithm_names() -> dict[str, list[str]]:
    return {problem_type: list(ALGORITHMS[problem_type]) for problem_type in PROBLEM_TYPES}


def training_setup(
    *,
    version: DatasetVersion,
    target: str | None = None,
    problem_type: str | None = None,
    features: list[str] | None = None,
    cv_folds: int = 5,
) -> TrainingSetup:
    """Suggestions and checks for training on `version`; unknown targets fall back to the first suggestion.

    Reads the target column whole and takes the rest from the version's cached table facts, so a target
    change does not read the table again (see services/training_facts.py)."""
    facts = version_table_facts(version=version)
    columns = list(facts.columns)
    suggested = list(facts.suggested_targets)
    if target not in columns:
        target = suggested[0] if suggested else (columns[-1] if columns else "")
    values = dataset_version_frame(version=version, columns=[target])[target] if target else None
    guess = detect_problem_type(values) if values is not None else None
    detected = guess.problem_type if guess else "binary"
    chosen_problem_type = problem_type if problem_type in PROBLEM_TYPES else detected
    reason = guess.reason if guess else "No columns."
    if chosen_problem_type != detected:
        reason = f"{reason} (you chose {chosen_problem_type})"
    read = _reader(version)
    default = None
    if values is not None:
        default = preflight_from_facts(
            facts,
            values,
            target=target,
            problem_type=chosen_problem_type,
            cv_folds=cv_folds,
            read_columns=read,
            leakage=False,
        )
    default_features = list(default.features) if default else []
    chosen = default_features if features is None else [f for f in features if f != target]
    setup = TrainingSetup(
        columns=columns,
        suggested_targets=suggested,
        target=target,
        detected_problem_type=detected,
        problem_type=chosen_problem_type,
        problem_type_reason=reason,
        default_features=default_features,
        identifiers=[c.name for c in facts.types if c.kind == "identifier" and c.name != target],
        features=chosen,
        algorithms=algorithm_names(),
    )
    if values is not None:
        _add_checks(setup, facts, values, cv_folds, read)
    return setup


def _reader(version: DatasetVersion) -> Callable[[list[str]], pd.DataFrame]:
    return lambda names: dataset_version_frame(version=version, columns=names)


def _add_checks(
    setup: TrainingSetup, facts: TableFacts, values: pd.Series, cv_folds: int, read: Callable[[list[str]], pd.DataFrame]
) -> None:
    check = preflight_from_facts(
        facts,
        values,
        target=setup.target,
        problem_type=setup.problem_type,
        features=setup.features,
        cv_folds=cv_folds,
        read_columns=read,
    )
    setup.blockers.extend(CheckItem(i.code, i.message) for i in check.problems)
    setup.warnings.extend(CheckItem(i.code, i.message) for i in check.warnings)
    if check.problems:
        return
    # Dataset checks look at the columns that will be used: unticking a leaking column clears its blocker.
    # Infinities count as missing there (the leakage check's trees refuse them; training drops or imputes them).
    seen = {item.message for item in setup.blockers + setup.warnings}
    items = dataset_checks_from_facts(
        facts, values, target=setup.target, features=list(check.features), read_columns=read
    )
    for item in items:
        if item.severity == "info" or item.message in seen:
            continue
        bucket = setup.blockers if item.severity == "blocker" else setup.warnings
        bucket.append(CheckItem(item.code, item.message))
