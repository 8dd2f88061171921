"""The command-line faces of the ingest service."""

import json

import pytest
from django.core.management import CommandError, call_command

from csv_processor.models import Dataset

pytestmark = pytest.mark.django_db


def test_import_csv_prints_id_and_shape_as_json(user, tmp_path, capsys):
    path = tmp_path / "prices.csv"
    path.write_text("item;price\napple;1,5\npear;2,25\n", encoding="cp1252")

    call_command("import_csv", str(path), "--owner", user.username, "--name", "Prices")

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    dataset = Dataset.objects.get(pk=summary["dataset_id"])
    assert summary == {"dataset_id": dataset.pk, "name": "Prices", "rows": 2, "columns": 2}
    assert dataset.owner == user
    assert dataset.current_version.profile is not None


def test_import_csv_takes_parse_options_as_flags(user, tmp_path, capsys):
    path = tmp_path / "raw.txt"
    path.write_text("1|a\n2|b\n3|c\n")

    call_command("import_csv", str(path), "--owner", user.username, "--delimiter", "|", "--no-header")

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    version = Dataset.objects.get(pk=summary["dataset_id"]).current_version
    assert [column["name"] for column in version.schema] == ["column_1", "column_2"]
    assert version.row_count == 3


def test_import_csv_rejects_unknown_owner_and_bad_files(user, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    with pytest.raises(CommandError, match="No user"):
        call_command("import_csv", str(empty), "--owner", "nobody")
    with pytest.raises(CommandError, match="No file"):
        call_command("import_csv", str(tmp_path / "missing.csv"), "--owner", user.username)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_csv", str(empty), "--owner", user.username)
    assert "empty" in str(excinfo.value).lower()
    assert not Dataset.objects.exists()


def test_load_samples_creates_the_four_samples(user, capsys):
    call_command("load_samples", "--owner", user.username)

    created = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    datasets = {d.name: d.current_version for d in Dataset.objects.filter(owner=user)}
    assert len(created) == 4
    assert datasets["Sample: Iris flowers"].row_count == 150
    assert datasets["Sample: Diabetes"].row_count == 442
    assert datasets["Sample: Breast cancer"].column_count == 31
    species = next(c for c in datasets["Sample: Iris flowers"].schema if c["name"] == "species")
    assert species["kind"] == "categorical"
