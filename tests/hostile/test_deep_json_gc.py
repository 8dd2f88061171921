"""A body nested 100,000 levels deep: no garbage collection starts while the C decoder is deep in it. One
that did would run unrelated objects' finalizers at that depth, where they fail with RecursionError
("exception ignored", which failed a CI run); the answer stays a 400."""

import gc
import io
import sys

import pytest
from rest_framework import exceptions

from csv_processor.api.http import LimitedJSONParser


@pytest.fixture
def collections():
    """The collections that start inside the JSON decoder (its Python frame, `raw_decode`, is on the stack
    while the C scanner runs), with the garbage collector due at every allocation."""
    started = []
    threshold = gc.get_threshold()

    def record(phase: str, info: dict) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "raw_decode":
            frame = frame.f_back
        if phase == "start" and frame is not None:
            started.append(info["generation"])

    gc.set_threshold(1)
    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*threshold)


def test_no_collection_starts_while_a_deep_body_is_parsed(collections):
    body = io.BytesIO(b"[" * 100_000 + b"]" * 100_000)
    parser = LimitedJSONParser()

    with pytest.raises(exceptions.ParseError, match="nested too deeply"):
        parser.parse(body, parser_context={})

    assert collections == []
    assert gc.isenabled()
