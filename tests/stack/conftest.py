"""The stack and the journey, started once for tests/stack and always torn down."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from tests.stack.harness import Stack
from tests.stack.journey import Journey


@pytest.fixture(scope="session")
def stack(request):
    workdir = Path(tempfile.mkdtemp(prefix="csva-stack-"))
    running = Stack(workdir=workdir)
    started = False
    try:
        running.start()
        started = True
    except (TimeoutError, OSError, subprocess.SubprocessError, psycopg2.Error) as exc:
        pytest.fail(f"the stack did not start: {exc}\nlogs in {running.logs}\n{running.log_tails()}", pytrace=False)
    finally:
        if not started:
            running.stop()
    yield running
    running.stop()
    leftovers = running.ports_still_listening()
    assert not leftovers, f"something still listens on {leftovers} after the stack stopped"
    if request.session.testsfailed:
        print(f"\nstack logs kept in {running.logs}\n{running.log_tails()}")  # noqa: T201 - pytest's report
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def journey(stack):
    walk = Journey(base_url=stack.url)
    walk.run()
    return walk
