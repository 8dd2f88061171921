"""Browsing, downloading, renaming and deleting datasets."""

import io

import pandas as pd
import pytest
from django.urls import reverse

from csv_processor.models import Dataset, DatasetVersion, Upload
from tests.csv_processor.helpers import make_dataset, media_files

pytestmark = pytest.mark.django_db


def _numbers_csv(rows: int) -> bytes:
    lines = ["id,value,label"] + [f"{i},{(i * 37) % 101},item {i}" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def dataset(user, tmp_path):
    return make_dataset(user, tmp_path, _numbers_csv(120), name="numbers.csv")


def test_list_shows_own_datasets_only(user_client, dataset, other_user, tmp_path):
    make_dataset(other_user, tmp_path, _numbers_csv(3), name="theirs.csv")

    response = user_client.get(reverse("csv_processor:dataset-list"))

    assert response.status_code == 200
    assert list(response.context["datasets"]) == [dataset]
    assert b"numbers" in response.content
    assert b"theirs" not in response.content


def test_empty_list_invites_an_upload(user_client):
    response = user_client.get(reverse("csv_processor:home"))

    assert b"No datasets yet" in response.content
    assert reverse("csv_processor:upload-new").encode() in response.content


def test_detail_shows_first_page_of_50_rows(user_client, dataset):
    response = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]))

    table = response.context["table"]
    assert response.status_code == 200
    assert len(table.rows) == 50
    assert table.total_rows == 120
    assert table.page_count == 3
    assert [cell.text for cell in table.rows[0]] == ["1", "37", "item 1"]
    assert b"Rows 1\xe2\x80\x9350 of 120" in response.content


def test_detail_pages_sorts_and_filters(user_client, dataset):
    url = reverse("csv_processor:dataset-detail", args=[dataset.pk])

    last_page = user_client.get(url, {"page": 3}).context["table"]
    by_value = user_client.get(url, {"sort": "value", "desc": "1"}).context["table"]
    filtered = user_client.get(url, {"col": "label", "q": "item 11"}).context["table"]

    assert [row[0].text for row in last_page.rows] == [str(i) for i in range(101, 121)]
    values = [int(row[1].text) for row in by_value.rows]
    assert values == sorted(values, reverse=True)
    assert values[0] == 100
    assert filtered.total_rows == 11  # item 11 and item 110..119
    assert {row[2].text for row in filtered.rows} >= {"item 11", "item 119"}


def test_detail_htmx_returns_only_the_table(user_client, dataset):
    response = user_client.get(
        reverse("csv_processor:dataset-detail", args=[dataset.pk]),
        {"page": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="data-table",
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Rows 51" in response.content


def test_detail_ignores_unknown_sort_column(user_client, dataset):
    response = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]), {"sort": "nope"})

    assert response.status_code == 200
    assert response.context["table"].rows[0][0].text == "1"


def test_column_headers_show_type_and_missing(user_client, user, tmp_path):
    data = make_dataset(user, tmp_path, b"a,b\n1,x\n,y\n3,\n", name="gaps.csv")

    response = user_client.get(reverse("csv_processor:dataset-detail", args=[data.pk]))

    assert b"1 missing" in response.content
    kinds = {column["name"]: column["kind"] for column in data.current_version.schema}
    assert kinds["a"] in {"integer", "float"}


def test_profile_page_renders_the_stored_profile(user_client, dataset):
    version = dataset.current_version

    response = user_client.get(reverse("csv_processor:dataset-profile", args=[dataset.pk, version.number]))

    assert version.profile_status == DatasetVersion.ProfileStatus.READY
    assert response.status_code == 200
    assert version.profile["rows"] == 120
    assert b"profile-data" in response.content


def test_csv_download_neutralises_formulas(user_client, user, tmp_path):
    body = b'name,link,amount\nx,"=HYPERLINK(""http://evil"",""click"")",-5\ny,@SUM(A1),7\n'
    data = make_dataset(user, tmp_path, body, name="formula.csv")

    response = user_client.get(reverse("csv_processor:dataset-download-csv", args=[data.pk, 1]))

    text = b"".join(response.streaming_content).decode()
    frame = pd.read_csv(io.StringIO(text))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="formula-v1.csv"'
    assert frame["link"].tolist() == ['\'=HYPERLINK("http://evil","click")', "'@SUM(A1)"]
    assert frame["amount"].tolist() == [-5, 7]


