"""The stack and the journey, started once for tests/stack and always torn down."""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from tests.stack.harness import Stack
from tests.stack.journey import Journey
from tests.stack.scale_out import ScaleOut, ScaleOutJourney, await_idle


def running(request, kind: type[Stack], what: str) -> Iterator[Stack]:
    """Start `kind` in a folder of its own; stop it whatever happens, keeping its logs if a test failed."""
    workdir = Path(tempfile.mkdtemp(prefix=f"csva-{what}-"))
    started = kind(workdir=workdir)
    try:
        started.start()
    except (TimeoutError, OSError, subprocess.SubprocessError, psycopg2.Error) as exc:
        started.stop()
        pytest.fail(f"the {what} did not start: {exc}\nlogs in {started.logs}\n{started.log_tails()}", pytrace=False)
    yield started
    started.stop()
    leftovers = started.ports_still_listening()
    assert not leftovers, f"something still listens on {leftovers} after the {what} stopped"
    if request.session.testsfailed:
        print(f"\n{what} logs kept in {started.logs}\n{started.log_tails()}")  # noqa: T201 - pytest's report
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(request):
    yield from running(request, Stack, "stack")


@pytest.fixture(scope="session")
def journey(stack):
    walk = Journey(base_url=stack.url, await_next_scrape=stack.await_next_scrape)
    walk.run()
    return walk


@pytest.fixture(scope="module")
def topology(request):
    yield from running(request, ScaleOut, "scale-out")


@pytest.fixture(scope="module")
def crossing(topology):
    """The journey with each step on a chosen host: what each host answered, by step."""
    web_1, web_2 = topology.host_url("web-1"), topology.host_url("web-2")
    walk = ScaleOutJourney(base_url=web_1, username="scaleout").on(web_1)
    answers: dict[str, object] = {}
    # Worker 1 parses and cleans, worker 2 trains and predicts the batch; web 1 and web 2 take turns.
    topology.pause("worker-2")
    walk.sign_up()
    walk.upload_the_weather()
    walk.on(web_2)
    answers["preview"] = walk.preview_the_weather()
    answers["download"] = walk.download_the_weather()
    walk.clean_the_dataset()
    walk.on(web_1).upload_the_training_data()
    await_idle(topology)
    topology.pause("worker-1")
    topology.resume("worker-2")
    walk.on(web_2).train_on_the_training_data()
    walk.on(web_1).deploy_the_first_model()
    walk.predict_with_the_form()
    walk.on(web_2).predict_a_batch()
    answers["batch"] = walk.on(web_1).download_the_batch()
    await_idle(topology)
    topology.resume("worker-1")
    return walk, answers
