"""The training form keeps the user's choices: a refused start comes back as sent, and the pre-flight follows
the ticked features (htmx) while a new target starts from its default features."""

import re

from django.urls import reverse
from django.utils.html import escape

from tests.csv_processor.helpers import make_dataset
from tests.csv_processor.test_training_setup import _leaky_csv
from tests.stack.journey import form_fields

NO_FEATURES = "No feature columns are left to learn from once the exclusions are applied."


def _urls(data) -> tuple[str, str]:
    args = [data.pk, data.current_version.number]
    return reverse("csv_processor:training-new", args=args), reverse("csv_processor:training-setup", args=args)


def _ticked_features(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="features" value="([^"]*)" checked>', html)


def _preflight(client, url: str, **query):
    """A features change as htmx sends it: only the pre-flight section is asked for."""
    query = {"features_chosen": "1"} | query
    return client.get(url, query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="preflight-checks")


def _as_sent(fields) -> dict[str, list[str]]:
    return {name: sorted(fields.get(name)) for name in {key for key, _ in fields} if name != "csrfmiddlewaretoken"}


def test_refused_start_comes_back_with_every_field_as_sent(user_client, dataset):
    page, _ = _urls(dataset)
    sent = {
        "target": ["label"],
        "task": ["binary"],
        "features": ["colour", "x2"],  # not the defaults (x1, x2, colour)
        "algorithms": ["DecisionTree"],
        "test_size": ["0.3"],
        "cv_folds": ["4"],
        "seed": ["7"],
        "budget_seconds": ["1"],  # below the minimum: the start is refused
        "max_trials": ["12"],
        "idempotency_key": ["key-9"],
    }

    response = user_client.post(page, sent)

    assert response.status_code == 400
    html = response.content.decode()
    assert "greater than or equal to 5" in html
    _, fields = form_fields(html)
    assert _as_sent(fields) == sent
    assert response.context["setup"].features == ["colour", "x2"]


def test_refused_start_without_features_keeps_them_all_unticked_and_says_why(user_client, dataset):
    page, _ = _urls(dataset)
    sent = {"target": "label", "task": "", "test_size": "0.2", "cv_folds": "3", "seed": "0", "budget_seconds": "5"}

    response = user_client.post(page, sent)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick at least one feature column" in html
    assert _ticked_features(html) == []
    assert NO_FEATURES in html


def test_features_change_redraws_the_preflight_for_the_ticked_features(user_client, dataset):
    _, url = _urls(dataset)

    none = _preflight(user_client, url, target="label").content.decode()
    only_id = _preflight(user_client, url, target="label", features=["id"]).content.decode()
    default = _preflight(user_client, url, target="label", features=["x1", "x2", "colour"]).content.decode()

    assert none.startswith('<section id="preflight-checks"')
    assert "<fieldset" not in none  # the pre-flight alone: the ticked boxes keep their state and focus
    assert "Training cannot start" in none
    assert NO_FEATURES in none
    assert "These look like identifiers and rarely help: id." in only_id
    assert "Nothing blocks training on “label”." in default
    assert NO_FEATURES not in default
    assert "look like identifiers" not in default


def _leak_messages(response) -> list[str]:
    setup = response.context["setup"]
    return [item.message for item in setup.blockers + setup.warnings if "leak" in item.message]


def test_unticking_a_leaking_feature_clears_its_check(user, user_client, tmp_path):
    data = make_dataset(user, tmp_path, _leaky_csv(400, blank=0))
    _, url = _urls(data)

    with_leak = _preflight(user_client, url, target="label", features=["x", "leak"])
    without = _preflight(user_client, url, target="label", features=["x"])

    assert _leak_messages(with_leak)
    assert escape(_leak_messages(with_leak)[0]) in with_leak.content.decode()
    assert _leak_messages(without) == []


def test_target_change_resets_features_but_problem_type_change_keeps_them(user_client, dataset):
    _, url = _urls(dataset)

    target = user_client.get(url, {"target": "x1", "algorithms": ["DecisionTree"]}, HTTP_HX_REQUEST="true")
    task = user_client.get(
        url,
        {"target": "label", "task": "multiclass", "features": ["x2"], "features_chosen": "1"},
        HTTP_HX_REQUEST="true",
    )

    assert _ticked_features(target.content.decode()) == ["x2", "colour", "label"]  # x1's defaults: no x1, no id
    assert _ticked_features(task.content.decode()) == ["x2"]
    assert 'value="multiclass" selected' in task.content.decode()


def test_feature_boxes_refresh_the_preflight_through_htmx(user_client, dataset):
    page, url = _urls(dataset)

    html = user_client.get(page).content.decode()

    fieldset = re.search(r'<fieldset class="field" id="feature-choices"([^>]*)>', html)
    assert fieldset, "the feature boxes sit in their own fieldset"
    attrs = fieldset.group(1)
    assert f'hx-get="{url}"' in attrs
    assert 'hx-trigger="change"' in attrs
    assert 'hx-target="#preflight-checks"' in attrs
    assert all(f"[name={name}]" in attrs for name in ("target", "task", "features"))
    assert """hx-vals='{"features_chosen": "1"}'""" in attrs
    assert '<section id="preflight-checks"' in html
    task_select = re.search(r'<select name="task"([^>]*)>', html).group(1)
    assert "[name=features]" in task_select
    assert "features_chosen" in task_select
    assert "<script>" not in html  # CSP: no inline scripts


def _rare_class_csv() -> bytes:
    """120 rows of 'common' and 8 of 'rare': few for 5 folds (under 2 x 5 rows), enough for 3."""
    lines = ["x,label"] + [f"{i},common" for i in range(120)] + [f"{i},rare" for i in range(8)]
    return ("\n".join(lines) + "\n").encode()


def test_folds_box_decides_which_classes_are_small_and_refreshes_the_preflight(user, user_client, tmp_path):
    data = make_dataset(user, tmp_path, _rare_class_csv())
    page, url = _urls(data)
    small = "Classes with few rows"

    assert small in _preflight(user_client, url, target="label", features=["x"], cv_folds="5").content.decode()
    assert small not in _preflight(user_client, url, target="label", features=["x"], cv_folds="3").content.decode()
    # A value the form would refuse falls back to the default folds here.
    assert small in _preflight(user_client, url, target="label", features=["x"], cv_folds="99").content.decode()
    folds = re.search(r'<div class="field"([^>]*hx-get[^>]*)>\s*<label for="id_cv_folds"', user_client.get(page).text)
    assert folds, "the folds box redraws the pre-flight"
    assert 'hx-target="#preflight-checks"' in folds.group(1)
    assert "[name=cv_folds]" in folds.group(1)
