"""The prediction rate limit (CSVA_API_PREDICT_RATE) per API token, shared by every web process.

Calls are counted per token (calls from the browser session: per user) in fixed windows (a minute for
"600/min") in the database, so the limit holds across gunicorn workers and machines on SQLite and
PostgreSQL alike. Writing the count on every
call would put a database write on the hot path, so each process takes calls in leases: it reserves a
share of what is left in the window (a quarter, at most LEASE_MAX) in one short transaction and spends
it from memory. The total granted never exceeds the limit; a process holding unspent calls near the end
of a window can make another process refuse a little early, which shrinking leases keep small.
"""

import functools
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F

from csv_processor.models import PredictRateWindow

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LEASE_MAX = 1000


@dataclass(frozen=True)
class Rate:
    calls: int
    seconds: int


@dataclass
class _Lease:
    key: tuple
    left: int
    exhausted: bool = False


# Keyed by ("token", token id) or ("session", user id).
_leases: dict[tuple[str, int], _Lease] = {}
_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def rate_parse(text: str) -> Rate:
    """'600/min' -> Rate(600, 60): a number of calls per s, m, h or d (only the first letter counts)."""
    calls, _, period = text.strip().partition("/")
    try:
        rate = Rate(int(calls), PERIODS[period.strip()[:1].lower()])
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"CSVA_API_PREDICT_RATE must look like '600/min', got {text!r}.") from None
    if rate.calls < 0:
        raise ImproperlyConfigured("CSVA_API_PREDICT_RATE must not be negative.")
    return rate


def predict_rate_check(*, user_id: int, token_id: int | None = None, now: float | None = None) -> int | None:
    """None when the call may go ahead (and counts it), else the seconds until the window ends.

    A call with an API token counts against that token; one from the browser session (`token_id` None)
    against the user's session allowance."""
    rate = rate_parse(settings.PREDICT_RATE)
    now = time.time() if now is None else now
    window = int(now // rate.seconds) * rate.seconds
    key = (window, rate)
    caller = ("token", token_id) if token_id is not None else ("session", user_id)
    with _lock:
        lease = _leases.get(caller)
        if lease is not None and lease.key == key:
            if lease.left > 0:
                lease.left -= 1
                return None
            if lease.exhausted:
                return _retry_after(window + rate.seconds, now)
    # Outside the lock: the reservation waits on the database; a concurrent one only reserves more.
    granted = _reserve(user_id, token_id, window, rate)
    with _lock:
        lease = _leases.get(caller)
        if lease is None or lease.key != key:
            lease = _leases[caller] = _Lease(key, 0)
        lease.left += granted
        lease.exhausted = granted == 0
        if lease.left > 0:
            lease.left -= 1
            return None
    return _retry_after(window + rate.seconds, now)


def _retry_after(end: float, now: float) -> int:
    return max(1, math.ceil(end - now))


def _reserve(user_id: int, token_id: int | None, window: int, rate: Rate) -> int:
    """Take a lease of calls from the caller's window row; 0 when the window is used up."""
    with transaction.atomic():
        row, created = PredictRateWindow.objects.select_for_update().get_or_create(
            user_id=user_id, token_id=token_id, window=window
        )
        left = rate.calls - row.granted
        granted = min(LEASE_MAX, max(left // 4, 1)) if left > 0 else 0
        if granted:
            PredictRateWindow.objects.filter(pk=row.pk).update(granted=F("granted") + granted)
    if created:
        PredictRateWindow.objects.filter(user_id=user_id, window__lt=window).delete()
    return granted


def predict_rate_reset() -> None:
    """Forget this process's leases (tests; the counts in the database stay)."""
    with _lock:
        _leases.clear()
