"""Fixtures of the csv_processor tests that need a server of their own: a real S3 endpoint (moto)."""

from collections.abc import Iterator

import pytest

from tests.csv_processor.helpers import free_port, s3_server_start


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for the module."""
    port = free_port()
    try:
        process = s3_server_start(port)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
