"""Plain-words reasons for a suggestion: the features on the tree's decision path, with the column's values."""

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from csv_processor.ml.cleaning.suggest.features import FEATURES, PRESENCE

MAX_PHRASES = 4
ACTION_WORDS = {
    "keep": "keep as it is",
    "drop_column": "drop the column",
    "fill_median": "fill with the median",
    "fill_most_frequent": "fill with the most frequent value",
    "to_number": "convert to numbers",
    "to_datetime": "convert to dates",
    "to_category": "make it a category",
    "trim": "trim the spaces",
    "replace_sentinels": "replace the codes with missing",
    "clip_outliers": "clip the outliers",
}


def _phrase(name: str, value: float) -> str | None:
    """How a person would say one feature's value; None for features that say nothing on their own."""
    flags = {
        "is_numeric": ("numeric", "not numeric"),
        "is_text": ("text", "not text"),
        "is_datetime": ("dates", "not dates"),
        "is_bool": ("true/false", None),
        "constant": ("one value in every row", "more than one value"),
        "identifier": ("looks like an identifier", "not an identifier"),
        "integer_valued": ("whole numbers", None),
    }
    if name in flags:
        return flags[name][0] if value >= 0.5 else flags[name][1]
    shares = {
        "missing_ratio": ("missing values", "no missing values"),
        "numeric_share": ("readable as numbers", "not numbers"),
        "date_share": ("readable as dates", "not dates"),
        "whitespace_share": ("with padding spaces", "no padding spaces"),
        "sentinel_share": ("missing-value codes", "no missing-value codes"),
        "outlier_share": ("outliers (1.5 IQR)", "no outliers"),
        "far_outlier_share": ("far outliers (3 IQR)", "no far outliers"),
        "unique_ratio": ("distinct", "one value"),
    }
    if name in shares:
        some, none = shares[name]
        return none if value == 0 else f"{_percent(value)} {some}"
    if name == "skew":
        return "skewed" if abs(value) >= 1 else "not skewed"
    if name == "log_unique":
        return f"{round(10**value - 1):,} distinct values"
    return None


def _percent(value: float) -> str:
    if 0 < value < 0.01:
        return f"{value:.1%}"
    return f"{value:.0%}"


def reason_for(tree: DecisionTreeClassifier, nodes: np.ndarray, features: dict[str, float], action: str) -> str:
    """Up to MAX_PHRASES facts from the splits on the path (root first, each feature once), then the action."""
    used = []
    for node in nodes:
        index = int(tree.tree_.feature[node])
        if index < 0:
            continue
        # Say "3% missing" rather than "some missing": name the share behind a presence flag.
        name = PRESENCE.get(FEATURES[index], FEATURES[index])
        if name not in used:
            used.append(name)
    phrases = [p for p in (_phrase(n, features[n]) for n in used) if p]
    # Lead with what the column has (a share, a trait) rather than what it lacks.
    phrases.sort(key=lambda phrase: phrase.startswith(("no ", "not ", "one value")))
    facts = ", ".join(dict.fromkeys(phrases[:MAX_PHRASES]))
    return f"{facts}: {ACTION_WORDS[action]}" if facts else ACTION_WORDS[action]
