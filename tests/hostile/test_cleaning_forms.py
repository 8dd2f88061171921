"""Hostile cleaning-form input through the real preview and apply views."""

import csv
import io

import pytest
from django.urls import reverse

from csv_processor.models import DatasetVersion
from tests.csv_processor.helpers import make_dataset
from tests.hostile.checks import Snapshot, assert_clear_message, shown_errors

pytestmark = pytest.mark.django_db

DATA = b"num,txt,when\n1.5, a ,2024-01-02\n2.5,b,2024-02-03\n,?,bad\n100,=1+2,2024-03-04\n3.5,,2024-05-06\n"

CLEANING = {
    "unknown operation": ("explode", {}, ("operation",)),
    "no operation": ("", {}, ("operation",)),
    "column outside the table": ("trim_whitespace", {"p_column": "../../etc/passwd"}, ("valid choice",)),
    "choice outside the list": ("change_case", {"p_column": "txt", "p_case": "<script>"}, ("valid choice",)),
    "rename to an existing column": ("rename_column", {"p_column": "txt", "p_new_name": "num"}, ("num",)),
    "rename with a NUL": ("rename_column", {"p_column": "txt", "p_new_name": "a\x00b"}, ("null",)),
    "rename to 2,001 characters": ("rename_column", {"p_column": "txt", "p_new_name": "n" * 2001}, ("2000",)),
    "factor NaN": ("clip_outliers", {"p_column": "num", "p_method": "iqr", "p_factor": "nan"}, ("factor",)),
    "factor infinity": ("clip_outliers", {"p_column": "num", "p_method": "iqr", "p_factor": "inf"}, ("factor",)),
    "factor 1e999": ("clip_outliers", {"p_column": "num", "p_method": "zscore", "p_factor": "1e999"}, ("factor",)),
    "factor 1e308": ("clip_outliers", {"p_column": "num", "p_method": "iqr", "p_factor": "1e308"}, ("factor",)),
    "bound not a number": ("clip_outliers", {"p_column": "num", "p_method": "iqr", "p_lower": "abc"}, ("number",)),
    "bounds reversed": (
        "clip_outliers",
        {"p_column": "num", "p_method": "iqr", "p_lower": "5", "p_upper": "1"},
        ("lower bound",),
    ),
    "negative row position": ("delete_rows", {"p_positions": "-1"}, ("row",)),
    "row position past the end": ("delete_rows", {"p_positions": "99999999999999999999"}, ("row",)),
    "fractional row position": ("delete_rows", {"p_positions": "1.5"}, ("whole numbers",)),
    "text op on numbers": ("change_case", {"p_column": "num", "p_case": "upper"}, ("num",)),
    "date parts of text": ("extract_datetime", {"p_column": "txt", "p_parts": ["year"]}, ("txt",)),
    "bad date formats": ("to_datetime", {"p_column": "when", "p_formats": "%Q%;%"}, ("format",)),
    "comparison with text": (
        "delete_rows_where",
        {"p_column": "num", "p_condition": "greater_than", "p_value": "abc"},
        ("number",),
    ),
    "replace nothing": ("replace_values", {"p_column": "txt", "p_values": " , ,"}, ("values",)),
    "drop every column": ("drop_columns", {"p_columns": ["num", "txt", "when"]}, ("every column",)),
    "delete every row": ("delete_rows", {"p_positions": "0,1,2,3,4"}, ("every row",)),
}


@pytest.fixture
def cleaning_dataset(user, tmp_path):
    return make_dataset(user, tmp_path, DATA, name="clean.csv")


@pytest.mark.parametrize("name", list(CLEANING))
def test_hostile_cleaning_form_is_refused_with_a_message(name, user_client, cleaning_dataset, media_root):
    op, fields, says = CLEANING[name]
    version = cleaning_dataset.current_version
    form = {"op": op, "base_version": version.pk, **fields}
    before = Snapshot.take(media_root)

    preview = user_client.post(reverse("csv_processor:cleaning-preview", args=[cleaning_dataset.pk]), form)
    apply = user_client.post(reverse("csv_processor:cleaning-apply", args=[cleaning_dataset.pk]), form)

    for response in (preview, apply):
        assert response.status_code == 400, shown_errors(response.content)
        errors = shown_errors(response.content)
        assert errors, response.content.decode()[:300]
        assert_clear_message(" ".join(errors), says)
    before.assert_unchanged(media_root)


def test_cleaning_form_with_a_stale_or_foreign_base_version_is_a_conflict(user_client, cleaning_dataset, media_root):
    form = {"op": "trim_whitespace", "p_column": "txt"}
    url = reverse("csv_processor:cleaning-apply", args=[cleaning_dataset.pk])
    before = Snapshot.take(media_root)

    stale = user_client.post(url, {**form, "base_version": cleaning_dataset.current_version.pk + 1000})
    garbage = user_client.post(url, {**form, "base_version": "1; DROP TABLE x"})

    assert stale.status_code == 409
    assert_clear_message(" ".join(shown_errors(stale.content)), ("reload",))
    assert garbage.status_code == 400
    assert shown_errors(garbage.content)
    before.assert_unchanged(media_root)


def test_markup_and_formulas_from_cleaning_stay_text(user_client, cleaning_dataset):
    url = reverse("csv_processor:cleaning-apply", args=[cleaning_dataset.pk])
    version = cleaning_dataset.current_version
    renamed = user_client.post(
        url,
        {"op": "rename_column", "base_version": version.pk, "p_column": "txt", "p_new_name": "<script>x()</script>"},
    )
    version = DatasetVersion.objects.get(dataset=cleaning_dataset, number=2)
    filled = user_client.post(
        url,
        {
            "op": "fill_missing",
            "base_version": version.pk,
            "p_column": "<script>x()</script>",
            "p_strategy": "constant",
            "p_value": "=cmd|' /C calc'!A0",
        },
    )

    assert (renamed.status_code, filled.status_code) == (302, 302)
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[cleaning_dataset.pk])).content.decode()
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    download = user_client.get(reverse("csv_processor:dataset-download-csv", args=[cleaning_dataset.pk, 3]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["num", "<script>x()</script>", "when"]
    assert [row[1] for row in rows[1:]] == [" a ", "b", "?", "'=1+2", "'=cmd|' /C calc'!A0"]
