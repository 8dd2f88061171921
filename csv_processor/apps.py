from django.apps import AppConfig
from django.conf import settings


class CsvProcessorConfig(AppConfig):
    name = "csv_processor"
    verbose_name = "CSV processing"

    def ready(self) -> None:
        # Count account and task events here: users must not import csv_processor, and the receivers
        # only increment a metric (no logic in signals).
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_save
        from django_tasks_db.compat import task_finished

        from csv_processor import metrics

        post_save.connect(metrics.on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="csva-signups")
        user_logged_in.connect(metrics.on_user_logged_in, dispatch_uid="csva-logins")
        user_login_failed.connect(metrics.on_user_login_failed, dispatch_uid="csva-login-failures")
        task_finished.connect(metrics.on_task_finished, dispatch_uid="csva-tasks-finished")
