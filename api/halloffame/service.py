"""The hall of fame: awards and their winners (and highly commended) by year. Winners come from
content (2020 and before, as the body has published them), from an admin (past winners entered by
hand) and from an announced cycle (api/awards/announce.py): a cycle's rows exist only once it is
announced, so nothing here can show an embargoed result. Flushes, never commits."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.core import pagecache
from api.core.db import utcnow
from api.core.errors import Conflict, Invalid, NotFound
from api.halloffame.models import Award, AwardWinner, WinnerSource

KIND_WORDS = {"winner": "Winner", "highly_commended": "Highly commended"}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "winner"


def winner_slug(year_: int, name: str) -> str:
    """The hall of fame address of a winner from content or an admin: /hall-of-fame/2020/2020-roland-d-naidoo."""
    return f"{year_}-{slugify(name)}"


def _live_awards(session: Session) -> list[Award]:
    return list(session.exec(select(Award).where(col(Award.retired_at).is_(None)).order_by(col(Award.title))).all())


def _winners_of(session: Session, award_ids: list[int], year: int | None = None) -> dict[int, list[AwardWinner]]:
    winners: dict[int, list[AwardWinner]] = defaultdict(list)
    if not award_ids:
        return winners
    q = select(AwardWinner).where(col(AwardWinner.award_id).in_(award_ids), col(AwardWinner.retired_at).is_(None))
    if year is not None:
        q = q.where(AwardWinner.year == year)
    # Newest year first; in a year the winners before the highly commended, then by name.
    for w in session.exec(q.order_by(col(AwardWinner.year).desc(), col(AwardWinner.kind).desc(),
                                     col(AwardWinner.name))):
        winners[w.award_id].append(w)
    return winners


def awards_with_winners(session: Session) -> list[tuple[Award, list[AwardWinner]]]:
    awards = _live_awards(session)
    winners = _winners_of(session, [a.id for a in awards])
    return [(a, winners[a.id]) for a in awards]


def get_award(session: Session, slug: str) -> tuple[Award, list[AwardWinner]]:
    for award, winners in awards_with_winners(session):
        if award.slug == slug:
            return award, winners
    raise NotFound("There is no award at this address.")


def year(session: Session, year_: int) -> list[tuple[Award, list[AwardWinner]]]:
    """Each award's winners of one year; 404 when no award has any that year (yet)."""
    awards = _live_awards(session)
    winners = _winners_of(session, [a.id for a in awards], year_)
    found = [(a, winners[a.id]) for a in awards if winners[a.id]]
    if not found:
        raise NotFound(f"The hall of fame has no winners for {year_}.", code="no_winners")
    return found


def years(session: Session) -> list[int]:
    return sorted({w.year for _, ws in awards_with_winners(session) for w in ws}, reverse=True)


def winner_by_slug(session: Session, year_: int, slug: str) -> tuple[Award, AwardWinner]:
    """One winner's page. A result still under embargo has no row yet: the same 404 as a wrong slug."""
    w = session.exec(select(AwardWinner).where(AwardWinner.slug == slug, AwardWinner.year == year_,
                                               col(AwardWinner.retired_at).is_(None))).first()
    award = session.get(Award, w.award_id) if w else None
    if w is None or award is None or award.retired_at is not None:
        raise NotFound("There is no hall of fame entry at this address.", code="no_winner")
    return award, w


def is_listed(w: AwardWinner) -> bool:
    return w.listing_withdrawn_at is None


def public_credentials(session: Session, winners: list[AwardWinner]) -> dict[int, list[tuple[Any, Any]]]:
    """Per winner id: the winner's certificates anyone may verify (not private, currently valid), award
    credentials first. Only for listed winners with an account; one query for the page's winners."""
    from api.certificates import service as certificates
    from api.certificates.achievements import achievement_of
    from api.certificates.models import Certificate

    by_user = {w.user_id: w.id for w in winners if w.user_id and is_listed(w)}
    out: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    if not by_user:
        return out
    certs = session.exec(select(Certificate).where(col(Certificate.user_id).in_(list(by_user)),
                                                   col(Certificate.is_private).is_(False))
                         .order_by(col(Certificate.kind).desc(), col(Certificate.issued_at))).all()
    for cert in certs:
        if certificates.effective_status(cert) == "valid":
            out[by_user[cert.user_id]].append((cert, achievement_of(session, cert)))
    return out


