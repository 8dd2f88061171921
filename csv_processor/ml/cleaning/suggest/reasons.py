"""Reasons for a suggestion: a plain sentence for the person deciding (`plain_reason`) and, for the curious,
the features on the tree's decision path with the column's values (`reason_for`)."""

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


MAX_CODES = 3


def _codes(step: dict | None) -> str:
    """'-200' or '“?”, “n/a”': the missing-value codes a replace step would clear."""
    values = (step or {}).get("params", {}).get("values") or []
    shown = [f"“{v}”" if isinstance(v, str) else f"{v:g}" for v in values[:MAX_CODES]]
    return ", ".join(shown) + (" …" if len(values) > MAX_CODES else "")


def _share_of_values(share: float) -> str:
    """'20% of the values', or 'A few values' where a percentage would round to nothing."""
    return "A few values" if share < 0.001 else f"{_percent(share)} of the values"


def _why_drop(features: dict[str, float]) -> str:
    if features["constant"] >= 0.5:
        return "Every row has the same value, so it can't help predict anything."
    if features["identifier"] >= 0.5 or features["unique_ratio"] >= 0.95:
        every = "Every" if features["unique_ratio"] >= 0.999 else "Almost every"
        return f"{every} value is different, like an ID, so it can't help predict anything."
    if features["missing_ratio"] > 0:
        return f"{_share_of_values(features['missing_ratio'])} are missing: too few to learn from."
    return "It is unlikely to help predict anything."


def _labels(distinct: int) -> str:
    return f"Only {distinct} different values," if distinct <= 20 else f"{distinct:,} different values that repeat,"


def plain_reason(action: str, features: dict[str, float], step: dict | None = None) -> str:
    """What a business analyst needs to decide: what is wrong with the column, in words, and the fix."""
    missing = _share_of_values(features["missing_ratio"])
    codes = _codes(step)
    sentences = {
        "keep": "The column looks fine as it is.",
        "drop_column": f"{_why_drop(features)} Drop the column.",
        "fill_median": f"{missing} are missing. Fill the gaps with the middle value (the median) "
        "so those rows can still be used.",
        "fill_most_frequent": f"{missing} are missing. Fill the gaps with the most common value "
        "so those rows can still be used.",
        "to_number": "These are numbers stored as text (like “1,000” or “$4.99”). Convert them to numbers "
        "so they count as amounts, not labels.",
        "to_datetime": "These are dates stored as text. Convert them to dates so the year, month and weekday "
        "can be used.",
        "to_category": f"{_labels(round(10 ** features['log_unique'] - 1))} like labels. Mark the column as a "
        "category (a tidy-up: training already reads such text as categories).",
        "trim": f"{_share_of_values(features['whitespace_share'])} have extra spaces at the start or end, "
        "so “Paris” and “ Paris” count as different values. Trim the spaces.",
        "replace_sentinels": f"{_share_of_values(features['sentinel_share'])} are placeholder codes for "
        f"“missing”{f' ({codes})' if codes else ''}. Mark them as missing so they aren't taken as real values.",
        "clip_outliers": f"{_share_of_values(features['far_outlier_share'])} are far from all the others. "
        "Cap them if they are mistakes; keep them if they are real.",
    }
    return sentences[action]
