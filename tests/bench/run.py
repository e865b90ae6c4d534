"""`make bench`: latency, throughput and memory of a real `cadre serve` on loopback.

Not a test (timings depend on the machine): it prints a table to compare before and after a change.
Every loop is bounded; traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _issue_certificate(env: dict[str, str]) -> str:
    """A learner with a completed ACXS and an issued certificate, so /verify/{slug} can be measured."""
    code = """
from sqlmodel import Session
import api.models
from api.core.db import get_engine
from api.accounts import service as accounts
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.learning import service as learning
from api.learning.models import EnrolmentSource
from api.certificates import service as certificates
with Session(get_engine()) as s:
    u = accounts.create_user(s, UserCreate(email="bench@example.com", full_name="Bench Holder", password="x" * 12))
    p = catalog.get_by_slug(s, "acxs")
    e = learning.enrol(s, user_id=u.id, programme_id=p.id, source=EnrolmentSource.admin_grant)
    e.status = "completed"
    c = certificates.issue(s, user=u, programme=p, holder_name=u.full_name, enrolment=e)
    s.commit()
    print(c.slug)
"""
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="cadre-bench-"))
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update(CADRE_DATABASE_URL=os.environ.get("CADRE_BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.db'}"),
               CADRE_VAR_DIR=str(work / "var"), CADRE_KEYS_DIR=str(work / "keys"), CADRE_PORT=str(port),
               CADRE_EMAIL_BACKEND="console")
    cli = [sys.executable, "-m", "api.cli"]
    for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"]):
        subprocess.run([*cli, *args], env=env, cwd=ROOT, check=True, capture_output=True)
    slug = _issue_certificate(env)
    server = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        paths = ["/healthz", "/programmes", "/programmes/acxs", "/api/v1/programmes", "/api/v1/programmes/acxp",
                 "/hall-of-fame", f"/verify/{slug}"]
        print(f"{REQUESTS} requests per path, {CONCURRENCY} at a time, server pid {server.pid}\n")
        print(f"{'path':32} {'median ms':>10} {'p95 ms':>8} {'req/s':>8}")
        with httpx.Client(base_url=base, timeout=30) as client:
            for path in paths:
                # The verify page is rate-limited per address: measure it within its limit.
                n = min(REQUESTS, 55) if path.startswith("/verify/") else REQUESTS
                client.get(path)  # warm

                def one(_i: int, path: str = path) -> float:
                    t = time.perf_counter()
                    r = client.get(path)
                    assert r.status_code == 200, (path, r.status_code)
                    return (time.perf_counter() - t) * 1000

                start = time.perf_counter()
                with ThreadPoolExecutor(CONCURRENCY) as pool:
                    times = sorted(pool.map(one, range(n)))
                elapsed = time.perf_counter() - start
                p95 = times[int(len(times) * 0.95) - 1]
                print(f"{path[:32]:32} {statistics.median(times):10.1f} {p95:8.1f} {n / elapsed:8.0f}")
        print(f"\nserver memory (RSS) after the run: {_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
