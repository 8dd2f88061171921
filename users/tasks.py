"""Background entrypoints for accounts."""

from django_tasks import task

from users.services import session_cleanup


@task()
def session_cleanup_task() -> int:
    return session_cleanup()
