"""Settings for CSV Analyzer, read from the environment.

Every variable is listed in README.md and `.env.example`. The defaults give a working single-machine
install (SQLite in WAL mode, local media, MLflow on SQLite); production sets the variables explicitly.
"""

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import plotly
from botocore.config import Config as BotoConfig
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    # Keep a stable local key across restarts so sessions survive; the file is git-ignored.
    key_file = BASE_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if "*" in ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must not contain '*' when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "users",
    # Before django_tasks_db so that our db_worker (with a heartbeat) overrides the stock one.
    "csv_processor",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "django_prometheus",
]

MIDDLEWARE = [
    # First and last: django-prometheus times every request and counts responses by view and status.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "csv_analyzer.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the body: refuse oversized uploads from their Content-Length.
    "csv_processor.upload_limits.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "csv_analyzer.urls"
WSGI_APPLICATION = "csv_analyzer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web and the worker read while one writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of failing with "database is locked".
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file (not :memory:) so tests can share the database with a real worker process.
        config["TEST"] = {"NAME": os.environ.get("DJANGO_TEST_DB_NAME", str(BASE_DIR / ".test-db.sqlite3"))}
    else:
        config.setdefault("CONN_HEALTH_CHECKS", True)
    # django-prometheus' wrappers of the same backends count connections, queries and their durations.
    vendor = config["ENGINE"].rsplit(".", 1)[-1]
    if vendor in {"sqlite3", "postgresql"}:
        config["ENGINE"] = f"django_prometheus.db.backends.{vendor}"
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "csv_processor:home"
LOGOUT_REDIRECT_URL = "users:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# plotly.js ships inside the plotly package; serve that copy, no CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(plotly.__file__).parent / "package_data")]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploaded data is served only through owner-checking views: no URL pattern serves MEDIA_URL.
MEDIA_URL = "/media/"


def _storages() -> dict:
    """Stored files in MEDIA_ROOT, or in the S3-compatible bucket of CSVA_STORAGE_URL (s3://bucket/prefix)."""
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    url = os.environ.get("CSVA_STORAGE_URL", "")
    if not url:
        return {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": static}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured(f"CSVA_STORAGE_URL must look like s3://bucket/prefix, not {url!r}.")
    options = {
        "bucket_name": parts.netloc,
        "location": parts.path.strip("/"),
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        # Unset keys leave boto3 its own chain (instance roles, ~/.aws).
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        # Names are fresh uuids: no existence check before a write, no ACL, and files are never public.
        "file_overwrite": True,
        "default_acl": None,
        "querystring_auth": True,
        "client_config": BotoConfig(
            connect_timeout=STORAGE_TIMEOUT_SECONDS,
            read_timeout=STORAGE_TIMEOUT_SECONDS,
            retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
        ),
    }
    return {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, "staticfiles": static}


STORAGE_TIMEOUT_SECONDS = env_int("CSVA_STORAGE_TIMEOUT_SECONDS", 10)
STORAGES = _storages()
# With a bucket: where each host keeps its read-through copies (default MEDIA_ROOT/.store-cache) and their cap.
STORAGE_CACHE_DIR = os.environ.get("CSVA_STORAGE_CACHE_DIR") or None
STORAGE_CACHE_BYTES = env_int("CSVA_STORAGE_CACHE_BYTES", 2 * 1024**3)

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "CSV Analyzer <noreply@localhost>")

# Upload limits: the cap is enforced while the body streams (see the datasets issue).
UPLOAD_MAX_BYTES = env_int("CSVA_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
USER_QUOTA_BYTES = env_int("CSVA_USER_QUOTA_BYTES", 2 * 1024 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "csv_processor.upload_limits.CappedUploadHandler",
    "csv_processor.upload_limits.SpaceCheckedUploadHandler",
]
# Files up to this size are parsed in full while uploading, so errors show at once; larger ones in the worker.
SYNC_PARSE_MAX_BYTES = env_int("CSVA_SYNC_PARSE_MAX_BYTES", 5 * 1024 * 1024)
# Cleaning steps on datasets up to this many rows run in the request; larger ones in the worker.
SYNC_CLEAN_MAX_ROWS = env_int("CSVA_SYNC_CLEAN_MAX_ROWS", 200_000)

MLFLOW_TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlruns.db")
MLFLOW_UI_URL = os.environ.get("MLFLOW_UI_URL", "http://127.0.0.1:5000")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A worker counts as alive for /readyz while its heartbeat is younger than this.
WORKER_HEARTBEAT_SECONDS = env_int("CSVA_WORKER_HEARTBEAT_SECONDS", 15)
WORKER_STALE_SECONDS = env_int("CSVA_WORKER_STALE_SECONDS", 60)
SESSION_CLEANUP_INTERVAL_SECONDS = env_int("CSVA_SESSION_CLEANUP_INTERVAL_SECONDS", 3600)
# Stored files no row refers to (left by a process killed between writing and recording one) are
# deleted every interval once older than the minimum age (services/storage_sweep.py).
STORAGE_SWEEP_INTERVAL_SECONDS = env_int("CSVA_STORAGE_SWEEP_INTERVAL_SECONDS", 6 * 3600)
STORAGE_SWEEP_MIN_AGE_SECONDS = env_int("CSVA_STORAGE_SWEEP_MIN_AGE_SECONDS", 6 * 3600)

# Metrics (docs/operations.md): /metrics answers a matching bearer token, or a direct (unproxied) request
# from an allowed network; anyone else gets a 404. The worker serves its own metrics on a port when set.
METRICS_TOKEN = os.environ.get("CSVA_METRICS_TOKEN", "").strip()
METRICS_ALLOWED_CIDRS = env_list("CSVA_METRICS_ALLOWED_CIDRS", "127.0.0.1/32,::1/128")
WORKER_METRICS_PORT = env_int("CSVA_WORKER_METRICS_PORT", 0)
WORKER_METRICS_ADDRESS = os.environ.get("CSVA_WORKER_METRICS_ADDRESS", "127.0.0.1")
# The cache, wrapped by django-prometheus to count hits and misses.
CACHES = {"default": {"BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}

SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: pages hand the token to HTMX through hx-headers in base.html, and
# Swagger UI renders it into its page, so the cookie can be hidden from scripts too.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "csv_analyzer.request_id.RequestIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        # Request bodies never reach the logs; django.request logs the path and status only.
        "django.server": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "django_tasks": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "django_tasks_db": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
    },
}

# --- Training ---------------------------------------------------------------------------------------
# Where new MLflow experiments keep their artifacts (empty: MLflow's default for the tracking store).
MLFLOW_ARTIFACT_ROOT = os.environ.get("MLFLOW_ARTIFACT_ROOT", "")
# How often runs whose logging to MLflow failed (store unreachable) are retried.
MLFLOW_RETRY_SECONDS = env_int("CSVA_MLFLOW_RETRY_SECONDS", 60)
# A training job refreshes its heartbeat this often; one silent for TRAINING_STALE_SECONDS is re-queued once.
TRAINING_HEARTBEAT_SECONDS = env_int("CSVA_TRAINING_HEARTBEAT_SECONDS", 10)
TRAINING_STALE_SECONDS = env_int("CSVA_TRAINING_STALE_SECONDS", 60)

# --- Security hardening -----------------------------------------------------------------------------
# Log-in throttling (django-axes): failures are counted per user name *and* client address, so one
# attacker cannot lock a user out for everyone; the lock-out page does not say whether the user exists.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("CSVA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("CSVA_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "users.client_ip.client_ip"
AXES_VERBOSE = False
# How many reverse proxies (nginx) stand in front of the app; their X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline.
# Styles allow inline because plotly.js sets chart styles at run time; scripts are what CSP guards.
MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# HTTPS: HSTS outside DEBUG; production (behind TLS) also sets DJANGO_SECURE_SSL_REDIRECT and DJANGO_BEHIND_TLS_PROXY.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)

# --- Serving ----------------------------------------------------------------------------------------
# The REST API's OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/), with the UI's assets served
# by the app (drf-spectacular-sidecar), never from a CDN.
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
# Prediction calls per API token (per user for the browser session), e.g. "600/min"; over it: 429 + Retry-After.
# Counted in the database, so the limit holds across processes (csv_processor/services/serving/rate.py).
PREDICT_RATE = os.environ.get("CSVA_API_PREDICT_RATE", "").strip() or "600/min"
SPECTACULAR_SETTINGS = {
    "TITLE": "CSV Analyzer API",
    "DESCRIPTION": "Deployed models: input schema, predictions (also in MLflow's scoring protocol) and feedback.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Limits of one prediction request: rows, body bytes and JSON nesting depth.
PREDICT_MAX_ROWS = env_int("CSVA_PREDICT_MAX_ROWS", 1000)
PREDICT_MAX_BYTES = env_int("CSVA_PREDICT_MAX_BYTES", 2 * 1024 * 1024)
PREDICT_MAX_DEPTH = env_int("CSVA_PREDICT_MAX_DEPTH", 6)
# Share of prediction requests whose rows are logged (for drift and live accuracy), the size cap of a
# logged record, and how long logged predictions are kept.
PREDICTION_LOG_SAMPLE = float(os.environ.get("CSVA_PREDICTION_LOG_SAMPLE", "") or 1.0)
PREDICTION_LOG_MAX_BYTES = env_int("CSVA_PREDICTION_LOG_MAX_BYTES", 4096)
# Logged predictions are written in bulk by each web process this often (0: in the request itself).
PREDICTION_LOG_FLUSH_SECONDS = float(os.environ.get("CSVA_PREDICTION_LOG_FLUSH_SECONDS", "") or 1.0)
PREDICTION_RETENTION_DAYS = env_int("CSVA_PREDICTION_RETENTION_DAYS", 30)
# How often the worker recomputes input drift of deployed models and prunes the prediction log.
DRIFT_INTERVAL_SECONDS = env_int("CSVA_DRIFT_INTERVAL_SECONDS", 3600)
