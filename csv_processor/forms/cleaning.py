"""The cleaning step form, built from an operation's parameter list (see ml/cleaning/schema.py)."""

from typing import Any

from django import forms

SINGLE_KINDS = {"column", "choice", "text", "text_opt", "number", "scalar"}
TEXT_HELP = {
    "scalars": "Separate values with commas.",
    "positions": "Row numbers (from 0), separated by commas.",
    "formats": "strftime formats such as %d/%m/%Y, separated by semicolons. Leave empty to detect.",
}


def _field(param: dict, columns: list[str]) -> forms.Field:
    label = param["name"].replace("_", " ").capitalize()
    help_text = param.get("help") or TEXT_HELP.get(param["kind"], "")
    if param.get("fitted"):
        help_text = (help_text + " Leave empty to compute it from the data.").strip()
    required = param["required"] and not param.get("fitted") and param["kind"] not in {"columns_opt", "scalar"}
    kind = param["kind"]
    if kind == "column":
        return forms.ChoiceField(label=label, choices=[(c, c) for c in columns], help_text=help_text)
    if kind in {"columns", "columns_opt"}:
        return forms.MultipleChoiceField(
            label=label,
            choices=[(c, c) for c in columns],
            required=required,
            help_text=help_text,
            widget=forms.CheckboxSelectMultiple,
        )
    if kind == "choice":
        choices = [("", "—")] if not required else []
        return forms.ChoiceField(
            label=label,
            choices=choices + [(c, c) for c in param["choices"]],
            required=required,
            initial=param.get("default"),
            help_text=help_text,
        )
    if kind == "choices":
        return forms.MultipleChoiceField(
            label=label,
            choices=[(c, c) for c in param["choices"]],
            required=required,
            widget=forms.CheckboxSelectMultiple,
            help_text=help_text,
        )
    return forms.CharField(label=label, required=required, max_length=2000, help_text=help_text)


class CleaningStepForm(forms.Form):
    op = forms.CharField(widget=forms.HiddenInput)
    base_version = forms.IntegerField(widget=forms.HiddenInput)
    confirm_loss = forms.BooleanField(label="I understand that some values will become missing", required=False)

    def __init__(self, *args: Any, spec: dict, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        for param in spec["params"]:
            name = f"p_{param['name']}"
            self.fields[name] = _field(param, columns)
            # Query strings give lists; a single-value field takes the one value, a text list field joins them.
            given = self.initial.get(name)
            if isinstance(given, list) and not isinstance(self.fields[name], forms.MultipleChoiceField):
                separator = ";" if param["kind"] == "formats" else ","
                self.initial[name] = given[0] if param["kind"] in SINGLE_KINDS else separator.join(map(str, given))
        self.order_fields([*(f"p_{param['name']}" for param in spec["params"]), "confirm_loss"])

    def raw_params(self) -> dict:
        return {
            name[2:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("p_") and value not in ("", [])
        }
