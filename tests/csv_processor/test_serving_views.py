"""The serving pages: deploy from a run, the prediction form, batch predictions, versions and rollback."""

import io

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from csv_processor.models import BatchPrediction, DeployedModel
from csv_processor.services.serving.batch import batch_prediction_execute
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.serving.runtime import deployed_model_for_serving, serving_model_get

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]


@pytest.fixture
def owner_client(client, served):
    client.force_login(served.user)
    return client


def test_model_page_shows_card_endpoint_and_versions(owner_client, served):
    response = owner_client.get(reverse("csv_processor:model-detail", args=[served.model.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert escape(served.run.model_card["summary"]) in page
    assert f"/api/models/{served.model.pk}/predict" in page
    assert "v1" in page
    assert "active" in page


def test_model_page_of_another_user_is_404(client, served):
    client.force_login(served.other)

    assert client.get(reverse("csv_processor:model-detail", args=[served.model.pk])).status_code == 404
    assert client.get(reverse("csv_processor:model-predict", args=[served.model.pk])).status_code == 404


def test_prediction_form_is_built_from_the_training_schema(owner_client, served):
    page = owner_client.get(reverse("csv_processor:model-predict", args=[served.model.pk])).content.decode()

    assert 'name="x1"' in page
    assert 'type="number"' in page
    assert "Training range" in page
    assert '<input type="text" name="colour"' in page
    assert '<option value="green"></option>' in page
    assert 'name="id"' not in page
    assert 'name="label"' not in page


def test_prediction_form_answers_with_probabilities_explanation_and_warnings(owner_client, served):
    url = reverse("csv_processor:model-predict", args=[served.model.pk])

    response = owner_client.post(
        url, {"x1": "900", "x2": "0", "colour": "red", "explain": "on"}, HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Prediction: yes" in page
    assert "Class probabilities" in page
    assert "What pushed it most" in page
    assert "far outside the training range" in page


def test_prediction_form_refuses_bad_numbers_with_400_and_the_message_by_field(owner_client, served):
    url = reverse("csv_processor:model-predict", args=[served.model.pk])

    response = owner_client.post(url, {"x1": "lots", "x2": "0", "colour": "red"})
    partial = owner_client.post(url, {"x1": "1", "x2": "nan", "colour": "red"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 400
    assert "Expected a number" in page.split('name="x1"', 1)[1].split('class="field"', 1)[0]
    assert "Prediction:" not in page
    assert partial.status_code == 400
    assert "x2: NaN and infinities are not accepted" in partial.content.decode()


def test_deploy_from_run_page_then_redeploy_rolls_back_and_reloads_the_cache(owner_client, served):
    run_page = owner_client.get(reverse("csv_processor:run-detail", args=[served.run.pk])).content.decode()
    assert reverse("csv_processor:model-deploy", args=[served.run.pk]) in run_page

    response = owner_client.post(reverse("csv_processor:model-deploy", args=[served.run.pk]), {"name": "second"})
    model = DeployedModel.objects.get(name="second")
    assert response.status_code == 302
    assert model.active_version.number == 1
    deployed_model_deploy(owner=served.user, run=served.run, deployed_model=model)
    model.refresh_from_db()
    first = serving_model_get(version=deployed_model_for_serving(user=served.user, model_id=model.pk).active_version)

    owner_client.post(reverse("csv_processor:model-version-activate", args=[model.pk, 1]))
    model.refresh_from_db()
    second = serving_model_get(version=deployed_model_for_serving(user=served.user, model_id=model.pk).active_version)

    assert model.active_version.number == 1
    assert first.version_id != second.version_id
    assert second.version_id == model.active_version_id


def test_batch_prediction_writes_input_plus_predictions_with_formulas_neutralised(owner_client, served):
    rows = pd.DataFrame({"id": [1, 2], "x1": [2.0, -2.0], "x2": [0.1, 0.2], "colour": ["=HYPERLINK(1)", "blue"]})
    upload = SimpleUploadedFile("new.csv", rows.to_csv(index=False).encode())

    response = owner_client.post(reverse("csv_processor:batch-create", args=[served.model.pk]), {"file": upload})
    batch = BatchPrediction.objects.get(deployed_model=served.model)
    done = batch_prediction_execute(batch_id=batch.pk)
    download = owner_client.get(reverse("csv_processor:batch-download", args=[batch.pk]))
    status = owner_client.get(reverse("csv_processor:batch-detail", args=[batch.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 302
    assert done.status == BatchPrediction.Status.SUCCEEDED, done.error
    result = pd.read_csv(io.BytesIO(b"".join(download.streaming_content)))
    assert list(result.columns) == ["id", "x1", "x2", "colour", "prediction", "probability_no", "probability_yes"]
    assert result["prediction"].tolist()[1] == "no"
    assert result["colour"][0].startswith("'=")
    assert "Download the predictions" in status.content.decode()


def test_batch_download_of_another_user_is_404_and_bad_files_are_refused(client, owner_client, served):
    missing = SimpleUploadedFile("bad.csv", b"id,x1\n1,2\n")
    binary = SimpleUploadedFile("bad.csv", b"PK\x03\x04zipzip")
    owner_client.post(reverse("csv_processor:batch-create", args=[served.model.pk]), {"file": missing})
    refused = owner_client.post(
        reverse("csv_processor:batch-create", args=[served.model.pk]), {"file": binary}, follow=True
    )
    batch = BatchPrediction.objects.get(deployed_model=served.model)
    failed = batch_prediction_execute(batch_id=batch.pk)
    client.force_login(served.other)

    assert "not a CSV" in refused.content.decode()
    assert failed.status == BatchPrediction.Status.FAILED
    assert "x2" in failed.error
    assert client.get(reverse("csv_processor:batch-download", args=[batch.pk])).status_code == 404
    assert client.get(reverse("csv_processor:batch-detail", args=[batch.pk])).status_code == 404


def _second_run(served):
    """Another successful run on the same data and target: a candidate for the model's next version."""
    from csv_processor.services.training.execute import training_run_execute
    from tests.csv_processor.helpers import queue_run

    run = queue_run(served.user, served.run.dataset_version, target="label", algorithms=("LogisticRegression",))
    return training_run_execute(run_id=run.pk)


def test_model_page_deploys_a_newer_run_as_the_next_version_in_one_click(owner_client, served):
    newer = _second_run(served)
    page_url = reverse("csv_processor:model-detail", args=[served.model.pk])
    deploy_url = reverse("csv_processor:model-version-deploy", args=[served.model.pk])

    page = owner_client.get(page_url).content.decode()
    response = owner_client.post(deploy_url, {"run": newer.pk})
    served.model.refresh_from_db()
    answer = owner_client.post(
        reverse("csv_processor_api:predict", args=[served.model.pk]),
        {"records": [{"x1": 1.0, "x2": 0.0, "colour": "red"}]},
        content_type="application/json",
    )
    after = owner_client.get(page_url).content.decode()

    assert deploy_url in page
    assert f'<option value="{newer.pk}"' in page
    assert f'<option value="{served.run.pk}"' not in page  # already a version
    assert response.status_code == 302
    assert (served.model.active_version.number, served.model.active_version.run_id) == (2, newer.pk)
    assert answer.json()["version"] == 2
    assert f'<option value="{newer.pk}"' not in after
    assert "Roll back to this" in after


def test_run_page_offers_the_users_models_as_targets_for_a_new_version(owner_client, served):
    newer = _second_run(served)

    page = owner_client.get(reverse("csv_processor:run-detail", args=[newer.pk])).content.decode()
    owner_client.post(reverse("csv_processor:model-deploy", args=[newer.pk]), {"model": served.model.pk})
    served.model.refresh_from_db()

    assert '<select id="deploy-target" name="model">' in page
    assert f'<option value="{served.model.pk}"' in page
    assert served.model.active_version.run_id == newer.pk
    assert served.model.versions.count() == 2


def test_next_version_picker_refuses_others_models_and_runs_and_bad_input(client, owner_client, served):
    deploy_url = reverse("csv_processor:model-version-deploy", args=[served.model.pk])
    client.force_login(served.other)

    theirs = client.post(deploy_url, {"run": served.run.pk})
    owner_client.force_login(served.user)
    garbage = owner_client.post(deploy_url, {"run": "abc"}, follow=True)
    missing = owner_client.post(deploy_url, {"run": 999_999})

    assert theirs.status_code == 404
    assert "Choose a training run" in garbage.content.decode()
    assert missing.status_code == 404
    assert served.model.versions.count() == 1
