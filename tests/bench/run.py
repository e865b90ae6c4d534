"""`make bench`: each endpoint's cost as a **cpu ratio** to the server stack's own ceiling, on PostgreSQL,
empty, with 100 learners (the lists have rows to show) and with the 100k data set, plus the queries each page
makes.

    CADRE_BENCH_DATABASE_URL=postgresql+psycopg://user@host:5432/cadre_bench make bench
    .venv/bin/python tests/bench/run.py --sizes 0 100 100000 --rounds 3 --duration 5

Per data size it resets that database's schema, migrates, syncs content/, bulk-loads the data set
(tests/bench/seed_scale.py, COPY), adds the bench accounts, serves Cadre the way it is served (one
`cadre serve` process pinned to CPU 0, no embedded worker) and runs the shared harness
(`../shared/bench/bench.py` next to the repository, or BENCH_HARNESS): wrk on CPU 1 against each path and
against a bare Starlette app returning a body of the same size, alternately, and the ratio of requests
per server CPU-second. It also times the first view of new certificates against repeats of one, and
counts the SQL statements per page (in-process, the same requests). Not a test: the figures depend on
the machine. Traffic goes only to 127.0.0.1. Needs `wrk` and `taskset`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "bench" / "seed_scale.py"

ANONYMOUS = ["/", "/programmes", "/programmes/acxs", "/api/v1/programmes", "/hall-of-fame", "/verify/{slug}",
             "/api/v1/credentials/{slug}/verification", "/.well-known/did.json"]
LEARNER = ["/learn/acxp/{lesson}", "/dashboard"]
ADMIN = ["/admin/users", "/admin/enrolments", "/coach/progress", "/admin/orders", "/admin/certificates"]
FRESH_SLUGS = 40

# Run with the app's interpreter in the app's directory: the bench accounts, a learner part-way
# through ACXP with an ACXS certificate, and FRESH_SLUGS more certificates never viewed.
_ACCOUNTS = """
import json, secrets, sys
from sqlmodel import Session, select
import api.models
from api.core.db import get_engine
from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog
from api.catalog.models import Lesson
from api.certificates import service as certificates
from api.certificates.models import Certificate
from api.learning import service as learning
from api.learning.models import EnrolmentSource, LessonCompletion

