"""Discount codes: what a code takes off a price, why a code does not apply, and its redemptions.

Redemption rule: a code is *reserved* when a checkout is created (so the price the learner was shown
is the price they pay), becomes *redeemed* when the order is paid, and is *released* when the checkout
expires or the payment fails. Reserved and redeemed redemptions both count towards the caps. The cap
check and the reservation happen under a row lock on the code (`SELECT ... FOR NO KEY UPDATE` on PostgreSQL;
SQLite's single writer serialises them), so concurrent checkouts can never go over a cap.
Flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.catalog.models import Programme
from api.core import pagination
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.core.money import format_money
from api.payments.models import (
    DiscountCode,
    DiscountCodeProgramme,
    DiscountKind,
    DiscountRedemption,
    RedemptionStatus,
)

COUNTING = (RedemptionStatus.reserved.value, RedemptionStatus.redeemed.value)


def normalise(code: str) -> str:
    return code.strip().lower()


def display(code: DiscountCode | str) -> str:
    return (code.code if isinstance(code, DiscountCode) else code).upper()


def discount_for(code: DiscountCode, amount: int) -> int:
    """What `code` takes off `amount`. Percentages round half up to the penny; never below zero."""
    if code.kind == DiscountKind.percent.value:
        return min(amount, (amount * (code.percent_off or 0) + 50) // 100)
    return min(amount, code.amount_off or 0)


def describe(code: DiscountCode) -> str:
    if code.kind == DiscountKind.percent.value:
        return f"{code.percent_off}% off"
    return f"{format_money(code.amount_off or 0, code.currency or 'GBP')} off"


def get(session: Session, text: str, *, lock: bool = False) -> DiscountCode | None:
    query = select(DiscountCode).where(DiscountCode.code == normalise(text))
    if lock:
        # FOR NO KEY UPDATE on PostgreSQL: serialises the cap checks without waiting on (or deadlocking
        # with) the key-share locks that inserting an order or redemption referring to the code takes.
        query = query.with_for_update(key_share=True)
    return session.exec(query).first()


def programme_ids(session: Session, code: DiscountCode) -> list[int]:
    return list(session.exec(select(DiscountCodeProgramme.programme_id)
                             .where(DiscountCodeProgramme.code_id == code.id)).all())


def counts(session: Session, code: DiscountCode, user_id: int | None = None) -> tuple[int, int]:
    """(redemptions counting towards the overall cap, those of `user_id`)."""
    base = select(func.count()).select_from(DiscountRedemption).where(
        DiscountRedemption.code_id == code.id, col(DiscountRedemption.status).in_(COUNTING))
    total = session.exec(base).one()
    mine = session.exec(base.where(DiscountRedemption.user_id == user_id)).one() if user_id else 0
    return total, mine


def problem(session: Session, code: DiscountCode | None, typed: str, programme: Programme, currency: str,
            user_id: int | None, now: datetime | None = None) -> str | None:
    """Why `code` does not apply to this purchase, in words for the learner; None when it applies."""
    shown = display(typed)
    if code is None:
        return f"We do not know the code {shown}. Check the spelling and try again."
    now = now or utcnow()
    if not code.active:
        return f"The code {shown} is no longer active."
    if code.valid_from and now < code.valid_from:
        return f"The code {shown} is not active yet: it can be used from {code.valid_from:%-d %B %Y}."
    if code.valid_until and now >= code.valid_until:
        return f"The code {shown} expired on {code.valid_until:%-d %B %Y}."
    allowed = programme_ids(session, code)
    if allowed and programme.id not in allowed:
        return f"The code {shown} is not for {programme.short_title or programme.title}."
    if code.kind == DiscountKind.amount.value and (code.currency or "").upper() != currency.upper():
        return f"The code {shown} applies to prices in {code.currency}, not {currency}."
    total, mine = counts(session, code, user_id)
    if code.max_redemptions is not None and total >= code.max_redemptions:
        return f"The code {shown} has been used up."
    if user_id and code.max_per_customer is not None and mine >= code.max_per_customer:
        return f"You have already used the code {shown}."
    return None


def reserve(session: Session, code: DiscountCode, *, user_id: int, order_id: int) -> DiscountRedemption:
    row = DiscountRedemption(code_id=code.id, user_id=user_id, order_id=order_id)
    session.add(row)
    session.flush()
    return row


def set_redemption(session: Session, order_id: int, status: RedemptionStatus) -> None:
    """Redeem on payment, release on expiry or failure. Redeemed is final: a refund does not hand the
    use of the code back."""
    row = session.exec(select(DiscountRedemption).where(DiscountRedemption.order_id == order_id)).first()
    if row is None or row.status == status.value:
        return
    if row.status == RedemptionStatus.redeemed.value and status is RedemptionStatus.released:
        return  # paid is final
    row.status = status.value
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


# --- administration ---------------------------------------------------------------------------

@dataclass
class CodeRow:
    code: DiscountCode
    programmes: list[str]
    reserved: int
    redeemed: int


def create(session: Session, *, code: str, percent_off: int | None = None, amount_off: int | None = None,
           currency: str | None = None, programme_slugs: list[str] | None = None,
           valid_from: datetime | None = None, valid_until: datetime | None = None,
           max_redemptions: int | None = None, max_per_customer: int | None = 1, note: str | None = None,
           created_by_id: int | None = None) -> DiscountCode:
    text = normalise(code)
    if not text or len(text) > 60 or not all(c.isalnum() or c in "-_" for c in text):
        raise Invalid("A code is 1 to 60 letters, digits, hyphens or underscores.", code="bad_code")
    if (percent_off is None) == (amount_off is None):
        raise Invalid("Give either a percentage or an amount off, not both.", code="bad_discount")
    if percent_off is not None and not 1 <= percent_off <= 100:
        raise Invalid("A percentage off is between 1 and 100.", code="bad_discount")
    if amount_off is not None and (amount_off < 1 or not currency or len(currency) != 3):
        raise Invalid("An amount off is at least 1 (in minor units) with a three-letter currency.",
                      code="bad_discount")
    if valid_from and valid_until and valid_until <= valid_from:
        raise Invalid("The code must end after it starts.", code="bad_window")
    for limit in (max_redemptions, max_per_customer):
        if limit is not None and limit < 1:
            raise Invalid("Limits are at least 1 (leave empty for no limit).", code="bad_limit")
    if get(session, text):
        raise Conflict(f"The code {display(text)} already exists.", code="code_exists")
    programmes = []
    for slug in programme_slugs or []:
        p = session.exec(select(Programme).where(Programme.slug == slug.strip().lower())).first()
        if p is None:
            raise NotFound(f"There is no programme {slug}.", code="programme_not_found")
        programmes.append(p)
    row = DiscountCode(
        code=text, kind=(DiscountKind.percent if percent_off is not None else DiscountKind.amount).value,
        percent_off=percent_off, amount_off=amount_off, currency=currency.upper() if currency else None,
        valid_from=valid_from, valid_until=valid_until, max_redemptions=max_redemptions,
        max_per_customer=max_per_customer, note=note, created_by_id=created_by_id,
    )
    session.add(row)
    session.flush()
    for p in programmes:
        session.add(DiscountCodeProgramme(code_id=row.id, programme_id=p.id))
    session.flush()
    return row


def deactivate(session: Session, text: str) -> bool:
    code = get(session, text)
    if code is None:
        raise NotFound(f"There is no code {display(text)}.", code="code_not_found")
    if not code.active:
        return False
    code.active = False
    code.deactivated_at = utcnow()
    session.add(code)
    session.flush()
    return True


CODES_ORDER = pagination.Keyset(DiscountCode.created_at, DiscountCode.id, descending=True)  # newest first


def code_rows(session: Session, codes: list[DiscountCode]) -> list[CodeRow]:
    """These codes with their programmes and redemption counts (two queries over their ids)."""
    ids = [c.id for c in codes]
    slugs: dict[int, list[str]] = {i: [] for i in ids}
    tally: dict[tuple[int, str], int] = {}
    if ids:
        for cid, slug in session.exec(select(DiscountCodeProgramme.code_id, Programme.slug).join(
                Programme, col(Programme.id) == col(DiscountCodeProgramme.programme_id))
                .where(col(DiscountCodeProgramme.code_id).in_(ids))):
            slugs[cid].append(slug)
        for cid, status, n in session.exec(select(DiscountRedemption.code_id, DiscountRedemption.status, func.count())
                                           .where(col(DiscountRedemption.code_id).in_(ids))
                                           .group_by(DiscountRedemption.code_id, DiscountRedemption.status)):
            tally[(cid, status)] = n
    return [CodeRow(code=c, programmes=sorted(slugs[c.id]), reserved=tally.get((c.id, "reserved"), 0),
                    redeemed=tally.get((c.id, "redeemed"), 0)) for c in codes]


def list_codes(session: Session, *, after: str | None = None, before: str | None = None,
               size: int = pagination.PAGE_SIZE) -> pagination.Page[CodeRow]:
    """A page of codes, newest first, with their redemptions."""
    page = pagination.paginate(session, select(DiscountCode), CODES_ORDER, after=after, before=before, size=size)
    page.rows = code_rows(session, page.rows)
    return page


def ensure_demo_codes(session: Session) -> list[str]:
    """The demo data's codes (development): `special50`, 50% off ACXS. Idempotent."""
    created = []
    if get(session, "special50") is None:
        create(session, code="special50", percent_off=50, programme_slugs=["acxs"], max_per_customer=1,
               note="Demo: half price on ACX Specialist")
        created.append("SPECIAL50")
    return created
