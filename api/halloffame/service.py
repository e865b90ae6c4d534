"""The hall of fame: awards and their winners by year."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from api.core.errors import NotFound
from api.halloffame.models import Award, AwardWinner


def awards_with_winners(session: Session) -> list[tuple[Award, list[AwardWinner]]]:
    awards = session.exec(select(Award).where(col(Award.retired_at).is_(None)).order_by(col(Award.title))).all()
    winners: dict[int, list[AwardWinner]] = defaultdict(list)
    if awards:
        for w in session.exec(select(AwardWinner).where(col(AwardWinner.award_id).in_([a.id for a in awards]),
                                                        col(AwardWinner.retired_at).is_(None))
                              .order_by(col(AwardWinner.year).desc(), col(AwardWinner.name))):
            winners[w.award_id].append(w)
    return [(a, winners[a.id]) for a in awards]


def get_award(session: Session, slug: str) -> tuple[Award, list[AwardWinner]]:
    for award, winners in awards_with_winners(session):
        if award.slug == slug:
            return award, winners
    raise NotFound("There is no award at this address.")
