"""The benchmark data set, bulk-loaded with COPY into a migrated, content-synced PostgreSQL database:

    CADRE_DATABASE_URL=postgresql+psycopg://…/cadre_bench python tests/bench/seed_scale.py [--users 100000]

At the default size: 100k learners (one password hash shared by all) with their learner role, 180k
enrolments (every learner in ACXP, 80% also in ACXS), 2.2M lesson completions (each enrolment has
finished a random first part of its programme's lessons, 2.2M in all), 100k certificates (their
status-list indexes unique, their credential a copy of one really signed credential with its own id)
and 50k paid orders with their payment. Everything scales with --users. Not a test: a benchmark aid
for `make bench` (tests/bench/run.py); it takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text


def _copy(cur, table: str, columns: list[str], rows) -> int:
    n = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _template_credential(engine) -> tuple[dict, int, int]:
    """One credential really signed by the site's key (an issued certificate's), as the shape to copy."""
    from sqlmodel import Session

    from api.accounts import service as accounts
    from api.accounts.schemas import UserCreate
    from api.catalog import service as catalog
    from api.certificates import service as certificates
    from api.learning import service as learning
    from api.learning.models import EnrolmentSource

    with Session(engine) as s:
        u = accounts.create_user(s, UserCreate(email=f"template-{secrets.token_hex(4)}@example.com",
                                               full_name="Template Holder", password="x" * 12))
        p = catalog.get_by_slug(s, "acxs")
        e = learning.enrol(s, user_id=u.id, programme_id=p.id, source=EnrolmentSource.admin_grant)
        e.status = "completed"
        c = certificates.issue(s, user=u, programme=p, holder_name=u.full_name, enrolment=e)
        s.commit()
        return c.credential, c.revocation_list, c.suspension_list


def seed(users: int, seed_value: int = 7) -> dict[str, float]:
    import api.models  # noqa: F401  - every table registered
    from api.core.db import get_engine
    from api.core.security import hash_password

    rnd = random.Random(seed_value)
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        raise SystemExit("seed_scale.py loads with COPY: point CADRE_DATABASE_URL at PostgreSQL")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    credential, rev_list, sus_list = _template_credential(engine)
    now = datetime.now(UTC)
    start = now - timedelta(days=400)
    password_hash = hash_password("bench-password-1234")

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT coalesce(max(id), 0) FROM \"user\"")
        base = cur.fetchone()[0]
        cur.execute("SELECT slug, id FROM programme WHERE slug IN ('acxp', 'acxs')")
        programmes = dict(cur.fetchall())
        lessons: dict[int, list[int]] = {}
        for pid in programmes.values():
            cur.execute("SELECT id FROM lesson WHERE programme_id = %s AND retired_at IS NULL ORDER BY position, id",
                        (pid,))
            lessons[pid] = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT id, programme_id, amount, currency FROM offer WHERE kind = 'full' AND retired_at IS NULL")
        offers = {pid: (oid, amount, cur_) for oid, pid, amount, cur_ in cur.fetchall()}
        cur.execute("SELECT revocation_index FROM certificate WHERE revocation_list = %s", (rev_list,))
        used_rev = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT suspension_index FROM certificate WHERE suspension_list = %s", (sus_list,))
        used_sus = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT size FROM status_list WHERE id = %s", (rev_list,))
        list_size = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM enrolment")
        enrol_base = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM \"order\"")
        order_base = cur.fetchone()[0]

        ids = range(base + 1, base + users + 1)
        created = [start + timedelta(seconds=i * 300) for i in range(users)]
        n = _copy(cur, "user", ["id", "email", "full_name", "password_hash", "email_verified_at", "is_active",
                                "created_at", "updated_at"],
                  ((uid, f"scale-{uid:07d}@example.com", f"Scale Learner {uid:07d}", password_hash, now, True,
                    created[i], now) for i, uid in enumerate(ids)))
        _copy(cur, "user_role", ["user_id", "role", "granted_at"], ((uid, "learner", now) for uid in ids))
        timings[f"{n} users"] = time.perf_counter() - t0

        # Enrolments: everyone in ACXP, 80% in ACXS too (180k at 100k users).
        acxp, acxs = programmes["acxp"], programmes["acxs"]
        enrolments = [(uid, acxp, created[i]) for i, uid in enumerate(ids)]
        enrolments += [(uid, acxs, created[i] + timedelta(days=30)) for i, uid in enumerate(ids) if i % 5 != 4]
        n = _copy(cur, "enrolment", ["id", "user_id", "programme_id", "source", "status", "starts_at", "created_at",
                                     "updated_at"],
                  ((enrol_base + k + 1, uid, pid, "purchase" if pid == acxs else "admin_grant", "active", at, at, now)
                   for k, (uid, pid, at) in enumerate(enrolments)))
        timings[f"{n} enrolments"] = time.perf_counter() - t0

        # Completions: each enrolment finished a random first part of its lessons, 22 per learner on average
        # (2.2M at 100k users): the same share f of every programme's lessons, give or take.
        possible = sum(len(lessons[pid]) for _uid, pid, _at in enrolments)
        f = min(1.0, 22 * users / possible)

        def completions():
            for uid, pid, at in enrolments:
                ls = lessons[pid]
                spread = len(ls) * min(f, 1 - f)
                k = max(0, min(len(ls), round(f * len(ls) + rnd.uniform(-spread, spread))))
                for j in range(k):
                    yield (uid, ls[j], at + timedelta(hours=j))

        n = _copy(cur, "lesson_completion", ["user_id", "lesson_id", "completed_at"], completions())
        timings[f"{n} lesson completions"] = time.perf_counter() - t0

        # Certificates: one per learner (ACXP), unique random status-list indexes.
        free_rev = [i for i in range(list_size) if i not in used_rev]
        free_sus = [i for i in range(list_size) if i not in used_sus]
        rnd.shuffle(free_rev)
        rnd.shuffle(free_sus)
        n_cert = min(users, len(free_rev), len(free_sus))
        prefix = credential["id"].rsplit("/", 1)[0]

        def certificates():
            for k in range(n_cert):
                uid = base + 1 + k
                slug = secrets.token_urlsafe(12)
                cred = dict(credential, id=f"{prefix}/{slug}")
                number = f"ACXP-{k:04X}-{uid:04X}-{rnd.getrandbits(16):04X}"
                yield (slug, number, uid, acxp, f"Scale Learner {uid:07d}", secrets.token_hex(16), "0" * 32,
                       created[k] + timedelta(days=90), created[k] + timedelta(days=90 + 365 * 3), "active",
                       rev_list, free_rev[k], sus_list, free_sus[k], 1, False, json.dumps(cred), now)

        n = _copy(cur, "certificate", ["slug", "number", "user_id", "programme_id", "holder_name", "holder_email_hash",
                                       "holder_email_salt", "issued_at", "expires_at", "status", "revocation_list",
                                       "revocation_index", "suspension_list", "suspension_index", "generation",
                                       "is_private", "credential", "created_at"], certificates())
        timings[f"{n} certificates"] = time.perf_counter() - t0

        # Orders: half the learners paid for ACXS in full, one payment each.
        oid, amount, currency = offers[acxs]
        n_orders = users // 2
        order_rows = [(order_base + k + 1, f"ord_{secrets.token_hex(10)}", base + 1 + 2 * k)
                      for k in range(n_orders)]
        n = _copy(cur, "order", ["id", "public_id", "user_id", "programme_id", "offer_id", "kind", "currency",
                                 "amount_before", "discount_amount", "amount_total", "instalment_count", "status",
                                 "provider", "amount_paid", "amount_refunded", "paid_at", "created_at", "updated_at"],
                  ((i, pub, uid, acxs, oid, "full", currency, amount, 0, amount, 1, "paid", "offline", amount, 0,
                    created[uid - base - 1] + timedelta(days=30), created[uid - base - 1] + timedelta(days=30), now)
                   for i, pub, uid in order_rows))
        _copy(cur, "payment", ["order_id", "number", "amount", "currency", "due_date", "status", "amount_refunded",
                               "paid_at"],
              ((i, 1, amount, currency, (created[uid - base - 1] + timedelta(days=30)).date(), "paid", 0,
                created[uid - base - 1] + timedelta(days=30)) for i, _pub, uid in order_rows))
        timings[f"{n} orders"] = time.perf_counter() - t0
        max_ids = {"user": base + users, "enrolment": enrol_base + len(enrolments), "order": order_base + n_orders}
        for table in ("user", "enrolment", "order"):
            cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (f'"{table}"', max_ids[table]))
        raw.commit()
    finally:
        raw.close()
    # Fresh planner statistics, as after any bulk load.
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    timings["total (with ANALYZE)"] = time.perf_counter() - t0
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    for what, seconds in seed(args.users).items():
        print(f"  {what}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
