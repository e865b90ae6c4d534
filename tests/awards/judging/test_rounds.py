"""Rounds end to end through the services: the sift needs two votes per entry, scoring is refused
when unassigned, conflicted or after the freeze, closing freezes raw and normalised rankings and
moves the cycle on, criteria are fixed once scored."""

from __future__ import annotations

import pytest

from api.awards.judging import scoring, service
from api.awards.judging.models import Assignment, AssignmentStatus, RoundKind
from api.awards.models import CycleState
from api.core.errors import Conflict, Invalid, NotFound


def _assignments(db, rnd, entry=None, active=True):
    from sqlmodel import select

    q = select(Assignment).where(Assignment.round_id == rnd.id)
    if entry is not None:
        q = q.where(Assignment.entry_id == entry.id)
    if active:
        q = q.where(Assignment.status == AssignmentStatus.active.value)
    return list(db.exec(q.order_by(Assignment.id)).all())


def _sift(db, p):
    return service.round_of(db, p.cycle, RoundKind.sift)


def test_opening_the_sift_moves_the_cycle_and_gives_each_entry_two_judges(db, panel, mailbox):
    p = panel()
    rnd = service.open_round(db, _sift(db, p), p.admin)
    db.commit()
    assert p.cycle.state == CycleState.sifting
    for u in p.users:
        [mail] = [m for m in mailbox.to(u.email) if "Sift is open: 2 to judge" in " ".join(str(m["Subject"]).split())]
        assert "This round is blind" in mailbox.body(mail) and "/judging" in mailbox.body(mail)
    for e in p.entries:
        assert len(_assignments(db, rnd, e)) == 2
    # equal share: 3 entries x 2 judges over 3 judges = 2 each
    loads = [sum(a.judge_id == j.id for a in _assignments(db, rnd)) for j in p.judges]
    assert loads == [2, 2, 2]


def test_the_sift_quorum_is_at_least_two(db, panel):
    p = panel()
    with pytest.raises(Invalid):
        service.set_options(db, _sift(db, p), quorum=1, blind=True, normalise=False, advance=None)


def _vote_all(db, rnd, vote_for):
    for a in _assignments(db, rnd):
        scoring.submit(db, a, {"pass": vote_for(a)})


def test_closing_the_sift_freezes_who_goes_through_and_refuses_later_scores(db, panel):
    p = panel()
    rnd = service.open_round(db, _sift(db, p), p.admin)
    fail_entry = p.entries[2].id
    _vote_all(db, rnd, lambda a: "fail" if a.entry_id == fail_entry else "pass")
    service.close_round(db, rnd, p.admin)
    assert p.cycle.state == CycleState.shortlisting
    snap = scoring.current_snapshot(db, rnd)
    assert set(snap["through"]) == {p.entries[0].id, p.entries[1].id}
    a = _assignments(db, rnd)[0]
    with pytest.raises(Conflict) as exc:
        scoring.submit(db, a, {"pass": "fail"})
    assert exc.value.code == "round_not_open"
    # the shortlist judges only what the sift sent through
    short = service.open_round(db, service.round_of(db, p.cycle, RoundKind.shortlist), p.admin)
    assert {a.entry_id for a in _assignments(db, short)} == {p.entries[0].id, p.entries[1].id}


def test_closing_short_of_the_quorum_is_refused_and_changes_nothing(db, panel):
    p = panel()
    rnd = service.open_round(db, _sift(db, p), p.admin)
    scoring.submit(db, _assignments(db, rnd)[0], {"pass": "pass"})
    with pytest.raises(Conflict) as exc:
        service.close_round(db, rnd, p.admin)
    assert exc.value.code == "quorum_gap"


def test_a_second_close_is_refused(db, panel):
    p = panel()
    rnd = service.open_round(db, _sift(db, p), p.admin)
    _vote_all(db, rnd, lambda a: "pass")
    service.close_round(db, rnd, p.admin)
    with pytest.raises(Conflict) as exc:
        service.close_round(db, rnd, p.admin)
    assert exc.value.code == "round_closed"  # the same answer as losing the race (test_races_postgres.py)


def _through_sift(db, p):
    rnd = service.open_round(db, _sift(db, p), p.admin)
    _vote_all(db, rnd, lambda a: "pass")
    service.close_round(db, rnd, p.admin)
    return service.round_of(db, p.cycle, RoundKind.shortlist)


