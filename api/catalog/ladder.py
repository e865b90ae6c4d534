"""A programme's place on its ladder, worked out in ONE place and shown the same everywhere (home,
catalogue, programme pages, dashboard).

The content states each programme's family and level and what it requires; the content check
(content_files._cross_check) makes them agree: level 1 requires nothing, level n requires a programme
of level n-1 in its family. What comes after a programme ("Leads to", the dashboard's next step):
- the programmes that require it;
- for a first step that nothing requires (ACX Specialist), the first steps beside it that do lead on
  (ACXP, the first step towards ACX Master): taking it is the way up from there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.catalog.models import Programme, ProgrammePrerequisite


@dataclass
class Ladders:
    programmes: dict[int, Programme]
    requires: dict[int, list[int]]
    required_by: dict[int, list[int]]

    def _sorted(self, ids) -> list[Programme]:
        return sorted((self.programmes[i] for i in set(ids) if i in self.programmes),
                      key=lambda p: (p.family, p.level, p.code))

    def leads_to(self, programme_id: int) -> list[Programme]:
        p = self.programmes.get(programme_id)
        if p is None:
            return []
        direct = self.required_by.get(programme_id, [])
        if direct:
            return self._sorted(direct)
        if p.level == 1:
            return self._sorted(q.id for q in self.programmes.values() if q.id != p.id and q.family == p.family
                                and q.level == 1 and self.required_by.get(q.id))
        return []

    def levels_in(self, family: str) -> int:
        return max((p.level for p in self.programmes.values() if p.family == family), default=1)

    def place(self, programme: Programme) -> str:
        """ "Level 1 of 4 on the ACX ladder: a first step" — the same words wherever it is shown."""
        first = ": a first step" if programme.level == 1 else ""
        return f"Level {programme.level} of {self.levels_in(programme.family)} on the {programme.family} ladder{first}"


def load(session: Session) -> Ladders:
    """Two queries: the live programmes and the prerequisite links."""
    programmes = {p.id: p for p in session.exec(select(Programme).where(col(Programme.retired_at).is_(None)))}
    requires: dict[int, list[int]] = defaultdict(list)
    required_by: dict[int, list[int]] = defaultdict(list)
    for pid, rid in session.exec(select(ProgrammePrerequisite.programme_id, ProgrammePrerequisite.requires_id)):
        if pid in programmes and rid in programmes:
            requires[pid].append(rid)
            required_by[rid].append(pid)
    return Ladders(programmes, dict(requires), dict(required_by))
