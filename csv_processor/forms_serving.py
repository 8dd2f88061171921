"""HTML input for deployed models: the prediction form (built from the training schema) and batch uploads."""

from django import forms

MAX_CHOICES = 50


class PredictionForm(forms.Form):
    """One field per model input: numbers with the training range, known categories, date pickers.

    `fields_spec` is the serving input spec's fields (role, range, categories). Categories come as a list
    with the empty choice first; an unseen value can still be typed via the text fallback when the
    training data had more categories than the list shows.
    """

    explain = forms.BooleanField(required=False, initial=True, label="Show which columns pushed the answer")

    def __init__(self, *args: object, fields_spec: tuple = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.input_names = []
        for spec in fields_spec:
            if spec.role == "passthrough":
                continue
            self.fields[spec.name] = _field_for(spec)
            # The column's own name: Django's default label would turn "MonthlyCharges" into "Monthlycharges".
            self.fields[spec.name].label = spec.name
            self.input_names.append(spec.name)
        self.order_fields([*self.input_names, "explain"])

    def records(self) -> list[dict]:
        """The one record to predict; blanks are missing values (the model fills them in)."""
        record = {}
        for name in self.input_names:
            value = self.cleaned_data.get(name)
            record[name] = None if value in ("", None) else value
        return [record]


def _field_for(spec: object) -> forms.Field:
    if spec.role == "numeric":
        low, high, median = spec.minimum, spec.maximum, spec.median
        help_text = f"Training range {low:g} to {high:g}, median {median:g}." if low is not None else ""
        return forms.CharField(
            required=False,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"step": "any", "placeholder": f"{median:g}" if median is not None else ""}),
        )
    if spec.role == "categorical" and spec.categories:
        choices = [("", "(missing)")] + [(c, c) for c in spec.categories[:MAX_CHOICES]]
        return forms.ChoiceField(required=False, choices=choices, initial=spec.categories[0])
    if spec.role == "datetime":
        help_text = f"Training dates {spec.date_min[:10]} to {spec.date_max[:10]}." if spec.date_min else ""
        return forms.CharField(required=False, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"}))
    return forms.CharField(required=False, max_length=1000)


class BatchUploadForm(forms.Form):
    file = forms.FileField(help_text="A CSV of raw rows with the model's input columns (the target is not needed).")


class DeployForm(forms.Form):
    """Deploy a run as a new model, or as the next version of one of the user's models."""

    name = forms.CharField(required=False, max_length=200)
    model = forms.IntegerField(required=False, widget=forms.HiddenInput)


class VersionDeployForm(forms.Form):
    """The run to deploy as a model's next version (its owner is checked by the view's selector)."""

    run = forms.IntegerField(min_value=1)
