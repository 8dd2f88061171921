"""Train models on a dataset version and follow the runs."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csv_processor.forms.training import DEFAULT_FOLDS, MAX_FOLDS, TrainingForm
from csv_processor.models import DatasetVersion
from csv_processor.selectors.datasets import dataset_get_for_user, dataset_version_get_for_user
from csv_processor.selectors.serving import deploy_target_list
from csv_processor.selectors.training.compare import training_runs_compare
from csv_processor.selectors.training.runs import (
    training_run_card,
    training_run_get_for_user,
    training_run_leaderboard,
    training_run_leaking_top_columns,
    training_run_list,
    training_run_mlflow_url,
)
from csv_processor.selectors.training.script import (
    NotReproducible,
    training_run_script,
    training_run_script_refusal,
)
from csv_processor.selectors.training.setup import algorithm_names, training_setup
from csv_processor.services.training.runs import (
    TrainingOptions,
    training_run_cancel,
    training_run_create,
    training_run_repeat,
    training_run_without,
)


def _form(
    version: DatasetVersion, data: QueryDict | None = None, initial: dict | None = None, problem_type: str | None = None
) -> TrainingForm:
    columns = [column["name"] for column in version.schema]
    return TrainingForm(
        data, columns=columns, algorithms=algorithm_names(), problem_type=problem_type, initial=initial or {}
    )


def _options(data: dict) -> TrainingOptions:
    return TrainingOptions(
        target=data["target"],
        problem_type=data["task"] or None,
        features=tuple(data["features"]),
        algorithms=tuple(data["algorithms"]),
        test_size=data["test_size"],
        cv_folds=data["cv_folds"],
        seed=data["seed"],
        budget_seconds=data["budget_seconds"],
        max_trials=data.get("max_trials"),
        refit_all=not data.get("keep_evaluated"),
    )


@require_http_methods(["GET", "POST"])
def training_new(request: HttpRequest, dataset_id: int, number: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    if request.method == "POST":
        # An explicit problem type is checked here; "as detected" needs the data, so the service checks that one.
        form = _form(version, request.POST, problem_type=request.POST.get("task") or None)
        if form.is_valid():
            try:
                run = training_run_create(
                    owner=request.user,
                    version=version,
                    options=_options(form.cleaned_data),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("csv_processor:run-detail", run_id=run.pk)
        # The form comes back as sent: the pre-flight and the ticked boxes follow the user's features.
        setup = training_setup(
            version=version,
            target=request.POST.get("target"),
            problem_type=request.POST.get("task"),
            features=request.POST.getlist("features"),
            cv_folds=_chosen_folds(request.POST),
        )
        form.offer_algorithms(setup.problem_type)
    else:
        setup = training_setup(version=version, target=request.GET.get("target"))
        form = _form(
            version,
            initial={"target": setup.target, "features": setup.default_features},
            problem_type=setup.problem_type,
        )
    context = {"dataset": version.dataset, "version": version, "form": form, "setup": setup}
    return render(request, "csv_processor/training_new.html", context, status=400 if request.method == "POST" else 200)


def _chosen_folds(query: QueryDict) -> int:
    """The folds box's value for the small-class check (the form validates it on submit); else the default."""
    try:
        folds = int(query.get("cv_folds", ""))
    except ValueError:
        return DEFAULT_FOLDS
    return folds if 2 <= folds <= MAX_FOLDS else DEFAULT_FOLDS


def _chosen_features(query: QueryDict) -> list[str] | None:
    """The ticked features when the request carries them (a features or problem type change), else None: a new
    target starts from its default features."""
    return query.getlist("features") if query.get("features_chosen") else None


