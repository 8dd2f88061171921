"""Clean a dataset: pick an operation, preview it, apply it as a new version, go back, follow suggestions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from csv_processor.forms.cleaning import CleaningStepForm
from csv_processor.models import CleaningJob, DatasetVersion
from csv_processor.selectors.datasets import (
    cleaning_job_get_for_user,
    dataset_get_for_user,
    dataset_suggestions,
    dataset_version_get_for_user,
)
from csv_processor.services.cleaning.jobs import (
    CONFLICT_MESSAGE,
    cleaning_job_create,
    cleaning_preview,
    dataset_version_restore,
    suggestion_dismiss,
)
from csv_processor.services.cleaning.params import cleaning_op_specs, cleaning_params_parse

UNKNOWN_OP_MESSAGE = "Choose one of the cleaning operations listed on the page."


def _specs() -> dict[str, dict]:
    return {spec["op"]: spec for spec in cleaning_op_specs()}


def _step_form(request: HttpRequest, version: DatasetVersion, op: str) -> CleaningStepForm | None:
    spec = _specs().get(op)
    if spec is None:
        return None
    columns = [column["name"] for column in version.schema]
    data = request.POST if request.method == "POST" else None
    initial = {"op": op, "base_version": version.pk}
    initial.update({f"p_{key}": values for key, values in request.GET.lists() if key != "op"})
    return CleaningStepForm(data, spec=spec, columns=columns, initial=initial)


def _render_page(
    request: HttpRequest, version: DatasetVersion, form: CleaningStepForm | None, op: str, status: int = 200
) -> HttpResponse:
    context = {
        "dataset": version.dataset,
        "version": version,
        "form": form,
        "op": op,
        "specs": cleaning_op_specs(),
        "suggestions": dataset_suggestions(dataset=version.dataset, version=version),
    }
    return render(request, "csv_processor/cleaning.html", context, status=status)


@require_GET
def cleaning_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id)
    op = request.GET.get("op", "")
    return _render_page(request, version, _step_form(request, version, op), op)


@require_POST
def cleaning_preview_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id)
    form = _step_form(request, version, request.POST.get("op", ""))
    if form is None:
        context = {"error": UNKNOWN_OP_MESSAGE}
        return render(request, "csv_processor/partials/_cleaning_preview.html", context, status=400)
    if not form.is_valid():
        return render(request, "csv_processor/partials/_cleaning_preview.html", {"form": form}, status=400)
    try:
        params = cleaning_params_parse(op=form.cleaned_data["op"], raw=form.raw_params())
        preview = cleaning_preview(version=version, op=form.cleaned_data["op"], params=params)
    except ValidationError as exc:
        return render(request, "csv_processor/partials/_cleaning_preview.html", {"error": exc.messages[0]}, status=400)
    return render(request, "csv_processor/partials/_cleaning_preview.html", {"preview": preview})


@require_POST
def cleaning_apply(request: HttpRequest, dataset_id: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id)
    op = request.POST.get("op", "")
    form = _step_form(request, version, op)
    if form is None:
        messages.error(request, UNKNOWN_OP_MESSAGE)
    if form is None or not form.is_valid():
        return _render_page(request, version, form, op, status=400)
    if form.cleaned_data["base_version"] != version.pk:
        form.add_error(None, CONFLICT_MESSAGE)
        return _render_page(request, version, form, op, status=409)
    try:
        params = cleaning_params_parse(op=op, raw=form.raw_params())
        job = cleaning_job_create(
            owner=request.user, version=version, op=op, params=params, confirm_loss=form.cleaned_data["confirm_loss"]
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages[0])
        return _render_page(request, version, form, op, status=409 if exc.code == "conflict" else 400)
    return _after_job(request, job)


def _after_job(request: HttpRequest, job: CleaningJob) -> HttpResponse:
    if job.is_in_progress:
        return redirect("csv_processor:cleaning-job", job_id=job.pk)
    if job.status == job.Status.FAILED:
        messages.error(request, job.error)
    else:
        messages.success(request, f"Applied: {job.description}. Version {job.result_version.number} created.")
    return redirect("csv_processor:dataset-detail", dataset_id=job.dataset_id)


def cleaning_job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    job = cleaning_job_get_for_user(user=request.user, job_id=job_id)
    if not job.is_in_progress and not request.htmx:
        return _after_job(request, job)
    template = "csv_processor/partials/_cleaning_job.html" if request.htmx else "csv_processor/cleaning_job.html"
    return render(request, template, {"job": job})


@require_POST
def version_restore(request: HttpRequest, dataset_id: int, number: int) -> HttpResponse:
    dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
    try:
        version = dataset_version_restore(dataset=dataset, number=number)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("csv_processor:dataset-detail", dataset_id=dataset.pk)
    messages.success(request, f"Version {version.number} is current again. Later versions are kept.")
    return redirect("csv_processor:dataset-detail", dataset_id=dataset.pk)


@require_POST
def suggestion_apply(request: HttpRequest, dataset_id: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id)
    wanted = {(request.POST.get("column"), request.POST.get("action"))}
    if request.POST.get("all"):
        # "Apply all" applies what the page lists first; optional suggestions are applied one by one.
        suggestions = dataset_suggestions(dataset=version.dataset, version=version)
        wanted = {(s["column"], s["action"]) for s in suggestions if not s["optional"]}
    applied, problems = _apply_suggestions(request, version, wanted)
    if applied:
        messages.success(request, f"Applied {applied} suggestion{'s' if applied > 1 else ''}.")
    for problem in problems:
        messages.error(request, problem)
    return redirect("csv_processor:dataset-detail", dataset_id=dataset_id)


def _apply_suggestions(request: HttpRequest, version: DatasetVersion, wanted: set) -> tuple[int, list[str]]:
    """Apply each wanted suggestion in turn, each on the version the previous one made."""
    applied, problems = 0, []
    for item in dataset_suggestions(dataset=version.dataset, version=version):
        if (item["column"], item["action"]) not in wanted or not item.get("step"):
            continue
        try:
            job = cleaning_job_create(
                owner=request.user,
                version=version,
                op=item["step"]["op"],
                params=item["step"]["params"],
                confirm_loss=True,
            )
        except ValidationError as exc:
            problems.append(f"{item['column']}: {exc.messages[0]}")
            continue
        if job.is_in_progress or job.result_version is None:
            problems.append(job.error or "The remaining suggestions wait until this change is done.")
            break
        version, applied = job.result_version, applied + 1
    return applied, problems


@require_POST
def suggestion_dismiss_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
    suggestion_dismiss(dataset=dataset, column=request.POST.get("column", ""), action=request.POST.get("action", ""))
    messages.success(request, "Suggestion dismissed.")
    return redirect("csv_processor:dataset-detail", dataset_id=dataset.pk)
