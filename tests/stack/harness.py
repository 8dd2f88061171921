"""Start the Compose topology natively on 127.0.0.1, with the repository's own configuration files.

PostgreSQL is the machine's (STACK_POSTGRES, fresh databases per run); nginx and Prometheus are Debian's
binaries; gunicorn, the task worker and MLflow come from the virtualenv. Each process runs in its own
process group with its log in the run's folder, and `Stack.stop()` ends them all and drops the databases,
whatever happened before.
"""

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POSTGRES = os.environ.get("STACK_POSTGRES", "postgres://postgres@127.0.0.1:5432")
FIRST_PORT = 18100
# The alerts the stack test makes fire, with a `for` short enough to wait for: the harness's copy of
# prometheus/alerts.yml carries these; every other rule keeps the repository's.
STACK_ALERT_FOR = {"CsvAnalyzerWorkerHeartbeatMissing": "2s", "CsvAnalyzerTrainingFailures": "2s"}


def free_port(start: int) -> int:
    """The first port from `start` that nobody listens on (another run or another developer may)."""
    for port in range(start, start + 400):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (requests.RequestException, OSError) as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: not within {timeout}s (last error: {last_error})")


@dataclass
class Ports:
    web: int
    worker_metrics: int
    nginx: int
    mlflow: int
    prometheus: int

    @classmethod
    def pick(cls) -> "Ports":
        # From a random start: stacks started at the same moment (the fault suite, a benchmark) check their
        # ports long before binding them, and must not both take the first free ones.
        taken: list[int] = [FIRST_PORT - 1 + 10 * secrets.randbelow(150)]
        for _ in range(5):
            taken.append(free_port(taken[-1] + 1))
        return cls(*taken[1:])