PASSWORD = "bench-password-1234"
fresh = int(sys.argv[1])
with Session(get_engine()) as s:
    def user(email, name, roles=None):
        u = s.exec(select(User).where(User.email == email)).first()
        return u or accounts.create_user(s, UserCreate(email=email, full_name=name, password=PASSWORD),
                                         roles=roles, verified=True)
    user("bench-admin@example.com", "Bench Admin", {Role.admin})
    user("bench-coach@example.com", "Bench Coach", {Role.coach})
    learner = user("bench-learner@example.com", "Bench Learner")
    acxp, acxs = catalog.get_by_slug(s, "acxp"), catalog.get_by_slug(s, "acxs")
    lessons = s.exec(select(Lesson).where(Lesson.programme_id == acxp.id).order_by(Lesson.position)).all()
    if learning.get_enrolment(s, learner.id, acxp.id) is None:
        learning.enrol(s, user_id=learner.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant)
        for les in lessons[:4]:
            s.add(LessonCompletion(user_id=learner.id, lesson_id=les.id))
    cert = s.exec(select(Certificate).where(Certificate.user_id == learner.id)).first()
    if cert is None:
        e = learning.enrol(s, user_id=learner.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
        e.status = "completed"
        cert = certificates.issue(s, user=learner, programme=acxs, holder_name=learner.full_name, enrolment=e)
    slugs, tag = [], secrets.token_hex(4)
    for i in range(fresh):
        u = accounts.create_user(s, UserCreate(email=f"bench-fresh-{tag}-{i}@example.com",
                                               full_name=f"Fresh Holder {i}", password=PASSWORD), verified=True)
        e = learning.enrol(s, user_id=u.id, programme_id=acxs.id, source=EnrolmentSource.admin_grant)
        e.status = "completed"
        slugs.append(certificates.issue(s, user=u, programme=acxs, holder_name=u.full_name, enrolment=e).slug)
    s.commit()
    print(json.dumps({"slug": cert.slug, "lesson": lessons[5].slug, "fresh": slugs}))
"""

# Statements per request, counted on the engine in-process (they do not depend on the machine).
_QUERIES = """
import json, sys
from sqlalchemy import event
from fastapi.testclient import TestClient
from api.core.db import get_engine
from api.main import create_app

plan = json.loads(sys.argv[1])
count = [0]
event.listen(get_engine(), "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
out = {}
with TestClient(create_app(), base_url="http://127.0.0.1") as client:
    for cookie, paths in plan:
        for path in paths:
            headers = {"cookie": cookie} if cookie else {}
            client.get(path, headers=headers)  # once to warm what is cached
            count[0] = 0
            r = client.get(path, headers=headers)
            out[path + (" (logged in)" if cookie else "")] = [count[0], r.status_code]
print(json.dumps(out))
"""


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _harness() -> Path:
    path = Path(os.environ.get("BENCH_HARNESS") or ROOT.parent / "shared" / "bench" / "bench.py")
    if not path.exists():
        sys.exit(f"bench: the shared harness is not at {path}: set BENCH_HARNESS to its bench.py")
    return path


def _reset(py: str, url: str, env: dict, cwd: Path) -> None:
    subprocess.run([py, "-c", "import sys\nfrom sqlalchemy import create_engine, text\n"
                    "e = create_engine(sys.argv[1])\n"
                    "with e.begin() as c:\n c.execute(text('DROP SCHEMA public CASCADE'));"
                    " c.execute(text('CREATE SCHEMA public'))", url], env=env, cwd=cwd, check=True)


def _prepare(py: str, size: int, env: dict, cwd: Path, reuse: bool) -> dict:
    cli = [py, "-m", "api.cli"]
    if not reuse:
        _reset(py, env["CADRE_DATABASE_URL"], env, cwd)
        for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"]):
            subprocess.run([*cli, *args], env=env, cwd=cwd, check=True, capture_output=True)
        if size:
            t = time.perf_counter()
            subprocess.run([py, str(SEED), "--users", str(size)], env=env, cwd=cwd, check=True)
            print(f"(loaded the {size} data set in {time.perf_counter() - t:.0f} s)", file=sys.stderr)
    out = subprocess.run([py, "-c", _ACCOUNTS, str(FRESH_SLUGS)], env=env, cwd=cwd, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _login(base: str, email: str) -> str:
    """The cookies a logged-in browser sends: the session, and the CSRF cookie its first page set (without
    it every page would set a new one, and a page that sets a cookie is never kept)."""
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "bench-password-1234"})
    r.raise_for_status()
    session = f"cadre_session={r.json()['token']}"
    page = httpx.get(f"{base}/account", headers={"cookie": session})
    csrf = page.cookies.get("cadre_csrf")
    return f"{session}; cadre_csrf={csrf}" if csrf else session


def _server_cpu_ns(pid: int) -> int:
    """CPU time (ns, from the scheduler: not rounded to clock ticks) of the server and its children."""
    pids, total = [pid], 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    for p in pids:
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total


def _wait_idle(pid: int, limit: float = 90.0) -> float:
    """Wait until the server has been idle for half a second (under 2% of a CPU), at most `limit`
    seconds, and return how long that took: a process just started on a freshly loaded database may
    still be busy, and the one-at-a-time timings below would count that work as the views'."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        before = _server_cpu_ns(pid)
        time.sleep(0.5)
        if _server_cpu_ns(pid) - before < 0.01 * 1e9:
            break
    return time.perf_counter() - start


def _first_views(base: str, fresh: list[str], slug: str, pid: int) -> dict[str, float]:
    """One request at a time, alternating: the first view of a new certificate, then a repeat of one seen
    before, so load on the machine and the process warming up weigh on both alike (the process is warmed
    first). Median wall ms and median server CPU ms of each kind."""
    out: dict[str, list[float]] = {"first_wall": [], "repeat_wall": [], "first_cpu": [], "repeat_cpu": []}
    with httpx.Client(base_url=base, timeout=30) as c:
        for _ in range(20):  # warm: connections, caches, the stored-answer path on a certificate seen once
            assert c.get(f"/verify/{slug}").status_code == 200
        for s in fresh:
            for kind, path in (("first", f"/verify/{s}"), ("repeat", f"/verify/{slug}")):
                cpu, t = _server_cpu_ns(pid), time.perf_counter()
                assert c.get(path).status_code == 200
                out[f"{kind}_wall"].append((time.perf_counter() - t) * 1000)
                out[f"{kind}_cpu"].append((_server_cpu_ns(pid) - cpu) / 1e6)
    return {k: statistics.median(v) for k, v in out.items()}


def _bench(py: str, harness: Path, base: str, paths: list[str], cookie: str | None, args, work: Path,
           tag: str) -> list[dict]:
    cmd = [py, str(harness), "--target-url", base, "--server-cpu", "0", "--client-cpu", "1", "--workers", "1",
           "--rounds", str(args.rounds), "--duration", str(args.duration), "--warmup", str(args.warmup),
           "--out", str(work / f"{tag}.json")]
    for p in paths:
        cmd += ["--path", p]
    if cookie:
        (work / f"{tag}.cookie").write_text(cookie + "\n")
        cmd += ["--cookie-file", str(work / f"{tag}.cookie")]
    subprocess.run(cmd, check=True, stdout=sys.stderr, cwd=harness.parent)
    return json.loads((work / f"{tag}.json").read_text())["paths"]


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def measure(size: int, args, harness: Path, work: Path) -> dict:
    app_dir = Path(args.app_dir).resolve()
    py = sys.executable
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    bench_var = work / "var"
    env.update(CADRE_DATABASE_URL=args.database_url, CADRE_VAR_DIR=str(bench_var),
               CADRE_KEYS_DIR=str(args.keys_dir), CADRE_PORT=str(port), CADRE_EMAIL_BACKEND="console",
               CADRE_DB_SLOT_TIMEOUT="60", PYTHONPATH=str(app_dir),
               # wrk is one client address: lift the per-address look-up limit for the run
               CADRE_LOOKUPS_PER_MINUTE="1000000000")
    if args.redis_url:
        env["CADRE_REDIS_URL"] = args.redis_url
    ids = _prepare(py, size, env, app_dir, args.reuse)
    server = subprocess.Popen(["taskset", "-c", "0", py, "-m", "api.cli", "serve", "--no-worker"], env=env,
                              cwd=app_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows: list[dict] = []
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        waited = _wait_idle(server.pid)
        if waited > 1.5:
            print(f"(the server was busy for {waited:.0f} s after it started: timed after that)", file=sys.stderr)
        views = _first_views(base, ids["fresh"], ids["slug"], server.pid)
        cookies = {who: _login(base, f"bench-{who}@example.com") for who in ("learner", "admin")}
        plan = [(None, [p.format(**ids) for p in ANONYMOUS]),
                (cookies["learner"], [p.format(**ids) for p in LEARNER]),
                (cookies["admin"], ADMIN)]
        if args.only:
            plan = [(c, [p for p in ps if any(o in p for o in args.only)]) for c, ps in plan]
        for (cookie, paths), tag in zip(plan, ("anonymous", "learner", "admin"), strict=True):
            if paths:
                for r in _bench(py, harness, base, paths, cookie, args, work, f"{size}-{tag}"):
                    rows.append({"path": r["path"], "who": tag, **r["summary"],
                                 "bytes": r["target_probe"].get("size")})
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    qplan = [(c, ps) for c, ps in plan if ps]
    env.pop("CADRE_PORT")
    queries = json.loads(subprocess.run([py, "-c", _QUERIES, json.dumps(qplan)], env=env, cwd=app_dir, check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
    for row in rows:
        key = row["path"] + ("" if row["who"] == "anonymous" else " (logged in)")
        row["queries"], row["status"] = queries.get(key, [None, None])
    return {"size": size, "rows": rows, "first_view_ms": views["first_wall"], "repeat_view_ms": views["repeat_wall"],
            "first_view_cpu_ms": views["first_cpu"], "repeat_view_cpu_ms": views["repeat_cpu"]}


def report(results: list[dict]) -> None:
    print(f"\n{'endpoint':44} {'data':>7} {'cpu ratio':>20} {'+cpu ms':>8} {'queries':>7} {'KB':>6} {'errs':>5}"
          f" {'steal%':>6}")
    for res in results:
        for r in res["rows"]:
            path = r["path"] if len(r["path"]) <= 44 else r["path"][:41] + "..."
            spread = f"{_fmt(r['cpu_ratio_median'])} ({_fmt(r['cpu_ratio_min'], 2)}-{_fmt(r['cpu_ratio_max'], 2)})"
            print(f"{path:44} {res['size']:>7} {spread:>20} {_fmt(r['extra_cpu_ms_per_req_median'], 2):>8} "
                  f"{r['queries'] if r['queries'] is not None else '-':>7} {(r['bytes'] or 0) / 1024:6.1f} "
                  f"{r['target_errors']:>5} {_fmt(r['steal_pct_max'], 0):>6}")
    for res in results:
        print(f"/verify/{{slug}} at {res['size']}: first view of a new slug {res['first_view_ms']:.1f} ms wall, "
              f"{res['first_view_cpu_ms']:.2f} ms server CPU; a repeat {res['repeat_view_ms']:.1f} ms wall, "
              f"{res['repeat_view_cpu_ms']:.2f} ms CPU (medians, one at a time, alternating; "
              f"{res['first_view_ms'] / res['repeat_view_ms']:.2f}x wall, "
              f"{res['first_view_cpu_ms'] / max(res['repeat_view_cpu_ms'], 1e-3):.2f}x CPU)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100, 100_000],
                        help="learners in the data set (100: the lists have rows to show, to compare with 100k)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="measure only the paths containing one of these")
    parser.add_argument("--database-url", default=os.environ.get("CADRE_BENCH_DATABASE_URL"),
                        help="a PostgreSQL database the bench may reset (CADRE_BENCH_DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("CADRE_BENCH_REDIS_URL"),
                        help="serve with CADRE_REDIS_URL set to this (CADRE_BENCH_REDIS_URL)")
    parser.add_argument("--reuse", action="store_true",
                        help="the database already holds this data set (one size only): do not reset or load it")
    parser.add_argument("--app-dir", default=str(ROOT), help="serve the Cadre checked out here (default: this one)")
    parser.add_argument("--keys-dir", default=str(ROOT / "var" / "bench-keys"))
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        sys.exit("bench: set CADRE_BENCH_DATABASE_URL to a PostgreSQL database it may reset, e.g. "
                 "postgresql+psycopg://postgres@127.0.0.1:5432/cadre_bench")
    if args.reuse and len(args.sizes) != 1:
        sys.exit("bench: --reuse measures one data size")
    harness = _harness()
    work = Path(tempfile.mkdtemp(prefix="cadre-bench-"))
    results = [measure(size, args, harness, work) for size in args.sizes]
    report(results)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
