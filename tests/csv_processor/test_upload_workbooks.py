"""Excel workbooks and Parquet files through the upload flow: the door, the confirm step, the parse."""

import pyarrow as pa
import pytest
from django.urls import reverse

from csv_processor.ml.csv import workbook
from csv_processor.models import Dataset, Upload
from csv_processor.services.datasets.ingest import upload_ingest
from tests.csv_processor.helpers import make_dataset, media_files, post_upload
from tests.workbooks import parquet_bytes, with_parts, xlsx_bytes

pytestmark = pytest.mark.django_db


BOOK = xlsx_bytes(
    {
        "People": [["name", "age"], ["Ada", 36], ["Grace", 45], ["Alan", 41]],
        "Cities": [["city", "population", "capital"], ["London", 8.9, True], ["Lyon", 0.5, False]],
    }
)


def _with_parts(parts: dict[str, bytes]) -> bytes:
    return with_parts(BOOK, parts)


def _confirm(client, upload: Upload, **fields: str):
    url = reverse("csv_processor:upload-confirm", args=[upload.pk])
    return client.post(url, {"dataset_name": "Imported", **fields})


def _assert_nothing_left(media_root) -> None:
    assert Upload.objects.count() == 0
    assert Dataset.objects.count() == 0
    assert media_files(media_root) == []


def test_upload_form_offers_workbooks_andparquet_bytes(user_client):
    response = user_client.get(reverse("csv_processor:upload-new"))

    assert b".xlsx" in response.content
    assert b".parquet" in response.content
    assert 'accept=".csv,.tsv,.txt,.xlsx,.parquet' in response.content.decode()


def test_xlsx_first_sheet_becomes_a_dataset(user_client, user):
    response = post_upload(user_client, "team.xlsx", BOOK)

    upload = Upload.objects.get()
    assert response.status_code == 302
    assert upload.source_format == Upload.Format.XLSX
    assert upload.file.name.endswith(".xlsx")
    assert upload.parse_options == {"sheets": ["People", "Cities"], "sheet": "People"}
    page = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))
    assert page.status_code == 200
    assert b"Grace" in page.content
    assert b'name="sheet"' in page.content

    assert _confirm(user_client, upload, sheet="People").status_code == 302
    upload_ingest(upload_id=upload.pk)

    version = Dataset.objects.get(owner=user).current_version
    assert (version.row_count, version.column_count) == (3, 2)
    assert [column["name"] for column in version.schema] == ["name", "age"]
    assert version.produced_by["format"] == "xlsx"
    assert version.produced_by["parse_options"]["sheet"] == "People"


def test_xlsx_chosen_sheet_becomes_the_dataset(user_client, user):
    post_upload(user_client, "team.xlsx", BOOK)
    upload = Upload.objects.get()
    preview = user_client.get(
        reverse("csv_processor:upload-preview", args=[upload.pk]), {"dataset_name": "x", "sheet": "Cities"}
    )
    assert b"Lyon" in preview.content

    assert _confirm(user_client, upload, sheet="Cities").status_code == 302
    upload_ingest(upload_id=upload.pk)

    version = Dataset.objects.get(owner=user).current_version
    assert [column["name"] for column in version.schema] == ["city", "population", "capital"]
    assert version.row_count == 2
    assert Upload.objects.get().parse_options["sheet"] == "Cities"


def test_xlsx_confirm_refuses_a_sheet_the_workbook_lacks(user_client):
    post_upload(user_client, "team.xlsx", BOOK)
    upload = Upload.objects.get()

    response = _confirm(user_client, upload, sheet="Missing")

    assert response.status_code == 400
    assert Upload.objects.get().status == Upload.Status.AWAITING_CONFIRMATION


def test_single_sheet_workbook_has_no_sheet_picker(user_client, user):
    post_upload(user_client, "one.xlsx", xlsx_bytes({"Only": [["a", "b"], [1, 2]]}))
    upload = Upload.objects.get()

    page = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))
    assert b'name="sheet"' not in page.content
    assert _confirm(user_client, upload).status_code == 302
    upload_ingest(upload_id=upload.pk)

    assert Dataset.objects.get(owner=user).current_version.row_count == 1


