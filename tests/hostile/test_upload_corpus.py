"""Every file of the hostile corpus through the real pages: upload, confirm parse, ingest, view, download."""

import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csv_processor.models import Upload
from csv_processor.services.datasets.ingest import upload_ingest
from tests.hostile.checks import Snapshot, assert_clear_message, shown_errors
from tests.hostile.corpus import CASES, DATASET, FAILED, REFUSED, HostileFile

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """Python's (and so Django's upload and our transcoding) temporary folder, watched for leftovers."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _upload(client, case: HostileFile):
    upload = SimpleUploadedFile(case.filename, case.build(), content_type=case.content_type)
    return client.post(reverse("csv_processor:upload-new"), {"file": upload})


def _confirm(client, upload: Upload):
    options = upload.parse_options
    form = {
        "dataset_name": upload.dataset_name,
        "encoding": options["encoding"],
        "delimiter": options["delimiter"],
        "quotechar": options["quotechar"],
        "decimal": options["decimal"],
        "thousands": options["thousands"] or "",
        "na_values": "",
    }
    form.update({flag: "on" for flag in ("has_header", "skip_initial_space") if options[flag]})
    return client.post(reverse("csv_processor:upload-confirm", args=[upload.pk]), form)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_upload(name, user_client, settings, media_root, temp_root, django_capture_on_commit_callbacks):
    case = CASES[name]
    if case.sync_parse_max_bytes is not None:
        settings.SYNC_PARSE_MAX_BYTES = case.sync_parse_max_bytes
    before = Snapshot.take(media_root, temp_root)

    response = _upload(user_client, case)

    assert response.status_code < 500
    if case.outcome == REFUSED:
        assert response.status_code in (400, 413), response.status_code
        errors = shown_errors(response.content)
        assert len(errors) == 1, errors
        assert_clear_message(errors[0], case.says)
        before.assert_unchanged(media_root, temp_root)
        return
    assert response.status_code == 302, shown_errors(response.content)
    upload = Upload.objects.get(owner__isnull=False, pk=Upload.objects.latest("pk").pk)
    assert "/" not in upload.original_name
    assert "\x00" not in upload.original_name
    assert len(upload.original_name) <= 255
    assert upload.file.name.startswith("uploads/")
    _check_confirm_page(user_client, upload, case)
    assert _confirm(user_client, upload).status_code == 302
    done = upload_ingest(upload_id=upload.pk)
    if case.outcome == FAILED:
        _check_failed_parse(user_client, done, case, before, media_root, temp_root, django_capture_on_commit_callbacks)
        return
    assert case.outcome == DATASET
    assert done.status == Upload.Status.SUCCEEDED, done.error
    _check_dataset_pages(user_client, done, case)
    assert not set(temp_root.iterdir()), "temporary files left behind"


def _check_confirm_page(client, upload: Upload, case: HostileFile) -> None:
    page = client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))
    assert page.status_code == 200
    preview = page.context["preview"]
    if case.outcome == DATASET:
        assert not preview.error, preview.error
    if case.columns is not None:
        assert tuple(column["name"] for column in preview.columns) == case.columns
    if case.first is not None:
        assert tuple(cell.text for cell in preview.rows[0]) == case.first
    _assert_markup_escaped(page.content)


def _check_failed_parse(client, upload: Upload, case: HostileFile, before, media_root, temp_root, on_commit) -> None:
    assert upload.status == Upload.Status.FAILED
    assert_clear_message(upload.error, case.says)
    status = client.get(reverse("csv_processor:upload-status", args=[upload.pk]))
    assert status.status_code == 200
    assert any(upload.error in error for error in shown_errors(status.content)), shown_errors(status.content)
    with on_commit(execute=True):
        discard = client.post(reverse("csv_processor:upload-discard", args=[upload.pk]))
    assert discard.status_code == 302
    before.assert_unchanged(media_root, temp_root)


def _check_dataset_pages(client, upload: Upload, case: HostileFile) -> None:
    dataset = upload.dataset
    version = dataset.current_version
    if case.columns is not None:
        assert tuple(column["name"] for column in version.schema) == case.columns
    detail = client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]))
    assert detail.status_code == 200
    _assert_markup_escaped(detail.content)
    for page in ("dataset-profile", "cleaning", "training-new"):
        args = [dataset.pk] if page == "cleaning" else [dataset.pk, version.number]
        response = client.get(reverse(f"csv_processor:{page}", args=args))
        assert response.status_code == 200, page
        _assert_markup_escaped(response.content)
    download = client.get(reverse("csv_processor:dataset-download-csv", args=[dataset.pk, version.number]))
    assert download.status_code == 200
    assert "/" not in download["Content-Disposition"].split("filename", 1)[1]
    text = b"".join(download.streaming_content).decode("utf-8")
    _assert_no_live_formulas(text)


def _assert_markup_escaped(content: bytes) -> None:
    page = content.decode("utf-8")
    for raw in ("<script>alert", "<img src=x", "</td><script>x()"):
        assert raw not in page, f"unescaped markup {raw!r} in the page"


def _assert_no_live_formulas(text: str) -> None:
    import csv
    import io

    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), f"live formula in download: {cell!r}"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_formula_cells_download_neutralised_and_kept_in_the_table(user_client, tmp_path):
    """The dataset keeps the formulas as text; only the CSV download defuses them (OWASP)."""
    response = _upload(user_client, CASES["formula cells"])
    upload = Upload.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))
    _confirm(user_client, upload)
    dataset = upload_ingest(upload_id=upload.pk).dataset

    download = user_client.get(reverse("csv_processor:dataset-download-csv", args=[dataset.pk, 1]))
    lines = b"".join(download.streaming_content).decode().splitlines()
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk])).content.decode()

    assert lines[1] == "1,'=cmd|' /C calc'!A0"
    assert lines[2:5] == ["2,'+1+1", "3,'-2+3", "4,'@SUM(A1:A2)"]
    assert "&#x27;=" not in page.split("=cmd", 1)[0][-10:]
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page
