"""Bulk learners for measuring lists at scale: `python tests/bench/seed_bulk.py 100000`.

Inserts learners (one password hash shared by all), their learner role, an enrolment in ACXP for each
(and in ACXS for every other one), and a few finished lessons for every tenth, with multi-row
INSERTs in batches, into CADRE_DATABASE_URL (migrated, content synced). Not a test: a benchmark aid.
Run it again to add more; `--tag` keeps each run's addresses apart.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, select, text

BATCH = 5000


def seed(learners: int, tag: str) -> None:
    import api.models  # noqa: F401  - every table registered
    from api.accounts.models import User, UserRole
    from api.catalog.models import Lesson, Programme
    from api.core.db import get_engine, utcnow
    from api.core.security import hash_password
    from api.learning.models import Enrolment, LessonCompletion

    engine = get_engine()
    password_hash = hash_password("bench-password-1234")
    start = utcnow() - timedelta(days=365)
    with engine.begin() as conn:
        programmes = dict(conn.execute(select(Programme.slug, Programme.id)
                                       .where(Programme.slug.in_(["acxp", "acxs"]))).all())
        lessons = list(conn.execute(select(Lesson.id).where(Lesson.programme_id == programmes["acxp"])
                                    .order_by(Lesson.position).limit(3)).scalars())
    done = 0
    t0 = time.perf_counter()
    while done < learners:
        n = min(BATCH, learners - done)
        now = utcnow()
        users = [{"email": f"bulk-{tag}-{done + i:07d}@example.com", "full_name": f"Bulk Learner {done + i:07d}",
                  "password_hash": password_hash, "email_verified_at": now, "is_active": True,
                  "created_at": start + timedelta(seconds=done + i), "updated_at": now} for i in range(n)]
        with engine.begin() as conn:
            ids = list(conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True), users).scalars())
            conn.execute(insert(UserRole), [{"user_id": uid, "role": "learner", "granted_at": now} for uid in ids])
            enrolments = [{"user_id": uid, "programme_id": programmes["acxp"], "source": "admin_grant",
                           "status": "active", "starts_at": now, "created_at": start + timedelta(seconds=done + i),
                           "updated_at": now} for i, uid in enumerate(ids)]
            enrolments += [{"user_id": uid, "programme_id": programmes["acxs"], "source": "purchase",
                            "status": "active", "starts_at": now, "created_at": start + timedelta(seconds=done + i),
                            "updated_at": now} for i, uid in enumerate(ids) if i % 2 == 0]
            conn.execute(insert(Enrolment), enrolments)
            completions = [{"user_id": uid, "lesson_id": lid, "completed_at": now}
                           for i, uid in enumerate(ids) if i % 10 == 0 for lid in lessons]
            if completions:
                conn.execute(insert(LessonCompletion), completions)
        done += n
        print(f"  {done:>8} learners ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    # Fresh planner statistics, as after any bulk load: with the counts of the empty tables still in
    # place, PostgreSQL can pick a plan for the filtered pages that scans everything once per row.
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("learners", type=int)
    parser.add_argument("--tag", default=uuid.uuid4().hex[:6], help="part of every address (default: random)")
    args = parser.parse_args()
    seed(args.learners, args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
