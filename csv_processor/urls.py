from django.urls import path

from csv_processor.views import cleaning, datasets, uploads
from csv_processor.views import serving as serving_views
from csv_processor.views import training as training_views

app_name = "csv_processor"

urlpatterns = [
    path("", datasets.dataset_list_view, name="home"),
    path("datasets/", datasets.dataset_list_view, name="dataset-list"),
    path("datasets/upload/", uploads.upload_new, name="upload-new"),
    path("datasets/upload/too-large/", uploads.upload_too_large, name="upload-too-large"),
    path("uploads/<int:upload_id>/", uploads.upload_status, name="upload-status"),
    path("uploads/<int:upload_id>/confirm/", uploads.upload_confirm_view, name="upload-confirm"),
    path("uploads/<int:upload_id>/preview/", uploads.upload_preview_partial, name="upload-preview"),
    path("uploads/<int:upload_id>/discard/", uploads.upload_discard_view, name="upload-discard"),
    path("datasets/<int:dataset_id>/", datasets.dataset_detail, name="dataset-detail"),
    path("datasets/<int:dataset_id>/edit/", datasets.dataset_edit, name="dataset-edit"),
    path("datasets/<int:dataset_id>/delete/", datasets.dataset_delete_view, name="dataset-delete"),
    path("datasets/<int:dataset_id>/v/<int:number>/profile/", datasets.dataset_profile, name="dataset-profile"),
    path("datasets/<int:dataset_id>/v/<int:number>/explore/", datasets.dataset_explore, name="dataset-explore"),
    path(
        "datasets/<int:dataset_id>/v/<int:number>/download.csv",
        datasets.dataset_download_csv,
        name="dataset-download-csv",
    ),
    path(
        "datasets/<int:dataset_id>/v/<int:number>/download.parquet",
        datasets.dataset_download_parquet,
        name="dataset-download-parquet",
    ),
    path("datasets/<int:dataset_id>/clean/", cleaning.cleaning_page, name="cleaning"),
    path("datasets/<int:dataset_id>/clean/preview/", cleaning.cleaning_preview_view, name="cleaning-preview"),
    path("datasets/<int:dataset_id>/clean/apply/", cleaning.cleaning_apply, name="cleaning-apply"),
    path("datasets/<int:dataset_id>/v/<int:number>/restore/", cleaning.version_restore, name="version-restore"),
    path("datasets/<int:dataset_id>/suggestions/apply/", cleaning.suggestion_apply, name="suggestion-apply"),
    path("datasets/<int:dataset_id>/suggestions/dismiss/", cleaning.suggestion_dismiss_view, name="suggestion-dismiss"),
    path("cleaning-jobs/<int:job_id>/", cleaning.cleaning_job_status, name="cleaning-job"),
]

# --- Training ---------------------------------------------------------------------------------------
urlpatterns += [
    path("datasets/<int:dataset_id>/v/<int:number>/train/", training_views.training_new, name="training-new"),
    path(
        "datasets/<int:dataset_id>/v/<int:number>/train/setup/",
        training_views.training_setup_partial,
        name="training-setup",
    ),
    path("datasets/<int:dataset_id>/runs/", training_views.dataset_runs_partial, name="dataset-runs"),
    path("runs/", training_views.run_list, name="run-list"),
    path("runs/compare/", training_views.run_compare, name="run-compare"),
    path("runs/<int:run_id>/", training_views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/cancel/", training_views.run_cancel, name="run-cancel"),
    path("runs/<int:run_id>/repeat/", training_views.run_repeat, name="run-repeat"),
    path("runs/<int:run_id>/without/", training_views.run_without, name="run-without"),
    path("runs/<int:run_id>/download.py", training_views.run_download_python, name="run-download-python"),
]

# --- Serving ----------------------------------------------------------------------------------------
urlpatterns += [
    path("models/", serving_views.model_list, name="model-list"),
    path("models/<int:model_id>/", serving_views.model_detail, name="model-detail"),
    path("runs/<int:run_id>/deploy/", serving_views.model_deploy, name="model-deploy"),
    path("models/<int:model_id>/versions/", serving_views.model_version_deploy, name="model-version-deploy"),
    path(
        "models/<int:model_id>/versions/<int:number>/activate/",
        serving_views.model_version_activate_view,
        name="model-version-activate",
    ),
    path("models/<int:model_id>/predict/", serving_views.model_predict, name="model-predict"),
    path("models/<int:model_id>/batches/", serving_views.batch_create, name="batch-create"),
    path("batches/<int:batch_id>/", serving_views.batch_detail, name="batch-detail"),
    path("batches/<int:batch_id>/download.csv", serving_views.batch_download, name="batch-download"),
    path("models/<int:model_id>/retrain/", serving_views.model_retrain, name="model-retrain"),
    path(
        "models/<int:model_id>/retrain/schedule/",
        serving_views.model_retrain_schedule,
        name="model-retrain-schedule",
    ),
    path("retrains/<int:retrain_id>/decide/", serving_views.retrain_decide, name="retrain-decide"),
]