@dataclass
class Stack:
    workdir: Path
    ports: Ports = field(default_factory=Ports.pick)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)
    app_env: dict[str, str] = field(default_factory=dict)
    # In the names of its databases: two stacks of one test session must not drop each other's.
    label: str = "stack"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.nginx}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.prometheus}"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        app_db, mlflow_db = self._create_databases()
        env = self.app_env = self._app_env(app_db)
        # MLflow creates its tables while Django migrates and collects the static files (side by side).
        self._start_mlflow(mlflow_db)
        collectstatic = [sys.executable, "manage.py", "collectstatic", "--no-input"]
        collecting = self.spawn("collectstatic", collectstatic, env)
        self._run("migrate", [sys.executable, "manage.py", "migrate", "--no-input"], env)
        if collecting.wait(timeout=300) != 0:
            raise subprocess.CalledProcessError(collecting.returncode, collectstatic)
        self.processes.pop("collectstatic")
        web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics-multiproc")}
        self.spawn("web", [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "csv_analyzer.wsgi"], web_env)
        self.start_worker()
        self.start_nginx(env)
        self.spawn("prometheus", self._prometheus_command(), env)
        wait_until(lambda: requests.get(f"{self.url}/readyz", timeout=5).ok, timeout=90, what="/readyz via nginx")
        mlflow_health = f"http://127.0.0.1:{self.ports.mlflow}/health"
        wait_until(lambda: requests.get(mlflow_health, timeout=5).ok, timeout=120, what="MLflow /health")
        wait_until(lambda: requests.get(f"{self.prometheus_url}/-/ready", timeout=5).ok, timeout=60, what="Prometheus")

    def start_nginx(self, env: dict[str, str]) -> subprocess.Popen:
        """Debian's nginx with the repository's config, in front of the web process on `ports.web`."""
        # In the foreground, so its process group is the one we stop (a daemon would escape it).
        nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"  # /usr/sbin is not on every user's PATH
        nginx = [nginx_binary, "-p", str(self.workdir), "-c", str(self._nginx_conf()), "-g", "daemon off;"]
        return self.spawn("nginx", nginx, env)

    def start_worker(self) -> subprocess.Popen:
        """The task worker (again, after `stop_process("worker")`), with the app's environment."""
        return self.spawn(
            "worker", [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.5"], self.app_env
        )

    def app_rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a query on the app's database: for what no page shows, such as where a file is stored."""
        with (
            contextlib.closing(psycopg2.connect(self.app_env["DATABASE_URL"])) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            return cursor.fetchall()

    def stop(self) -> None:
        # Every process is told at once, then waited for: one slow to exit no longer delays the others.
        for name in reversed(list(self.processes)):
            self._signal(name, signal.SIGTERM)
        for name in reversed(list(self.processes)):
            self._reap(name)
        with contextlib.suppress(psycopg2.Error):
            self._drop_databases()

    def ports_still_listening(self) -> list[int]:
        listening = []
        for port in vars(self.ports).values():
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    listening.append(port)
        return listening

    def _signal(self, name: str, signum: int) -> None:
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

    def stop_process(self, name: str) -> None:
        self._signal(name, signal.SIGTERM)
        self._reap(name)

    def _reap(self, name: str) -> None:
        """Wait for a process told to stop; kill its group if it takes longer than 20 s."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.processes[name] = process
        return process

    def log_tails(self, lines: int = 25) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # --- pieces ----------------------------------------------------------------------------------------

    def _run(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=300)

    def _create_databases(self) -> tuple[str, str]:
        names = [f"csva_{self.label}_{os.getpid()}", f"csva_{self.label}_mlflow_{os.getpid()}"]
        with contextlib.closing(psycopg2.connect(f"{POSTGRES}/postgres")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                for name in names:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    cursor.execute(f'CREATE DATABASE "{name}"')
                    self.databases.append(name)
        # SQLAlchemy (MLflow's store) would pick psycopg 3 for a bare postgresql://; we ship psycopg2.
        return f"{POSTGRES}/{names[0]}", f"{POSTGRES.replace('postgres://', 'postgresql+psycopg2://', 1)}/{names[1]}"

    def _drop_databases(self) -> None:
        with contextlib.closing(psycopg2.connect(f"{POSTGRES}/postgres")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                for name in self.databases:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _app_env(self, database_url: str) -> dict[str, str]:
        """What docker-compose.yml gives the app containers, pointed at loopback."""
        keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
        return {
            **{key: value for key, value in os.environ.items() if key in keep},
            "DJANGO_SETTINGS_MODULE": "csv_analyzer.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: secure-only cookies would never come back.
            "DJANGO_SECURE_COOKIES": "false",
            # nginx in front, as under Compose.
            "DJANGO_TRUSTED_PROXY_COUNT": "1",
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(self.workdir / "media"),
            "DJANGO_STATIC_ROOT": str(self.workdir / "static"),
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{self.ports.mlflow}",
            "CSVA_METRICS_TOKEN": self.token,
            # The token only, as under Compose: loopback is not trusted either.
            "CSVA_METRICS_ALLOWED_CIDRS": "",
            "CSVA_WORKER_METRICS_PORT": str(self.ports.worker_metrics),
            "CSVA_WORKER_METRICS_ADDRESS": "127.0.0.1",
            "CSVA_WORKER_HEARTBEAT_SECONDS": "1",
            "CSVA_WORKER_STALE_SECONDS": "5",
            # The drift job runs as soon as a model is deployed, so its gauge has a value to show.
            "CSVA_DRIFT_INTERVAL_SECONDS": "5",
            "GUNICORN_BIND": f"127.0.0.1:{self.ports.web}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "2",
        }

    def _start_mlflow(self, backend_uri: str, artifacts: str = "", store_env: dict[str, str] | None = None) -> None:
        """The MLflow server, proxying artifacts to `artifacts` (default: a folder of the run), reached with
        `store_env` (an S3 endpoint and its credentials, which only this process gets)."""
        if not artifacts:
            folder = self.workdir / "mlflow-artifacts"
            folder.mkdir()
            artifacts = str(folder)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self.workdir)),
            "MLFLOW_BACKEND_STORE_URI": backend_uri,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            **(store_env or {}),
        }
        command = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(self.ports.mlflow)]
        command += ["--workers", "1", "--serve-artifacts", "--artifacts-destination", artifacts]
        self.spawn("mlflow", command, env)

    def _nginx_conf(self) -> Path:
        """nginx/nginx.conf with the Compose names swapped for this run's loopback ports and folders, and the
        body limit it includes written by nginx/client-max-body-size.sh from the app's environment, as the
        image's entrypoint writes it from the container's."""
        text = (ROOT / "nginx" / "nginx.conf").read_text()
        body_limit = "/tmp/nginx/client_max_body_size.conf"
        assert f"include {body_limit};" in text, f"nginx.conf no longer includes {body_limit}: update the harness"
        replacements = {
            "server web:8000;": f"server 127.0.0.1:{self.ports.web};",
            "listen 8080;": f"listen 127.0.0.1:{self.ports.nginx};",
            "alias /app/staticfiles/;": f"alias {self.workdir / 'static'}/;",
            "/tmp/nginx": str(self.workdir / "nginx"),
        }
        for old, new in replacements.items():
            assert old in text, f"nginx.conf no longer contains {old!r}: update tests/stack/harness.py"
            text = text.replace(old, new)
            body_limit = body_limit.replace(old, new)
        (self.workdir / "nginx").mkdir()
        (self.workdir / "static").mkdir(exist_ok=True)
        # Debian's nginx started as root hands requests to `nobody`, which must read the static files.
        for folder in (self.workdir, self.workdir / "static"):
            folder.chmod(0o755)
        path = self.workdir / "nginx.conf"
        path.write_text(text)
        limit_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NGINX_BODY_LIMIT_CONF": body_limit}
        if "CSVA_UPLOAD_MAX_BYTES" in self.app_env:
            limit_env["CSVA_UPLOAD_MAX_BYTES"] = self.app_env["CSVA_UPLOAD_MAX_BYTES"]
        script = ["sh", str(ROOT / "nginx" / "client-max-body-size.sh")]
        written = subprocess.run(script, env=limit_env, capture_output=True, text=True, timeout=30)
        assert written.returncode == 0, f"client-max-body-size.sh failed: {written.stderr}"
        return path

    def _prometheus_command(self) -> list[str]:
        config = yaml.safe_load((ROOT / "prometheus.yml").read_text())
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        # Relative to prometheus.yml, as Prometheus reads them; they are globs, so a wrong path loads nothing.
        config["rule_files"] = [str(self._rules_copy(ROOT / rule)) for rule in config["rule_files"]]
        token_file = self.workdir / "metrics_token"
        token_file.write_text(self.token)
        targets = {
            "csv_analyzer_web": f"127.0.0.1:{self.ports.web}",
            "csv_analyzer_worker": f"127.0.0.1:{self.ports.worker_metrics}",
            "prometheus": f"127.0.0.1:{self.ports.prometheus}",
        }
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        assert set(jobs) == set(targets), f"prometheus.yml jobs changed: {sorted(jobs)}; update tests/stack/harness.py"
        for name, job in jobs.items():
            job.pop("dns_sd_configs", None)
            job["static_configs"] = [{"targets": [targets[name]]}]
            if "authorization" in job:
                job["authorization"]["credentials_file"] = str(token_file)
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        data = self.workdir / "prometheus-data"
        return [
            shutil.which("prometheus") or "/usr/bin/prometheus",
            f"--config.file={path}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{self.ports.prometheus}",
        ]

    def _rules_copy(self, path: Path) -> Path:
        """A rules file with STACK_ALERT_FOR's waits, written to the run's folder."""
        rules = yaml.safe_load(path.read_text())
        alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
        missing = set(STACK_ALERT_FOR) - set(alerts)
        assert not missing, f"{path.name} no longer has {sorted(missing)}: update tests/stack/harness.py"
        for name, wait in STACK_ALERT_FOR.items():
            alerts[name]["for"] = wait
        copy = self.workdir / "rules" / path.name
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(yaml.safe_dump(rules, sort_keys=False))
        return copy

    # --- Prometheus queries ----------------------------------------------------------------------------

    def query(self, expr: str) -> list[dict]:
        response = requests.get(f"{self.prometheus_url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        return body["data"]["result"]

    def scalar(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def await_next_scrape(self) -> None:
        """Return once Prometheus has scraped every target after this call: what happened before is in."""
        called = datetime.now(UTC)

        def scraped_since() -> bool:
            targets = requests.get(f"{self.prometheus_url}/api/v1/targets", timeout=10).json()["data"]
            return all(scrape_time(target["lastScrape"]) > called for target in targets["activeTargets"])

        wait_until(scraped_since, timeout=30, what="a scrape of every target", interval=0.2)


def scrape_time(text: str) -> datetime:
    """Prometheus's RFC 3339 time with nanoseconds, to the microsecond Python keeps."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))


def dashboard_expression(expr: str, rate_window: str) -> str:
    """A Grafana panel query as Prometheus would receive it."""
    return re.sub(r"\$__rate_interval|\$__interval|\$__range", rate_window, expr)
