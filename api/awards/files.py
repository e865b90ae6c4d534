"""An entry's supporting files: stored through core/storage (never under the name given), the type read
from the content (core/filetypes), a cap on size and count. Read back only by the nominee and the
cycle's administrators here; judging streams them through `stream` for the entries it assigns."""

from __future__ import annotations

from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.awards import nominations, service
from api.awards.models import Entry, EntryFile, EntryState, Nominee, NomineeStatus
from api.core.db import without_transaction
from api.core.errors import Conflict, Invalid, NotFound
from api.core.filetypes import check_upload, content_disposition, resolve, safe_display_name, sniff
from api.core.storage import get_storage, new_key

KINDS = ["pdf", "docx", "pptx", "xlsx", "odt", "png", "jpg"]
MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5


def files_of(session: Session, entry: Entry) -> list[EntryFile]:
    return list(session.exec(select(EntryFile).where(EntryFile.entry_id == entry.id)
                             .order_by(col(EntryFile.id))).all())


def upload(session: Session, nominee: Nominee, user: User, name: str, data: bytes) -> EntryFile:
    nominations.check_is_nominee(nominee, user)
    if nominee.status != NomineeStatus.accepted:
        raise Conflict("Files can be added while your entry is open: accept the nomination first, and add them "
                       "before you submit.", code="entry_closed")
    cycle = service.get_cycle(session, nominee.cycle_id)
    nominations.check_entry_open(session, cycle)
    entry = nominations.entry_of(session, nominee)
    if entry is None:
        entry = Entry(public_id=service.public_id(), cycle_id=cycle.id, nominee_id=nominee.id)
        session.add(entry)
        session.flush()
    if entry.state != EntryState.draft:
        raise Conflict("Your entry is submitted; files can no longer be added.", code="entry_submitted")
    count = session.exec(select(func.count()).select_from(EntryFile).where(EntryFile.entry_id == entry.id)).one()
    if count >= MAX_FILES:
        raise Conflict(f"An entry can have at most {MAX_FILES} files: remove one first.", code="too_many_files")
    problem = check_upload(name, data, resolve(KINDS), MAX_BYTES)
    if problem is not None:
        raise Invalid(problem.message.replace("this brief accepts", "an entry accepts")
                      .replace("files for this brief", "entry files"), code=problem.code)
    key = new_key("awards")
    with without_transaction(session):
        get_storage().put(key, data, sniff(data) or "application/octet-stream")
    row = EntryFile(public_id=service.public_id(), entry_id=entry.id, key=key,
                    name=safe_display_name(name, "evidence"), content_type=sniff(data) or "application/octet-stream",
                    size=len(data))
    session.add(row)
    session.flush()
    return row


def remove(session: Session, nominee: Nominee, user: User, file_id: str) -> None:
    nominations.check_is_nominee(nominee, user)
    entry = nominations.entry_of(session, nominee)
    row = file_of(session, entry, file_id) if entry else None
    if row is None or entry is None:
        raise NotFound("There is no such file in your entry.")
    if entry.state != EntryState.draft:
        raise Conflict("Your entry is submitted; its files can no longer change.", code="entry_submitted")
    session.delete(row)
    session.flush()
    get_storage().delete(row.key)


def file_of(session: Session, entry: Entry, file_id: str) -> EntryFile | None:
    return session.exec(select(EntryFile).where(EntryFile.entry_id == entry.id,
                                                EntryFile.public_id == file_id)).first()


def stream(row: EntryFile) -> StreamingResponse:
    return StreamingResponse(get_storage().open(row.key), media_type=row.content_type,
                             headers={"Content-Disposition": content_disposition(row.name),
                                      "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def set_photo(session: Session, nominee: Nominee, user: User, name: str, data: bytes) -> Nominee:
    """The nominee's own photo, for the hall of fame if they win and agreed to be listed."""
    from api.halloffame import service as halloffame

    nominations.check_is_nominee(nominee, user)
    key, kind = halloffame.store_photo(session, name, data)
    old = nominee.photo_key
    nominee.photo_key, nominee.photo_type = key, kind
    session.add(nominee)
    session.flush()
    if old:
        get_storage().delete(old)
    return nominee
