"""Certificate pages: the holder's certificates (confirm name, PDF, LinkedIn, privacy, renewal),
the public verify pages for employers, and the admin page (issue, revoke, suspend, renewals)."""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.accounts import service as accounts_service
from api.accounts.deps import AdminUser, CurrentUser, optional_user
from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.certificates import answers, pdf, service, stored, verified_pages
from api.certificates.achievements import achievement_of
from api.certificates.models import RenewalRequest
from api.certificates.router import NO_STORE, limit_lookups
from api.core import pagination
from api.core.config import get_settings
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError, NotFound, TooManyRequests, respond
from api.core.security import csrf_protect
from api.core.templates import field_errors, ordered, redirect, render
from api.learning import service as learning_service

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)

STATUS_WORDS = {
    "valid": ("Valid", "This accreditation is genuine and current."),
    "expired": ("Expired", "This accreditation is genuine but has lapsed: it was not renewed in time."),
    "suspended": ("Suspended", "The issuer has suspended this accreditation for now."),
    "revoked": ("Revoked", "The issuer has withdrawn this accreditation. It is no longer valid."),
    "superseded": ("Superseded", "This accreditation was renewed: a newer certificate replaces it."),
}


def _own(session, slug: str, user) -> object:
    cert = service.by_slug(session, slug)
    if cert.user_id != user.id and Role.admin not in accounts_service.roles_of(session, user):
        raise NotFound("No certificate matches.", code="no_certificate")
    return cert


# --- the holder ---------------------------------------------------------------------------------

@router.get("/certificates")
def my_certificates(request: Request, user: CurrentUser, session: SessionDep):
    ready = service.ready_to_issue(session, user)
    return render(request, "certificates/mine.html", certs=service.mine(session, user), ready=ready,
                  held=service.held_for_payment(session, user, [p.id for _, p in ready]),
                  effective=service.effective_status, errors={})


@router.post("/certificates/issue/{programme_slug}")
def confirm_and_issue(request: Request, programme_slug: str, user: CurrentUser, session: SessionDep,
                      holder_name: str = Form(""), confirm: str = Form("")):
    programme = catalog_service.get_by_slug(session, programme_slug)
    ready = {p.id: e for e, p in service.ready_to_issue(session, user)}
    if programme.id not in ready:
        return redirect("/certificates", f"There is no {programme.code} certificate waiting for you.", "warning")
    try:
        if confirm != "yes":
            raise CadreError("Tick the box to confirm the name is exactly as it should appear.", code="unconfirmed")
        cert = service.issue(session, user=user, programme=programme, holder_name=holder_name,
                             enrolment=ready[programme.id])
    except CadreError as exc:
        ready = service.ready_to_issue(session, user)
        return render(request, "certificates/mine.html", exc.status_code if exc.status_code != 400 else 422,
                      certs=service.mine(session, user), ready=ready,
                      held=service.held_for_payment(session, user, [p.id for _, p in ready]),
                      effective=service.effective_status, errors={programme.slug: exc.message})
    return redirect(f"/certificates/{cert.slug}", f"Your {programme.code} certificate is issued.")


@router.get("/certificates/{slug}")
def certificate_detail(request: Request, slug: str, user: CurrentUser, session: SessionDep):
    return _detail(request, session, _own(session, slug, user))


def _detail(request: Request, session, cert, status_code: int = 200, errors: dict | None = None,
            evidence: str = ""):
    programme = achievement_of(session, cert)
    url = service.verify_url(cert)
    pending = service.pending_renewal_for(session, cert)
    return render(request, "certificates/detail.html", status_code, cert=cert, programme=programme,
                  verify_url=url, status=service.effective_status(cert), words=STATUS_WORDS, pending=pending,
                  renew_open=service.in_renewal_window(cert), renew_opens=service.renewal_opens_at(cert),
                  linkedin=pdf.linkedin_url(cert, programme, url, get_settings().issuer_name),
                  events=service.events(session, cert), errors=errors or {}, evidence=evidence)


