"""The upload size cap, enforced before and while the request body streams in.

The middleware answers 413 from the Content-Length header without reading the body; the handler counts
the bytes of bodies that lie about or omit their length and stops the upload at the cap. Behind nginx,
bodies past its client_max_body_size never reach us: nginx asks `upload_too_large` for the answer instead.
Every 413 goes through `too_large_response`, which counts it in csva_upload_failures_total.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from csv_processor import metrics

# Room for the multipart envelope and the small form fields around the file.
ENVELOPE_BYTES = 64 * 1024


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


class CappedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: stops a file that grows past the cap and flags the request."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.request.upload_over_cap = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
