"""A submission's files: checked by content (api/core/filetypes.py), kept under random keys in
api/core/storage.py, read through short-lived links Cadre signs itself (api/core/signed.py), and
every opening recorded (who, as what, when).

Storage calls may wait on the network, so an upload is checked and stored before the request
writes anything (`store`), and recorded afterwards (`attach`); a store whose record then fails is
deleted again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from api.accounts.models import User
from api.assessments import audit, states
from api.assessments.access import Relation
from api.assessments.models import FileView, State, Submission, SubmissionFile
from api.catalog.models import AssessmentBrief
from api.core.db import without_transaction
from api.core.errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)
LINK_TTL = timedelta(minutes=5)
PURPOSE = "assessment-file"


@dataclass(frozen=True)
class Stored:
    key: str
    display_name: str
    content_type: str
    size: int
    sha256: str


def limits(brief: AssessmentBrief) -> tuple[int, int, list[str]]:
    f = (brief.settings or {}).get("files") or {}
    return int(f.get("max_files", 3)), int(f.get("max_mb", 10)) * 1024 * 1024, list(f.get("types",
                                                                                          ["application/pdf"]))


def store(session: Session, brief: AssessmentBrief, name: str, data: bytes) -> Stored:
    """Check the upload against the brief (empty, oversize, type by content, fake PDF) and store it.
    Raises Invalid (422) with the reason; nothing is stored then."""
    from api.core import filetypes, storage

    max_files, max_bytes, types = limits(brief)
    if max_files == 0:
        raise Invalid("This brief takes a written answer only; it has no file uploads.", code="files_not_allowed")
    problem = filetypes.check_upload(name, data, types, max_bytes)
    if problem is not None:
        raise Invalid(problem.message, code=problem.code)
    kind = filetypes.sniff(data)
    key = storage.new_key("submissions")
    with without_transaction(session):
        storage.get_storage().put(key, data, kind)
    return Stored(key, filetypes.safe_display_name(name), kind, len(data), hashlib.sha256(data).hexdigest())


def attach(session: Session, sub: Submission, user: User, stored: Stored) -> SubmissionFile:
    from api.assessments.submissions import new_public_id

    try:
        if sub.state != State.draft.value:
            raise Conflict(f"This attempt is {states.LEARNER_WORDS[sub.state]}: files can no longer be added.",
                           code="not_a_draft")
        brief = session.get(AssessmentBrief, sub.brief_id)
        max_files, _, _ = limits(brief)
        count = len(session.exec(select(SubmissionFile.id).where(SubmissionFile.submission_id == sub.id)).all())
        if count >= max_files:
            raise Conflict(f"This brief takes at most {max_files} file{'s' if max_files != 1 else ''}; remove one "
                           "before adding another.", code="too_many_files")
        row = SubmissionFile(public_id=new_public_id(), submission_id=sub.id, storage_key=stored.key,
                             display_name=stored.display_name, content_type=stored.content_type,
                             size_bytes=stored.size, sha256=stored.sha256)
        session.add(row)
        session.flush()
        audit.record(session, sub, user, "file_added", sub.state, sub.state, data={"file": row.public_id,
                                                                                 "name": row.display_name})
        return row
    except BaseException:
        discard(stored.key)
        raise


def discard(key: str) -> None:
    from api.core import storage

    try:
        storage.get_storage().delete(key)
    except Exception:  # noqa: BLE001 - best effort: an orphaned blob holds no record and no link
        log.warning("assessment file not deleted from storage", extra={"storage_key": key}, exc_info=True)


def add(session: Session, sub: Submission, user: User, name: str, data: bytes) -> SubmissionFile:
    return attach(session, sub, user, store(session, session.get(AssessmentBrief, sub.brief_id), name, data))


def _own_file(session: Session, user: User, public_id: str) -> tuple[SubmissionFile, Submission]:
    row = session.exec(select(SubmissionFile).where(SubmissionFile.public_id == public_id)).first()
    sub = session.get(Submission, row.submission_id) if row else None
    if row is None or sub is None or sub.user_id != user.id:
        raise NotFound("There is no such file in your submission.")
    return row, sub


def remove(session: Session, user: User, public_id: str) -> str:
    """Remove a file from the learner's own draft (the blob is deleted after the record)."""
    row, sub = _own_file(session, user, public_id)
    if sub.state != State.draft.value:
        raise Conflict("Files of a submitted attempt stay as they were submitted.", code="not_a_draft")
    name, key = row.display_name, row.storage_key
    session.delete(row)
    session.flush()
    audit.record(session, sub, user, "file_removed", sub.state, sub.state, data={"file": public_id, "name": name})
    # The bytes go after the commit, through the outbox: no storage call while this transaction writes.
    from api.outbox import service as outbox

    outbox.publish(session, "assessment.file_removed", key, {"storage_key": key})
    return name


def on_file_removed(session: Session, payload: dict) -> None:
    """Consumer of `assessment.file_removed`: delete the bytes (idempotent), unless a row uses them."""
    key = payload["storage_key"]
    if session.exec(select(SubmissionFile.id).where(SubmissionFile.storage_key == key)).first() is None:
        discard(key)


def file_for(session: Session, public_id: str) -> tuple[SubmissionFile, Submission] | None:
    row = session.exec(select(SubmissionFile).where(SubmissionFile.public_id == public_id)).first()
    if row is None:
        return None
    return row, session.get(Submission, row.submission_id)


def open_link(session: Session, row: SubmissionFile, sub: Submission, viewer: User, rel: Relation) -> str:
    """Record the view and return the short-lived signed path to the bytes."""
    from api.core import signed

    session.add(FileView(file_id=row.id, viewer_id=viewer.id, as_role=rel.value))
    session.flush()
    if rel is not Relation.learner:
        audit.record(session, sub, viewer, "file_viewed", sub.state, sub.state,
                     data={"file": row.public_id, "as": rel.value})
    token = signed.sign(PURPOSE, f"{row.public_id}:{viewer.id}", LINK_TTL)
    return f"/assessments/file-links/{token}"


def by_token(session: Session, token: str, viewer: User) -> SubmissionFile:
    """The file a signed link names, for the person it was made for; 404 when expired or altered."""
    from api.core import signed

    subject = signed.verify(PURPOSE, token)
    if not subject or ":" not in subject:
        raise NotFound("This file link has expired or is not valid. Go back to the page and open the file again.",
                       code="link_expired")
    public_id, _, viewer_id = subject.rpartition(":")
    row = session.exec(select(SubmissionFile).where(SubmissionFile.public_id == public_id)).first()
    if row is None or viewer_id != str(viewer.id):
        raise NotFound("This file link has expired or is not valid.", code="link_expired")
    return row


def stream(row: SubmissionFile) -> Iterator[bytes]:
    from api.core import storage

    return storage.get_storage().open(row.storage_key)


def disposition(row: SubmissionFile) -> str:
    from api.core import filetypes

    return filetypes.content_disposition(row.display_name)


def views_of(session: Session, file_ids: list[int]) -> list[FileView]:
    if not file_ids:
        return []
    from sqlmodel import col

    return list(session.exec(select(FileView).where(col(FileView.file_id).in_(file_ids))
                             .order_by(FileView.viewed_at)).all())
