"""A private PostgreSQL cluster from Debian's binaries: its own data folder, socket folder and port.

The machine's PostgreSQL is shared with other developers and is never restarted; this cluster is ours to
restart. It runs as the `postgres` OS user (PostgreSQL refuses to run as root), trusts local connections
and is removed with its folder by `stop()`.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.stack.harness import free_port

PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
FIRST_PORT = 18600


def _as_postgres(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout, check=True)


@dataclass
class PrivatePostgres:
    folder: Path
    port: int

    @classmethod
    def create(cls) -> "PrivatePostgres":
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"{PG_BIN}/initdb is missing: install Debian's postgresql (or set FAULTS_PG_BIN)")
        folder = Path(tempfile.mkdtemp(prefix="csva-faults-pg-"))
        folder.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(folder=folder, port=free_port(FIRST_PORT))
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return cluster

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self, *, down_seconds: float = 0) -> float:
        """`pg_ctl restart -m fast` (every connection is cut), or a stop and a start `down_seconds` apart;
        returns how long the database was away."""
        started = time.monotonic()
        if down_seconds:
            self._ctl("stop", "-m", "fast")
            time.sleep(down_seconds)
            self._ctl("start")
        else:
            self._ctl("restart", "-m", "fast")
        return time.monotonic() - started

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with contextlib.closing(psycopg2.connect(self.url())) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
