"""The announcement: when the embargo lifts, a decided cycle's outcomes become hall of fame entries,
each winner gets an Open Badges 3.0 award credential (api/certificates/achievements.py), and the people
concerned hear through the outbox. Before then nothing about the outcomes is public: no hall of fame
row exists, no email has gone, and a winner's address answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.awards import service, states
from api.awards.models import AwardCycle, CycleOutcome, CycleState, Entry, EntryState, Nominee, OutcomeKind
from api.certificates.credential import AchievementInfo
from api.core import email as mail
from api.core import pagecache
from api.core.config import get_settings
from api.core.db import utcnow
from api.core.errors import Conflict
from api.halloffame.models import Award, AwardWinner, WinnerSource


def base_url() -> str:
    return get_settings().base_url.rstrip("/")


def winner_url(winner: AwardWinner) -> str:
    return f"{base_url()}/hall-of-fame/{winner.year}/{winner.slug}"


def embargo_lifted(cycle: AwardCycle, now: datetime | None = None) -> bool:
    return cycle.embargo_until is not None and (now or utcnow()) >= cycle.embargo_until


def achievement_for(award: Award, cycle: AwardCycle, winner: AwardWinner) -> AchievementInfo:
    return AchievementInfo(
        id=f"{base_url()}/hall-of-fame/{cycle.year}", name=f"{award.title} {cycle.year}",
        description=(f"{award.title} is a global award recognising personal, professional and business "
                     f"transformation delivered in the winner's own organisation."),
        criteria_narrative=("Nominated by peers and fellow professionals, the entrant's evidence of personal, "
                            "professional and business transformation was sifted, scored on a shortlist, "
                            "discussed at interview and chosen in the judges' final deliberation."),
        achievement_type="Award", criteria_id=f"{base_url()}/awards/{cycle.slug}")


def announce(session: Session, cycle: AwardCycle, actor: Any = None, now: datetime | None = None) -> list[AwardWinner]:
    """Publish a decided cycle's outcomes (admin button, or the worker once the embargo lifts).
    Refused (409, nothing written) before the embargo lifts or when the cycle is not decided; two at
    once meet at the state transition and one of them is refused."""
    from api.certificates import achievements

    now = now or utcnow()
    if cycle.state != CycleState.decided:
        raise Conflict(f"Only a decided cycle can be announced; this one is "
                       f"{states.WORDS[CycleState(cycle.state)]}.", code="not_decided")
    if not embargo_lifted(cycle, now):
        lifts = f" It lifts at {cycle.embargo_until:%-d %B %Y, %H:%M} UTC." if cycle.embargo_until else \
            " Set the announcement milestone first."
        raise Conflict("The results are under embargo until the announcement." + lifts, code="embargoed")
    states.transition(session, cycle, CycleState.announced, actor, action="announced", announced_at=now)
    award = session.get(Award, cycle.award_id)
    assert award is not None
    winners: list[AwardWinner] = []
    awarded: set[int] = set()
    for outcome in service.outcomes(session, cycle):
        entry = session.get(Entry, outcome.entry_id)
        nominee = session.get(Nominee, entry.nominee_id) if entry else None
        assert entry is not None and nominee is not None
        awarded.add(nominee.id)
        winner = AwardWinner(award_id=award.id, year=cycle.year, name=nominee.name, role=nominee.role,
                             organisation=nominee.organisation, country=nominee.country, citation=outcome.citation,
                             source=WinnerSource.cycle.value, kind=outcome.kind, slug=outcome.slug, cycle_id=cycle.id,
                             outcome_id=outcome.id, user_id=nominee.user_id, photo_key=nominee.photo_key,
                             photo_type=nominee.photo_type,
                             listing_withdrawn_at=None if nominee.consent_public_at else now)
        try:
            with session.begin_nested():
                session.add(winner)
                session.flush()
        except IntegrityError:
            raise Conflict(f"The hall of fame already lists {nominee.name} for {cycle.year}. Correct the earlier "
                           "entry (or the nominee's name) before announcing; nothing was published.",
                           code="winner_exists") from None
        user = session.get(User, nominee.user_id) if nominee.user_id else None
        cert = None
        if outcome.kind == OutcomeKind.winner and user is not None:
            cert = achievements.issue_award(
                session, user=user, holder_name=nominee.name, achievement=achievement_for(award, cycle, winner),
                reason=f"{award.title} {cycle.year}")  # issued (validFrom) at the real moment, not `now`
            # The credential links to the public citation as its evidence only where it may be seen.
            outcome.certificate_id = winner.certificate_id = cert.id
            session.add_all([outcome, winner])
        mail.send_template(session, nominee.email, "awards/result", key=f"award-result:{outcome.id}",
                           name=nominee.name, cycle=cycle, award=award, outcome=outcome,
                           listed=nominee.consent_public_at is not None, page=winner_url(winner),
                           verify_url=f"{base_url()}/verify/{cert.slug}" if cert else None)
        winners.append(winner)
    # Everyone else who entered hears that the results are out (the same day, from the same door).
    for entry, nominee in session.exec(
            select(Entry, Nominee).join(Nominee, col(Nominee.id) == Entry.nominee_id)
            .where(Entry.cycle_id == cycle.id, Entry.state == EntryState.submitted.value)).all():
        if nominee.id not in awarded:
            mail.send_template(session, nominee.email, "awards/announced", key=f"award-announced:{entry.id}",
                               name=nominee.name, cycle=cycle, page=f"{base_url()}/hall-of-fame/{cycle.year}")
    pagecache.invalidate(session)
    session.flush()
    return winners


def announce_due(session: Session, now: datetime | None = None) -> int:
    """The worker's part: announce every decided cycle whose embargo has lifted."""
    now = now or utcnow()
    due = session.exec(select(AwardCycle).where(AwardCycle.state == CycleState.decided.value,
                                                col(AwardCycle.embargo_until).is_not(None),
                                                col(AwardCycle.embargo_until) <= now)).all()
    for cycle in due:
        announce(session, cycle, None, now)
    return len(due)


def sync_listing(session: Session, nominee: Nominee) -> int:
    """Carry the nominee's consent to public listing to their hall of fame rows (once announced)."""
    rows = session.exec(select(AwardWinner).join(CycleOutcome, col(CycleOutcome.id) == AwardWinner.outcome_id)
                        .join(Entry, col(Entry.id) == CycleOutcome.entry_id)
                        .where(Entry.nominee_id == nominee.id)).all()
    for w in rows:
        w.listing_withdrawn_at = None if nominee.consent_public_at is not None else (w.listing_withdrawn_at or utcnow())
        session.add(w)
    if rows:
        pagecache.invalidate(session)
    session.flush()
    return len(rows)
