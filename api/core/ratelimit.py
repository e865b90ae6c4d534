"""Rate limits.

Durable ones, shared by every app process: fixed-window counters in the database. `hit` counts through
`durable()`, so a use counts even when the request that made it is refused (which rolls back everything
else it wrote): discount-code tries. `allow` counts inside the request's own transaction: it caps emails,
and a rolled-back request sends none. (Log-in throttling has its own, api/accounts/throttle.py.)

Cheap ones for public look-ups (verify pages, the credentials API), where a database write per request
would cost more than the page: `lookup` counts in this process's memory, or in Redis when
CADRE_REDIS_URL is set, so several app processes share one limit (api/core/counters.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select

from api.core import counters
from api.core.db import UTCDateTime, durable, utcnow
from api.core.errors import TooManyRequests


class RateLimitHit(SQLModel, table=True):
    __tablename__ = "rate_limit_hit"
    __table_args__ = (UniqueConstraint("bucket", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=160)
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    count: int = 0


def _count(session: Session, bucket: str, window_seconds: int) -> tuple[float, int]:
    """Count one use of `bucket`; return the uses in the last `window_seconds` and when the window ends."""
    now = utcnow()
    start_ts = int(now.timestamp()) // window_seconds * window_seconds
    start = datetime.fromtimestamp(start_ts, tz=now.tzinfo)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RateLimitHit).values(bucket=bucket[:160], window_start=start, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["bucket", "window_start"],
                                      set_={"count": RateLimitHit.count + 1}).returning(RateLimitHit.count)
    count = session.exec(stmt).scalar_one()
    # Sliding-window estimate: the previous window's count, weighted by how much of it still
    # overlaps the last `window_seconds`, so a burst across a window boundary is still caught.
    previous = session.exec(select(RateLimitHit.count).where(
        RateLimitHit.bucket == bucket[:160],
        RateLimitHit.window_start == datetime.fromtimestamp(start_ts - window_seconds, tz=now.tzinfo))).first() or 0
    elapsed = now.timestamp() - start_ts
    return count + previous * (1 - elapsed / window_seconds), start_ts + window_seconds - int(now.timestamp())


def allow(session: Session, bucket: str, limit: int, window_seconds: int) -> bool:
    """Count one use; False when that makes more than `limit` in the last `window_seconds`."""
    used, _ = _count(session, bucket, window_seconds)
    return used <= limit


def lookup(bucket: str, limit: int, window_seconds: int, what: str = "requests") -> None:
    """Count one public look-up without the database; more than `limit` in the last `window_seconds`
    raises 429. Counted before the look-up is answered, whatever its answer (a miss counts too)."""
    used, retry = counters.count(bucket, window_seconds)
    if used > limit:
        raise TooManyRequests(f"Too many {what} from your address. Wait {max(retry, 1)} seconds and try again.",
                              code="rate_limited", headers={"Retry-After": str(max(retry, 1))})


def hit(session: Session, bucket: str, limit: int, window_seconds: int, what: str = "requests") -> None:
    """Count one use of `bucket`; more than `limit` in the last `window_seconds` raises 429."""
    used, retry = durable(lambda s: _count(s, bucket, window_seconds), session)
    if used > limit:
        raise TooManyRequests(f"Too many {what} from your address. Wait {max(retry, 1)} seconds and try again.",
                              code="rate_limited", headers={"Retry-After": str(max(retry, 1))})
