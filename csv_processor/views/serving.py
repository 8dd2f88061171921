"""Deployed models: list, page (card, endpoint, versions, drift, live accuracy), deploy, roll back,
the prediction form, batch predictions and retraining."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csv_processor.forms.serving import (
    BatchUploadForm,
    DeployForm,
    PredictionForm,
    RetrainScheduleForm,
    VersionDeployForm,
)
from csv_processor.models import DeployedModel
from csv_processor.selectors.serving import (
    batch_prediction_get_for_user,
    deployable_run_list,
    deployed_model_detail,
    deployed_model_get_for_user,
    deployed_model_list,
    model_retrain_get_for_user,
    model_retrain_open,
    model_version_get,
    retrain_next_check,
)
from csv_processor.selectors.training.runs import training_run_get_for_user
from csv_processor.services.serving.batch import batch_prediction_create, batch_result_open
from csv_processor.services.serving.deploy import deployed_model_deploy, model_version_activate
from csv_processor.services.serving.retrain import (
    deployed_model_retrain_schedule_set,
    model_retrain_keep,
    model_retrain_promote,
    model_retrain_start,
)
from csv_processor.services.serving.runtime import InputError, ModelNotReady, prediction_make, serving_spec_get
from csv_processor.upload_limits import too_large_response


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    return render(request, "csv_processor/model_list.html", {"models": deployed_model_list(user=request.user)})


@require_GET
def model_detail(request: HttpRequest, model_id: int) -> HttpResponse:
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    return _model_page(request, model, BatchUploadForm())


def _model_page(
    request: HttpRequest,
    model: DeployedModel,
    batch_form: BatchUploadForm,
    status: int = 200,
    schedule_form: RetrainScheduleForm | None = None,
) -> HttpResponse:
    initial = {"schedule": model.retrain_schedule, "on_drift": model.retrain_on_drift}
    context = {
        "model": model,
        "detail": deployed_model_detail(deployed_model=model),
        "retrains": model.retrains.select_related("run__dataset_version", "base_version")[:20],
        "schedule_form": schedule_form or RetrainScheduleForm(initial=initial),
        "retrain_next": retrain_next_check(model),
        "batches": model.batches.all()[:10],
        "batch_form": batch_form,
        "deployable_runs": deployable_run_list(deployed_model=model),
        "endpoint": request.build_absolute_uri(reverse("csv_processor_api:predict", args=[model.pk])),
        "invocations": request.build_absolute_uri(reverse("csv_processor_api:invocations", args=[model.pk])),
    }
    return render(request, "csv_processor/model_detail.html", context, status=status)


@require_POST
def model_deploy(request: HttpRequest, run_id: int) -> HttpResponse:
    run = training_run_get_for_user(user=request.user, run_id=run_id)
    form = DeployForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    target = deployed_model_get_for_user(user=request.user, model_id=data["model"]) if data.get("model") else None
    try:
        model = deployed_model_deploy(
            owner=request.user,
            run=run,
            deployed_model=target,
            name=data.get("name", ""),
            confirm_not_better=bool(data.get("confirm_not_better")),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("csv_processor:run-detail", run_id=run.pk)
    messages.success(request, f"Deployed as {model.name}, version {model.active_version.number}.")
    return redirect("csv_processor:model-detail", model_id=model.pk)


@require_POST
def model_version_deploy(request: HttpRequest, model_id: int) -> HttpResponse:
    """Deploy one of the user's newer runs as the next version of this model (the model page's picker)."""
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    form = VersionDeployForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a training run to deploy.")
        return redirect("csv_processor:model-detail", model_id=model.pk)
    run = training_run_get_for_user(user=request.user, run_id=form.cleaned_data["run"])
    try:
        model = deployed_model_deploy(
            owner=request.user,
            run=run,
            deployed_model=model,
            confirm_not_better=form.cleaned_data["confirm_not_better"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Run #{run.pk} is now version {model.active_version.number} and answers predictions."
        )
    return redirect("csv_processor:model-detail", model_id=model.pk)


@require_POST
def model_version_activate_view(request: HttpRequest, model_id: int, number: int) -> HttpResponse:
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    version = model_version_get(deployed_model=model, number=number)
    model_version_activate(deployed_model=model, version=version)
    messages.success(request, f"Version {number} now answers predictions.")
    return redirect("csv_processor:model-detail", model_id=model.pk)


@require_http_methods(["GET", "POST"])
def model_predict(request: HttpRequest, model_id: int) -> HttpResponse:
    """The prediction form; a refused input comes back with its messages by field and a 400."""
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    try:
        spec = serving_spec_get(deployed_model=model)
    except ModelNotReady as exc:
        messages.error(request, str(exc))
        return redirect("csv_processor:model-detail", model_id=model.pk)
    form = PredictionForm(request.POST or None, fields_spec=spec.fields)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = prediction_make(
                deployed_model=model,
                owner=request.user,
                records=form.records(),
                channel="form",
                explain=form.cleaned_data["explain"],
                text_values=True,
            )
        except InputError as exc:
            form.add_input_errors(exc.errors)
    errors = form.error_messages()
    context = {"model": model, "form": form, "result": result, "errors": errors}
    status = 400 if errors else 200
    if request.htmx and request.method == "POST":
        return render(request, "csv_processor/partials/_predict_result.html", context, status=status)
    return render(request, "csv_processor/predict.html", context, status=status)


@require_POST
def batch_create(request: HttpRequest, model_id: int) -> HttpResponse:
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    form = BatchUploadForm(request.POST, request.FILES)
    # Reading the files (above) is what runs the capped upload handler.
    if getattr(request, "upload_over_cap", False):
        return too_large_response(request)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = batch_prediction_create(
                owner=request.user, deployed_model=model, uploaded_file=upload, name=upload.name, size=upload.size
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("csv_processor:batch-detail", batch_id=batch.pk)
    # The refused file's reason next to the file field, with a 400 like the dataset upload.
    return _model_page(request, model, form, status=400)


@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_prediction_get_for_user(user=request.user, batch_id=batch_id)
    template = "csv_processor/partials/_model_batch.html" if request.htmx else "csv_processor/batch_detail.html"
    return render(request, template, {"batch": batch})


@require_GET
def batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = batch_prediction_get_for_user(user=request.user, batch_id=batch_id)
    if batch.status != batch.Status.SUCCEEDED:
        messages.error(request, "The predictions are not ready yet.")
        return redirect("csv_processor:batch-detail", batch_id=batch.pk)
    filename = f"{batch.original_name.rsplit('.', 1)[0]}-predictions.csv"
    return FileResponse(batch_result_open(batch=batch), as_attachment=True, filename=filename)


# Refusals that depend on the model's state (409) rather than on the data asked for (400).
RETRAIN_CONFLICTS = {"not_ready", "busy", "undecided"}


@require_POST
def model_retrain(request: HttpRequest, model_id: int) -> HttpResponse:
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    running = model_retrain_open(deployed_model=model)
    try:
        retrain = model_retrain_start(deployed_model=model)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _model_page(request, model, BatchUploadForm(), status=409 if exc.code in RETRAIN_CONFLICTS else 400)
    if running is not None and running.pk == retrain.pk:
        messages.info(request, f"Retraining run #{retrain.run_id} is already under way; nothing new was started.")
    else:
        version = retrain.run.dataset_version.number
        messages.success(request, f"Retraining started on dataset version {version} (run #{retrain.run_id}).")
    return redirect("csv_processor:model-detail", model_id=model.pk)


@require_POST
def model_retrain_schedule(request: HttpRequest, model_id: int) -> HttpResponse:
    model = deployed_model_get_for_user(user=request.user, model_id=model_id)
    form = RetrainScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose never, every day or every week.")
        return _model_page(request, model, BatchUploadForm(), status=400, schedule_form=form)
    deployed_model_retrain_schedule_set(
        deployed_model=model, schedule=form.cleaned_data["schedule"], on_drift=form.cleaned_data["on_drift"]
    )
    messages.success(request, "Saved when the model retrains by itself.")
    return redirect("csv_processor:model-detail", model_id=model.pk)


@require_POST
def retrain_decide(request: HttpRequest, retrain_id: int) -> HttpResponse:
    retrain = model_retrain_get_for_user(user=request.user, retrain_id=retrain_id)
    try:
        if request.POST.get("decision") == "promote":
            model_retrain_promote(retrain=retrain)
            messages.success(request, "The retrained model now answers predictions.")
        else:
            model_retrain_keep(retrain=retrain)
            messages.success(request, "Kept the current version.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("csv_processor:model-detail", model_id=retrain.deployed_model_id)
