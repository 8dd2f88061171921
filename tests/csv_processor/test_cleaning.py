"""Cleaning through the web: preview, apply as a new version, conflicts, going back, suggestions."""

import json

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from csv_processor.models import CleaningJob, CleanModelArtifact, Dataset, DatasetVersion
from csv_processor.selectors.datasets import dataset_version_frame, dataset_version_recipe
from csv_processor.services.cleaning.jobs import cleaning_job_create, cleaning_job_execute
from csv_processor.services.cleaning.suggestions import suggestion_model_get
from tests.csv_processor.helpers import make_dataset

pytestmark = pytest.mark.django_db

BODY = (
    b"name,age,income,city\n"
    b'Ada,36,"1,000",London\n'
    b'Grace,,"2,500", Paris \n'
    b"Alan,41,n/a,London\n"
    b'Linus,29,"3,000",Oslo\n'
    b'Ada,36,"1,000",London\n'
)


@pytest.fixture
def dataset(user, tmp_path):
    return make_dataset(user, tmp_path, BODY, name="people.csv")


def _apply(client, dataset, op, *, confirm_loss=None, **params):
    data = {"op": op, "base_version": dataset.current_version_id}
    if confirm_loss:
        data["confirm_loss"] = confirm_loss
    data.update({f"p_{key}": value for key, value in params.items()})
    return client.post(reverse("csv_processor:cleaning-apply", args=[dataset.pk]), data)


def test_cleaning_page_lists_operations_and_builds_the_form(user_client, dataset):
    response = user_client.get(reverse("csv_processor:cleaning", args=[dataset.pk]), {"op": "fill_missing"})

    assert response.status_code == 200
    assert b"Fill missing values" in response.content
    assert b"Drop duplicate rows" in response.content
    assert "p_strategy" in response.context["form"].fields
    assert [choice for choice, _ in response.context["form"].fields["p_column"].choices] == [
        "name",
        "age",
        "income",
        "city",
    ]


def test_preview_describes_the_change_without_writing(user_client, dataset):
    url = reverse("csv_processor:cleaning-preview", args=[dataset.pk])

    response = user_client.post(
        url,
        {"op": "fill_missing", "base_version": dataset.current_version_id, "p_column": "age", "p_strategy": "median"},
    )

    assert response.status_code == 200
    assert b"Fill missing" in response.content
    assert b"1 rows" in response.content
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def test_apply_makes_a_new_current_version_and_records_the_step(user_client, dataset):
    response = _apply(user_client, dataset, "fill_missing", column="age", strategy="median")

    dataset.refresh_from_db()
    version = dataset.current_version
    assert response.status_code == 302
    assert version.number == 2
    assert version.parent.number == 1
    assert version.produced_by["kind"] == "clean"
    assert version.produced_by["step"]["params"]["value"] == 36.0
    assert dataset_version_frame(version=version)["age"].isna().sum() == 0
    assert dataset_version_recipe(version=version) == [version.produced_by["step"]]
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]))
    assert b"median" in page.content


def test_apply_on_a_missing_column_is_400_and_writes_nothing(user_client, dataset):
    response = _apply(user_client, dataset, "trim_whitespace", column="nope")

    assert response.status_code == 400
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def test_wrong_type_condition_is_400(user_client, dataset):
    response = _apply(user_client, dataset, "delete_rows_where", column="age", condition="less_than", value="abc")

    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def test_lossy_conversion_needs_confirmation(user_client, dataset):
    refused = _apply(user_client, dataset, "to_number", column="city")
    dataset.refresh_from_db()

    assert refused.status_code == 400
    assert "I understand" in refused.context["form"].non_field_errors()[0]
    assert dataset.current_version.number == 1

    accepted = _apply(user_client, dataset, "to_number", column="city", confirm_loss="on")
    dataset.refresh_from_db()
    assert accepted.status_code == 302
    assert dataset.current_version.number == 2


def test_stale_page_gets_409_and_changes_nothing(user_client, dataset):
    stale = dataset.current_version_id
    _apply(user_client, dataset, "drop_duplicates")
    dataset.refresh_from_db()

    response = user_client.post(
        reverse("csv_processor:cleaning-apply", args=[dataset.pk]),
        {"op": "drop_columns", "base_version": stale, "p_columns": ["city"]},
    )

    dataset.refresh_from_db()
    assert response.status_code == 409
    assert "changed" in response.context["form"].non_field_errors()[0]
    assert dataset.current_version.number == 2
    assert "city" in dataset_version_frame(version=dataset.current_version).columns