def test_parquet_download_round_trips(user_client, dataset):
    response = user_client.get(reverse("csv_processor:dataset-download-parquet", args=[dataset.pk, 1]))

    frame = pd.read_parquet(io.BytesIO(b"".join(response.streaming_content)))
    assert response["Content-Disposition"].startswith("attachment;")
    assert frame.shape == (120, 3)


def test_download_name_is_safe(user_client, user, tmp_path):
    data = make_dataset(user, tmp_path, b"a\n1\n", name="x.csv")
    Dataset.objects.filter(pk=data.pk).update(name='../"evil"\r\nX-Header: 1')

    response = user_client.get(reverse("csv_processor:dataset-download-csv", args=[data.pk, 1]))

    assert response["Content-Disposition"] == 'attachment; filename="evil_X-Header_1-v1.csv"'


def test_rename(user_client, dataset):
    url = reverse("csv_processor:dataset-edit", args=[dataset.pk])

    blank = user_client.post(url, {"name": "   ", "description": ""})
    saved = user_client.post(url, {"name": "Renamed", "description": "Numbers for tests"})

    dataset.refresh_from_db()
    assert blank.status_code == 400
    assert saved.status_code == 302
    assert (dataset.name, dataset.description) == ("Renamed", "Numbers for tests")


def test_delete_asks_then_removes_rows_and_files(user_client, dataset, media_root, django_capture_on_commit_callbacks):
    url = reverse("csv_processor:dataset-delete", args=[dataset.pk])
    dataset_files = [path for path in media_files(media_root) if path.parent.name in {"uploads", "versions"}]
    assert len(dataset_files) == 2

    confirm = user_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        deleted = user_client.post(url)

    assert b"cannot be undone" in confirm.content
    assert deleted.status_code == 302
    assert not Dataset.objects.exists()
    assert not DatasetVersion.objects.exists()
    assert not Upload.objects.exists()
    assert not any(path.exists() for path in dataset_files)


@pytest.mark.parametrize(
    ("name", "method", "extra"),
    [
        ("dataset-detail", "get", []),
        ("dataset-edit", "get", []),
        ("dataset-edit", "post", []),
        ("dataset-delete", "get", []),
        ("dataset-delete", "post", []),
        ("dataset-profile", "get", [1]),
        ("dataset-download-csv", "get", [1]),
        ("dataset-download-parquet", "get", [1]),
    ],
)
def test_another_users_dataset_is_404(client, other_user, dataset, name, method, extra):
    client.force_login(other_user)

    response = getattr(client, method)(reverse(f"csv_processor:{name}", args=[dataset.pk, *extra]), {"name": "x"})

    assert response.status_code == 404
    assert Dataset.objects.get(pk=dataset.pk).name == dataset.name


def test_missing_version_is_404(user_client, dataset):
    response = user_client.get(reverse("csv_processor:dataset-profile", args=[dataset.pk, 9]))

    assert response.status_code == 404


def test_anonymous_is_sent_to_login(client, dataset):
    response = client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]))

    assert response.status_code == 302
    assert reverse("users:login") in response["Location"]


def test_media_files_have_no_public_url(user_client, dataset):
    response = user_client.get("/media/" + dataset.current_version.file.name)

    assert response.status_code == 404


def test_delete_removes_trained_model_files_too(
    user_client, user, tmp_path, media_root, django_capture_on_commit_callbacks
):
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    from csv_processor.services.training.model_store import trained_model_save
    from tests.csv_processor.helpers import classification_csv, queue_run

    data = make_dataset(user, tmp_path, classification_csv(), name="clients.csv")
    run = queue_run(user, data.current_version)
    pipeline = Pipeline([("model", DummyClassifier())]).fit([[0], [1]], ["no", "yes"])
    model_file = media_root / trained_model_save(run=run, pipeline=pipeline, algorithm="dummy").file.name
    assert model_file.exists()

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("csv_processor:dataset-delete", args=[data.pk]))

    assert not model_file.exists()