def test_scores_are_checked_and_weighted(db, panel):
    p = panel()
    short = service.open_round(db, _through_sift(db, p), p.admin)
    a = _assignments(db, short)[0]
    with pytest.raises(Invalid):
        scoring.submit(db, a, {"personal": "11", "professional": "5", "business": "5"})
    with pytest.raises(Invalid):
        scoring.submit(db, a, {"personal": "5", "professional": "5"})
    s = scoring.submit(db, a, {"personal": "4", "professional": "6", "business": "8"})
    assert s.total == pytest.approx((4 + 6 + 2 * 8) / 4)
    # criteria are fixed once a score exists
    with pytest.raises(Conflict) as exc:
        service.set_criteria(db, short, service.parse_criteria("Impact | 2 | 10"), p.admin)
    assert exc.value.code == "criteria_in_use"


def test_criteria_are_versioned_before_scoring(db, panel):
    p = panel()
    short = _through_sift(db, p)
    before = short.criteria_version
    service.set_criteria(db, short, service.parse_criteria("Impact | 3 | 5\nEvidence | 1"), p.admin)
    assert short.criteria_version == before + 1
    assert [c["key"] for c in service.criteria_of(db, short).criteria] == ["impact", "evidence"]
    assert service.criteria_of(db, short, before).criteria[0]["key"] == "personal"  # the old version stays


def test_a_judge_with_equal_scores_is_centred_and_the_result_says_so(db, panel):
    p = panel()
    short = _through_sift(db, p)
    service.set_options(db, short, quorum=3, blind=False, normalise=True, advance=2)
    service.open_round(db, short, p.admin)
    flat = p.judges[2].id
    values = {p.judges[0].id: [9, 6, 3], p.judges[1].id: [8, 7, 2]}
    for a in _assignments(db, short):
        v = 5 if a.judge_id == flat else values[a.judge_id][[e.id for e in p.entries].index(a.entry_id)]
        scoring.submit(db, a, {"personal": str(v), "professional": str(v), "business": str(v)})
    service.close_round(db, short, p.admin)
    snap = scoring.current_snapshot(db, short)
    norm = snap["normalisation"]
    assert norm["used"] and norm["centred"] == [flat]
    assert "same total (5)" in norm["notes"][str(flat)]
    assert snap["order"] == "normalised"
    assert [e["entry"] for e in snap["entries"]] == [e.id for e in p.entries]
    assert snap["through"] == [p.entries[0].id, p.entries[1].id]  # advance = 2
    judges = {j["judge"]: j for j in snap["fairness"]["judges"]}
    assert judges[flat]["sd"] == 0 and judges[flat]["zero_spread"]
    assert p.cycle.state == CycleState.interviewing


def test_unassigned_judge_has_no_assignment_to_score(db, panel, make_user):
    from api.awards.judging import deps

    p = panel(judges=3)
    rnd = service.open_round(db, _sift(db, p), p.admin)
    a = _assignments(db, rnd, p.entries[0])[0]
    other = next(j for j in p.judges if j.id not in {x.judge_id for x in _assignments(db, rnd, p.entries[0])})
    other_user = next(u for u, j in zip(p.users, p.judges, strict=True) if j.id == other.id)
    entry = p.entries[0]
    with pytest.raises(NotFound):
        deps.load_entry_access(db, other_user, rnd.public_id, entry.public_id)
    stranger = make_user()
    with pytest.raises(NotFound):
        deps.load_entry_access(db, stranger, rnd.public_id, entry.public_id)
    mine = next(u for u, j in zip(p.users, p.judges, strict=True) if j.id == a.judge_id)
    assert deps.load_entry_access(db, mine, rnd.public_id, entry.public_id).assignment.id == a.id


def test_the_round_table_pages_by_entry(db, panel):
    from api.awards.judging import report

    p = panel()
    rnd = service.open_round(db, _sift(db, p), p.admin)
    first, after = report.round_table(db, rnd, limit=2)
    assert [r["entry"].id for r in first] == [p.entries[0].id, p.entries[1].id] and after == p.entries[1].id
    rest, none = report.round_table(db, rnd, after=after, limit=2)
    assert [r["entry"].id for r in rest] == [p.entries[2].id] and none is None
    assert all(len(r["assigned"]) == 2 for r in first + rest)