def training_setup_partial(request: HttpRequest, dataset_id: int, number: int) -> HttpResponse:
    """Detected problem type, features, the algorithms that fit it and pre-flight checks for the chosen target
    (htmx); ticked algorithms that still fit stay ticked. A features change redraws the pre-flight alone."""
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    query = request.GET
    setup = training_setup(
        version=version,
        target=query.get("target"),
        problem_type=query.get("task"),
        features=_chosen_features(query),
        cv_folds=_chosen_folds(query),
    )
    if request.htmx and request.htmx.target == "preflight-checks":
        return render(request, "csv_processor/partials/_preflight.html", {"setup": setup})
    ticked = [name for name in request.GET.getlist("algorithms") if name in setup.algorithms[setup.problem_type]]
    initial = {
        "target": setup.target,
        "task": request.GET.get("task", ""),
        "features": setup.features,
        "algorithms": ticked,
    }
    form = _form(version, initial=initial, problem_type=setup.problem_type)
    context = {"dataset": version.dataset, "version": version, "form": form, "setup": setup}
    return render(request, "csv_processor/partials/_run_setup.html", context)


def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    if request.htmx and request.htmx.target == "run-progress":
        if not run.is_in_progress:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return render(request, "csv_processor/partials/_run_progress.html", {"run": run})
    context = {
        "run": run,
        "card": training_run_card(run=run),
        "dataset": run.dataset_version.dataset,
        "mlflow_url": training_run_mlflow_url(run=run),
        "deploy_targets": deploy_target_list(user=request.user, run=run),
        "script_refusal": training_run_script_refusal(run=run),
        "leaking": training_run_leaking_top_columns(run=run),
        "board": training_run_leaderboard(run=run),
        # One key per rendered page: a double-clicked "Repeat exactly" starts one run.
        "repeat_key": uuid.uuid4().hex,
    }
    return render(request, "csv_processor/run_detail.html", context)


@require_GET
def run_download_python(request: HttpRequest, run_id: int) -> HttpResponse:
    """A script that rebuilds the chosen model and prints its cross-validation scores; 409 when none can."""
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    try:
        script = training_run_script(run=run)
    except NotReproducible as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(script, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.py"'
    return response


@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    try:
        run = training_run_cancel(run=run)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Cancelled." if not run.is_in_progress else "Stopping the run…")
    return redirect("csv_processor:run-detail", run_id=run.pk)


@require_POST
def run_repeat(request: HttpRequest, run_id: int) -> HttpResponse:
    """Start a new run with this run's settings and exactly the candidates it tried."""
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    try:
        repeat = training_run_repeat(
            owner=request.user, run=run, idempotency_key=request.POST.get("idempotency_key", "")[:64]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("csv_processor:run-detail", run_id=run.pk)
    return redirect("csv_processor:run-detail", run_id=repeat.pk)


@require_POST
def run_without(request: HttpRequest, run_id: int) -> HttpResponse:
    """Train again with this run's settings, without the posted columns (leakage suspects)."""
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    try:
        again = training_run_without(
            owner=request.user,
            run=run,
            columns=request.POST.getlist("column"),
            idempotency_key=request.POST.get("idempotency_key", "")[:64],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("csv_processor:run-detail", run_id=run.pk)
    return redirect("csv_processor:run-detail", run_id=again.pk)


def run_list(request: HttpRequest) -> HttpResponse:
    return render(request, "csv_processor/run_list.html", {"runs": training_run_list(user=request.user)})


def dataset_runs_partial(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """The latest runs of one dataset, for its page (htmx)."""
    dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
    runs = training_run_list(user=request.user, dataset=dataset)[:10]
    return render(request, "csv_processor/partials/_run_list.html", {"runs": runs, "dataset": dataset})


def run_compare(request: HttpRequest) -> HttpResponse:
    """2-4 runs side by side (`?run=1&run=2`): metrics, settings, leaderboards, overlaid test-split curves."""
    try:
        comparison = training_runs_compare(user=request.user, run_ids=request.GET.getlist("run"))
    except ValidationError as exc:
        context = {"error": " ".join(exc.messages), "runs": training_run_list(user=request.user)[:20]}
        return render(request, "csv_processor/run_compare.html", context, status=400)
    dataset = comparison.runs[0].dataset_version.dataset
    return render(request, "csv_processor/run_compare.html", {"comparison": comparison, "dataset": dataset})
