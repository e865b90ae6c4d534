"""The announcement: when the embargo lifts, a decided cycle's outcomes become hall of fame entries,
winners get their award credential, and everyone concerned hears (through the outbox)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.awards.models import CycleOutcome, Entry, Nominee
from api.core.db import utcnow
from api.halloffame.models import AwardWinner


def sync_listing(session: Session, nominee: Nominee) -> int:
    """Carry the nominee's consent to public listing to their hall of fame rows (if announced)."""
    rows = session.exec(select(AwardWinner).join(CycleOutcome, col(CycleOutcome.id) == AwardWinner.outcome_id)
                        .join(Entry, col(Entry.id) == CycleOutcome.entry_id)
                        .where(Entry.nominee_id == nominee.id)).all()
    for w in rows:
        if nominee.consent_public_at is None and w.listing_withdrawn_at is None:
            w.listing_withdrawn_at = utcnow()
        elif nominee.consent_public_at is not None:
            w.listing_withdrawn_at = None
        session.add(w)
    session.flush()
    return len(rows)
