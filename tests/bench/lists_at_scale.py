"""Lists at scale: what a list page and the progress export cost at a few learners and at many.

    CADRE_BENCH_DATABASE_URL=postgresql+psycopg://…/cadre_bench python tests/bench/lists_at_scale.py 100 100000

Resets that database's schema (PostgreSQL) or uses a fresh SQLite file, seeds the first number of
learners (tests/bench/seed_bulk.py), serves Cadre on loopback, measures, seeds up to the next number,
measures again. Per page: wall time, the server's CPU time per request and the bytes sent; for the CSV
export: rows, bytes, time, and the server's resident memory before and at its peak during the export.
Not a test (figures depend on the machine). Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
PAGES = ["/admin/enrolments", "/coach/progress", "/admin/users", "/admin/enrolments?q=bulk&status=active"]


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


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(base: str, pid: int, cookies: dict, learners: int) -> None:
    print(f"\n== {learners} learners ==")
    print(f"{'page':42} {'median ms':>10} {'server CPU ms/req':>18} {'KB':>8}")
    with httpx.Client(base_url=base, cookies=cookies, timeout=120) as client:
        for path in PAGES:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            size = len(r.content)
            times = []
            cpu0 = _cpu_s(pid)
            for _ in range(REPEAT):
                t = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append((time.perf_counter() - t) * 1000)
            cpu = (_cpu_s(pid) - cpu0) / REPEAT * 1000
            print(f"{path:42} {statistics.median(times):10.1f} {cpu:18.1f} {size / 1024:8.1f}")

        peak = {"mb": 0.0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak["mb"] = max(peak["mb"], _rss_mb(pid))
                time.sleep(0.02)

        before = _rss_mb(pid)
        sampler = threading.Thread(target=sample)
        sampler.start()
        t = time.perf_counter()
        rows = size = 0
        with client.stream("GET", "/coach/progress.csv") as r:
            assert r.status_code == 200, r.status_code
            for chunk in r.iter_bytes():
                size += len(chunk)
                rows += chunk.count(b"\n")
        elapsed = time.perf_counter() - t
        done.set()
        sampler.join()
        print(f"/coach/progress.csv: {rows - 1} rows, {size / 1e6:.1f} MB in {elapsed:.1f} s; server RSS "
              f"{before:.0f} MB before, {peak['mb']:.0f} MB at peak (+{peak['mb'] - before:.0f} MB)")


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 100_000]
    work = Path(tempfile.mkdtemp(prefix="cadre-lists-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    url = os.environ.get("CADRE_BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.db'}")
    port = _port()
    env.update(CADRE_DATABASE_URL=url, CADRE_VAR_DIR=str(work / "var"), CADRE_KEYS_DIR=str(work / "keys"),
               CADRE_PORT=str(port), CADRE_EMAIL_BACKEND="console")
    py, cli = sys.executable, [sys.executable, "-m", "api.cli"]
    if url.startswith("postgresql"):
        subprocess.run([py, "-c", "from sqlalchemy import create_engine, text\n"
                        f"e = create_engine({url!r})\n"
                        "with e.begin() as c:\n c.execute(text('DROP SCHEMA public CASCADE'));"
                        " c.execute(text('CREATE SCHEMA public'))"], env=env, cwd=ROOT, check=True)
    for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"],
                 ["users", "create", "bench-admin@example.com", "--name", "Bench Admin", "--password",
                  "bench-password-1234", "--role", "admin"]):
        subprocess.run([*cli, *args], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    seeded = 0
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        r = httpx.post(f"{base}/api/v1/auth/login", json={"email": "bench-admin@example.com",
                                                         "password": "bench-password-1234"})
        cookies = {"cadre_session": r.json()["token"]}
        for size in sizes:
            t = time.perf_counter()
            subprocess.run([py, str(ROOT / "tests" / "bench" / "seed_bulk.py"), str(size - seeded)], env=env,
                           cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
            print(f"(seeded {size - seeded} learners in {time.perf_counter() - t:.0f} s)")
            seeded = size
            _measure(base, server.pid, cookies, size)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
