"""nginx accepts the config the stack test runs, with the body limit the app's cap gives it.

`nginx -t` on the config tests/stack/harness.py writes (Debian's nginx, as for the stack test); no server
is started. The limit script itself is tested in tests/test_nginx_config.py.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack.harness import Stack

pytestmark = pytest.mark.stack

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # /usr/sbin is not on every user's PATH


def nginx_test(workdir: Path, conf: Path) -> subprocess.CompletedProcess:
    command = [NGINX, "-t", "-p", str(workdir), "-c", str(conf), "-e", "stderr"]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_nginx_accepts_the_config_the_stack_test_runs_with_the_apps_cap(tmp_path):
    stack = Stack(workdir=tmp_path, app_env={"CSVA_UPLOAD_MAX_BYTES": "300000000"})

    conf = stack._nginx_conf()
    result = nginx_test(tmp_path, conf)

    assert (tmp_path / "nginx" / "client_max_body_size.conf").read_text() == "client_max_body_size 300065536;\n"
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_test_fails_on_a_body_limit_nginx_cannot_read(tmp_path):
    conf = Stack(workdir=tmp_path)._nginx_conf()
    (tmp_path / "nginx" / "client_max_body_size.conf").write_text("client_max_body_size 200 MiB;\n")

    result = nginx_test(tmp_path, conf)

    assert result.returncode != 0
    assert "client_max_body_size" in result.stderr
