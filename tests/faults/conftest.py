"""Real processes for the fault tests, started through the stack test's harness and always stopped.

`rig` is a `tests.stack.harness.Stack` used only for its process handling (each process in its own group,
its log in the run's folder) and for the environment the Compose app containers get; nothing of the
stack is started unless a test asks for it.
"""

import contextlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.stack.harness import Stack, free_port, wait_until

WORKER_COMMAND = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay"]
# Short enough for the tests to see the reaper and the MLflow retry act; the defaults are minutes.
FAST_HOUSEKEEPING = {
    "CSVA_WORKER_HEARTBEAT_SECONDS": "1",
    "CSVA_WORKER_STALE_SECONDS": "4",
    "CSVA_TRAINING_HEARTBEAT_SECONDS": "1",
    "CSVA_TRAINING_STALE_SECONDS": "5",
    "CSVA_MLFLOW_RETRY_SECONDS": "2",
    "CSVA_DRIFT_INTERVAL_SECONDS": "3600",
    # Several workers run at once: none serves metrics on a port.
    "CSVA_WORKER_METRICS_PORT": "",
}


@dataclass
class Rig(Stack):
    """The harness' process handling, plus `restart`; `env` is what the app containers get."""

    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.commands[name] = (command, env)
        return super().spawn(name, command, env)

    def restart(self, name: str) -> subprocess.Popen:
        """Start a stopped process again, as it was started the first time."""
        assert name not in self.processes, f"{name} is still running"
        return self.spawn(name, *self.commands[name])

    def env(self, database_url: str, media_root: Path, **overrides: str) -> dict[str, str]:
        return {**self._app_env(database_url), "MEDIA_ROOT": str(media_root), **FAST_HOUSEKEEPING, **overrides}

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.mlflow}"

    def start_mlflow(self, backend_uri: str, *, wait: bool = True) -> None:
        self._start_mlflow(backend_uri)
        if wait:
            self.wait_mlflow()

    def wait_mlflow(self) -> None:
        health = f"{self.mlflow_url}/health"
        wait_until(lambda: requests.get(health, timeout=5).ok, timeout=120, what="MLflow /health")

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop_process(name)


@pytest.fixture
def rig(request):
    workdir = Path(tempfile.mkdtemp(prefix="csva-faults-"))
    running = Rig(workdir=workdir)
    running.logs.mkdir(parents=True)
    yield running
    running.stop_all()
    failed = request.node.rep_call.failed if hasattr(request.node, "rep_call") else True
    if failed:
        print(f"\nfault test logs kept in {running.logs}\n{running.log_tails(40)}")  # noqa: T201 - pytest's report
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def unreachable_mlflow() -> str:
    """An HTTP tracking URI where nothing listens: logging fails at once and stays pending."""
    return f"http://127.0.0.1:{free_port(18700)}"


@pytest.fixture
def tmpfs():
    """A 2 MB tmpfs, mounted for the test and unmounted after; mounting must work (we run as root in CI)."""
    folder = Path(tempfile.mkdtemp(prefix="csva-faults-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.fail(f"could not mount a tmpfs for the disk-full test (root needed): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            subprocess.run(["umount", "-l", str(folder)], check=True, capture_output=True, timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
