# syntax=docker/dockerfile:1
# One image for the web app (the default command), the task worker, migrations and the MLflow server.
# Build: docker build -t csv-analyzer .   Run everything: docker compose up -d (see docs/operations.md).

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
# The cache mount keeps downloaded wheels between builds without storing them in a layer.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --requirement /tmp/requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=csv_analyzer.settings \
    DJANGO_DEBUG=false \
    MEDIA_ROOT=/app/media
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root so the app user cannot change it.
COPY . .
# The key only satisfies the settings check during collectstatic; it is not kept in the image.
# /app/media and /mlflow are volume mount points: create them owned by the app user so the
# named volumes start with that ownership.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && mkdir -p /app/media /mlflow/artifacts \
    && chown app:app /app/media /mlflow /mlflow/artifacts
USER app
EXPOSE 8000
# Liveness only (no database): Compose overrides it with /readyz for the web service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=4)"]
# gthread workers: pages wait on the database and on file I/O, not on the CPU, so threads are cheap.
# Long work runs in the worker, so 120 s is only a backstop for slow uploads. Recycling workers
# bounds memory growth from pandas. The access log carries the request id the app sets.
CMD ["gunicorn", "csv_analyzer.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--workers", "3", "--threads", "4", \
     "--timeout", "120", "--graceful-timeout", "30", "--keep-alive", "5", \
     "--max-requests", "1000", "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s \"%(r)s\" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s"]
