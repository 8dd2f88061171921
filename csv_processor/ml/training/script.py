"""A short Python script that reproduces a run's cross-validation scores outside the app.

The script reads the dataset version's Parquet file, keeps the rows training keeps, draws the same test
split and folds, rebuilds the chosen configuration with public scikit-learn, pandas and pyarrow API only
(the app's column steps are written out as small transformers in the script, and numbers stored as text
are read with a copy of the app's parser) and prints the scores per fold and their mean; for a blend, each
fold's score is that of its members' predictions averaged with the blend's weights, as the app scores it.
A cleaned version needs no cleaning code: the model replays the version's steps on raw rows, and as each
step is fixed when applied (a fill value, a bound), the cleaned version's Parquet holds exactly what the
replay gives. `script_refusal` says why a run cannot be reproduced exactly (dates stored as text, a
replayed test split); no script is written then, rather than one that prints different numbers.
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
from csv_processor.ml.training.script_parts import PARTS, TEMPLATE, TO_FLOAT

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
    replayed_split: bool = False


@dataclass(frozen=True)
class Member:
    """One model of the run's choice: the model itself (weight 1), or one member of its blend."""

    algorithm: str
    params: dict[str, Any]
    weight: float


def members_of(facts: ScriptFacts) -> list[Member]:
    if facts.algorithm != ENSEMBLE:
        return [Member(facts.algorithm, dict(facts.params), 1.0)]
    return [
        Member(str(member.get("algorithm")), dict(member.get("params") or {}), float(member.get("weight", 0)))
        for member in facts.params.get("members") or []
    ]


def script_refusal(facts: ScriptFacts) -> str | None:
    """Why no exact script can be written for this run, or None when one can."""
    members = members_of(facts)
    if not members:
        return "The blend's members were not recorded with the run."
    for member in members:
        if member.algorithm not in ALGORITHMS.get(facts.problem_type, {}):
            return f"{member.algorithm} is not an algorithm the script can rebuild."
    if facts.replayed_split:
        return "The run held out the rows of an earlier model rather than drawing its own test split."
    for name, kind in facts.kinds.items():
        role, dtype = ROLE_OF_KIND.get(kind), facts.dtypes.get(name, "")
        if role == "datetime" and not _is_date(dtype):
            return f"“{name}” holds dates stored as text; the app learns their format with its own code."
    return None


def write_script(facts: ScriptFacts) -> str:
    """The script's text; raises NotReproducible with script_refusal's reason."""
    reason = script_refusal(facts)
    if reason is not None:
        raise NotReproducible(reason)
    roles: dict[str, list[str]] = {"categorical": [], "numeric": [], "datetime": [], "text": []}
    for name, kind in facts.kinds.items():
        roles[ROLE_OF_KIND[kind]].append(name)
    used = [role for role, names in roles.items() if names]
    members = members_of(facts)
    imports: dict[str, set[str]] = {}
    pipelines = []
    for member in members:
        spec = algorithm_spec(facts.problem_type, member.algorithm)
        estimator_class, estimator = _estimator(facts, member, spec.encoding, roles["categorical"])
        log_target = bool(member.params.get(LOG_TARGET))
        for module, name in _imports(used, spec.encoding, spec.needs_scaling, log_target):
            imports.setdefault(module, set()).add(name)
        imports.setdefault(PUBLIC_MODULES[estimator_class], set()).add(estimator_class)
        if log_target:
            estimator = (
                f"TransformedTargetRegressor(regressor={estimator}, transformer=LogTarget(), check_inverse=False)"
            )
        pipelines.append(_pipeline_text(_steps(used, spec.encoding, spec.needs_scaling), estimator, member.weight))
    any_log_target = any(member.params.get(LOG_TARGET) for member in members)
    return TEMPLATE.substitute(
        run_id=facts.run_id,
        title=f"{_title(members)} predicting {facts.target!r} on {facts.dataset!r}, version {facts.version}",
        parquet_name=facts.parquet_name,
        imports=_import_lines(imports),
        target=repr(facts.target),
        problem_type=repr(facts.problem_type),
        seed=facts.seed,
        test_size=repr(facts.test_size),
        folds=facts.cv_folds,
        min_class_rows=MIN_CLASS_ROWS,
        metric=repr(METRIC_LABELS.get(facts.main_metric, facts.main_metric)),
        columns="\n".join(f"{role.upper()} = {names!r}" for role, names in roles.items()),
        to_float=TO_FLOAT["text" if _numbers_as_text(facts) else "plain"],
        parts="".join(PARTS[role] for role in used) + (PARTS["log_target"] if any_log_target else ""),
        pipelines="\n".join(pipelines),
    )


def _title(members: list[Member]) -> str:
    if len(members) == 1:
        return members[0].algorithm
    return "a blend of " + ", ".join(f"{m.algorithm} ({m.weight:.0%})" for m in members)


def _import_lines(imports: dict[str, set[str]]) -> str:
    return "".join(f"from {module} import {', '.join(sorted(names))}\n" for module, names in sorted(imports.items()))


def _pipeline_text(steps: str, estimator: str, weight: float) -> str:
    """One (pipeline, weight) entry of `build_pipelines`' list."""
    inner = "\n".join(f"        {line}" for line in steps.splitlines())
    lines = [
        "        (",
        "            pipeline(",
        "                [",
        inner,
        "                ],",
        f"                {estimator},",
        "            ),",
        f"            {weight!r},",
        "        ),",
    ]
    return "\n".join(lines)


def _numbers_as_text(facts: ScriptFacts) -> bool:
    """Whether a number column (or a regression target) is stored as text: the script then reads it with a
    copy of the app's number parser."""
    numbers = [name for name, kind in facts.kinds.items() if ROLE_OF_KIND.get(kind) == "numeric"]
    if facts.problem_type == "regression":
        numbers.append(facts.target)
    return any(not _is_number(facts.dtypes.get(name, "")) for name in numbers)


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


def _estimator(facts: ScriptFacts, member: Member, encoding: str, categorical: list[str]) -> tuple[str, str]:
    """(class name, constructor call) with exactly the parameters the app's factory sets."""
    spec = algorithm_spec(facts.problem_type, member.algorithm)
    params = {k: v for k, v in member.params.items() if k != LOG_TARGET}
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


def _imports(used: list[str], encoding: str, scaling: bool, log_target: bool) -> list[tuple[str, str]]:
    """(module, name) of what one member's pipeline needs beyond the template's own imports."""
    names = []
    if log_target:
        names.append(("sklearn.compose", "TransformedTargetRegressor"))
    needs_imputer = encoding != "native" and any(role != "categorical" for role in used)
    if needs_imputer:
        names.append(("sklearn.impute", "SimpleImputer"))
    if encoding == "onehot" and "categorical" in used:
        names.append(("sklearn.preprocessing", "OneHotEncoder"))
    if needs_imputer and scaling:
        names.append(("sklearn.preprocessing", "StandardScaler"))
    return names


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
