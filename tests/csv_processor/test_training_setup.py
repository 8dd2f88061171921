"""The training set-up on a target change: cached table facts, exact missing-target counts, sampled leakage."""

import numpy as np
from django.urls import reverse

import csv_processor.ml.training.table_facts as table_facts
from csv_processor.selectors.training.facts import version_table_facts
from csv_processor.selectors.training.setup import training_setup
from tests.csv_processor.helpers import make_dataset


def _leaky_csv(rows: int, blank: int) -> bytes:
    """x (noise), leak (the label in numbers) and a yes/no label left blank on the first `blank` rows."""
    rng = np.random.default_rng(0)
    lines = ["x,leak,label"]
    for i in range(rows):
        label = "yes" if rng.random() < 0.4 else "no"
        leak = (1.0 if label == "yes" else 0.0) + rng.normal(scale=0.01)
        lines.append(f"{rng.normal():.4f},{leak:.4f},{'' if i < blank else label}")
    return ("\n".join(lines) + "\n").encode()


def test_training_setup_reuses_the_version_facts_across_target_changes(dataset):
    version = dataset.current_version
    facts = version_table_facts(version=version)

    by_x1 = training_setup(version=version, target="x1")
    by_label = training_setup(version=version, target="label")

    assert version_table_facts(version=version) is facts
    assert (by_x1.problem_type, by_label.problem_type) == ("regression", "binary")
    assert "id" in by_label.identifiers
    assert "id" not in by_label.default_features


def test_training_setup_partial_counts_missing_targets_exactly_and_says_leakage_was_sampled(
    user, user_client, tmp_path, monkeypatch
):
    monkeypatch.setattr(table_facts, "SAMPLE_ROWS", 500)
    monkeypatch.setattr(table_facts, "MIN_SAMPLE_ROWS", 500)
    data = make_dataset(user, tmp_path, _leaky_csv(3_000, blank=321))
    version = data.current_version
    url = reverse("csv_processor:training-setup", args=[data.pk, version.number])

    response = user_client.get(url, {"target": "label"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    setup = response.context["setup"]
    assert version_table_facts(version=version).sampled
    assert "321 rows have no target value and are dropped." in [w.message for w in setup.warnings]
    leaks = [i.message for i in setup.blockers + setup.warnings if "'leak'" in i.message or '"leak"' in i.message]
    assert leaks
    assert all("of 2,679 rows" in message and "checked on" in message for message in leaks)
    assert "of 2,679 rows" in response.content.decode()