# --- administration ---------------------------------------------------------------------------

def _clean(value: str | None, what: str, limit: int = 200, required: bool = False) -> str | None:
    from api.core.schemas import text_problem

    value = " ".join((value or "").split())
    if not value:
        if required:
            raise Invalid(f"Enter the winner's {what}.", code="missing")
        return None
    if len(value) > limit:
        raise Invalid(f"The {what} is too long: keep it under {limit} characters.", code="too_long")
    problem = text_problem(value)
    if problem:
        raise Invalid(f"The {what} {problem}.", code="bad_text")
    return value


def add_past_winner(session: Session, award: Award, *, year_: int, name: str, role: str | None,
                    organisation: str | None, country: str | None, citation: str, kind: str = "winner",
                    now: datetime | None = None) -> AwardWinner:
    """A winner of a year before Cadre ran the cycle, entered by an admin from the body's records."""
    this_year = (now or utcnow()).year
    first = award.first_awarded or 1900
    if not first <= year_ <= this_year:
        raise Invalid(f"{award.title} was first awarded in {first}: give a year from {first} to {this_year}.",
                      code="bad_year")
    if kind not in KIND_WORDS:
        raise Invalid("Choose winner or highly commended.", code="bad_kind")
    citation = (citation or "").strip()
    if not citation:
        raise Invalid("Enter the citation: what the winner was recognised for.", code="missing")
    clean_name = _clean(name, "name", required=True)
    assert clean_name is not None
    w = AwardWinner(award_id=award.id, year=year_, name=clean_name, role=_clean(role, "role"),
                    organisation=_clean(organisation, "organisation"), country=_clean(country, "country", 100),
                    citation=citation, source=WinnerSource.admin.value, kind=kind,
                    slug=winner_slug(year_, clean_name))
    try:
        with session.begin_nested():
            session.add(w)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{clean_name} is already in the hall of fame for {year_}.", code="winner_exists") from None
    pagecache.invalidate(session)
    return w


def set_listing(session: Session, w: AwardWinner, listed: bool) -> AwardWinner:
    """An admin records that a past winner asked not to be listed (or agreed again). A cycle's winner
    changes this themselves through their consent (api/awards/nominations.set_public_consent)."""
    w.listing_withdrawn_at = None if listed else (w.listing_withdrawn_at or utcnow())
    session.add(w)
    session.flush()
    pagecache.invalidate(session)
    return w


def winner_by_id(session: Session, winner_id: int) -> AwardWinner:
    w = session.get(AwardWinner, winner_id)
    if w is None or w.retired_at is not None:
        raise NotFound("There is no such hall of fame entry.")
    return w


PHOTO_KINDS = ["jpg", "png", "webp"]
PHOTO_MAX = 5 * 1024 * 1024


def store_photo(session: Session, name: str, data: bytes) -> tuple[str, str]:
    """Keep a photo (JPEG, PNG or WebP by its content, at most 5 MB) in storage: (key, type)."""
    from api.core.db import without_transaction
    from api.core.filetypes import check_upload, resolve, sniff
    from api.core.storage import get_storage, new_key

    problem = check_upload(name, data, resolve(PHOTO_KINDS), PHOTO_MAX)
    if problem is not None:
        raise Invalid(problem.message.replace("files for this brief", "photos").replace("this brief", "a photo"),
                      code=problem.code)
    key = new_key("halloffame")
    kind = sniff(data) or "application/octet-stream"
    with without_transaction(session):
        get_storage().put(key, data, kind)
    return key, kind


def set_photo(session: Session, w: AwardWinner, name: str, data: bytes) -> AwardWinner:
    """A photo for the hall of fame (see store_photo); the old one is deleted."""
    from api.core.storage import get_storage

    key, kind = store_photo(session, name, data)
    old = w.photo_key
    w.photo_key, w.photo_type = key, kind
    session.add(w)
    session.flush()
    if old:
        get_storage().delete(old)
    pagecache.invalidate(session)
    return w
