"""The prediction form and API on a model with a date in US format and many categories: any date
notation is read, a non-date is refused by field, any category can be sent and an unseen one warns."""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from django.test import override_settings
from django.urls import reverse

from csv_processor.services.serving.deploy import deployed_model_deploy
from tests.csv_processor.helpers import UNREACHABLE_MLFLOW, Served, train_and_deploy
from tests.csv_processor.test_api_models import api, predict_url
from tests.factories import UserFactory
from users.services import api_token_create

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]

SHOPS = [f"shop{i:02d}" for i in range(70)]


def sales_csv(rows: int = 420, seed: int = 0) -> bytes:
    """A date written mm/dd/yyyy (summer sells more), 70 shops, a colour with three values, the sales."""
    rng = np.random.default_rng(seed)
    lines = ["day,shop,colour,sales"]
    start = dt.date(2019, 1, 1)
    for i in range(rows):
        day = start + dt.timedelta(days=int(rng.integers(0, 3 * 365)))
        # Each shop appears at least 3 times, the first ones more often: a stable order of frequency.
        shop = SHOPS[i % 70] if i < 210 else SHOPS[int(rng.integers(0, 35))]
        colour = ["red", "green", "blue"][i % 3]
        sales = 50 + 30 * day.month + rng.normal(scale=5)
        lines.append(f"{day:%m/%d/%Y},{shop},{colour},{sales:.2f}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("serving-inputs-media")
    with override_settings(MEDIA_ROOT=media, MLFLOW_TRACKING_URI=UNREACHABLE_MLFLOW), django_db_blocker.unblock():
        user, other = UserFactory(), UserFactory()
        run = train_and_deploy(user, media, sales_csv(), target="sales", algorithms=("Ridge",), name="sales.csv")
        model = deployed_model_deploy(owner=user, run=run)
        _, token = api_token_create(user=user, name="tests")
        yield Served(user, other, token, "", run, model, Path(media))
        user.delete()
        other.delete()


@pytest.fixture
def owner_client(client, served):
    client.force_login(served.user)
    return client


def predict_api(client, served, day, shop="shop01", colour="red"):
    body = {"records": [{"day": day, "shop": shop, "colour": colour}]}
    return api(client, "post", predict_url(served.model.pk), served.token, body)


def predict_form(client, served, day, shop="shop01", colour="red"):
    url = reverse("csv_processor:model-predict", args=[served.model.pk])
    return client.post(url, {"day": day, "shop": shop, "colour": colour}, HTTP_HX_REQUEST="true")


def form_answer(response) -> float:
    page = response.content.decode()
    assert response.status_code == 200, page
    return float(page.split("Prediction: ", 1)[1].split("<", 1)[0])


def test_model_learned_the_date_as_text_in_us_format(served):
    columns = {c["name"]: c["dtype"] for c in served.model.active_version.input_columns}

    assert served.run.feature_schema["day"]["role"] == "datetime"
    assert columns["day"] in ("object", "str", "string")  # text the date step reads, not datetime64


def test_api_reads_iso_and_us_dates_alike_and_tells_july_from_january(client, served):
    iso_july, us_july = predict_api(client, served, "2020-07-15"), predict_api(client, served, "07/15/2020")
    january = predict_api(client, served, "2020-01-15")

    assert iso_july.status_code == us_july.status_code == january.status_code == 200, iso_july.json()
    assert iso_july.json()["predictions"] == us_july.json()["predictions"]
    # The model learned 30 more sales per month: July is far above January.
    assert iso_july.json()["predictions"][0] - january.json()["predictions"][0] > 100


def test_form_date_picker_value_counts(owner_client, served):
    july, january = predict_form(owner_client, served, "2020-07-15"), predict_form(owner_client, served, "2020-01-15")
    us_july = predict_form(owner_client, served, "07/15/2020")

    assert form_answer(july) - form_answer(january) > 100
    assert form_answer(july) == form_answer(us_july)


@pytest.mark.parametrize("value", ["not a date", "2020-13-45", "13/45/2020"])
def test_api_refuses_a_value_that_is_no_date_with_a_message_naming_the_field(client, served, value):
    response = predict_api(client, served, value)

    assert response.status_code == 400
    assert "is not a date" in " ".join(response.json()["records[0].day"])


def test_api_refuses_a_number_for_a_date_and_takes_null_and_blank_as_missing(client, served):
    number = predict_api(client, served, 20200715)
    missing, blank = predict_api(client, served, None), predict_api(client, served, "")

    assert number.status_code == 400
    assert "records[0].day" in number.json()
    assert missing.status_code == blank.status_code == 200
    assert missing.json()["predictions"] == blank.json()["predictions"]


def test_api_warns_when_day_and_month_could_be_either(client, served):
    response = predict_api(client, served, "03/04/2020")

    assert response.status_code == 200
    assert any("day/month or month/day" in w for w in response.json()["warnings"][0])


def test_form_refuses_a_non_date_with_400_and_the_field_named(owner_client, served):
    response = predict_form(owner_client, served, "not a date")
    page = owner_client.post(
        reverse("csv_processor:model-predict", args=[served.model.pk]), {"day": "not a date", "shop": "shop01"}
    )

    assert response.status_code == 400
    assert "day:" in response.content.decode()
    assert "is not a date" in response.content.decode()
    assert page.status_code == 400
    assert "is not a date" in page.content.decode()
    assert 'name="day"' in page.content.decode()


def test_form_predicts_an_unseen_category_with_a_warning(owner_client, served):
    response = predict_form(owner_client, served, "2020-07-15", colour="purple")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Prediction:" in page
    assert "was not seen in training" in page


def test_form_offers_and_sends_a_category_beyond_the_fiftieth(owner_client, served):
    # All 70 shops are known: a drop-down of the first 50 left 20 of them out of reach.
    assert served.run.feature_schema["shop"]["categories"][-1] in SHOPS
    assert set(served.run.feature_schema["shop"]["categories"]) == set(SHOPS)
    page = owner_client.get(reverse("csv_processor:model-predict", args=[served.model.pk])).content.decode()
    assert '<option value="shop65"></option>' in page

    response = predict_form(owner_client, served, "2020-07-15", shop="shop65")

    assert response.status_code == 200
    assert "Prediction:" in response.content.decode()
    assert "not seen in training" not in response.content.decode()


def test_form_offers_known_categories_in_a_datalist_and_a_date_picker(owner_client, served):
    page = owner_client.get(reverse("csv_processor:model-predict", args=[served.model.pk])).content.decode()

    assert '<input type="text" name="shop"' in page
    assert "<datalist" in page
    assert '<option value="shop00"></option>' in page
    assert '<option value="green"></option>' in page
    assert 'type="date"' in page
    assert "<select" not in page.split('name="shop"')[1].split("</datalist>")[0]
    assert "<script>" not in page  # (CSP: no inline scripts)
