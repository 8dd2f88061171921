"""A short Python script that reproduces a run's cross-validation scores outside the app.

The script reads the dataset version's Parquet file, keeps the rows training keeps, draws the same test
split and folds, rebuilds the chosen configuration with public scikit-learn, pandas and pyarrow API only
(the app's column steps are written out as small transformers in the script) and prints the scores per
fold and their mean. `script_refusal` says why a run cannot be reproduced exactly (a blend, a cleaning
recipe replayed inside the model, numbers or dates stored as text); no script is written then, rather
than one that prints different numbers.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.training.algorithms import ALGORITHMS, algorithm_spec
from csv_processor.ml.training.blend import ENSEMBLE
from csv_processor.ml.training.features import ROLE_OF_KIND
from csv_processor.ml.training.pipeline import (
    LOG_TARGET,
    NATIVE_MAX_CATEGORIES,
    ONEHOT_MAX_CATEGORIES,
    ONEHOT_MIN_FREQUENCY,
)
from csv_processor.ml.training.preflight import MIN_CLASS_ROWS
from csv_processor.ml.training.script_parts import PARTS, TEMPLATE

logger = logging.getLogger(__name__)

# The names the run page gives the main metric (templatetags/training_words.py).
METRIC_LABELS = {"accuracy": "Accuracy", "r2": "R²"}
# Where each estimator is importable from in scikit-learn's public API.
PUBLIC_MODULES = {
    "DecisionTreeClassifier": "sklearn.tree",
    "DecisionTreeRegressor": "sklearn.tree",
    "RandomForestClassifier": "sklearn.ensemble",
    "RandomForestRegressor": "sklearn.ensemble",
    "GradientBoostingClassifier": "sklearn.ensemble",
    "GradientBoostingRegressor": "sklearn.ensemble",
    "HistGradientBoostingClassifier": "sklearn.ensemble",
    "HistGradientBoostingRegressor": "sklearn.ensemble",
    "LogisticRegression": "sklearn.linear_model",
    "LinearRegression": "sklearn.linear_model",
    "Ridge": "sklearn.linear_model",
}


class NotReproducible(ValueError):
    """The run cannot be reproduced exactly by a script; the message says why."""


@dataclass(frozen=True)
class ScriptFacts:
    """What a succeeded run stored: `kinds` per used feature in training order, `dtypes` as the version's
    schema records them (feature and target columns), `params` of the chosen leaderboard row."""

    run_id: int
    dataset: str
    version: int
    parquet_name: str
    target: str
    problem_type: str
    kinds: dict[str, str]
    dtypes: dict[str, str]
    algorithm: str
    params: dict[str, Any]
    seed: int
    test_size: float
    cv_folds: int
    main_metric: str
    has_recipe: bool = False
    replayed_split: bool = False


def script_refusal(facts: ScriptFacts) -> str | None:
    """Why no exact script can be written for this run, or None when one can."""
    if facts.algorithm == ENSEMBLE:
        return "The chosen model is a blend of several models, scored from their combined out-of-fold predictions."
    if facts.algorithm not in ALGORITHMS.get(facts.problem_type, {}):
        return f"{facts.algorithm} is not an algorithm the script can rebuild."
    if facts.has_recipe:
        return "The model replays this version's cleaning steps on the original rows, which needs the app's code."
    if facts.replayed_split:
        return "The run held out the rows of an earlier model rather than drawing its own test split."
    if facts.problem_type == "regression" and not _is_number(facts.dtypes.get(facts.target, "")):
        return f"The target “{facts.target}” is stored as text; the app reads those numbers with its own parser."
    for name, kind in facts.kinds.items():
        role, dtype = ROLE_OF_KIND.get(kind), facts.dtypes.get(name, "")
        if role == "numeric" and not _is_number(dtype):
            return f"“{name}” holds numbers stored as text; the app reads them with its own parser."
        if role == "datetime" and not _is_date(dtype):
            return f"“{name}” holds dates stored as text; the app learns their format with its own code."
    return None


def write_script(facts: ScriptFacts) -> str:
    """The script's text; raises NotReproducible with script_refusal's reason."""
    reason = script_refusal(facts)
    if reason is not None:
        raise NotReproducible(reason)
    spec = algorithm_spec(facts.problem_type, facts.algorithm)
    roles: dict[str, list[str]] = {"categorical": [], "numeric": [], "datetime": [], "text": []}
    for name, kind in facts.kinds.items():
        roles[ROLE_OF_KIND[kind]].append(name)
    estimator_class, estimator = _estimator(facts, spec.encoding, roles["categorical"])
    log_target = bool(facts.params.get(LOG_TARGET))
    used = [role for role, names in roles.items() if names]
    return TEMPLATE.substitute(
        run_id=facts.run_id,
        title=f"{facts.algorithm} predicting {facts.target!r} on {facts.dataset!r}, version {facts.version}",
        parquet_name=facts.parquet_name,
        estimator_import=f"from {PUBLIC_MODULES[estimator_class]} import {estimator_class}",
        extra_imports=_imports(used, spec.encoding, spec.needs_scaling, log_target),
        target=repr(facts.target),
        problem_type=repr(facts.problem_type),
        seed=facts.seed,
        test_size=repr(facts.test_size),
        folds=facts.cv_folds,
        min_class_rows=MIN_CLASS_ROWS,
        metric=repr(METRIC_LABELS.get(facts.main_metric, facts.main_metric)),
        columns="\n".join(f"{role.upper()} = {names!r}" for role, names in roles.items()),
        parts="".join(PARTS[role] for role in used) + (PARTS["log_target"] if log_target else ""),
        steps=_steps(used, spec.encoding, spec.needs_scaling),
        estimator=f"TransformedTargetRegressor(regressor={estimator}, transformer=LogTarget(), check_inverse=False)"
        if log_target
        else estimator,
    )


def _is_number(dtype: str) -> bool:
    return _dtype_test(dtype, lambda d: ptypes.is_bool_dtype(d) or ptypes.is_numeric_dtype(d))


def _is_date(dtype: str) -> bool:
    return _dtype_test(dtype, ptypes.is_datetime64_any_dtype)


def _dtype_test(dtype: str, test: Callable[[Any], bool]) -> bool:
    """`test` on the dtype the version's schema names; False for a name pandas does not know."""
    try:
        return bool(test(pd.Series([], dtype=dtype).dtype))
    except (TypeError, ValueError):
        return False


