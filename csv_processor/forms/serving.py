"""HTML input for deployed models: the prediction form (built from the training schema) and batch uploads."""

import hashlib
from typing import TYPE_CHECKING, Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from csv_processor.models import DeployedModel

if TYPE_CHECKING:
    # For annotations only: a form has no use for the serving runtime (scikit-learn) at import.
    from csv_processor.services.serving.runtime import FieldSpec


class PredictionForm(forms.Form):
    """One field per model input: numbers with the training range, known categories, date pickers.

    `fields_spec` is the serving input spec's fields (role, range, categories). Categories are a text
    input offering the known values (an HTML datalist), so any value can be sent: an unseen one is
    predicted with a warning, as through the API. The values are checked by the serving input checks,
    not here, so the form and the API accept and refuse the same things.
    """

    explain = forms.BooleanField(required=False, initial=True, label="Show which columns pushed the answer")

    def __init__(self, *args: Any, fields_spec: "tuple[FieldSpec, ...]" = (), **kwargs: Any) -> None:
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

    def add_input_errors(self, errors: dict[str, list[str]]) -> None:
        """The serving checks' messages (keyed "records[0].<column>") next to their fields."""
        for key, messages in errors.items():
            name = key.partition(".")[2]
            if name in self.input_names:
                self.add_error(name, messages)
            else:
                self.add_error(None, [f"{name or key}: {message}" for message in messages])

    def error_messages(self) -> dict[str, list[str]]:
        """Messages by field label (the column's name), for the result panel."""
        return {
            str((self.fields[name].label if name in self.fields else "") or "Form"): [str(m) for m in messages]
            for name, messages in self.errors.items()
        }


class ListInput(forms.TextInput):
    """A text input that suggests `options` (an HTML <datalist>) and accepts any other value."""

    def __init__(self, options: tuple[str, ...], attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.options = options

    def render(
        self, name: str, value: object, attrs: dict | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        # Column names may hold spaces, which an id must not: the list's id is a digest of the name.
        list_id = "options-" + hashlib.sha256(name.encode()).hexdigest()[:12]
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}"></option>', ((option,) for option in self.options))
        return format_html('{}<datalist id="{}">{}</datalist>', html, list_id, options)


def _field_for(spec: "FieldSpec") -> forms.Field:
    if spec.role == "numeric":
        low, high, median = spec.minimum, spec.maximum, spec.median
        help_text = f"Training range {low:g} to {high:g}, median {median:g}." if low is not None else ""
        return forms.CharField(
            required=False,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"step": "any", "placeholder": f"{median:g}" if median is not None else ""}),
        )
    if spec.role == "categorical" and spec.categories:
        if spec.complete:
            help_text = "Known values are suggested as you type; another value is predicted with a warning."
        else:
            help_text = f"The {len(spec.categories)} most common known values are suggested; any value can be typed."
        return forms.CharField(
            required=False,
            max_length=1000,
            strip=False,  # " male" and "male" are different categories to the model
            help_text=help_text,
            widget=ListInput(spec.categories, attrs={"placeholder": spec.categories[0], "autocomplete": "off"}),
        )
    if spec.role == "datetime":
        help_text = (
            f"Training dates {spec.date_min[:10]} to {spec.date_max[:10]}." if spec.date_min and spec.date_max else ""
        )
        return forms.CharField(required=False, help_text=help_text, widget=forms.DateInput(attrs={"type": "date"}))
    return forms.CharField(required=False, max_length=1000)


class BatchUploadForm(forms.Form):
    file = forms.FileField(help_text="A CSV of raw rows with the model's input columns (the target is not needed).")


class DeployForm(forms.Form):
    """Deploy a run as a new model, or as the next version of one of the user's models."""

    name = forms.CharField(required=False, max_length=200)
    model = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_not_better = forms.BooleanField(required=False)


class VersionDeployForm(forms.Form):
    """The run to deploy as a model's next version (its owner is checked by the view's selector)."""

    run = forms.IntegerField(min_value=1)
    confirm_not_better = forms.BooleanField(required=False)


class RetrainScheduleForm(forms.Form):
    """When a deployed model retrains by itself (services/serving/retrain.py)."""

    schedule = forms.ChoiceField(label="Retrain on the newest data", choices=DeployedModel.RetrainSchedule.choices)
    on_drift = forms.BooleanField(label="Also when the drift alert fires", required=False)
