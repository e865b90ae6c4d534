"""Public look-ups are limited without a database write: in process memory by default, and in Redis
when CADRE_REDIS_URL is set, where two app processes share one limit."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.core.test_sessions_under_load import start_server, stop_server

REDIS_URL = "redis://127.0.0.1:6379/5"  # the speed engineer's Redis database on this machine's test setup


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


def test_without_redis_each_process_counts_in_memory(client):
    codes = [client.get(f"/verify/guess-{i}").status_code for i in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429


def test_two_app_processes_share_one_limit_through_redis(engine):
    _redis_or_skip()
    env = {"CADRE_REDIS_URL": REDIS_URL, "CADRE_REDIS_PREFIX": f"cadre-test-{secrets.token_hex(4)}:",
           "CADRE_LOOKUPS_PER_MINUTE": "6"}
    first, base_a, log_a = start_server(env)
    try:
        second, base_b, log_b = start_server(env)
        try:
            a = [httpx.get(f"{base_a}/api/v1/credentials/guess-{i}").status_code for i in range(3)]
            b = [httpx.get(f"{base_b}/api/v1/credentials/guess-{i}").status_code for i in range(3)]
            # Each process alone has seen 3 of its 6; together they have seen all 6.
            over_a = httpx.get(f"{base_a}/api/v1/credentials/guess-x")
            over_b = httpx.get(f"{base_b}/verify/guess-y")
        finally:
            stop_server(second, log_b)
    finally:
        stop_server(first, log_a)
    assert a == [404] * 3 and b == [404] * 3
    assert over_a.status_code == 429 and int(over_a.headers["retry-after"]) >= 1
    assert over_b.status_code == 429 and "Too many certificate look-ups" in over_b.text


def test_serve_workers_starts_that_many_app_processes(engine):
    """`cadre serve` with CADRE_WEB_WORKERS=2 (or --workers 2): two app processes under one supervisor."""
    import os
    from pathlib import Path

    proc, base, log = start_server({"CADRE_WEB_WORKERS": "2"})
    try:
        answers = {httpx.get(f"{base}/programmes").status_code for _ in range(10)}
        children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(Path("/proc") / p) == proc.pid]
        apps = [p for p in children if b"multiprocessing" in (Path("/proc") / p / "cmdline").read_bytes()]
    finally:
        stop_server(proc, log)
    assert answers == {200}
    assert len(apps) >= 2


def _parent(proc_dir) -> int | None:
    try:
        for line in (proc_dir / "status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
