"""The suggestions card: plain reasons, the confident ones first, the optional ones behind "show more"."""

import re

import pytest
from django.urls import reverse

from csv_processor.models import DatasetVersion
from csv_processor.selectors.datasets import SUGGESTION_MIN_CONFIDENCE
from tests.csv_processor.helpers import make_dataset

pytestmark = pytest.mark.django_db

# An id, a number column with gaps, a few-valued text column and a count with far outliers.
CITIES = ("Oslo", "Paris", "Rome")
BODY = b"id,income,city,visits\n" + b"".join(
    f"{1000 + i},{'' if i % 4 == 0 else 100 + i},{CITIES[i % 3]},{500 if i % 50 == 0 else i % 5}\n".encode()
    for i in range(300)
)


@pytest.fixture
def data(user, tmp_path):
    return make_dataset(user, tmp_path, BODY, name="shops.csv")


def _suggestion(version: DatasetVersion, column: str) -> dict:
    return next(item for item in version.suggestions if item["column"] == column)


def test_suggestions_read_plainly_and_keep_the_models_facts_aside(user_client, data):
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[data.pk])).content.decode()

    assert _suggestion(data.current_version, "id")["action"] == "drop_column"
    assert "Every value is different, like an ID, so it can&#x27;t help predict anything." in page
    assert "25% of the values are missing. Fill the gaps" in page
    card = page.split('id="suggestions"')[1].split("</section>")[0]
    visible = re.sub(r'title="[^"]*"', "", card)
    assert not [word for word in ("distinct", "IQR", "not dates", "more than one value") if word in visible]
    assert 'title="What the model looked at: ' in card


def test_optional_suggestions_wait_behind_show_more(user_client, data):
    version = data.current_version
    optional = [item for item in version.suggestions if item["action"] in ("to_category", "clip_outliers")]

    page = user_client.get(reverse("csv_processor:dataset-detail", args=[data.pk])).content.decode()
    shown, _, more = page.partition('<details class="more-suggestions">')

    assert optional, version.suggestions
    assert f"Show {len(optional)} more suggestion" in page
    for item in optional:
        assert f"<strong>{item['column']}</strong>" in more
        assert f"<strong>{item['column']}</strong>" not in shown
    assert "<strong>id</strong>" in shown
    assert "<strong>income</strong>" in shown


def test_unsure_suggestions_are_optional_too(user_client, data):
    version = data.current_version
    suggestions = [dict(item) for item in version.suggestions]
    unsure = next(item for item in suggestions if item["column"] == "income")
    unsure["confidence"] = SUGGESTION_MIN_CONFIDENCE - 0.2
    DatasetVersion.objects.filter(pk=version.pk).update(suggestions=suggestions)

    page = user_client.get(reverse("csv_processor:cleaning", args=[data.pk])).content.decode()
    shown, _, more = page.partition('<details class="more-suggestions">')

    assert "<strong>income</strong>" in more
    assert "<strong>income</strong>" not in shown


def test_apply_all_applies_only_the_suggestions_shown_first(user_client, data):
    version = data.current_version
    first = [
        item for item in version.suggestions if item["step"] and item["action"] not in ("to_category", "clip_outliers")
    ]

    user_client.post(reverse("csv_processor:suggestion-apply", args=[data.pk]), {"all": "1"})

    data.refresh_from_db()
    assert len(first) >= 2
    assert data.current_version.number == 1 + len(first)
    columns = [column["name"] for column in data.current_version.schema]
    assert "id" not in columns
    assert "city" in columns  # its optional "make it a category" was not applied
