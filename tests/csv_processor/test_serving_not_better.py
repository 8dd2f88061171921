"""Deploying a model no better than its baseline asks for confirmation (issue 13 point 4), on the run page,
as the next version of a model and from `manage.py train --deploy`; the CLI JSON and MLflow say it."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.html import escape

from csv_processor.models import DeployedModel, TrainingRun
from csv_processor.services.serving.deploy import deployed_model_deploy

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]

USELESS = "Not better than always answering “no”: balanced accuracy 0.500 on the test rows against 0.500."


def _useless(run: TrainingRun) -> TrainingRun:
    TrainingRun.objects.filter(pk=run.pk).update(model_card={**run.model_card, "not_better_than_baseline": USELESS})
    return TrainingRun.objects.get(pk=run.pk)


def test_the_service_deploys_a_useless_model_only_when_confirmed(served):
    run = _useless(served.run)

    with pytest.raises(ValidationError) as refused:
        deployed_model_deploy(owner=served.user, run=run)
    model = deployed_model_deploy(owner=served.user, run=run, confirm_not_better=True)

    assert refused.value.code == "not_better"
    assert USELESS in refused.value.messages[0]
    assert model.active_version.run_id == run.pk


def test_the_run_page_warns_and_the_deploy_button_needs_the_tick(client, served):
    run = _useless(served.run)
    client.force_login(served.user)
    url = reverse("csv_processor:model-deploy", args=[run.pk])
    models_before = DeployedModel.objects.count()

    page = client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()
    unticked = client.post(url, follow=True)
    ticked = client.post(url, {"confirm_not_better": "on"})

    assert escape(USELESS) in page
    assert 'name="confirm_not_better" required' in page
    assert "Tick “Deploy it anyway”" in unticked.content.decode()
    assert ticked.status_code == 302
    assert DeployedModel.objects.count() == models_before + 1


def test_a_useful_run_page_has_no_warning_and_deploys_at_once(client, served):
    client.force_login(served.user)

    page = client.get(reverse("csv_processor:run-detail", args=[served.run.pk])).content.decode()

    assert served.run.model_card["not_better_than_baseline"] is None
    assert "confirm_not_better" not in page


def test_the_train_command_says_so_and_deploys_only_when_told(user, tmp_path, settings):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    rng = np.random.default_rng(0)
    lines = ["a,b,label"] + [
        f"{rng.normal():.3f},{rng.integers(5)},{'yes' if rng.random() < 0.05 else 'no'}" for _ in range(600)
    ]
    path = tmp_path / "noise.csv"
    path.write_text("\n".join(lines) + "\n")
    out = StringIO()

    with pytest.raises(CommandError, match="Trained, but not deployed: Not better than always answering"):
        call_command(
            "train", str(path), "--target", "label", "--owner", user.username, "--trials", "2", "--deploy",
            stdout=out, stderr=StringIO(),
        )  # fmt: skip
    summary = json.loads(out.getvalue().strip().splitlines()[-1])

    assert summary["not_better_than_baseline"].startswith("Not better than always answering “no”")
    assert summary["baseline_metrics"]["balanced_accuracy"] == pytest.approx(0.5)
    assert not DeployedModel.objects.filter(owner=user).exists()
