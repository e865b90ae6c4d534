"""A refused action commits nothing, whichever layer turns the refusal into a page, proved through the
real session dependency against a real database (SQLite file or PostgreSQL schema, as configured).
Records that must outlive a refusal (failed log-ins, rate-limit counts) still persist."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlmodel import func, select

from api.accounts.models import LoginAttempt, Role
from api.core.db import SessionDep, durable, utcnow
from api.core.errors import Conflict, respond
from api.core.templates import redirect
from tests.core.conftest import log_in


def _attempts(open_session, marker: str) -> int:
    with open_session() as s:
        return s.exec(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == marker)).one()


def _synthetic_routes(app) -> None:
    """Pages that write, then meet a business error and answer with a page anyway."""

    def write(session, marker: str) -> None:
        session.add(LoginAttempt(email=marker, ip="uow-test", succeeded=True))
        session.flush()

    @app.post("/_uow/{marker}/redirect")
    def write_then_redirect(marker: str, session: SessionDep):
        write(session, marker)
        try:
            raise Conflict("Refused after writing.", code="refused")
        except Conflict as exc:
            return redirect("/", exc.message)

    @app.post("/_uow/{marker}/respond")
    def write_then_respond(marker: str, request: Request, session: SessionDep):
        write(session, marker)
        return respond(request, Conflict("Refused after writing.", code="refused"))

    @app.post("/_uow/{marker}/raise")
    def write_then_raise(marker: str, session: SessionDep):
        write(session, marker)
        raise Conflict("Refused after writing.", code="refused")

    @app.post("/_uow/{marker}/durable")
    def durable_then_refuse(marker: str, session: SessionDep):
        write(session, marker + "-plain")
        durable(lambda s: s.add(LoginAttempt(email=marker, ip="uow-test", succeeded=False)), session)
        write(session, marker + "-plain")
        try:
            raise Conflict("Refused after writing.", code="refused")
        except Conflict:
            return JSONResponse({"ok": False}, status_code=409)

    @app.post("/_uow/{marker}/ok")
    def write_ok(marker: str, session: SessionDep):
        write(session, marker)
        return {"ok": True}


def test_a_page_that_catches_a_refusal_leaves_nothing_written(real_app, real_client, real_db):
    _synthetic_routes(real_app)
    for kind, status in (("redirect", 303), ("respond", 409), ("raise", 409)):
        marker = f"uow-{kind}-{secrets.token_hex(4)}"
        r = real_client.post(f"/_uow/{marker}/{kind}", follow_redirects=False)
        assert r.status_code == status, (kind, r.text)
        assert _attempts(real_db, marker) == 0, f"{kind}: the refused request's write was committed"
    marker = f"uow-ok-{secrets.token_hex(4)}"
    assert real_client.post(f"/_uow/{marker}/ok").status_code == 200
    assert _attempts(real_db, marker) == 1  # the same write, not refused, is committed


def test_a_durable_record_outlives_the_refusal_and_nothing_else_does(real_app, real_client, real_db):
    _synthetic_routes(real_app)
    marker = f"uow-durable-{secrets.token_hex(4)}"
    assert real_client.post(f"/_uow/{marker}/durable").status_code == 409
    assert _attempts(real_db, marker) == 1
    assert _attempts(real_db, marker + "-plain") == 0


def test_failed_log_ins_still_count_through_the_real_session(real_client, real_user):
    user = real_user()
    for _ in range(5):
        r = real_client.post("/api/v1/auth/login", json={"email": user.email, "password": "wrong-password-1"})
        assert r.status_code == 422
    r = real_client.post("/api/v1/auth/login", json={"email": user.email, "password": "correct-horse-battery"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "login_throttled"


def test_a_refused_renewal_approval_stays_pending_and_issues_nothing(real_client, real_browser, real_db, real_user):
    """The reproducer: the issue step refuses (an instalment is overdue); the admin page redirects with
    the reason. Before, the request was saved as approved with no new certificate."""
    from api.catalog import service as catalog_service
    from api.catalog.models import Offer
    from api.certificates import service as certificates
    from api.certificates.models import Certificate, RenewalRequest
    from api.learning import service as learning
    from api.learning.models import EnrolmentSource, EnrolmentStatus
    from api.payments.models import Order, Payment

    learner, admin = real_user(name="Renata Renewer"), real_user(roles={Role.admin})
    with real_db() as s:
        programme = catalog_service.get_by_slug(s, "acxp")
        offer = s.exec(select(Offer).where(Offer.programme_id == programme.id)).first()
        enrolment = learning.enrol(s, user_id=learner.id, programme_id=programme.id,
                                   source=EnrolmentSource.admin_grant, check_prerequisites=False)
        enrolment.status = EnrolmentStatus.completed.value
        cert = certificates.issue(s, user=learner, programme=programme, holder_name="Renata Renewer",
                                  enrolment=enrolment)
        cert.expires_at = utcnow() + timedelta(days=60)  # inside the renewal window
        req = certificates.request_renewal(s, cert, learner, "Led three outside-in redesigns this year.")
        order = Order(public_id=f"ord_{secrets.token_hex(6)}", user_id=learner.id, programme_id=programme.id,
                      offer_id=offer.id, kind="instalments", currency="GBP", amount_before=30000,
                      amount_total=30000, instalment_count=2, status="paid", provider="offline")
        s.add(order)
        s.flush()
        s.add(Payment(order_id=order.id, number=1, amount=15000, currency="GBP", due_date=date.today(),
                      status="paid", paid_at=utcnow()))
        s.add(Payment(order_id=order.id, number=2, amount=15000, currency="GBP",
                      due_date=date.today() - timedelta(days=3), status="failed", failed_at=utcnow()))
        s.commit()
        req_id, cert_id = req.id, cert.id

    log_in(real_browser.client, admin)
    r = real_browser.post_form("/admin/certificates", f"/admin/renewals/{req_id}", decision="approve",
                               note="Good evidence")
    assert r.status_code == 303
    page = real_browser.client.get(r.headers["location"]).text
    assert "overdue instalment" in page  # the admin is told why

    with real_db() as s:
        req = s.get(RenewalRequest, req_id)
        assert req.status == "pending" and req.decided_at is None
        old = s.get(Certificate, cert_id)
        assert old.status == "active" and old.superseded_by_id is None
        assert s.exec(select(func.count()).select_from(Certificate)
                      .where(Certificate.user_id == learner.id)).one() == 1
