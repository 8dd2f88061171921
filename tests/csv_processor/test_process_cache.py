"""LruCache, the one per-process cache (process_cache.py)."""

import threading

import pytest

from csv_processor.process_cache import LruCache


def test_lru_cache_drops_the_least_recently_used_value_first():
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert len(cache) == 2


def test_lru_cache_computes_once_and_stores_nothing_when_compute_raises():
    cache: LruCache[str, int] = LruCache(4)
    calls = []
    assert cache.get_or_compute("k", lambda: calls.append(1) or 7) == 7
    assert cache.get_or_compute("k", lambda: calls.append(1) or 8) == 7
    assert calls == [1]

    def fail() -> int:
        raise OSError("file gone")

    with pytest.raises(OSError, match="file gone"):
        cache.get_or_compute("bad", fail)
    assert cache.get("bad") is None
    cache.clear()
    assert len(cache) == 0


def test_lru_cache_refuses_a_size_below_one():
    with pytest.raises(ValueError, match="at least one"):
        LruCache(0)


def test_lru_cache_stays_within_its_size_under_threads():
    cache: LruCache[int, int] = LruCache(16)

    def work(offset: int) -> None:
        for i in range(2000):
            cache.get_or_compute((offset + i) % 50, lambda i=i: i)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 16
