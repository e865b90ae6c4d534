"""Sliding-window counters without the database: in this process's memory, or in Redis when
CADRE_REDIS_URL is set (shared by every app process). The estimate is the one the database limits use:
this fixed window's count plus the previous window's, weighted by how much of it still overlaps.

If Redis cannot be reached, the count falls back to this process's memory (logged), so a Redis outage
weakens a limit to per-process instead of taking the pages that use it down."""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from api.core.config import get_settings

log = logging.getLogger("cadre.counters")
MAX_BUCKETS = 50_000  # then windows that have ended are forgotten


class MemoryCounters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, int], int] = {}

    def incr(self, bucket: str, start: int, window: int, amount: int = 1) -> tuple[int, int]:
        with self.lock:
            if len(self.counts) > MAX_BUCKETS:
                self.counts = {k: v for k, v in self.counts.items() if k[1] >= start - window}
            count = self.counts.get((bucket, start), 0) + amount
            self.counts[(bucket, start)] = count
            return count, self.counts.get((bucket, start - window), 0)

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()


MEMORY = MemoryCounters()


@lru_cache
def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _redis_incr(url: str, prefix: str, bucket: str, start: int, window: int, amount: int = 1) -> tuple[int, int]:
    key = f"{prefix}rl:{bucket}:"
    pipe = redis_client(url).pipeline(transaction=False)
    pipe.incr(key + str(start), amount)
    pipe.expire(key + str(start), 2 * window + 1)
    pipe.get(key + str(start - window))
    count, _, previous = pipe.execute()
    return int(count), int(previous or 0)


def count(bucket: str, window_seconds: int, now: float | None = None, amount: int = 1) -> tuple[float, int]:
    """Count `amount` uses of `bucket` (one by default); return the uses in the last `window_seconds`
    and the seconds until the current window ends."""
    now = time.time() if now is None else now
    start = int(now) // window_seconds * window_seconds
    settings = get_settings()
    if settings.redis_url:
        try:
            current, previous = _redis_incr(settings.redis_url, settings.redis_prefix, bucket, start, window_seconds,
                                            amount)
        except Exception as exc:  # redis.RedisError, OSError: count here meanwhile
            log.warning("redis unavailable for rate limits; counting in this process", extra={"error": str(exc)})
            current, previous = MEMORY.incr(bucket, start, window_seconds, amount)
    else:
        current, previous = MEMORY.incr(bucket, start, window_seconds, amount)
    elapsed = now - start
    return current + previous * (1 - elapsed / window_seconds), start + window_seconds - int(now)