def test_parquet_becomes_a_dataset(user_client, user):
    table = pa.table({"x": pa.array([1, 2, 3], pa.int32()), "label": pa.array(["a", "b", "a"]).dictionary_encode()})
    post_upload(user_client, "data.parquet", parquet_bytes(table))
    upload = Upload.objects.get()
    assert upload.source_format == Upload.Format.PARQUET
    page = user_client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))
    assert page.status_code == 200
    assert b"label" in page.content

    assert _confirm(user_client, upload).status_code == 302
    upload_ingest(upload_id=upload.pk)

    version = Dataset.objects.get(owner=user).current_version
    assert (version.row_count, version.column_count) == (3, 2)
    assert version.produced_by["format"] == "parquet"


HOSTILE = {
    "macros": ("m.xlsx", lambda: _with_parts({"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 64}), "macros"),
    "macro-enabled name": ("m.xlsm", lambda: BOOK, "macro"),
    "external links": (
        "l.xlsx",
        lambda: _with_parts({"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}),
        "external links",
    ),
    "zip bomb": ("bomb.xlsx", lambda: _with_parts({"xl/worksheets/sheet9.xml": b"0" * (8 * 1024**2)}), "zip bomb"),
    "entity declarations": (
        "lol.xlsx",
        lambda: _with_parts({"customXml/item1.xml": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'}),
        "XML entities",
    ),
    "damaged workbook": ("bad.xlsx", lambda: BOOK[: len(BOOK) // 2], "damaged"),
    "csv named xlsx": ("data.xlsx", lambda: b"a,b\n1,2\n", "not an Excel workbook"),
    "damaged parquet": ("bad.parquet", lambda: b"PAR1" + b"\x00" * 64 + b"PAR1", "not a valid Parquet"),
    "csv named parquet": ("data.parquet", lambda: b"a,b\n1,2\n", "not a Parquet file"),
    "nested parquet": ("nest.parquet", lambda: parquet_bytes(pa.table({"tags": [["a"], ["b"]]})), "tags"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_get_a_clear_400_and_leave_nothing(case, user_client, media_root):
    name, body, says = HOSTILE[case]

    response = post_upload(user_client, name, body())

    assert response.status_code == 400
    assert says.lower() in response.context["form"].errors["file"][0].lower()
    _assert_nothing_left(media_root)


def test_huge_shared_string_table_is_refused(user_client, media_root, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_SHARED_STRINGS_BYTES", 64 * 1024)
    strings = "".join(f"<si><t>text {i}</t></si>" for i in range(10_000)).encode()
    body = _with_parts({"xl/sharedStrings.xml": b"<sst>" + strings + b"</sst>"})

    response = post_upload(user_client, "sst.xlsx", body)

    assert response.status_code == 400
    assert "table of texts" in response.context["form"].errors["file"][0]
    _assert_nothing_left(media_root)


def test_another_users_workbook_upload_is_a_404(client, other_user, user_client):
    post_upload(user_client, "team.xlsx", BOOK)
    upload = Upload.objects.get()
    client.force_login(other_user)

    confirm = client.get(reverse("csv_processor:upload-confirm", args=[upload.pk]))
    preview = client.get(reverse("csv_processor:upload-preview", args=[upload.pk]), {"sheet": "Cities"})

    assert (confirm.status_code, preview.status_code) == (404, 404)


def test_a_sheet_problem_past_the_checked_rows_fails_the_parse_with_its_row(user_client, media_root):
    rows = [["a", "b"]] + [[i, i] for i in range(1500)] + [[1, 2, "stray"]]
    post_upload(user_client, "long.xlsx", xlsx_bytes({"S": rows}))
    upload = Upload.objects.get()
    assert _confirm(user_client, upload).status_code == 302

    upload_ingest(upload_id=upload.pk)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert "Row 1502" in upload.error
    assert Dataset.objects.count() == 0
    assert media_files(media_root) == [media_root / upload.file.name]


def test_the_import_path_reads_a_workbooks_first_sheet(user, tmp_path):
    dataset = make_dataset(user, tmp_path, BOOK, name="team.xlsx")

    version = dataset.current_version
    assert [column["name"] for column in version.schema] == ["name", "age"]
    assert version.row_count == 3
