"""The rows an account checks per hour are counted like the look-up limits: in this process's memory, or
in Redis (shared by every app process) when CADRE_REDIS_URL is set; a file is counted by its rows."""

from __future__ import annotations

import secrets

import pytest

from api.certificates import bulk
from api.core import counters
from api.core.config import get_settings
from api.core.errors import TooManyRequests

REDIS_URL = "redis://127.0.0.1:6379/7"  # this branch's Redis database on the shared test machine


def test_rows_are_counted_per_account_in_memory(monkeypatch):
    monkeypatch.setattr(get_settings(), "bulk_rows_per_hour", 10)
    bulk.limit("user:1", 6)
    bulk.limit("user:2", 10)  # another account has its own allowance
    with pytest.raises(TooManyRequests) as refused:
        bulk.limit("user:1", 5)  # 11 rows in the hour
    assert refused.value.status_code == 429 and "checked 10 certificates in the last hour" in refused.value.message


def test_rows_are_counted_in_redis_across_processes(monkeypatch):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"cadre-test-{secrets.token_hex(4)}:"
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    monkeypatch.setattr(get_settings(), "redis_prefix", prefix)
    monkeypatch.setattr(get_settings(), "bulk_rows_per_hour", 10)
    try:
        bulk.limit("key:7", 6)
        counters.MEMORY.clear()  # as if the next upload reached another app process
        with pytest.raises(TooManyRequests):
            bulk.limit("key:7", 5)
        assert counters.MEMORY.counts == {}  # counted in Redis, not here
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
