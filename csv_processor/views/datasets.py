"""Browse, rename, explore, download and delete datasets."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_http_methods

from csv_processor.forms.datasets import DatasetEditForm, ExploreForm, TableQueryForm
from csv_processor.selectors.datasets import (
    dataset_get_for_user,
    dataset_list,
    dataset_suggestions,
    dataset_version_csv_chunks,
    dataset_version_download_name,
    dataset_version_get_for_user,
    dataset_version_page,
    target_exploration_find,
    user_storage_used,
)
from csv_processor.services.datasets.explore import target_exploration_request
from csv_processor.services.datasets.manage import dataset_delete, dataset_rename
from csv_processor.storage import stored_open


def dataset_list_view(request: HttpRequest) -> HttpResponse:
    context = {"datasets": dataset_list(user=request.user), "storage_used": user_storage_used(user=request.user)}
    return render(request, "csv_processor/dataset_list.html", context)


def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    query = TableQueryForm(request.GET)
    params = query.cleaned_data if query.is_valid() else {}
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=params.get("v"))
    table = dataset_version_page(
        version=version,
        page=params.get("page") or 1,
        sort=params.get("sort") or None,
        descending=bool(params.get("desc")),
        filter_column=params.get("col") or None,
        filter_text=params.get("q") or "",
    )
    suggestions = dataset_suggestions(dataset=version.dataset, version=version)
    context = {
        "dataset": version.dataset,
        "version": version,
        "table": table,
        "query": params,
        "suggestions": suggestions,
    }
    if request.htmx and request.htmx.target == "data-table":
        return render(request, "csv_processor/partials/_data_table.html", context)
    return render(request, "csv_processor/dataset_detail.html", context)


def dataset_profile(request: HttpRequest, dataset_id: int, number: int) -> HttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    template = "csv_processor/partials/_profile.html" if request.htmx else "csv_processor/dataset_profile.html"
    return render(request, template, {"dataset": version.dataset, "version": version, "profile": version.profile})


@require_http_methods(["GET", "POST"])
def dataset_explore(request: HttpRequest, dataset_id: int, number: int) -> HttpResponse:
    """Every column of a version ranked against a target: GET shows it (or its progress), POST asks for it."""
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    columns = [column["name"] for column in version.schema]
    data = request.POST if request.method == "POST" else (request.GET if "target" in request.GET else None)
    form = ExploreForm(data, columns=columns)
    exploration = None
    if form.is_valid():
        target, problem_type = form.cleaned_data["target"], form.cleaned_data["problem_type"] or None
        if request.method == "POST":
            try:
                exploration = target_exploration_request(version=version, target=target, problem_type=problem_type)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                query = urlencode({"target": target, "problem_type": exploration.problem_type})
                url = reverse("csv_processor:dataset-explore", args=[dataset_id, number])
                return redirect(f"{url}?{query}")
        else:
            exploration = target_exploration_find(version=version, target=target, problem_type=problem_type)
    context = {"dataset": version.dataset, "version": version, "form": form, "exploration": exploration}
    if request.htmx and request.htmx.target == "exploration":
        return render(request, "csv_processor/partials/_exploration.html", context)
    status = 400 if data is not None and not form.is_valid() else 200
    return render(request, "csv_processor/dataset_explore.html", context, status=status)


def dataset_download_csv(request: HttpRequest, dataset_id: int, number: int) -> StreamingHttpResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    response = StreamingHttpResponse(
        dataset_version_csv_chunks(version=version), content_type="text/csv; charset=utf-8"
    )
    filename = dataset_version_download_name(version=version, suffix=".csv")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def dataset_download_parquet(request: HttpRequest, dataset_id: int, number: int) -> FileResponse:
    version = dataset_version_get_for_user(user=request.user, dataset_id=dataset_id, number=number)
    filename = dataset_version_download_name(version=version, suffix=".parquet")
    return FileResponse(
        stored_open(version.file),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.apache.parquet",
    )


@require_http_methods(["GET", "POST"])
def dataset_edit(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
    initial = {"name": dataset.name, "description": dataset.description}
    form = DatasetEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dataset_rename(
                dataset=dataset, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
            )
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            messages.success(request, "Saved.")
            return redirect("csv_processor:dataset-detail", dataset_id=dataset.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "csv_processor/dataset_edit.html", {"dataset": dataset, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def dataset_delete_view(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
    if request.method == "POST":
        name = dataset.name
        dataset_delete(dataset=dataset)
        messages.success(request, f"Deleted “{name}” and its files.")
        return redirect("csv_processor:dataset-list")
    return render(request, "csv_processor/dataset_confirm_delete.html", {"dataset": dataset})
