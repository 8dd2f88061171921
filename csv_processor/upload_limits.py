"""The upload size cap, enforced before and while the request body streams in.

The middleware answers 413 from the Content-Length header without reading the body; the handler counts
the bytes of bodies that lie about or omit their length and stops the upload at the cap. Behind nginx,
bodies past its client_max_body_size never reach us: nginx asks `upload_too_large` for the answer instead.
Every 413 goes through `too_large_response`, which counts it in csva_upload_failures_total.

A full disk is a limit too: the temporary-file handler removes its partial file and flags the request,
and the middleware answers any other "no space left" with a 507 and a plain message, never a 500. So are
the file store's faults: a store that cannot be reached answers 503, a stored file gone from it 410.
"""

import contextlib
import errno
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from csv_processor import metrics
from csv_processor.storage import StoredFileMissing, StoreUnavailable

logger = logging.getLogger(__name__)

# Room for the multipart envelope and the small form fields around the file.
ENVELOPE_BYTES = 64 * 1024
NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
STORAGE_FULL_MESSAGE = (
    "The server has run out of storage space, so your file could not be saved and nothing was kept. "
    "Try again later, or tell your administrator."
)
STORE_UNAVAILABLE_MESSAGE = (
    "The file store cannot be reached right now, so nothing was read or saved. "
    "Try again in a few minutes, or tell your administrator."
)
FILE_MISSING_MESSAGE = (
    "The data this page needs is missing from the file store (it was deleted outside the app). "
    "Upload the file again, or tell your administrator."
)


def too_large_response(request: HttpRequest, *, api: bool | None = None) -> HttpResponse:
    """The 413 for a body over the cap (JSON for the API), counted as an upload refused for its size."""
    metrics.upload_failed(stage="upload", reason="too_large")
    if api is None:
        api = request.path.startswith("/api/")
    limit_mb = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    message = f"This file is too large. The limit is {limit_mb:g} MB per file."
    if api:
        return HttpResponse(f'{{"detail": "{message}"}}', status=413, content_type="application/json")
    html = render_to_string("csv_processor/upload_too_large.html", {"message": message}, request=request)
    return HttpResponse(html, status=413)


def storage_full_response(request: HttpRequest) -> HttpResponse:
    """The 507 for a write that found the disk full."""
    return _storage_response(request, "Out of storage space", STORAGE_FULL_MESSAGE, 507)


def _storage_response(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(f'{{"detail": "{message}"}}', status=status, content_type="application/json")
    context = {"title": title, "message": message}
    html = render_to_string("csv_processor/storage_error.html", context, request=request)
    return HttpResponse(html, status=status)


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.UPLOAD_MAX_BYTES + ENVELOPE_BYTES:
            return too_large_response(request)
        response = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OSError) and exception.errno in NO_SPACE:
            logger.error("no space left while serving %s: %s", request.path, exception)
            return storage_full_response(request)
        if isinstance(exception, StoreUnavailable):
            logger.error("file store unreachable while serving %s: %s", request.path, exception)
            return _storage_response(request, "File store unavailable", STORE_UNAVAILABLE_MESSAGE, 503)
        if isinstance(exception, StoredFileMissing):
            logger.error("stored file missing while serving %s: %s", request.path, exception)
            return _storage_response(request, "Data missing", FILE_MISSING_MESSAGE, 410)
        return None


class CappedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: stops a file that grows past the cap and flags the request."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.request.upload_over_cap = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class SpaceCheckedUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler, except that a full disk removes the partial file and flags the
    request (`upload_storage_full`) instead of failing the request with a 500."""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        with self._no_space_stops_the_upload():
            super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        with self._no_space_stops_the_upload():
            return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        with self._no_space_stops_the_upload():
            return super().file_complete(file_size)

    @contextlib.contextmanager
    def _no_space_stops_the_upload(self):
        try:
            yield
        except OSError as exc:
            if exc.errno not in NO_SPACE:
                raise
            logger.error("upload stopped, no space left for its temporary file: %s", exc)
            if getattr(self, "file", None) is not None:
                # Closing flushes what is buffered, which fails again; the file is unlinked all the same.
                with contextlib.suppress(OSError):
                    self.file.close()
            self.request.upload_storage_full = True
            # Read (and drop) the rest of the body, so the client gets our answer rather than a reset.
            raise StopUpload(connection_reset=False) from exc
