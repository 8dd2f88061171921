"""Monitoring: drift on a shifted sample, the log's pruning, the periodic enqueue and the metrics' feed
(retraining: test_serving_retrain.py)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from csv_processor.models import DeployedModel, Prediction
from csv_processor.services.serving.drift import deployed_model_drift_compute, serving_maintenance
from csv_processor.services.serving.predictions import predictions_prune
from csv_processor.services.serving.runtime import deployed_model_for_serving, prediction_make
from tests.csv_processor.helpers import record

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]


def _predict(served, records):
    model = deployed_model_for_serving(user=served.user, model_id=served.model.pk)
    return prediction_make(deployed_model=model, owner=served.user, records=records, channel="api")


def test_drift_flags_a_shifted_sample_and_not_a_similar_one(served):
    import numpy as np

    rng = np.random.default_rng(1)
    similar = [
        record(x1=float(v), x2=float(w), colour=c)
        for v, w, c in zip(
            rng.normal(size=1000), rng.normal(size=1000), rng.choice(["red", "green", "blue"], 1000), strict=True
        )
    ]
    _predict(served, similar)
    model = DeployedModel.objects.select_related("active_version").get(pk=served.model.pk)
    calm = deployed_model_drift_compute(deployed_model=model).drift
    Prediction.objects.all().delete()
    shifted = [
        record(x1=float(v) + 3, x2=float(w), colour="red")
        for v, w in zip(rng.normal(size=200), rng.normal(size=200), strict=True)
    ]
    _predict(served, shifted)

    drift = deployed_model_drift_compute(deployed_model=model).drift

    by_feature = {f["feature"]: f for f in drift["features"]}
    # Sampling noise alone gives small PSIs (the training split has 160 rows): never a major shift.
    assert all(f["verdict"] != "major shift" for f in calm["features"])
    assert {f["feature"]: f["psi"] for f in calm["features"]}["x1"] < by_feature["x1"]["psi"] / 5
    assert by_feature["x1"]["verdict"] == "major shift"
    assert by_feature["x1"]["psi"] > 0.25
    assert by_feature["colour"]["verdict"] != "stable"
    assert by_feature["x2"]["verdict"] != "major shift"
    assert "x1" in drift["verdict"]
    assert drift["rows"] == 200


def _drift_samples(model_id: int) -> list[float]:
    from csv_processor.metrics_collector import DatabaseCollector

    families = DatabaseCollector().collect()
    return [
        s.value
        for family in families
        for s in family.samples
        if s.name == "csva_model_drift" and s.labels == {"model_id": str(model_id)}
    ]


def test_drift_on_too_few_rows_gives_no_feature_verdicts_and_no_metric(client, served):
    from csv_processor.selectors.serving import deployed_model_quality_list

    _predict(served, [record()])
    model = DeployedModel.objects.select_related("active_version").get(pk=served.model.pk)

    drift = deployed_model_drift_compute(deployed_model=model).drift
    client.force_login(served.user)
    page = client.get(reverse("csv_processor:model-detail", args=[served.model.pk])).content.decode()

    assert "Not enough recent predictions" in drift["verdict"]
    assert (drift["rows"], drift["enough"], drift["features"]) == (1, False, [])
    assert {row.model_id: row.drift for row in deployed_model_quality_list()}[served.model.pk] is None
    assert _drift_samples(served.model.pk) == []
    assert "Not enough recent predictions" in page
    assert "shift</td>" not in page


def test_drift_figures_stored_from_too_few_rows_are_neither_shown_nor_exported(client, served):
    noisy = {
        "version": 1,
        "rows": 1,
        "verdict": "Not enough recent predictions to judge drift (1 logged, 30 needed).",
        "features": [{"feature": "x1", "psi": 8.1, "verdict": "major shift"}],
    }
    DeployedModel.objects.filter(pk=served.model.pk).update(drift=noisy)
    client.force_login(served.user)

    page = client.get(reverse("csv_processor:model-detail", args=[served.model.pk])).content.decode()

    assert _drift_samples(served.model.pk) == []
    assert "major shift" not in page
    noisy["rows"] = 40  # the same figure over enough rows is drift, exported capped at 1
    DeployedModel.objects.filter(pk=served.model.pk).update(drift=noisy)
    assert _drift_samples(served.model.pk) == [1.0]


def test_prune_deletes_only_predictions_older_than_the_retention(served, settings):
    settings.PREDICTION_RETENTION_DAYS = 30
    ids = _predict(served, [record(), record()]).ids
    Prediction.objects.filter(public_id=ids[0]).update(created_at=timezone.now() - dt.timedelta(days=31))

    deleted = predictions_prune()

    assert deleted == 1
    assert list(Prediction.objects.values_list("public_id", flat=True)) == [Prediction.objects.get().public_id]


def test_sampling_off_still_answers_with_ids_but_logs_nothing(served, settings):
    settings.PREDICTION_LOG_SAMPLE = 0.0

    result = _predict(served, [record()])

    assert len(result.ids) == 1
    assert not Prediction.objects.exists()


def test_oversized_records_are_logged_as_a_marker(served, settings):
    settings.PREDICTION_LOG_MAX_BYTES = 50

    _predict(served, [record(comment="x" * 500)])

    assert Prediction.objects.get().inputs == {"_omitted": "record too large to log"}


def test_serving_maintenance_computes_drift_for_every_model(served):
    assert serving_maintenance() >= 1
    assert DeployedModel.objects.get(pk=served.model.pk).drift_computed_at is not None


def test_worker_loop_enqueues_the_serving_maintenance_once_per_interval(served):
    from django_tasks_db.models import DBTaskResult

    from csv_processor.services.serving.drift import serving_periodic_enqueue_due

    first = serving_periodic_enqueue_due()
    second = serving_periodic_enqueue_due()

    assert first == ["serving_maintenance_task"]
    assert second == []
    assert DBTaskResult.objects.filter(task_path__endswith="serving_maintenance_task").count() == 1


def test_quality_list_feeds_the_metrics_collector(served):
    from csv_processor.selectors.serving import deployed_model_quality_list

    rows = {row.model_id: row for row in deployed_model_quality_list()}

    assert rows[served.model.pk].metric == "accuracy"
    assert rows[served.model.pk].test_value == pytest.approx(served.run.metrics["accuracy"])


def test_logged_predictions_are_buffered_then_written_in_bulk(served, settings):
    from csv_processor.services.serving.predictions import predictions_flush

    settings.PREDICTION_LOG_FLUSH_SECONDS = 60

    ids = _predict(served, [record(), record()]).ids
    waiting = Prediction.objects.count()
    written = predictions_flush()

    assert waiting == 0
    assert written == 2
    assert sorted(str(p) for p in Prediction.objects.values_list("public_id", flat=True)) == sorted(ids)


def test_live_accuracy_counts_only_the_active_versions_predictions(client, served):
    from csv_processor.selectors.serving import deployed_model_live_quality
    from csv_processor.services.serving.deploy import deployed_model_deploy
    from csv_processor.services.serving.predictions import prediction_feedback_record

    old_ids = _predict(served, [record(x1=2.0), record(x1=-2.0)]).ids
    prediction_feedback_record(deployed_model=served.model, outcomes=[(old_ids[0], "yes"), (old_ids[1], "yes")])
    model = deployed_model_deploy(owner=served.user, run=served.run, deployed_model=served.model)
    fresh = deployed_model_live_quality(deployed_model=model)
    new_ids = _predict(served, [record(x1=2.0)]).ids
    prediction_feedback_record(deployed_model=model, outcomes=[(new_ids[0], "yes")])
    client.force_login(served.user)

    later = deployed_model_live_quality(deployed_model=model)
    page = client.get(reverse("csv_processor:model-detail", args=[model.pk])).content.decode()

    assert (fresh.version, fresh.rows, fresh.value) == (2, 0, None)
    assert (later.version, later.rows, later.value) == (2, 1, 1.0)
    assert later.test_value == pytest.approx(served.run.metrics["accuracy"])
    assert "Accuracy on live data (version 2)" in page
    assert "Accuracy on the test rows (version 2)" in page