def test_two_jobs_on_the_same_version_one_wins(user, dataset, settings, media_root):
    settings.SYNC_CLEAN_MAX_ROWS = 0
    base = dataset.current_version
    first = cleaning_job_create(
        owner=user, version=base, op="drop_columns", params={"columns": ["city"]}, confirm_loss=False
    )
    second = cleaning_job_create(
        owner=user, version=base, op="drop_columns", params={"columns": ["name"]}, confirm_loss=False
    )

    cleaning_job_execute(job_id=first.pk)
    cleaning_job_execute(job_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    dataset.refresh_from_db()
    assert first.status == CleaningJob.Status.SUCCEEDED
    assert second.status == CleaningJob.Status.FAILED
    assert "changed" in second.error
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 2
    assert list(dataset_version_frame(version=dataset.current_version).columns) == ["name", "age", "income"]
    stored = sorted(p.name for p in (media_root / "versions").iterdir())
    assert len(stored) == 2


def test_large_dataset_runs_in_the_background(user_client, user, dataset, settings, django_capture_on_commit_callbacks):
    settings.SYNC_CLEAN_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _apply(user_client, dataset, "drop_duplicates")
    job = CleaningJob.objects.get()

    assert response["Location"] == reverse("csv_processor:cleaning-job", args=[job.pk])
    assert len(callbacks) == 1
    waiting = user_client.get(response["Location"])
    assert b"updates by itself" in waiting.content

    cleaning_job_execute(job_id=job.pk)
    done = user_client.get(response["Location"])

    dataset.refresh_from_db()
    assert done.status_code == 302
    assert dataset.current_version.row_count == 4


def test_restore_goes_back_and_keeps_later_versions(user_client, dataset):
    _apply(user_client, dataset, "drop_duplicates")

    response = user_client.post(reverse("csv_processor:version-restore", args=[dataset.pk, 1]))

    dataset.refresh_from_db()
    assert response.status_code == 302
    assert dataset.current_version.number == 1
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 2
    branched = _apply(user_client, dataset, "drop_columns", columns=["city"])
    dataset.refresh_from_db()
    assert branched.status_code == 302
    assert (dataset.current_version.number, dataset.current_version.parent.number) == (3, 1)


def test_delete_selected_rows_from_the_table(user_client, dataset):
    form = user_client.get(
        reverse("csv_processor:cleaning", args=[dataset.pk]), {"op": "delete_rows", "positions": ["1", "3"]}
    )
    assert form.context["form"].initial["p_positions"] == "1,3"
    assert 'value="1,3"' in form.content.decode()

    _apply(user_client, dataset, "delete_rows", positions="1,3")

    dataset.refresh_from_db()
    frame = dataset_version_frame(version=dataset.current_version)
    assert frame["name"].tolist() == ["Ada", "Alan", "Ada"]
    assert dataset.current_version.produced_by["training_only"] is True


def test_recipe_replay_equals_the_chain(user_client, dataset):
    from csv_processor.ml.cleaning.recipe import Recipe, apply_recipe

    _apply(user_client, dataset, "to_number", column="income", confirm_loss="on")
    _apply(user_client, Dataset.objects.get(pk=dataset.pk), "trim_whitespace", column="city")
    _apply(user_client, Dataset.objects.get(pk=dataset.pk), "fill_missing", column="age", strategy="mean")
    _apply(user_client, Dataset.objects.get(pk=dataset.pk), "drop_duplicates")
    dataset.refresh_from_db()
    first = DatasetVersion.objects.get(dataset=dataset, number=1)

    replayed = apply_recipe(
        dataset_version_frame(version=first),
        Recipe.from_list(dataset_version_recipe(version=dataset.current_version)),
        training=True,
    )

    assert dataset.current_version.number == 5
    pd.testing.assert_frame_equal(
        replayed.reset_index(drop=True), dataset_version_frame(version=dataset.current_version)
    )


def test_suggestions_are_shown_applied_and_dismissed(user_client, user, tmp_path):
    body = b"id,temp,label\n" + b"".join(
        f"{i},{-200 if i % 5 == 0 else 20 + i % 7},x{i % 3}\n".encode() for i in range(200)
    )
    data = make_dataset(user, tmp_path, body, name="sensor.csv")
    suggestions = data.current_version.suggestions
    actions = {item["column"]: item["action"] for item in suggestions}
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[data.pk]))

    assert actions.get("temp") == "replace_sentinels"
    assert b"replace" in page.content.lower()

    user_client.post(
        reverse("csv_processor:suggestion-dismiss", args=[data.pk]), {"column": "id", "action": actions["id"]}
    )
    user_client.post(
        reverse("csv_processor:suggestion-apply", args=[data.pk]), {"column": "temp", "action": "replace_sentinels"}
    )

    data.refresh_from_db()
    assert f"id\x1f{actions['id']}" in data.dismissed_suggestions
    assert data.current_version.number == 2
    assert dataset_version_frame(version=data.current_version)["temp"].isna().sum() == 40


