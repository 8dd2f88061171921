"""Upload a file (CSV, Excel workbook, Parquet), confirm how it reads, and watch the parse."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from csv_processor import metrics
from csv_processor.forms.datasets import UploadForm, confirm_form
from csv_processor.models import Upload
from csv_processor.selectors.datasets import upload_get_for_user, upload_preview
from csv_processor.services.datasets.uploads import QuotaExceeded, upload_confirm, upload_create, upload_discard
from csv_processor.upload_limits import storage_full_response, too_large_response


@require_http_methods(["GET", "POST"])
def upload_new(request: HttpRequest) -> HttpResponse:
    is_post = request.method == "POST"
    form = UploadForm(request.POST if is_post else None, request.FILES if is_post else None)
    # Reading the body (above) is what runs the capped upload handler.
    if getattr(request, "upload_over_cap", False):
        return too_large_response(request)
    if getattr(request, "upload_storage_full", False):
        return storage_full_response(request)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            upload = upload_create(owner=request.user, uploaded_file=uploaded, name=uploaded.name, size=uploaded.size)
        except QuotaExceeded as exc:
            form.add_error("file", exc)
            return render(request, "csv_processor/upload_new.html", {"form": form}, status=413)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("csv_processor:upload-confirm", upload_id=upload.pk)
    elif is_post:
        # No file, or an empty one: the service never saw it, so count the refusal here.
        metrics.upload_failed(stage="upload", reason="empty")
    status = 400 if request.method == "POST" else 200
    return render(request, "csv_processor/upload_new.html", {"form": form}, status=status)


@login_not_required
@require_http_methods(["GET", "HEAD"])
def upload_too_large(request: HttpRequest) -> HttpResponse:
    """What nginx shows for a body past its client_max_body_size (nginx/nginx.conf); never public."""
    return too_large_response(request, api=request.headers.get("X-Original-URI", "").startswith("/api/"))


@require_http_methods(["GET", "POST"])
def upload_confirm_view(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = upload_get_for_user(user=request.user, upload_id=upload_id)
    if upload.status in {Upload.Status.QUEUED, Upload.Status.RUNNING, Upload.Status.SUCCEEDED}:
        return redirect("csv_processor:upload-status", upload_id=upload.pk)
    form = confirm_form(upload, request.POST if request.method == "POST" else None)
    options = form.options() if form.is_valid() else None
    if request.method == "POST" and options is not None:
        try:
            upload_confirm(upload=upload, options=options, dataset_name=form.cleaned_data["dataset_name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("csv_processor:upload-status", upload_id=upload.pk)
    elif request.method == "POST":
        metrics.upload_failed(stage="confirm", reason="options")
    preview = upload_preview(upload=upload, options=options)
    context = {"upload": upload, "form": form, "preview": preview}
    return render(
        request, "csv_processor/upload_confirm.html", context, status=400 if request.method == "POST" else 200
    )


def upload_preview_partial(request: HttpRequest, upload_id: int) -> HttpResponse:
    """The preview table for the settings currently in the form (htmx)."""
    upload = upload_get_for_user(user=request.user, upload_id=upload_id)
    form = confirm_form(upload, request.GET)
    if not form.is_valid():
        return render(request, "csv_processor/partials/_form_errors.html", {"form": form}, status=400)
    preview = upload_preview(upload=upload, options=form.options())
    return render(request, "csv_processor/partials/_preview_table.html", {"preview": preview})


def upload_status(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = upload_get_for_user(user=request.user, upload_id=upload_id)
    if upload.status == Upload.Status.SUCCEEDED and upload.dataset_id:
        target = reverse("csv_processor:dataset-detail", kwargs={"dataset_id": upload.dataset_id})
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)
    template = "csv_processor/partials/_upload_progress.html" if request.htmx else "csv_processor/upload_status.html"
    return render(request, template, {"upload": upload})


@require_POST
def upload_discard_view(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = upload_get_for_user(user=request.user, upload_id=upload_id)
    try:
        upload_discard(upload=upload)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("csv_processor:upload-status", upload_id=upload.pk)
    messages.success(request, "The upload was discarded.")
    return redirect("csv_processor:dataset-list")
