"""The real app for race tests: its own get_session (not the suite's rolled-back one), so every
request commits for real against the test database, and many requests run at once from threads.
Tests that use it create uniquely named rows and delete them afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from fastapi.testclient import TestClient

T = TypeVar("T")


@contextmanager
def real_client() -> Iterator[TestClient]:
    from api.main import create_app

    # Server errors come back as the 500 a client would get, so a test can count them.
    with TestClient(create_app(), base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client


def at_once(n: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..n-1) in n threads released together."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))
