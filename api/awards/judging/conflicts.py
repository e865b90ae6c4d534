"""Conflicts of interest: declared by the judge (when accepting the cycle, or before opening an
entry) and detected by Cadre:

- same organisation: the judge's stated organisation and the nominee's, compared after normalising
  the text (case, accents, punctuation and legal suffixes such as Ltd or plc); and, where the
  organisations domain is installed, both being members of one organisation there;
- the judge nominated the nominee, or is one of the nominations' endorsers (by email);
- the judge coached or marked the nominee's assessed work (api/assessments/relations.py);
- the judge is a nominee in this cycle (then every entry of the cycle is conflicted for them).

A conflict takes the judge off the entry in every round: an active assignment becomes recused (no
score yet) or conflicted (scored: the score stops counting), and the entry is given to another free
judge to keep the quorum, under the round's lock so two recusals at once cannot both leave it short.
If the round has closed, the frozen result is amended (re-ranked without the score).
"""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.assessments import relations as assessment_relations
from api.awards import service as awards_service
from api.awards.judging import scoring, service
from api.awards.judging.models import (
    Assignment,
    AssignmentStatus,
    ConflictKind,
    CycleJudge,
    JudgeConflict,
    JudgingRound,
    RoundStatus,
)
from api.awards.models import AwardCycle, Entry, Nominee
from api.core.db import utcnow
from api.core.integrity import flush_unique

WORDS = {
    ConflictKind.declared: "declared by the judge",
    ConflictKind.same_organisation: "same organisation",
    ConflictKind.nominated: "the judge nominated them",
    ConflictKind.endorsed: "the judge endorsed the nomination",
    ConflictKind.coached: "the judge coached their assessed work",
    ConflictKind.marked: "the judge marked their assessed work",
    ConflictKind.nominee: "the judge is a nominee this cycle",
}

_SUFFIXES = {"ltd", "limited", "plc", "inc", "incorporated", "llc", "llp", "gmbh", "ag", "sa", "pty", "bv", "nv",
             "co", "corp", "corporation", "company", "group", "holdings", "the"}


def normalise_organisation(text: str | None) -> str:
    """'Multichoice (Pty) Ltd.' and 'MultiChoice' compare equal."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    words = [w for w in re.split(r"[^a-z0-9]+", ascii_text.replace("&", " and ")) if w]
    return " ".join(w for w in words if w not in _SUFFIXES)


def detect(session: Session, judge: CycleJudge, user: User, contact: awards_service.EntryContact
           ) -> list[tuple[ConflictKind, str]]:
    """What Cadre can see between this judge and this entry's nominee."""
    found: list[tuple[ConflictKind, str]] = []
    mine, theirs = normalise_organisation(judge.organisation), normalise_organisation(contact.organisation)
    if mine and mine == theirs:
        found.append((ConflictKind.same_organisation, f"Both at {contact.organisation}"))
    elif contact.user_id is not None and members_of_one_organisation(session, user.id, contact.user_id):
        found.append((ConflictKind.same_organisation, "Both are members of the same organisation in Cadre"))
    if user.id in contact.nominator_ids:
        found.append((ConflictKind.nominated, "The judge is one of the nominators"))
    if user.email.lower() in contact.endorser_emails:
        found.append((ConflictKind.endorsed, "The judge endorsed the nomination"))
    if contact.user_id is not None and contact.user_id != user.id:
        if assessment_relations.coached(session, user.id, contact.user_id):
            found.append((ConflictKind.coached, "The judge was allocated the nominee's assessed work"))
        if assessment_relations.marked(session, user.id, contact.user_id):
            found.append((ConflictKind.marked, "The judge marked the nominee's assessed work"))
    return found


def members_of_one_organisation(session: Session, judge_user_id: int, nominee_user_id: int) -> bool:
    """Organisation records, where the organisations domain is installed (api/organisations, merged from
    its own branch): both people are members of one organisation."""
    try:
        from api.organisations import service as organisations_service
    except ImportError:  # not on this branch yet: the typed names above are all there is
        return False
    return organisations_service.shares_organisation(session, judge_user_id, nominee_user_id)


def judge_is_nominee(session: Session, judge: CycleJudge, user: User) -> bool:
    return session.exec(select(Nominee.id).where(Nominee.cycle_id == judge.cycle_id).where(
        (col(Nominee.user_id) == user.id) | (col(Nominee.email_normalised) == user.email.lower()))
        .limit(1)).first() is not None


def conflicts_of(session: Session, judge: CycleJudge, entry_id: int) -> list[JudgeConflict]:
    return list(session.exec(select(JudgeConflict).where(JudgeConflict.judge_id == judge.id,
                                                         JudgeConflict.entry_id == entry_id)).all())


