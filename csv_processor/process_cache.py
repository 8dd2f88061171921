"""The one per-process LRU cache: loaded models, serving models, table facts, token touches.

Each process (gunicorn worker, task worker) keeps its own copy: nothing here is shared between
processes or hosts, so a key must say everything that makes a value stale (a file's hash, its size
and modification time), and a miss only costs the work again.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """At most `size` values, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("An LRU cache holds at least one value.")
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value, or `compute()` stored under `key`. Computed outside the lock: two first calls
        may both compute, and the later result is kept; a compute that raises stores nothing."""
        cached = self.get(key)
        return cached if cached is not None else self.put(key, compute())

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
