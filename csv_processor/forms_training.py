"""HTML input for training runs. Whether the data allows training is decided by the services."""

import uuid

from django import forms

TASK_CHOICES = [
    ("", "As detected"),
    ("binary", "Binary classification"),
    ("multiclass", "Multiclass classification"),
    ("regression", "Regression"),
]


class TrainingForm(forms.Form):
    target = forms.ChoiceField(label="Column to predict (target)")
    task = forms.ChoiceField(label="Kind of problem", choices=TASK_CHOICES, required=False)
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
    cv_folds = forms.IntegerField(label="Cross-validation folds", min_value=2, max_value=10, initial=5)
    seed = forms.IntegerField(label="Random seed", min_value=0, max_value=2**31 - 1, initial=0)
    budget_seconds = forms.IntegerField(
        label="Time budget (seconds)", min_value=5, max_value=3600, initial=60, help_text="Between 5 s and 1 hour."
    )
    # One key per rendered form: a double-clicked Start sends it twice and gets one run.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: object, columns: list[str], algorithms: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(name, name) for name in columns]
        self.fields["features"].choices = [(name, name) for name in columns]
        self.fields["algorithms"].choices = [(name, name) for name in algorithms]
        self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("target") and data.get("features"):
            data["features"] = [name for name in data["features"] if name != data["target"]]
            if not data["features"]:
                self.add_error("features", "Pick at least one feature column besides the target.")
        return data
