"""Single-threaded numeric libraries: the fits here are tiny, and OpenMP threads that spin while another
process holds the cores (a benchmark, a parallel test run) make a 0.1 s fit take seconds."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield
