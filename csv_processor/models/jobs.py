"""The abstract status row under every long job (ADR 0002): what counts as in progress, and the guarded
claim that lets a task take its row once, however often it is queued."""

from typing import Any, ClassVar

from django.db import models


class Job(models.Model):
    """A job row with a `status` field. Subclasses keep their own `Status` choices (their labels say what
    the job does: "Parsing", "Training"); these class attributes name the values this base relies on."""

    # The status a new job waits in, the one a claimed job runs in, and those shown as in progress.
    CLAIM_FROM: ClassVar[str] = "queued"
    CLAIM_TO: ClassVar[str] = "running"
    IN_PROGRESS: ClassVar[frozenset[str]] = frozenset({"queued", "running"})

    status: Any

    class Meta:
        abstract = True

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @classmethod
    def claim(cls, pk: int, *, guard: dict[str, Any] | None = None, **changes: Any) -> bool:
        """Move a waiting row to running in one UPDATE; False when it was not waiting (deleted, taken by
        another worker, finished). `guard` adds conditions; `changes` are saved with the new status."""
        waiting = cls._default_manager.filter(pk=pk, status=cls.CLAIM_FROM, **(guard or {}))
        return bool(waiting.update(status=cls.CLAIM_TO, **changes))
