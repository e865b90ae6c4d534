"""The public record of an assessment outcome, and the certificate's Open Badges evidence.

A record shows the outcome, the brief's title, the programme, the rubric version and its content
hash, and the release date: never the learner's files or text, nor the marks or comments. It is
found by a random id (`record_id`), linked from the credential's `evidence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.assessments.models import Outcome, RubricVersion, State, Submission
from api.catalog.models import AssessmentBrief, Programme
from api.core.config import get_settings
from api.core.errors import NotFound


@dataclass(frozen=True)
class Record:
    record_id: str
    url: str
    outcome: str
    brief_title: str
    programme_code: str
    programme_title: str
    rubric_version: int
    rubric_hash: str
    released_at: datetime
    criteria: list[str]

    def as_json(self) -> dict:
        return {"id": self.url, "type": "AssessmentRecord", "outcome": self.outcome, "assessment": self.brief_title,
                "programme": {"code": self.programme_code, "title": self.programme_title},
                "rubric": {"version": self.rubric_version, "sha256": self.rubric_hash, "criteria": self.criteria},
                "releasedAt": self.released_at.isoformat().replace("+00:00", "Z")}


def record_url(record_id: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/assessment-records/{record_id}"


def _record(session: Session, sub: Submission) -> Record:
    brief = session.get(AssessmentBrief, sub.brief_id)
    programme = session.get(Programme, sub.programme_id)
    version = session.get(RubricVersion, sub.rubric_version_id)
    return Record(sub.record_id, record_url(sub.record_id), sub.outcome, brief.title, programme.code, programme.title,
                  version.number, version.content_hash, sub.released_at,
                  [c["title"] for c in version.rubric.get("criteria", [])])


def public_record(session: Session, record_id: str) -> Record:
    sub = session.exec(select(Submission).where(Submission.record_id == record_id)).first()
    if sub is None or sub.released_at is None or sub.state not in (State.released.value, State.under_appeal.value):
        raise NotFound("No assessment record has this address.")
    return _record(session, sub)


def passes_for(session: Session, user_id: int, programme_id: int) -> list[Record]:
    """The released passes on the programme's current briefs (what a certificate cites)."""
    brief_ids = [b.id for b in session.exec(select(AssessmentBrief).where(
        AssessmentBrief.programme_id == programme_id, col(AssessmentBrief.retired_at).is_(None))
        .order_by(AssessmentBrief.position)).all()]
    if not brief_ids:
        return []
    subs = session.exec(select(Submission).where(Submission.user_id == user_id, col(Submission.brief_id).in_(brief_ids),
                                                 Submission.outcome == Outcome.passed.value,
                                                 col(Submission.state).in_((State.released.value,
                                                                            State.under_appeal.value)))
                        .order_by(Submission.brief_id, Submission.released_at)).all()
    latest: dict[int, Submission] = {}
    for s in subs:
        latest[s.brief_id] = s
    return [_record(session, latest[bid]) for bid in brief_ids if bid in latest]


def criteria_narrative(session: Session, programme: Programme) -> str | None:
    """The achievement's criteria in words, from the current rubrics: what a holder was judged on."""
    briefs = session.exec(select(AssessmentBrief).where(AssessmentBrief.programme_id == programme.id,
                                                        col(AssessmentBrief.retired_at).is_(None))
                          .order_by(AssessmentBrief.position)).all()
    if not briefs:
        return None
    parts = []
    for b in briefs:
        crit = b.criteria or []
        must = [c["title"] for c in crit if c.get("must_pass")]
        line = (f"Passed the practical assessment \"{b.title}\" on their own organisation's work, marked by a coach "
                f"against a published rubric (pass mark {int((b.pass_rule or {}).get('pass_mark', b.pass_mark))}% "
                f"of the weighted score) with these criteria: " + "; ".join(c["title"] for c in crit) + ".")
        if must:
            line += " Each of these had to be met: " + "; ".join(must) + "."
        parts.append(line)
    return " ".join(parts)