def test_apply_all_suggestions(user_client, user, tmp_path):
    body = b"id,temp\n" + b"".join(f"{i},{-200 if i % 5 == 0 else 20 + i % 7}\n".encode() for i in range(200))
    data = make_dataset(user, tmp_path, body, name="sensor.csv")
    wanted = [s for s in data.current_version.suggestions if s["step"]]

    user_client.post(reverse("csv_processor:suggestion-apply", args=[data.pk]), {"all": "1"})

    data.refresh_from_db()
    assert data.current_version.number == 1 + len(wanted)


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("cleaning", "get", []),
        ("cleaning-preview", "post", []),
        ("cleaning-apply", "post", []),
        ("version-restore", "post", [1]),
        ("suggestion-apply", "post", []),
        ("suggestion-dismiss", "post", []),
    ],
)
def test_another_users_dataset_is_404(client, other_user, dataset, name, method, args):
    client.force_login(other_user)

    response = getattr(client, method)(
        reverse(f"csv_processor:{name}", args=[dataset.pk, *args]),
        {"op": "drop_duplicates", "base_version": dataset.current_version_id},
    )

    assert response.status_code == 404
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1


def test_another_users_cleaning_job_is_404(client, user, other_user, dataset):
    job = cleaning_job_create(
        owner=user, version=dataset.current_version, op="drop_duplicates", params={}, confirm_loss=False
    )
    client.force_login(other_user)

    assert client.get(reverse("csv_processor:cleaning-job", args=[job.pk])).status_code == 404


def test_cleaning_job_create_refuses_an_old_version(user, dataset):
    cleaning_job_create(
        owner=user, version=dataset.current_version, op="drop_duplicates", params={}, confirm_loss=False
    )
    old = DatasetVersion.objects.get(dataset=dataset, number=1)

    with pytest.raises(ValidationError) as excinfo:
        cleaning_job_create(owner=user, version=old, op="drop_duplicates", params={}, confirm_loss=False)
    assert excinfo.value.code == "conflict"


def test_train_clean_model_command_stores_a_hashed_model(db, capsys):
    # Other modules' fixtures may have stored a model already: count from here.
    before = CleanModelArtifact.objects.count()
    call_command("train_clean_model")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    call_command("train_clean_model", "--if-missing")
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert summary["trained"] is True
    assert summary["held_out_accuracy"] >= 0.9
    assert again["trained"] is False
    assert CleanModelArtifact.objects.count() == before + 1


def test_clean_model_refuses_a_tampered_file(db, media_root):
    from django.core.exceptions import ImproperlyConfigured

    call_command("train_clean_model")
    artifact = CleanModelArtifact.objects.first()  # the newest, the one loads use
    path = media_root / artifact.file.name
    path.write_bytes(path.read_bytes() + b"tampered")
    CleanModelArtifact.objects.filter(pk=artifact.pk).update(sha256=artifact.sha256)

    from csv_processor.services.cleaning import suggestions as clean_model

    clean_model._cache.clear()
    with pytest.raises(ImproperlyConfigured, match="hash"):
        suggestion_model_get()


def test_clean_model_is_trained_again_when_its_file_is_missing(db, media_root):
    call_command("train_clean_model")
    lost = CleanModelArtifact.objects.first()
    (media_root / lost.file.name).unlink()

    from csv_processor.services.cleaning import suggestions as clean_model

    clean_model._cache.clear()
    model = suggestion_model_get()

    assert model is not None
    assert CleanModelArtifact.objects.first().pk != lost.pk
