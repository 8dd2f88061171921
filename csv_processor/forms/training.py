"""HTML input for training runs. Whether the data allows training is decided by the services."""

import uuid
from typing import Any, cast

from django import forms

DEFAULT_FOLDS = 5
MAX_FOLDS = 10

PROBLEM_TYPE_CHOICES = [
    ("", "As detected"),
    ("binary", "Binary classification"),
    ("multiclass", "Multiclass classification"),
    ("regression", "Regression"),
]


class TrainingForm(forms.Form):
    target = forms.ChoiceField(label="Column to predict (target)")
    # The browser posts the problem type as "task" (pages, journeys and bookmarks send it): keep the name.
    task = forms.ChoiceField(label="Kind of problem", choices=PROBLEM_TYPE_CHOICES, required=False)
    features = forms.MultipleChoiceField(
        label="Columns to learn from",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one feature column."},
    )
    algorithms = forms.MultipleChoiceField(
        label="Algorithms",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: Auto, every algorithm that fits the problem.",
    )
    test_size = forms.FloatField(
        label="Share of rows held back for testing", min_value=0.05, max_value=0.5, initial=0.2, step_size=0.05
    )
    cv_folds = forms.IntegerField(
        label="Cross-validation folds", min_value=2, max_value=MAX_FOLDS, initial=DEFAULT_FOLDS
    )
    seed = forms.IntegerField(label="Random seed", min_value=0, max_value=2**31 - 1, initial=0)
    budget_seconds = forms.IntegerField(
        label="Time budget (seconds)", min_value=5, max_value=3600, initial=60, help_text="Between 5 s and 1 hour."
    )
    max_trials = forms.IntegerField(
        label="Candidates to try (for exactly repeatable results)",
        min_value=1,
        max_value=500,
        required=False,
        help_text="Empty: as many as the time budget allows. A number from 1 to 500: exactly that many candidates "
        "of the plan, each on every fold, however long it takes (the budget no longer cuts the plan; a run stops "
        "with an error after 1 hour), so the same seed and settings give the same leaderboard on any machine.",
    )
    keep_evaluated = forms.BooleanField(
        label="Deploy the model as evaluated, without the final refit on all rows",
        required=False,
        help_text="Off (recommended): once scored on the held-out rows, the chosen model learns once more from "
        "every row, the held-out ones included, and that is the model you deploy; the scores shown stay those "
        "of the evaluated model. On: the deployed model is exactly the one that was scored.",
    )
    # One key per rendered form: a double-clicked Start sends it twice and gets one run.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(
        self,
        *args: Any,
        columns: list[str],
        algorithms: dict[str, list[str]],
        problem_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`algorithms` lists each problem type's algorithms; `problem_type` (chosen or detected) limits the
        offer to its own. Without one every algorithm is accepted here and the training service checks the
        detected problem type."""
        super().__init__(*args, **kwargs)
        for name in ("target", "features"):
            cast(forms.ChoiceField, self.fields[name]).choices = [(column, column) for column in columns]
        self.algorithms_by_problem_type = algorithms
        self.offer_algorithms(problem_type)
        self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def offer_algorithms(self, problem_type: str | None) -> None:
        """Offer only the algorithms that fit `problem_type` (all of them when it is not known yet)."""
        if problem_type in self.algorithms_by_problem_type:
            names = self.algorithms_by_problem_type[problem_type]
            label = dict(PROBLEM_TYPE_CHOICES)[problem_type].lower()
            self.fields["algorithms"].error_messages["invalid_choice"] = (
                f"%(value)s does not fit a {label} problem: pick from {', '.join(names)}, or none for Auto."
            )
        else:
            names = list(dict.fromkeys(name for names in self.algorithms_by_problem_type.values() for name in names))
        cast(forms.ChoiceField, self.fields["algorithms"]).choices = [(name, name) for name in names]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("target") and data.get("features"):
            data["features"] = [name for name in data["features"] if name != data["target"]]
            if not data["features"]:
                self.add_error("features", "Pick at least one feature column besides the target.")
        return data