@router.get("/certificates/{slug}/certificate.pdf")
def certificate_pdf(slug: str, user: CurrentUser, session: SessionDep):
    cert = _own(session, slug, user)
    programme = achievement_of(session, cert)
    body = pdf.render(cert, programme, service.verify_url(cert), get_settings().issuer_name)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{cert.number}.pdf"', "Cache-Control": "no-store"})


@router.get("/certificates/{slug}/credential.json")
def certificate_json(slug: str, user: CurrentUser, session: SessionDep):
    cert = _own(session, slug, user)
    return Response(json.dumps(cert.credential, indent=2, ensure_ascii=False),
                    media_type="application/ld+json",
                    headers={"Content-Disposition": f'attachment; filename="{cert.number}.json"'})


@router.post("/certificates/{slug}/privacy")
def certificate_privacy(slug: str, user: CurrentUser, session: SessionDep, private: str = Form("")):
    cert = _own(session, slug, user)
    service.set_private(session, cert, private == "yes")
    return redirect(f"/certificates/{slug}", "Only the status is shown to people who check it now."
                    if private == "yes" else "People who check it now see your name and the achievement.")


@router.post("/certificates/{slug}/renew")
def certificate_renew(request: Request, slug: str, user: CurrentUser, session: SessionDep, evidence: str = Form("")):
    cert = _own(session, slug, user)
    try:
        service.request_renewal(session, cert, user, evidence)
    except CadreError as exc:
        # The page again, with the refusal's status (409 outside the window, 422 thin evidence) and
        # the message beside the evidence field.
        return _detail(request, session, cert, exc.status_code, errors={"evidence": exc.message},
                       evidence=evidence)
    return redirect(f"/certificates/{slug}", "Your renewal request is with the assessors. We will email you.")


# --- employers ----------------------------------------------------------------------------------

@router.get("/verify")
def verify_form(request: Request):
    return render(request, "certificates/verify_form.html", error=None, errors={}, values={})


_PASTED_ADDRESS = re.compile(r"/verify/([A-Za-z0-9_-]{8,40})/?\s*$")


@router.post("/verify")
def verify_lookup(request: Request, session: SessionDep, number: str = Form(""), surname: str = Form("")):
    values = {"number": number, "surname": surname}
    pasted = _PASTED_ADDRESS.search(number)
    if pasted:  # the certificate's verify address pasted into the number field: that page is the answer
        return redirect(f"/verify/{pasted.group(1)}")
    empty = {k: v for k, v in (("number", "" if number.strip() else "Enter the certificate number."),
                               ("surname", "" if surname.strip() else "Enter the holder's surname.")) if v}
    if empty:  # nothing to look up yet (and no look-up counted)
        return render(request, "certificates/verify_form.html", 422, error=None, errors=empty, values=values)
    try:
        limit_lookups(request, session)
        cert = service.by_number_and_surname(session, number, surname)
    except TooManyRequests as exc:
        return render(request, "certificates/verify_form.html", exc.status_code, error=exc.message, errors={},
                      values=values)
    except NotFound as exc:  # which of the two is wrong is not said: the summary points at the number
        return render(request, "certificates/verify_form.html", exc.status_code, error=None,
                      errors={"number": exc.message}, values=values)
    return redirect(f"/verify/{cert.slug}")


@router.get("/verify/{slug}")
def verify_page(request: Request, slug: str, session: SessionDep):
    try:
        limit_lookups(request, session)
        cert = service.by_slug(session, slug)
    except (NotFound, TooManyRequests) as exc:
        return respond(request, exc)  # returned, not raised: the look-up must still count
    programme = achievement_of(session, cert)
    response, checked_at = verify_response(request, session, cert, programme, utcnow())
    if verified_pages.anonymous(request.scope) and "set-cookie" not in response.headers:
        verified_pages.keep(session, answers.PAGE, cert, programme, response.body, checked_at, answers.PAGE_MOMENT)
    return response