def _estimator(facts: ScriptFacts, encoding: str, categorical: list[str]) -> tuple[str, str]:
    """(class name, constructor call) with exactly the parameters the app's factory sets."""
    spec = algorithm_spec(facts.problem_type, facts.algorithm)
    params = {k: v for k, v in facts.params.items() if k != LOG_TARGET}
    # One thread, as the app below 20,000 rows: threads never change the results, only the speed.
    estimator = spec.factory(params, facts.seed, 1)
    if encoding == "native" and categorical:
        estimator.set_params(categorical_features=list(range(len(categorical))))
    defaults = type(estimator)().get_params(deep=False)
    changed = {k: v for k, v in estimator.get_params(deep=False).items() if _differs(v, defaults.get(k))}
    arguments = ", ".join(f"{key}={value!r}" for key, value in sorted(changed.items()))
    return type(estimator).__name__, f"{type(estimator).__name__}({arguments})"


def _differs(value: Any, default: Any) -> bool:
    return type(value) is not type(default) or value != default


def _imports(used: list[str], encoding: str, scaling: bool, log_target: bool) -> str:
    lines = []
    if log_target:
        lines.append("from sklearn.compose import TransformedTargetRegressor")
    needs_imputer = encoding != "native" and any(role != "categorical" for role in used)
    if needs_imputer:
        lines.append("from sklearn.impute import SimpleImputer")
    names = (["OneHotEncoder"] if encoding == "onehot" and "categorical" in used else []) + (
        ["StandardScaler"] if needs_imputer and scaling else []
    )
    if names:
        lines.append(f"from sklearn.preprocessing import {', '.join(names)}")
    return "".join(line + "\n" for line in lines)


STEP_CLASSES = {"numeric": "Numbers()", "datetime": "DateParts()", "text": "TextStats()"}


def _steps(used: list[str], encoding: str, scaling: bool) -> str:
    """The ColumnTransformer's parts, as pipeline.py builds them for this encoding."""
    lines = []
    for role in used:
        lines.append(f'        ("{role}", {_role_steps(role, encoding, scaling)}, {role.upper()}),')
    return "\n".join(lines)


def _role_steps(role: str, encoding: str, scaling: bool) -> str:
    if role == "categorical":
        if encoding == "onehot":
            onehot = (
                'OneHotEncoder(handle_unknown="infrequent_if_exist", '
                f"min_frequency={ONEHOT_MIN_FREQUENCY}, max_categories={ONEHOT_MAX_CATEGORIES}, sparse_output=False)"
            )
            return f"make_pipeline(CategoryCodes(unknown=-1.0), {onehot})"
        if encoding == "native":
            return f"make_pipeline(CategoryCodes(max_categories={NATIVE_MAX_CATEGORIES}))"
        return "make_pipeline(CategoryCodes(missing=-1.0, unknown=-1.0))"
    reader = STEP_CLASSES[role]
    if encoding == "native":
        return f"make_pipeline({reader})"
    imputer = 'SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)'
    return f"make_pipeline({reader}, {imputer}{', StandardScaler()' if scaling else ''})"
