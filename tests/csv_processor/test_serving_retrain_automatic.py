"""Automatic retraining (issue 18 point 7): on a daily or weekly schedule or on the drift alert, on the
dataset's newest version; the candidate replaces the active version only when strictly better on the same
held-out rows; every look and decision is on the model page."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from csv_processor.ml.serving.drift import ALERT_PSI, MIN_LIVE_ROWS
from csv_processor.models import DeployedModel, ModelRetrain, TrainingRun
from csv_processor.services.serving import retrain as retrain_service
from csv_processor.services.serving.drift import serving_maintenance
from csv_processor.services.serving.retrain import (
    deployed_model_retrain_schedule_set,
    model_retrain_compare,
    model_retrains_automatic,
    model_retrains_check,
)
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.test_serving_retrain import _model, _newer_version

pytestmark = [pytest.mark.django_db, pytest.mark.served_media]

ALERTS = Path(__file__).resolve().parents[2] / "prometheus" / "alerts.yml"


def _schedule(served, schedule: str = "weekly", *, on_drift: bool = False, checked_days_ago: float | None = None):
    model = deployed_model_retrain_schedule_set(deployed_model=_model(served), schedule=schedule, on_drift=on_drift)
    if checked_days_ago is not None:
        checked = timezone.now() - dt.timedelta(days=checked_days_ago)
        DeployedModel.objects.filter(pk=model.pk).update(retrain_checked_at=checked)
    return _model(served)


def _drifted(model: DeployedModel, psi: float) -> None:
    drift = {"rows": MIN_LIVE_ROWS, "enough": True, "features": [{"feature": "x1", "psi": psi, "verdict": "x"}]}
    DeployedModel.objects.filter(pk=model.pk).update(drift=drift, drift_computed_at=timezone.now())


def test_a_weekly_schedule_looks_once_a_week_and_waits_for_newer_data(served):
    model = _schedule(served, "weekly")
    now = timezone.now()

    assert model_retrains_automatic(now=now + dt.timedelta(days=6)) == []  # not due yet
    assert model_retrains_automatic(now=now + dt.timedelta(days=8)) == []  # due, but no newer data
    model.refresh_from_db()
    assert "not newer" in model.retrain_check_note
    assert model.retrain_checked_at == now + dt.timedelta(days=8)
    _newer_version(served)
    assert model_retrains_automatic(now=now + dt.timedelta(days=9)) == []  # looked a day ago: next week

    started = model_retrains_automatic(now=now + dt.timedelta(days=16))

    retrain = ModelRetrain.objects.get()
    assert started == [retrain.pk]
    assert (retrain.trigger, retrain.status, retrain.run.dataset_version.number) == ("schedule", "training", 2)
    model.refresh_from_db()
    assert model.retrain_check_note == f"Retraining on schedule started on dataset version 2 (run #{retrain.run_id})."
    # The same look again (a second worker, or the next week with no newer data) starts nothing more.
    assert model_retrains_automatic(now=now + dt.timedelta(days=16)) == []
    assert model_retrains_automatic(now=now + dt.timedelta(days=30)) == []
    assert ModelRetrain.objects.count() == 1
    model.refresh_from_db()
    assert "already tried against active version 1" in model.retrain_check_note


def test_the_comparison_decides_an_automatic_retraining_by_the_strict_rule(served):
    _newer_version(served)
    _schedule(served, "daily", checked_days_ago=2)
    (retrain_id,) = model_retrains_automatic()
    retrain = ModelRetrain.objects.get(pk=retrain_id)
    assert training_run_execute(run_id=retrain.run_id).status == TrainingRun.Status.SUCCEEDED
    model_retrains_check()

    decided = model_retrain_compare(retrain_id=retrain_id)

    scores = decided.comparison["scores"]
    active = DeployedModel.objects.get(pk=served.model.pk).active_version
    assert decided.decided_at is not None
    if scores["candidate"] > scores["active"]:
        assert decided.status == ModelRetrain.Status.PROMOTED
        assert active.run_id == retrain.run_id
    else:
        assert decided.status == ModelRetrain.Status.KEPT
        assert active.pk == served.model.active_version_id


@pytest.mark.parametrize(
    ("candidate", "status", "promoted"),
    [(0.9, ModelRetrain.Status.PROMOTED, True), (0.8, ModelRetrain.Status.KEPT, False), (0.7, "kept", False)],
)
def test_only_a_strictly_better_candidate_replaces_the_active_version(served, candidate, status, promoted):
    _newer_version(served)
    _schedule(served, "daily", checked_days_ago=2)
    (retrain_id,) = model_retrains_automatic()
    retrain = ModelRetrain.objects.get(pk=retrain_id)
    training_run_execute(run_id=retrain.run_id)
    retrain.status = ModelRetrain.Status.READY
    retrain.comparison = {"scores": {"active": 0.8, "candidate": candidate}, "rows": 40}
    retrain.save()

    decided = retrain_service._decide_automatically(retrain)

    active = DeployedModel.objects.get(pk=served.model.pk).active_version
    assert decided.status == status
    assert (active.run_id == retrain.run_id) is promoted


def test_the_drift_alert_starts_one_retraining_per_drift_computation(served):
    _newer_version(served)
    model = _schedule(served, "off", on_drift=True)
    _drifted(model, psi=ALERT_PSI - 0.05)
    assert model_retrains_automatic() == []  # below the alert

    _drifted(model, psi=ALERT_PSI + 0.2)
    started = model_retrains_automatic()

    assert [r.trigger for r in ModelRetrain.objects.filter(pk__in=started)] == ["drift"]
    assert model_retrains_automatic() == []  # the same drift report: looked already


def test_drift_does_not_retrain_a_model_that_did_not_ask(served):
    _newer_version(served)
    model = _schedule(served, "off", on_drift=False)
    _drifted(model, psi=0.9)

    assert model_retrains_automatic() == []
    assert not ModelRetrain.objects.exists()


def test_serving_maintenance_starts_the_due_retrainings(served):
    _newer_version(served)
    _schedule(served, "weekly", checked_days_ago=8)

    serving_maintenance()

    assert ModelRetrain.objects.get().trigger == "schedule"


def test_the_drift_alert_rule_and_the_retraining_use_the_same_threshold():
    rule = re.search(r"csva_model_drift\{[^}]*\}\)\s*>\s*([0-9.]+)", ALERTS.read_text())

    assert rule is not None
    assert float(rule.group(1)) == ALERT_PSI


def test_the_model_page_sets_the_schedule_and_shows_the_history(client, served, other_user):
    client.force_login(served.user)
    url = reverse("csv_processor:model-retrain-schedule", args=[served.model.pk])

    saved = client.post(url, {"schedule": "daily", "on_drift": "on"})
    page = client.get(reverse("csv_processor:model-detail", args=[served.model.pk])).content.decode()
    bad = client.post(url, {"schedule": "hourly"})
    client.force_login(other_user)
    foreign = client.post(url, {"schedule": "daily"})

    model = _model(served)
    assert saved.status_code == 302
    assert (model.retrain_schedule, model.retrain_on_drift) == ("daily", True)
    assert "Next look: " in page
    assert 'value="daily" selected' in page
    assert bad.status_code == 400
    assert "Choose never, every day or every week." in bad.content.decode()
    assert foreign.status_code == 404
    assert _model(served).retrain_schedule == "daily"


def test_a_better_candidate_no_better_than_its_baseline_is_kept_with_the_reason(served):
    _newer_version(served)
    _schedule(served, "daily", checked_days_ago=2)
    (retrain_id,) = model_retrains_automatic()
    retrain = ModelRetrain.objects.get(pk=retrain_id)
    run = training_run_execute(run_id=retrain.run_id)
    flagged = "Not better than always answering “no”: balanced accuracy 0.500 on the test rows against 0.500."
    TrainingRun.objects.filter(pk=run.pk).update(model_card={**run.model_card, "not_better_than_baseline": flagged})
    retrain = ModelRetrain.objects.get(pk=retrain_id)
    retrain.status = ModelRetrain.Status.READY
    retrain.comparison = {"scores": {"active": 0.8, "candidate": 0.9}, "rows": 40}
    retrain.save()

    decided = retrain_service._decide_automatically(retrain)

    assert decided.status == ModelRetrain.Status.KEPT
    assert decided.decided_at is not None
    assert flagged in decided.error
    assert DeployedModel.objects.get(pk=served.model.pk).active_version_id == served.model.active_version_id
