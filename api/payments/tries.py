"""The one limit on discount-code tries, wherever a code is typed (the price quote, the JSON and HTML
checkouts): codes are words people choose, so the tries from one address are capped.

`service.quote` counts every code it resolves (and `start_checkout` resolves through it), so no route
can forget the limit. A wrong code is answered with an error, and an error rolls the request back: the
count survives because `ratelimit.hit` records it through `durable()` (api/core/db.py).
"""

from __future__ import annotations

from sqlmodel import Session

from api.core import ratelimit
from api.core.errors import TooManyRequests
from api.payments.codes import normalise

TRIES_PER_10_MINUTES = 30
WINDOW_SECONDS = 600
_KEY = "cadre_code_tries"


def count(session: Session, address: str | None, code_text: str | None) -> None:
    """Count one try of `code_text` from `address`; past the limit, 429 with Retry-After.

    `address` None: not a try from outside (the command line, a job); nothing is counted. The same code
    resolved twice in one request (a checkout, then the page showing why it failed) counts once."""
    typed = normalise(code_text or "")
    if not typed or address is None:
        return
    bucket = f"code:{address}"
    seen: dict[tuple[str, str], TooManyRequests | None] = session.info.setdefault(_KEY, {})
    if (bucket, typed) in seen:
        refused = seen[(bucket, typed)]
        if refused is not None:
            raise refused  # refused once in this request: refused every time it is resolved
        return
    seen[(bucket, typed)] = None
    try:
        ratelimit.hit(session, bucket, TRIES_PER_10_MINUTES, WINDOW_SECONDS, "discount code tries")
    except TooManyRequests as exc:
        seen[(bucket, typed)] = exc
        raise
