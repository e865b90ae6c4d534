"""The one limit on discount-code tries, wherever a code is typed (the price quote, the JSON and HTML
checkouts): codes are words people choose, so the tries from one address are capped.

`service.quote` counts every code it resolves (and `start_checkout` resolves through it), so no route
can forget the limit.

A try must stay counted however the request ends: a wrong code at the JSON checkout is answered with
an error, and an error rolls the request back. So a try is counted in the request's transaction at
once (concurrent tries from one address meet one counter row, so the limit holds exactly), and if the
transaction holding that count is rolled back it is counted again: just before the enclosing
transaction commits when a savepoint was rolled back, or, when the request's whole transaction was,
once the rollback is done, in a short transaction of its own. (Counting in a second connection from
the start is not possible on SQLite, where the request's transaction already holds the write lock.)
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from api.core import ratelimit
from api.core.errors import TooManyRequests
from api.payments.codes import normalise

TRIES_PER_10_MINUTES = 30
WINDOW_SECONDS = 600
_KEY = "cadre_code_tries"
log = logging.getLogger("cadre.payments")


def count(session: Session, address: str | None, code_text: str | None) -> None:
    """Count one try of `code_text` from `address`; past the limit, 429 with Retry-After.

    `address` None: not a try from outside (the command line, a job); nothing is counted. The same code
    resolved twice in one request (a checkout, then the page showing why it failed) counts once."""
    typed = normalise(code_text or "")
    if not typed or address is None:
        return
    bucket = f"code:{address}"
    tries: list[list] = session.info.setdefault(_KEY, [])
    for t in tries:
        if t[0] == bucket and t[1] == typed:
            if t[3] is not None:
                raise t[3]  # refused once in this request: refused every time it is resolved
            return
    session.connection()  # begin the transaction now, so the try knows which transaction holds it
    entry = [bucket, typed, _innermost(session), None]
    tries.append(entry)
    try:
        ratelimit.hit(session, bucket, TRIES_PER_10_MINUTES, WINDOW_SECONDS, "discount code tries")
    except TooManyRequests as exc:
        entry[3] = exc
        raise


def _innermost(session: OrmSession) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _inside(txn: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while txn is not None:
        if txn is ended:
            return True
        txn = txn.parent
    return False


_LOST = "lost"  # rolled back with a savepoint: to be counted again before the transaction commits


@event.listens_for(OrmSession, "before_commit")
def _count_lost(session: OrmSession) -> None:
    for t in session.info.get(_KEY) or ():
        if t[2] is _LOST:
            ratelimit.allow(session, t[0], TRIES_PER_10_MINUTES, WINDOW_SECONDS)
            t[2] = _innermost(session)


@event.listens_for(OrmSession, "after_commit")
def _kept(session: OrmSession) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _count_again(session: OrmSession, previous: SessionTransaction) -> None:
    tries = session.info.get(_KEY)
    if not tries:
        return
    if previous.parent is not None:
        # A savepoint: no SQL may run inside its rollback, and the enclosing transaction goes on, so the
        # tries it held are counted again when that transaction commits (or, if it rolls back, below).
        for t in tries:
            if t[2] is not _LOST and _inside(t[2], previous):
                t[2] = _LOST
        return
    lost = [t for t in tries if t[2] is _LOST or _inside(t[2], previous)]
    session.info.pop(_KEY, None)
    if not lost:
        return
    try:
        # The request's transaction is gone (and with it any lock it held): a short one of our own.
        # A session joined to an outer transaction (the tests') keeps its tries inside that one.
        with Session(bind=session.get_bind(), join_transaction_mode="create_savepoint") as own:
            for t in lost:
                ratelimit.allow(own, t[0], TRIES_PER_10_MINUTES, WINDOW_SECONDS)
            own.commit()
    except Exception:  # never turn a rollback into a second failure
        log.exception("code tries not counted", extra={"buckets": [t[0] for t in lost]})
