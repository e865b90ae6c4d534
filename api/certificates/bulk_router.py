"""POST /api/v1/verifications/bulk: bulk verification for integrations, with a JSON list or a CSV body,
authenticated by a session or by an organisation's API key with the `verify` scope."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.certificates import bulk
from api.certificates.bulk_pages import csv_response
from api.core.db import SessionDep
from api.core.errors import Invalid

router = APIRouter(tags=["certificates"])


def _rows(content_type: str, body: bytes) -> tuple[list[tuple[int, str, str]], str | None]:
    if content_type.startswith(("text/csv", "text/plain")):
        rows, encoding = bulk.parse_csv(body)
        return rows, encoding
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid('The body is not JSON. Send a JSON list of {"number": ..., "surname": ...} objects, or a '
                      "CSV with Content-Type: text/csv.", code="bad_body") from None
    return bulk.rows_from_json(payload), None


@router.post("/api/v1/verifications/bulk",
             summary="Check up to CADRE_BULK_MAX_ROWS certificates by number and surname (JSON list or CSV body)")
async def verify_bulk(request: Request, session: SessionDep):
    """Authenticated by `Authorization: Bearer <API key>` (scope `verify`) or a logged-in session. Each
    result has the status /verify gives: valid, expired, suspended, revoked, superseded or not found
    (not checked: the row has no number or surname). `Accept: text/csv` answers with a CSV."""
    body = await request.body()
    return await run_in_threadpool(_verify_bulk, request, session, body)


def _verify_bulk(request: Request, session, body: bytes):
    from api.organisations.apikeys import api_caller

    caller = api_caller(request, session, "verify")
    rows, encoding = _rows(request.headers.get("content-type", "").lower(), body)
    bulk.limit(caller.bucket, len(rows))
    result = bulk.BulkResult("csv", bulk.check_rows(session, rows), encoding=encoding)
    if "text/csv" in request.headers.get("accept", ""):
        return csv_response(result)
    return JSONResponse(result.as_json(), headers={"Cache-Control": "no-store"})
