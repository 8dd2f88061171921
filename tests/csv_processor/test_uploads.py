"""Uploading: the checks at the door, the confirm step and the parse into a dataset."""

import gzip
import io
import zipfile

import pytest
from django.urls import reverse

from csv_processor.models import Dataset, DatasetVersion, Upload
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.uploads import upload_confirm
from tests.csv_processor.helpers import media_files, post_upload

pytestmark = pytest.mark.django_db

GOOD_CSV = b"name,age,city\nAda,36,London\nGrace,45,New York\nAlan,41,Manchester\n"


def _assert_nothing_left(media_root):
    assert Upload.objects.count() == 0
    assert Dataset.objects.count() == 0
    assert media_files(media_root) == []


def test_upload_page_shows_the_form(user_client):
    response = user_client.get(reverse("csv_processor:upload-new"))

    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert b"data-dropzone" in response.content


def test_upload_requires_login(client):
    response = client.get(reverse("csv_processor:upload-new"))

    assert response.status_code == 302
    assert reverse("users:login") in response["Location"]


def test_upload_stores_original_and_redirects_to_confirm(user_client, user, media_root):
    response = post_upload(user_client, "people.csv", GOOD_CSV)

    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("csv_processor:upload-confirm", args=[upload.pk])
    assert upload.owner == user
    assert upload.original_name == "people.csv"
    assert upload.size_bytes == len(GOOD_CSV)
    assert upload.parse_options["delimiter"] == ","
    # Stored under a generated name, never the user's.
    assert "people" not in upload.file.name
    assert (media_root / upload.file.name).read_bytes() == GOOD_CSV
    assert Dataset.objects.count() == 0


def test_confirm_page_previews_the_parse(user_client):
    post_upload(user_client, "people.csv", GOOD_CSV)
    upload = Upload.objects.get()

    response = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))

    assert response.status_code == 200
    assert b"Grace" in response.content
    assert b"New York" in response.content
    assert response.context["preview"].columns[1]["name"] == "age"


def test_preview_partial_reparses_with_changed_settings(user_client):
    post_upload(user_client, "semi.csv", b"a;b\n1,5;2\n3,5;4\n")
    upload = Upload.objects.get()
    url = reverse("csv_processor:upload-preview", args=[upload.pk])
    params = {
        "dataset_name": "x",
        "encoding": "utf-8",
        "delimiter": ",",
        "quotechar": '"',
        "decimal": ".",
        "has_header": "on",
    }

    as_comma = user_client.get(url, params)
    as_semicolon = user_client.get(url, {**params, "delimiter": ";", "decimal": ","})

    assert [c["name"] for c in as_comma.context["preview"].columns] != ["a", "b"]
    assert [c["name"] for c in as_semicolon.context["preview"].columns] == ["a", "b"]
    assert as_semicolon.context["preview"].rows[0][0].text == "1.5"


