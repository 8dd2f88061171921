"""HTML input for datasets and uploads. Validation of meaning lives in the services."""

from typing import Any, cast

from django import forms
from django.http import QueryDict

from csv_processor.forms.training import PROBLEM_TYPE_CHOICES
from csv_processor.models import Upload

DELIMITERS = [(",", "Comma  ,"), (";", "Semicolon  ;"), ("\t", "Tab"), ("|", "Pipe  |")]
DECIMALS = [(".", "Point  1.5"), (",", "Comma  1,5")]
THOUSANDS = [
    ("", "None"),
    (",", "Comma  1,000"),
    (".", "Point  1.000"),
    (" ", "Space  1 000"),
    ("'", "Apostrophe  1'000"),
]
QUOTES = [('"', 'Double quote  "'), ("'", "Single quote  '")]
ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16"),
    ("cp1252", "Western European (Windows-1252)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
    ("cp949", "Korean (CP949)"),
    ("shift_jis", "Japanese (Shift-JIS)"),
    ("gb18030", "Chinese (GB18030)"),
    ("cp1251", "Cyrillic (Windows-1251)"),
    ("cp1250", "Central European (Windows-1250)"),
    ("iso-8859-15", "Latin-9 (ISO-8859-15)"),
    ("mac_roman", "Mac Roman"),
]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Data file",
        help_text="A CSV (.csv, .tsv or .txt), an Excel workbook (.xlsx, without macros) or a Parquet file (.parquet).",
        widget=forms.ClearableFileInput(
            attrs={"accept": f".csv,.tsv,.txt,.xlsx,.parquet,text/csv,text/plain,{XLSX_TYPE}"}
        ),
    )


class ConfirmForm(forms.Form):
    """The confirm step of a file with nothing to choose but the dataset's name (Parquet)."""

    dataset_name = forms.CharField(label="Dataset name", max_length=200)

    def options(self) -> dict:
        return {}


class SheetForm(ConfirmForm):
    """The confirm step of an Excel workbook: which sheet, when it has more than one."""

    sheet = forms.ChoiceField(label="Sheet", help_text="The sheet to read; its first row holds the column names.")

    def __init__(self, data: QueryDict | None = None, *, sheets: list[str], initial: dict | None = None) -> None:
        super().__init__(data, initial=initial)
        self.sheets = sheets
        if len(sheets) > 1:
            cast(forms.ChoiceField, self.fields["sheet"]).choices = [(name, name) for name in sheets]
        else:
            del self.fields["sheet"]

    def options(self) -> dict:
        return {"sheet": self.cleaned_data.get("sheet") or self.sheets[0]}


def confirm_form(upload: Upload, data: QueryDict | None) -> ConfirmForm:
    """The confirm step's form for the kind of file uploaded, bound to ``data`` when given."""
    if upload.source_format == Upload.Format.XLSX:
        initial = {"dataset_name": upload.dataset_name, "sheet": upload.parse_options.get("sheet")}
        return SheetForm(data, initial=initial, sheets=upload.parse_options.get("sheets", []))
    if upload.source_format == Upload.Format.PARQUET:
        return ConfirmForm(data, initial={"dataset_name": upload.dataset_name})
    return ParseOptionsForm(data, initial=ParseOptionsForm.initial_from(upload.parse_options, upload.dataset_name))


class ParseOptionsForm(ConfirmForm):
    encoding = forms.ChoiceField(choices=ENCODINGS, help_text="How the text is encoded. Wrong letters? Try another.")
    delimiter = forms.ChoiceField(choices=DELIMITERS, help_text="What separates the columns.")
    quotechar = forms.ChoiceField(label="Quote character", choices=QUOTES)
    decimal = forms.ChoiceField(label="Decimal mark", choices=DECIMALS)
    thousands = forms.ChoiceField(label="Thousands separator", choices=THOUSANDS, required=False)
    has_header = forms.BooleanField(label="The first row holds the column names", required=False)
    skip_initial_space = forms.BooleanField(label="Ignore spaces after the delimiter", required=False)
    na_values = forms.CharField(
        label="Also treat as missing",
        required=False,
        max_length=500,
        help_text='Comma-separated values that mean "missing", such as ?, -999, n/a or unknown.',
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keep a detected encoding selectable even if it is not in the short list.
        encoding = self.initial.get("encoding") or (self.data.get("encoding") if self.data else None)
        if encoding and encoding not in dict(ENCODINGS):
            cast(forms.ChoiceField, self.fields["encoding"]).choices = [(encoding, encoding), *ENCODINGS]

    @staticmethod
    def initial_from(options: dict, dataset_name: str) -> dict:
        return {
            **options,
            "thousands": options.get("thousands") or "",
            "na_values": ", ".join(options.get("na_values", ())),
            "dataset_name": dataset_name,
        }

    def options(self) -> dict:
        data = self.cleaned_data
        na_values = tuple(value.strip() for value in data["na_values"].split(",") if value.strip())
        return {
            "encoding": data["encoding"],
            "delimiter": data["delimiter"],
            "quotechar": data["quotechar"],
            "decimal": data["decimal"],
            "thousands": data["thousands"] or None,
            "has_header": data["has_header"],
            "skip_initial_space": data["skip_initial_space"],
            "na_values": na_values,
        }


class DatasetEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


class TableQueryForm(forms.Form):
    """The query string of the table view: page, sort and filter."""

    v = forms.IntegerField(required=False, min_value=1)
    page = forms.IntegerField(required=False, min_value=1)
    sort = forms.CharField(required=False, max_length=300)
    desc = forms.BooleanField(required=False)
    col = forms.CharField(required=False, max_length=300)
    q = forms.CharField(required=False, max_length=200)


class ExploreForm(forms.Form):
    """The target (and problem type) to rank a version's columns against."""

    target = forms.ChoiceField(label="Target")
    problem_type = forms.ChoiceField(label="Problem type", required=False, choices=PROBLEM_TYPE_CHOICES)

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target"]).choices = [(name, name) for name in columns]
