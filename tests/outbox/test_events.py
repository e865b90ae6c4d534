"""Domain events: one domain tells another through the outbox, in the same transaction as the change;
the consumer lives in the domain that reacts. Payments no longer reaches into certificates."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import select

from api.catalog import service as catalog_service
from api.certificates import consumers
from api.certificates import service as certificates_service
from api.learning.models import EnrolmentSource, EnrolmentStatus
from api.outbox.models import DomainEvent, OutboxMessage
from tests.assessments.factories import give_released_pass
from tests.learning.test_progress_and_completion import study_everything

ROOT = Path(__file__).resolve().parents[2]


def test_completing_a_programme_is_an_event_certificates_answer_with_an_invitation(client, db, make_user, login,
                                                                                   enrol, outline, mailbox,
                                                                                   links_answer):
    user = make_user(name="Ama Mensah")
    enrol(user, "acxp")
    login(user.email)
    give_released_pass(db, user, "acxp")  # the practical assessment first: lessons alone never complete
    study_everything(client, db, "acxp", outline("acxp"))
    [event] = [e for e in db.exec(select(DomainEvent).where(DomainEvent.name == "programme.completed"))
               if e.payload["user_id"] == user.id]
    [msg] = db.exec(select(OutboxMessage).where(OutboxMessage.event_id == event.id)).all()
    assert (msg.handler, msg.status) == ("api.certificates.consumers:on_programme_completed", "pending")
    assert event.processed_at is None
    # the worker ran the consumer, which queued the email, then sent it (after the assessment's own emails)
    [invite] = [m for m in mailbox.to(user.email) if str(m["Subject"]).startswith("You completed")]
    body = mailbox.body(invite)
    assert mailbox.subjects(user.email)[-1] == ("You completed Accredited Customer Experience Professional: "
                                                "confirm your name for the certificate")
    assert "Well done: you have completed Accredited Customer Experience Professional (ACXP)" in body
    assert links_answer(body) == ["/certificates"]
    assert "Your ACXP certificate is ready" in client.get("/certificates").text
    db.refresh(event)
    assert event.processed_at is not None


def _held_certificate(db, make_user):
    user = make_user()
    programme = catalog_service.get_by_slug(db, "acxp")
    from api.learning import service as learning_service

    enrolment = learning_service.enrol(db, user_id=user.id, programme_id=programme.id,
                                       source=EnrolmentSource.admin_grant, check_prerequisites=False)
    enrolment.status = EnrolmentStatus.completed.value
    cert = certificates_service.issue(db, user=user, programme=programme, holder_name=user.full_name,
                                      enrolment=enrolment)
    db.commit()
    return user, programme, cert


def test_an_admins_suspension_whose_reason_mentions_payment_is_not_lifted_when_an_instalment_is_paid(db, make_user):
    from api.accounts.models import Role

    user, programme, cert = _held_certificate(db, make_user)
    admin = make_user(roles={Role.admin})
    certificates_service.change_status(db, cert, "suspend", "Payment overdue: and the identity check failed", admin)
    db.commit()
    consumers.on_instalment_settled(db, {"user_id": user.id, "programme_id": programme.id, "order": "ord_x"})
    db.refresh(cert)
    assert cert.status == "suspended" and cert.status_reason == "Payment overdue: and the identity check failed"
    assert cert.hold_reason is None


def test_the_payment_hold_is_typed_and_lifted_by_the_settled_event(db, make_user):
    user, programme, cert = _held_certificate(db, make_user)
    assert certificates_service.suspend_for_payment(db, user.id, programme.id, "Instalment 2 of 4 is unpaid")
    db.refresh(cert)
    assert (cert.status, cert.hold_reason) == ("suspended", "payment_overdue")
    consumers.on_instalment_settled(db, {"user_id": user.id, "programme_id": programme.id, "order": "ord_x"})
    db.refresh(cert)
    assert (cert.status, cert.hold_reason, cert.status_reason) == ("active", None, None)


def test_an_overdue_event_handled_after_the_instalment_was_paid_holds_nothing(db, make_user):
    user, programme, cert = _held_certificate(db, make_user)  # no failed payment: nothing is in arrears
    consumers.on_instalment_overdue(db, {"user_id": user.id, "programme_id": programme.id, "order": "ord_x",
                                         "payment": 2, "reason": "Instalment 2 of 4 failed"})
    db.refresh(cert)
    assert cert.status == "active"


def _imports(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
    return found


def test_payments_tells_certificates_by_event_and_never_imports_them():
    assert not {m for m in _imports(ROOT / "api" / "payments") if m.startswith("api.certificates")}