def test_confirm_queues_parse_and_ingest_creates_dataset(user_client, user, django_capture_on_commit_callbacks):
    post_upload(user_client, "people.csv", GOOD_CSV)
    upload = Upload.objects.get()
    form = {
        "dataset_name": "People",
        "encoding": "utf-8",
        "delimiter": ",",
        "quotechar": '"',
        "decimal": ".",
        "has_header": "on",
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(reverse("csv_processor:upload-confirm", args=[upload.pk]), form)
    upload.refresh_from_db()
    assert response.status_code == 302
    assert upload.status == Upload.Status.QUEUED
    assert len(callbacks) == 1

    upload_ingest(upload_id=upload.pk)

    dataset = Dataset.objects.get()
    version = dataset.current_version
    assert dataset.name == "People"
    assert dataset.owner == user
    assert (version.number, version.row_count, version.column_count) == (1, 3, 3)
    assert [column["name"] for column in version.schema] == ["name", "age", "city"]
    assert version.produced_by["kind"] == "parse"
    status = user_client.get(reverse("csv_processor:upload-status", args=[upload.pk]))
    assert status["Location"] == reverse("csv_processor:dataset-detail", args=[dataset.pk])


def test_ingest_twice_creates_one_dataset(user, django_capture_on_commit_callbacks, client):
    client.force_login(user)
    post_upload(client, "people.csv", GOOD_CSV)
    upload = Upload.objects.get()
    upload_confirm(upload=upload, options=upload.parse_options, dataset_name="P")

    upload_ingest(upload_id=upload.pk)
    second = upload_ingest(upload_id=upload.pk)

    assert second is None
    assert Dataset.objects.count() == 1
    assert DatasetVersion.objects.count() == 1


def test_confirm_with_a_bad_parse_shows_the_error(user_client):
    post_upload(user_client, "people.csv", GOOD_CSV)
    upload = Upload.objects.get()
    form = {"dataset_name": "People", "encoding": "utf-16", "delimiter": ",", "quotechar": '"', "decimal": "."}

    response = user_client.post(reverse("csv_processor:upload-confirm", args=[upload.pk]), form)

    upload.refresh_from_db()
    assert response.status_code == 400
    assert upload.status == Upload.Status.AWAITING_CONFIRMATION
    assert response.context["form"].non_field_errors()


def test_background_parse_failure_is_reported_and_discard_removes_the_file(
    user_client, settings, media_root, django_capture_on_commit_callbacks
):
    settings.SYNC_PARSE_MAX_BYTES = 0
    body = b"a,b\n" + b"1,2\n" * 2000 + b"3,4,5\n"
    post_upload(user_client, "ragged.csv", body)
    upload = Upload.objects.get()
    upload_confirm(upload=upload, options=upload.parse_options, dataset_name="R")

    upload_ingest(upload_id=upload.pk)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert "2002" in upload.error
    page = user_client.get(reverse("csv_processor:upload-status", args=[upload.pk]))
    assert upload.error.encode() in page.content.replace(b"&#x27;", b"'").replace(b"&quot;", b'"')
    assert Dataset.objects.count() == 0
    assert [p.suffix for p in media_files(media_root)] == [".csv"]

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(reverse("csv_processor:upload-discard", args=[upload.pk]))

    assert response.status_code == 302
    _assert_nothing_left(media_root)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _xlsx_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


BAD_FILES = {
    "empty": ("empty.csv", b""),
    "header only": ("header.csv", b"a,b,c\n"),
    "binary renamed": ("program.csv", bytes(range(256)) * 40),
    "gzip renamed": ("data.csv", _gzip(GOOD_CSV * 50)),
    "spreadsheet renamed": ("book.csv", _xlsx_like()),
    "unbalanced quotes": ("quotes.csv", b'a,b\n1,"open\n2,3\n4,5\n'),
    "ragged rows": ("ragged.csv", b"a,b\n1,2\n3,4,5\n6,7\n"),
    "extra field in first data row": ("shift.csv", b"a,b\n1,2,3\n4,5\n6,7\n"),
    "invalid utf-8 deep in the file": ("deep.csv", b"a,b\n" + b"abc,def\n" * 300_000 + b"\xff\xfe\xfa,x\n"),
    "wrong suffix": ("data.xlsx", GOOD_CSV),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_get_a_clear_400_and_leave_nothing(case, user_client, media_root):
    name, body = BAD_FILES[case]

    response = post_upload(user_client, name, body)

    assert response.status_code == 400
    errors = response.context["form"].errors["file"]
    assert errors
    assert len(errors[0]) > 15
    _assert_nothing_left(media_root)


def test_two_hundred_thousand_columns_are_refused(user_client, media_root):
    header = ",".join(f"c{i}" for i in range(200_000)).encode()
    row = ",".join("1" for _ in range(200_000)).encode()

    response = post_upload(user_client, "wide.csv", header + b"\n" + row + b"\n")

    assert response.status_code == 400
    assert "column" in response.context["form"].errors["file"][0].lower()
    _assert_nothing_left(media_root)


def test_ten_megabyte_single_line_is_refused(user_client, settings, media_root):
    settings.SYNC_PARSE_MAX_BYTES = 20 * 1024 * 1024

    response = post_upload(user_client, "line.csv", b"a," + b"x" * (10 * 1024 * 1024 + 10) + b"\n")

    assert response.status_code == 400
    _assert_nothing_left(media_root)


def test_file_over_the_cap_gets_413_from_content_length(user_client, settings, media_root):
    settings.UPLOAD_MAX_BYTES = 1000

    response = post_upload(user_client, "big.csv", b"a,b\n" + b"1,2\n" * 30_000)

    assert response.status_code == 413
    assert b"too large" in response.content
    _assert_nothing_left(media_root)


def test_file_over_the_cap_is_stopped_while_streaming(user_client, settings, media_root):
    # Under the Content-Length check (which allows for the multipart envelope), caught by the handler.
    settings.UPLOAD_MAX_BYTES = 1000

    response = post_upload(user_client, "big.csv", b"a,b\n" + b"1,2\n" * 400)

    assert response.status_code == 413
    assert b"too large" in response.content
    _assert_nothing_left(media_root)


def test_quota_exceeded_gets_413_with_usage(user_client, settings, media_root):
    settings.USER_QUOTA_BYTES = len(GOOD_CSV) + 10
    post_upload(user_client, "one.csv", GOOD_CSV)

    response = post_upload(user_client, "two.csv", GOOD_CSV)

    assert response.status_code == 413
    assert "storage is full" in response.context["form"].errors["file"][0]
    assert Upload.objects.count() == 1


def test_path_traversal_and_script_file_names_are_harmless(user_client, media_root):
    post_upload(user_client, "../../etc/<script>alert(1)</script>.csv", GOOD_CSV)
    upload = Upload.objects.get()

    page = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))

    assert "/" not in upload.original_name
    assert upload.file.name.startswith("uploads/")
    assert b"<script>alert(1)" not in page.content
    assert b"script&gt;.csv" in page.content
    assert all(path.is_relative_to(media_root) for path in media_files(media_root))


def test_another_users_upload_is_404(client, other_user, user):
    client.force_login(user)
    post_upload(client, "mine.csv", GOOD_CSV)
    upload = Upload.objects.get()
    client.force_login(other_user)

    for name in ("upload-confirm", "upload-status", "upload-preview"):
        assert client.get(reverse(f"csv_processor:{name}", args=[upload.pk])).status_code == 404
    assert client.post(reverse("csv_processor:upload-discard", args=[upload.pk])).status_code == 404
    assert Upload.objects.count() == 1


def test_upload_form_without_a_file_is_400(user_client):
    response = user_client.post(reverse("csv_processor:upload-new"), {})

    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_utf16_file_uploads(user_client):
    body = "name,city\nZoë,Zürich\n".encode("utf-16")

    response = post_upload(user_client, "u16.csv", body)

    assert response.status_code == 302
    assert Upload.objects.get().parse_options["encoding"].lower().startswith("utf-16")


def test_script_in_headers_and_cells_is_shown_as_text(user_client):
    post_upload(user_client, "x.csv", b"<script>alert('h')</script>,b\n<img src=x onerror=alert(1)>,2\n")
    upload = Upload.objects.get()

    page = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk])).content.decode()

    assert "<script>alert('h')" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;h&#x27;)&lt;/script&gt;" in page
