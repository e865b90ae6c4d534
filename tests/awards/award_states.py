"""Run by test_award_credential_reference.py with the live server's environment: runs one award cycle
through Cadre's own services (nominations, entries, the state machine, record_outcomes, announce), then
revokes one of the two award credentials. Prints {case: slug} as JSON."""

from __future__ import annotations

import json
from datetime import date, time

from sqlmodel import select

from api.accounts import service as accounts_service
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.awards import announce, nominations, service, states
from api.awards.models import CycleOutcome, CycleState
from api.certificates import service as certificates
from api.certificates.models import Certificate
from api.cli import _session


def _user(session, email, name, roles=None):
    return accounts_service.create_user(session, UserCreate(email=email, full_name=name,
                                                            password="correct-horse-battery"),
                                        roles=roles, verified=True)


def main() -> dict[str, str]:
    with _session() as session:
        admin = _user(session, "award-admin@example.com", "Ada Admin", {Role.admin})
        award = service.award_by_slug(session, "change-architect-of-the-year")
        cycle = service.create_cycle(session, award, 2027, admin)
        service.set_milestone(session, cycle, "nominations_close", date(2099, 3, 1), time(17, 0), "Europe/London")
        service.set_milestone(session, cycle, "announcement", date(2026, 11, 20), time(12, 0), "Africa/Johannesburg")
        states.transition(session, cycle, CycleState.nominations_open, admin)
        peer = _user(session, "peer@example.com", "Pat Peer")
        entries = {}
        for case, name in (("award-valid", "Wendy Winner"), ("award-revoked", "Rex Revoked")):
            user = _user(session, f"{case}@example.com", name)
            nominee, _, _ = nominations.nominate(session, cycle, peer, nominations.NominationIn(
                name=name, email=user.email, statement="Led an outside-in transformation."))
            nominations.respond(session, nominee, user, accept=True, consent_judging=True, consent_public=True)
            entries[case] = nominations.save_entry(session, nominee, user, nominations.EntryIn(
                personal="Grew.", professional="Qualified.", business="Complaints halved.",
                referees=[{"name": "Rita", "email": "rita@example.com", "relationship": "Manager"}]), submit=True)
        while cycle.state != CycleState.deliberating:
            states.transition(session, cycle, states.next_state(cycle.state), admin)
        service.record_outcomes(session, cycle, [
            {"entry_id": e.id, "kind": "winner", "citation": "Chosen by the judges."} for e in entries.values()],
            admin)
        announce.announce(session, cycle, admin)
        slugs = {}
        for case, entry in entries.items():
            outcome = session.exec(select(CycleOutcome).where(CycleOutcome.entry_id == entry.id)).one()
            cert = session.get(Certificate, outcome.certificate_id)
            if case == "award-revoked":
                certificates.change_status(session, cert, "revoke", "The entry misstated its results", admin)
            slugs[case] = cert.slug
        session.commit()
    return slugs


if __name__ == "__main__":
    print(json.dumps(main()))
