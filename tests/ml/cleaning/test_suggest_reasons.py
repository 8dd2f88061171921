"""Suggestion reasons a business analyst can act on: what is wrong with the column, in words, and the fix."""

import math

import pytest

from csv_processor.ml.cleaning.suggest.features import FEATURES
from csv_processor.ml.cleaning.suggest.model import ACTIONS
from csv_processor.ml.cleaning.suggest.reasons import plain_reason

JARGON = ("IQR", "distinct", "not dates", "more than one value", "sentinel", "ratio", "0.0%")


def _features(**values: float) -> dict[str, float]:
    return dict.fromkeys(FEATURES, 0.0) | values


@pytest.mark.parametrize(
    ("action", "features", "step", "expected"),
    [
        (
            "drop_column",
            _features(unique_ratio=1.0, identifier=1.0),
            None,
            "Every value is different, like an ID, so it can't help predict anything. Drop the column.",
        ),
        (
            "drop_column",
            _features(unique_ratio=0.76, identifier=1.0),
            None,
            "Almost every value is different, like an ID, so it can't help predict anything. Drop the column.",
        ),
        (
            "drop_column",
            _features(constant=1.0),
            None,
            "Every row has the same value, so it can't help predict anything. Drop the column.",
        ),
        (
            "drop_column",
            _features(missing_ratio=0.77),
            None,
            "77% of the values are missing: too few to learn from. Drop the column.",
        ),
        (
            "fill_median",
            _features(missing_ratio=0.2),
            None,
            "20% of the values are missing. Fill the gaps with the middle value (the median) so those rows can still "
            "be used.",
        ),
        (
            "fill_most_frequent",
            _features(missing_ratio=0.0004),
            None,
            "A few values are missing. Fill the gaps with the most common value so those rows can still be used.",
        ),
        (
            "to_category",
            _features(log_unique=math.log10(1 + 3)),
            None,
            "Only 3 different values, like labels. Mark the column as a category (a tidy-up: training already reads "
            "such text as categories).",
        ),
        (
            "replace_sentinels",
            _features(sentinel_share=0.18),
            {"op": "replace_values", "params": {"column": "CO", "values": [-200]}},
            "18% of the values are placeholder codes for “missing” (-200). Mark them as missing so they aren't "
            "taken as real values.",
        ),
        (
            "replace_sentinels",
            _features(sentinel_share=0.05),
            {"op": "replace_values", "params": {"column": "job", "values": ["?", "n/a", "unknown", "none"]}},
            "5% of the values are placeholder codes for “missing” (“?”, “n/a”, “unknown” …). Mark them as missing "
            "so they aren't taken as real values.",
        ),
    ],
)
def test_plain_reason_says_what_is_wrong_and_the_fix(action, features, step, expected):
    assert plain_reason(action, features, step) == expected


@pytest.mark.parametrize("action", ACTIONS)
def test_plain_reason_has_no_jargon_for_any_action(action):
    reason = plain_reason(action, _features(missing_ratio=0.0001, whitespace_share=0.3, far_outlier_share=0.01))

    assert reason[0].isupper() or reason[0].isdigit()
    assert reason.endswith(".")
    assert not [word for word in JARGON if word in reason]
