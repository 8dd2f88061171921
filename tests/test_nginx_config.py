"""nginx's body limit follows CSVA_UPLOAD_MAX_BYTES.

Runs nginx/client-max-body-size.sh with `sh`, as the image's entrypoint does. That nginx accepts the
result (`nginx -t`, which needs Debian's nginx) is checked in tests/stack/test_nginx_config.py.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from csv_processor.upload_limits import ENVELOPE_BYTES
from tests.stack.harness import Stack

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "nginx" / "client-max-body-size.sh"


def write_limit(folder: Path, value: str | None) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the script with CSVA_UPLOAD_MAX_BYTES set to `value` (None: unset); return it and its output file."""
    output = folder / "limits" / "client_max_body_size.conf"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NGINX_BODY_LIMIT_CONF": str(output)}
    if value is not None:
        env["CSVA_UPLOAD_MAX_BYTES"] = value
    result = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)
    return result, output


def settings_default_cap() -> int:
    source = (ROOT / "csv_analyzer" / "settings.py").read_text()
    return eval(re.search(r'env_int\("CSVA_UPLOAD_MAX_BYTES", ([^)]+)\)', source).group(1))  # noqa: S307


@pytest.mark.parametrize("value", [None, "", "  "])
def test_body_limit_is_the_apps_default_cap_plus_its_envelope_when_unset(tmp_path, value):
    result, output = write_limit(tmp_path, value)

    assert result.returncode == 0, result.stderr
    assert output.read_text() == f"client_max_body_size {settings_default_cap() + ENVELOPE_BYTES};\n"


@pytest.mark.parametrize(
    ("value", "limit"),
    [("300000000", 300_065_536), (" 1048576\n", 1_114_112), ("0", 65_536), ("0100", 65_636)],
)
def test_body_limit_follows_a_custom_cap(tmp_path, value, limit):
    result, output = write_limit(tmp_path, value)

    assert result.returncode == 0, result.stderr
    assert output.read_text() == f"client_max_body_size {limit};\n"
    assert str(limit) in result.stdout


@pytest.mark.parametrize("value", ["abc", "200m", "-1", "1e9", "12.5", "1_000", "1 000", "9" * 16])
def test_body_limit_refuses_a_cap_that_is_not_a_number_of_bytes(tmp_path, value):
    result, output = write_limit(tmp_path, value)

    assert result.returncode != 0
    assert "CSVA_UPLOAD_MAX_BYTES" in result.stderr
    assert not output.exists()


def test_stack_harness_refuses_to_start_nginx_on_a_bad_cap(tmp_path):
    stack = Stack(workdir=tmp_path, app_env={"CSVA_UPLOAD_MAX_BYTES": "lots"})

    with pytest.raises(AssertionError) as refused:
        stack._nginx_conf()

    assert "whole number of bytes" in str(refused.value)
