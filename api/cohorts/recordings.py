"""Recordings as uploaded files (a URL needs none of this): checked by their content, stored through
api/core/storage.py before anything is recorded (no store call while the database is locked), and
streamed back only to the cohort's people, from the recording route that checks who is asking."""

from __future__ import annotations

from fastapi.responses import StreamingResponse
from sqlmodel import Session

from api.cohorts.models import CohortSession
from api.core.config import get_settings
from api.core.db import utcnow, without_transaction
from api.core.errors import Conflict, Invalid
from api.core.filetypes import check_upload, content_disposition, safe_display_name, sniff
from api.core.storage import get_storage, new_key

KINDS = ["video/mp4", "video/webm"]


def upload(session: Session, row: CohortSession, name: str, data: bytes) -> None:
    if row.starts_at > utcnow():
        raise Conflict("A recording can be added once the session has started.", code="not_yet")
    problem = check_upload(name, data, KINDS, get_settings().max_upload_body_bytes)
    if problem is not None:
        raise Invalid(problem.message, code=problem.code)
    key = new_key("recordings")
    with without_transaction(session):
        get_storage().put(key, data, sniff(data) or "application/octet-stream")
    old = row.recording_key
    row.recording_key, row.recording_name = key, safe_display_name(name, "recording")
    row.recording_type = sniff(data)
    session.add(row)
    session.flush()
    if old:
        get_storage().delete(old)


def stream(row: CohortSession) -> StreamingResponse:
    return StreamingResponse(get_storage().open(row.recording_key), media_type=row.recording_type or "video/mp4",
                             headers={"Content-Disposition": content_disposition(row.recording_name or "recording",
                                                                                 inline=True),
                                      "Cache-Control": "private, no-store"})
