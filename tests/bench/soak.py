"""`make soak`: many learners at once against a real `cadre serve` on loopback, for a bounded time.

Each client plays new learners one after another: register → log in → check out ACXS → pay on the offline
checkout page → open the progress → open a lesson → mark it complete → dashboard. Prints the requests made,
the answers by status, p50/p99 latency, every answer >= 500, and the longest time in which no answer
arrived at all (a stall). Not a test: the figures depend on the machine. Traffic goes only to 127.0.0.1,
every loop stops at its deadline, and each request has a timeout.

    SOAK_CLIENTS=64 SOAK_SECONDS=60 .venv/bin/python tests/bench/soak.py [sqlite|postgres ...]

PostgreSQL: a fresh database is created on SOAK_PG (default postgresql://postgres@127.0.0.1:5432) and
dropped afterwards. Exit status 1 when any answer was >= 500, a request timed out, or the server stalled.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "64"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
TIMEOUT = float(os.environ.get("SOAK_TIMEOUT", "30"))
STALL_SECONDS = 5.0
PG = os.environ.get("SOAK_PG", "postgresql://postgres@127.0.0.1:5432")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.journeys = 0
        self.last_answer = time.monotonic()
        self.longest_gap = 0.0

    def record(self, step: str, status: str, ms: float) -> None:
        now = time.monotonic()
        with self.lock:
            self.longest_gap = max(self.longest_gap, now - self.last_answer)
            self.last_answer = now
            self.statuses[status] += 1
            self.latencies.append(ms)
            if (not status.isdigit() or int(status) >= 500) and len(self.failures) < 20:
                self.failures.append(f"{step}: {status}")


def _call(tally: Tally, client: httpx.Client, step: str, method: str, url: str, **kw) -> httpx.Response | None:
    t = time.perf_counter()
    try:
        r = client.request(method, url, timeout=TIMEOUT, **kw)
    except httpx.TimeoutException:
        tally.record(step, "timeout", (time.perf_counter() - t) * 1000)
        return None
    except httpx.HTTPError as exc:
        tally.record(step, type(exc).__name__, (time.perf_counter() - t) * 1000)
        return None
    tally.record(step, str(r.status_code), (time.perf_counter() - t) * 1000)
    return r


def journey(tally: Tally, base: str, who: str) -> None:
    with httpx.Client(base_url=base, follow_redirects=False) as c:
        email = f"{who}@soak.example.com"
        password = "soak-password-" + who
        r = _call(tally, c, "register", "POST", "/api/v1/auth/register",
                  json={"email": email, "full_name": "Soak Learner", "password": password})
        if r is None or r.status_code != 201:
            return
        r = _call(tally, c, "login", "POST", "/api/v1/auth/login", json={"email": email, "password": password})
        if r is None or r.status_code != 200:
            return
        r = _call(tally, c, "checkout", "POST", "/api/v1/payments/checkout", json={"programme": "acxs"})
        if r is None or r.status_code not in (200, 201):
            return
        url = r.json()["checkout_url"]
        page = _call(tally, c, "checkout page", "GET", url)
        if page is None or page.status_code != 200:
            return
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if not token:
            return
        r = _call(tally, c, "pay", "POST", url, data={"csrf_token": token.group(1), "action": "pay"})
        if r is None or r.status_code != 303:
            return
        r = _call(tally, c, "progress", "GET", "/api/v1/learning/programmes/acxs/progress")
        if r is None or r.status_code != 200:
            return
        lesson = r.json()["modules"][0]["items"][0]["slug"]
        _call(tally, c, "lesson", "GET", f"/api/v1/learning/programmes/acxs/lessons/{lesson}")
        _call(tally, c, "complete", "POST", f"/api/v1/learning/programmes/acxs/lessons/{lesson}/complete")
        _call(tally, c, "dashboard", "GET", "/dashboard")
        with tally.lock:
            tally.journeys += 1


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def soak(database: str) -> bool:
    work = Path(tempfile.mkdtemp(prefix="cadre-soak-"))
    port = _port()
    db_name = None
    if database == "postgres":
        import psycopg

        db_name = f"cadre_soak_{os.getpid()}"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = PG.replace("postgresql://", "postgresql+psycopg://") + f"/{db_name}"
    else:
        url = f"sqlite:///{work / 'soak.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update(CADRE_DATABASE_URL=url, CADRE_VAR_DIR=str(work / "var"), CADRE_KEYS_DIR=str(work / "keys"),
               CADRE_PORT=str(port), CADRE_EMAIL_BACKEND="console")
    cli = [sys.executable, "-m", "api.cli"]
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed in finally
    server = None
    try:
        for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"]):
            subprocess.run([*cli, *args], env=env, cwd=ROOT, check=True, capture_output=True)
        server = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tally = Tally()
        deadline = time.monotonic() + SECONDS

        def client(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                journey(tally, base, f"c{n}-{i}-{os.getpid()}")
                i += 1

        start = time.monotonic()
        tally.last_answer = start
        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + TIMEOUT * 10 + 30)
        elapsed = time.monotonic() - start
        alive = sum(t.is_alive() for t in threads)
        lat = sorted(tally.latencies)
        total = len(lat)
        server_errors = sum(n for s, n in tally.statuses.items() if not s.isdigit() or int(s) >= 500)

        def pct(p: float) -> float:
            return lat[min(total - 1, int(total * p))] if total else float("nan")

        print(f"\n== soak on {database}: {CLIENTS} clients for {SECONDS:.0f} s (ran {elapsed:.1f} s)")
        print(f"requests {total}  ({total / elapsed:.1f}/s)   learner journeys completed {tally.journeys}")
        print("answers  " + "  ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items())))
        print(f"latency  p50 {pct(0.50):.0f} ms   p99 {pct(0.99):.0f} ms   max {lat[-1] if lat else 0:.0f} ms")
        print(f">= 500 or no answer: {server_errors}   longest time without any answer: {tally.longest_gap:.1f} s"
              f"   clients still stuck at the end: {alive}")
        for f in tally.failures:
            print("  failed:", f)
        return server_errors == 0 and alive == 0 and tally.longest_gap < STALL_SECONDS
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
        if db_name:
            import psycopg

            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    ok = True
    for database in argv or ["sqlite", "postgres"]:
        if database not in ("sqlite", "postgres"):
            print(f"unknown database {database!r}: say sqlite or postgres", file=sys.stderr)
            return 2
        ok = soak(database) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