def verify_response(request: Request, session, cert, programme, checked_at):
    """The verify page as `request`'s viewer sees it now (also rendered at issue: answers.prepare)."""
    status = service.effective_status(cert, checked_at)
    checks = None if cert.is_private else stored.check(session, cert, checked_at)
    successor = session.get(type(cert), cert.superseded_by_id) if cert.superseded_by_id else None
    response = render(request, "certificates/verify.html", cert=cert, programme=programme, status=status,
                      words=STATUS_WORDS, checks=checks, checked_at=checked_at, successor=successor,
                      issuer=get_settings().issuer_name)
    response.headers.update(NO_STORE)
    return response, checked_at


# --- administrators -----------------------------------------------------------------------------

@router.get("/admin/certificates")
def admin_certificates(request: Request, admin: AdminUser, session: SessionDep, q: str | None = None,
                       after: pagination.After = None, before: pagination.Before = None):
    return _admin_page(request, session, q=q, after=after, before=before)


def _admin_page(request: Request, session, status_code: int = 200, *, q: str | None = None, after=None, before=None,
                errors: dict | None = None, values: dict | None = None):
    q = (q or "").strip()[:100]
    page = service.search(session, q, after=after, before=before)
    return render(request, "certificates/admin.html", status_code, rows=page.rows,
                  pager=page.links("/admin/certificates", {"q": q}), q=q,
                  back=pagination.here(request) if request.method == "GET" else "/admin/certificates",
                  effective=service.effective_status, renewals=service.pending_renewals(session),
                  programmes=catalog_service.list_programmes(session), errors=errors or {}, values=values or {})


ISSUE_FIELDS = ("email", "programme", "holder_name", "reason")
# Which field of "Issue a certificate by hand" each refusal is about.
ISSUE_ERRORS = {"programme_not_found": "programme", "bad_name": "holder_name", "reason_required": "reason",
                "bad_text": "reason", "already_issued": "programme"}


@router.post("/admin/certificates/{slug}/status")
def admin_status(slug: str, admin: AdminUser, session: SessionDep, action: str = Form(""), reason: str = Form(""),
                 back: str = Form("")):
    back = pagination.return_to(back, "/admin/certificates")
    cert = service.by_slug(session, slug)
    try:
        service.change_status(session, cert, action, reason, admin)
    except CadreError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, f"{cert.number}: {cert.status}.")


@router.post("/admin/certificates/issue")
def admin_issue(request: Request, admin: AdminUser, session: SessionDep, email: str = Form(""),
                programme: str = Form(""), holder_name: str = Form(""), reason: str = Form("")):
    values = {"email": email, "programme": programme, "holder_name": holder_name, "reason": reason}
    errors = {}
    user = accounts_service.get_by_email(session, email) if email.strip() else None
    if user is None:
        errors["email"] = (f"No account uses {email.strip()}: check the address, or create the account first."
                           if email.strip() else "Enter the holder's account email.")
    if not reason.strip():
        errors["reason"] = "Give a reason for issuing a certificate by hand (the audit trail keeps it)."
    if errors:
        return _admin_page(request, session, 422, errors=ordered(errors, ISSUE_FIELDS), values=values)
    try:
        prog = catalog_service.get_by_slug(session, programme)
        enrolment = learning_service.get_enrolment(session, user.id, prog.id)
        cert = service.issue(session, user=user, programme=prog, holder_name=holder_name or user.full_name,
                             enrolment=enrolment, issued_by=admin, reason=reason)
    except CadreError as exc:
        return _admin_page(request, session, exc.status_code, values=values,
                           errors=field_errors(exc, ISSUE_ERRORS, "programme"))
    return redirect("/admin/certificates", f"Issued {cert.number} to {cert.holder_name}.")


@router.post("/admin/renewals/{request_id}")
def admin_renewal(request_id: int, admin: AdminUser, session: SessionDep, decision: str = Form(""),
                  note: str = Form("")):
    req = session.get(RenewalRequest, request_id)
    if req is None:
        raise NotFound("No such renewal request.")
    try:
        new = service.decide_renewal(session, req, admin, decision == "approve", note)
    except CadreError as exc:
        return redirect("/admin/certificates", exc.message, "error")
    return redirect("/admin/certificates", f"Renewed as {new.number}." if new else "Renewal rejected.")
