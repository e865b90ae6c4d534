"""Public JSON for employers and verifiers: credentials, verification, the status lists, and the
issuer's DID document. Lookups are rate-limited; unknown and private give the same 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.certificates import answers, bulk, service, signing, stored, verified_pages
from api.certificates.achievements import achievement_of
from api.certificates.schemas import CheckPublic, VerificationPublic
from api.core import ratelimit
from api.core.config import get_settings
from api.core.db import SessionDep, utcnow
from api.core.errors import CadreError, NotFound, respond

router = APIRouter(tags=["certificates"])
NO_STORE = {"Cache-Control": "no-store"}
MAX_UPLOAD = 256 * 1024


class TooLarge(CadreError):
    status_code = 413
    code = "too_large"


def limit_lookups(request: Request, session=None) -> None:
    """Certificate look-ups per address, counted in memory, or in Redis shared by every process
    (api/core/counters.py), not with a database write per look-up. Counted once per request: the kept
    answers' layer (verified_pages.py) may have counted it already."""
    state = request.scope.get("state", {})
    if state.get("cadre_lookup_counted"):
        return
    ratelimit.lookup(verified_pages.lookup_bucket(request.scope), get_settings().lookups_per_minute, 60,
                     "certificate look-ups")


def public_certificate(session, slug: str):
    cert = service.by_slug(session, slug)
    if cert.is_private:
        raise NotFound("No certificate matches. Check the address or the number and surname.", code="no_certificate")
    return cert


def verification_of(session, cert, now=None) -> VerificationPublic:
    now = now or utcnow()
    result = stored.check(session, cert, now)  # the signature was verified when issued; status and dates now
    status = service.effective_status(cert, now)
    checks = [CheckPublic(name=c.name, status=c.status, reason=c.reason) for c in result.checks]
    checks.append(CheckPublic(name="standing", status="pass" if status == "valid" else "fail",
                              reason=service.STANDING[status] + (f" Reason: {cert.status_reason}"
                                                                 if cert.status_reason else "")))
    return VerificationPublic(
        verified=result.verified and status == "valid", status=status, status_reason=cert.status_reason,
        checked_at=now, checks=checks,
        holder=cert.holder_name, achievement=cert.credential.get("name"), issued_at=cert.issued_at,
        expires_at=cert.expires_at,
    )


@router.get("/api/v1/credentials/{slug}", summary="The signed Open Badges 3.0 credential")
def get_credential(slug: str, request: Request, session: SessionDep):
    limit_lookups(request, session)
    try:
        cert = public_certificate(session, slug)
    except NotFound as exc:
        return respond(request, exc)  # returned, not raised: the look-up must still count
    return JSONResponse(cert.credential, headers=NO_STORE, media_type="application/ld+json")


@router.get("/api/v1/credentials/{slug}/verification", response_model=VerificationPublic,
            summary="Each check on a certificate and its result, with its current status")
def get_verification(slug: str, request: Request, session: SessionDep):
    limit_lookups(request, session)
    try:
        cert = public_certificate(session, slug)
    except NotFound as exc:
        return respond(request, exc)
    result = verification_of(session, cert)
    response = Response(verification_body(result), headers=NO_STORE, media_type="application/json")
    if verified_pages.anonymous(request.scope):
        programme = achievement_of(session, cert)
        verified_pages.keep(session, answers.JSON, cert, programme, response.body, result.checked_at, answers.ISO)
    return response


def verification_body(result: VerificationPublic) -> bytes:
    return JSONResponse(result.model_dump(mode="json")).body


@router.post("/api/v1/verify", response_model=VerificationPublic,
             summary="Verify a credential someone gave you (the JSON document as the request body)")
async def verify_upload(request: Request, session: SessionDep):
    body = b""
    async for chunk in request.stream():  # stop reading as soon as it is too big
        body += chunk
        if len(body) > MAX_UPLOAD:
            raise TooLarge(f"A credential is at most {MAX_UPLOAD // 1024} KB; this upload is larger.")
    # The database and the cryptography block: run them off the event loop.
    return await run_in_threadpool(_verify_upload, request, session, body)


def _verify_upload(request: Request, session, body: bytes) -> JSONResponse:
    limit_lookups(request, session)
    presented = bulk.verify_presented(session, body)
    result = presented.result
    out = VerificationPublic(verified=result.verified, checked_at=utcnow(),
                             checks=[CheckPublic(name=c.name, status=c.status, reason=c.reason) for c in result.checks])
    if presented.cert is not None:
        cert = presented.cert
        out.status, out.status_reason = service.effective_status(cert), cert.status_reason
        out.verified = out.verified and out.status == "valid"
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.get("/status/{list_id}", summary="A Bitstring Status List credential (revocation or suspension)")
def status_list(list_id: int, session: SessionDep):
    return JSONResponse(signing.status_list_credential(session, list_id), headers=NO_STORE,
                        media_type="application/ld+json")


@router.get("/.well-known/did.json", summary="The issuer's DID document (did:web), current and retired keys")
async def did_json():
    # Built once per change of the key index (a stat per request tells), served without the threadpool.
    return Response(signing.did_document_body(), media_type="application/did+json")


@router.get("/.well-known/jwks.json", summary="The issuer's public keys as a JWKS")
def jwks_json():
    return JSONResponse(signing.jwks())
