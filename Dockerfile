# syntax=docker/dockerfile:1
# One image for the web app (the default command), the task worker, migrations and the MLflow server,
# plus an nginx image (target `proxy`) holding the collected static files.
#   docker build -t csv-analyzer .                      the app (the last stage)
#   docker build --target proxy -t csv-analyzer-proxy .  nginx with the static files
# Compose builds both: docker compose up -d --build (see docs/operations.md).

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
# Every package is pinned in requirements.txt. The cache mount keeps wheels between builds without
# storing them in a layer.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --requirement /tmp/requirements.txt

# collectstatic needs the code and the packages; only its output leaves this stage.
FROM builder AS static
WORKDIR /app
COPY . .
# The key only satisfies the settings check during collectstatic; it is not kept in any image.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --no-input

# nginx, unprivileged (port 8080), serving /static/ and proxying the rest to gunicorn.
FROM nginxinc/nginx-unprivileged:1.27-alpine AS proxy
COPY nginx/nginx.conf /etc/nginx/nginx.conf
# The image's entrypoint runs it before nginx starts: it writes the body limit nginx.conf includes from
# CSVA_UPLOAD_MAX_BYTES, and stops the container on a value that is not a number of bytes.
COPY --chmod=0755 nginx/client-max-body-size.sh /docker-entrypoint.d/40-client-max-body-size.sh
COPY --from=static /app/staticfiles /app/staticfiles
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wget", "--quiet", "--spider", "http://127.0.0.1:8080/nginx-health"]

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=csv_analyzer.settings \
    DJANGO_DEBUG=false \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root so the app user cannot change it.
COPY . .
COPY --from=static /app/staticfiles /app/staticfiles
# /app/media and /mlflow are volume mount points: create them owned by the app user so the named
# volumes start with that ownership.
RUN mkdir -p /app/media /mlflow/artifacts \
    && chown 10001:10001 /app/media /mlflow /mlflow/artifacts
USER 10001:10001
EXPOSE 8000
# Liveness only (no database): Compose overrides it with /readyz for the web service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=4)"]
# Workers, threads, timeouts and the Prometheus multiprocess directory: see gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "csv_analyzer.wsgi"]