def _entries(session: Session, cycle: AwardCycle):
    after = None
    while True:
        page = awards_service.entries_for_judging(session, cycle, after_id=after, limit=100)
        yield from page
        if len(page) < 100:
            return
        after = page[-1].id


def check(session: Session, judge: CycleJudge, entry: Entry, by: User | None = None) -> list[JudgeConflict]:
    """Detect and record this judge's conflicts with one entry (before they open it), and apply new ones."""
    user = session.get(User, judge.user_id)
    found = detect(session, judge, user, awards_service.entry_contact(session, entry))
    if judge_is_nominee(session, judge, user):
        found.append((ConflictKind.nominee, "The judge is a nominee in this cycle"))
    return [row for kind, detail in found if (row := record(session, judge, entry.id, kind, detail, by)) is not None]


def check_cycle(session: Session, cycle: AwardCycle, by: User | None = None,
                judges: list[CycleJudge] | None = None) -> list[JudgeConflict]:
    """Every accepted judge against every judged entry: the conflicts not known before (applied)."""
    judges = judges if judges is not None else service.accepted_judges(session, cycle.id)
    new: list[JudgeConflict] = []
    for entry in _entries(session, cycle):
        for judge in judges:
            new += check(session, judge, entry, by)
    return new


def declare(session: Session, judge: CycleJudge, entry: Entry, reason: str, by: User | None = None
            ) -> JudgeConflict | None:
    detail = reason.strip()[:1000] or "Declared by the judge"
    return record(session, judge, entry.id, ConflictKind.declared, detail, by)


def record(session: Session, judge: CycleJudge, entry_id: int, kind: ConflictKind, detail: str,
           by: User | None) -> JudgeConflict | None:
    """Store one conflict (None if it was known already) and take the judge off the entry."""
    if session.exec(select(JudgeConflict.id).where(JudgeConflict.judge_id == judge.id,
                                                   JudgeConflict.entry_id == entry_id,
                                                   JudgeConflict.kind == kind.value)).first():
        return None
    scored = session.exec(select(Assignment.id).where(Assignment.judge_id == judge.id,
                                                      Assignment.entry_id == entry_id)).all()
    after_scoring = any(scoring.score_of(session, session.get(Assignment, a)) for a in scored)
    row = JudgeConflict(cycle_id=judge.cycle_id, judge_id=judge.id, entry_id=entry_id, kind=kind.value,
                        detail=detail, after_scoring=after_scoring)
    if not flush_unique(session, row):
        return None
    apply(session, judge, entry_id, WORDS[kind], by)
    return row


def apply(session: Session, judge: CycleJudge, entry_id: int, why: str, by: User | None) -> None:
    """Take the judge off the entry in every round they have it in."""
    rows = session.exec(select(Assignment).where(Assignment.judge_id == judge.id, Assignment.entry_id == entry_id,
                                                 Assignment.status == AssignmentStatus.active.value)).all()
    for a in rows:
        rnd = service.lock_round(session, session.get(JudgingRound, a.round_id))
        session.refresh(a)
        if a.status != AssignmentStatus.active:
            continue  # a concurrent request already took it off
        scored = scoring.score_of(session, a) is not None
        a.status = (AssignmentStatus.conflicted if scored else AssignmentStatus.recused).value
        a.ended_at = utcnow()
        session.add(a)
        session.flush()
        if rnd.status == RoundStatus.closed:
            if scored:
                name = session.get(User, judge.user_id).full_name
                scoring.amend(session, rnd, f"A conflict found after the round closed ({why}): {name}'s score "
                                            "for this entry no longer counts; the round is re-ranked.", by)
        else:
            replacements = service.fill(session, rnd, entry_id)
            for new in replacements:
                new.replaces_id = a.id
                session.add(new)
            session.flush()


def recuse(session: Session, judge: CycleJudge, entry: Entry, reason: str) -> JudgeConflict | None:
    """The judge steps aside from an entry (a declared conflict), before or after opening it."""
    return declare(session, judge, entry, reason, session.get(User, judge.user_id))


def cycle_conflicts(session: Session, cycle: AwardCycle, *, after_id: int | None = None, limit: int = 50
                    ) -> list[JudgeConflict]:
    q = select(JudgeConflict).where(JudgeConflict.cycle_id == cycle.id).order_by(col(JudgeConflict.id)).limit(limit)
    if after_id is not None:
        q = q.where(col(JudgeConflict.id) > after_id)
    return list(session.exec(q).all())
