"""Conflicts of interest: each kind Cadre detects, a declared one, the reassignment that keeps the
quorum, a conflicted judge's 404, and a conflict found after the round froze (excluded, re-ranked,
recorded as an amendment)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.awards.judging import conflicts, deps, scoring, service
from api.awards.judging.models import Assignment, AssignmentStatus, JudgeConflict, RoundKind
from api.core.errors import NotFound


def _kinds(db, judge, entry):
    return {c.kind for c in db.exec(select(JudgeConflict).where(JudgeConflict.judge_id == judge.id,
                                                                JudgeConflict.entry_id == entry.id))}


def test_organisation_names_are_compared_normalised():
    n = conflicts.normalise_organisation
    assert n("MultiChoice (Pty) Ltd.") == n("multichoice") == "multichoice"
    assert n("Société Générale") == n("Societe Generale")
    assert n("Acme") != n("Acme Telecom")
    assert n(None) == n("") == ""


def test_same_organisation_is_detected(db, panel):
    p = panel(organisations={0: "ORG 1 Ltd"})
    found = conflicts.check_cycle(db, p.cycle, p.admin)
    assert [(c.judge_id, c.entry_id, c.kind) for c in found] == [(p.judges[0].id, p.entries[1].id,
                                                                  "same_organisation")]


def test_the_judge_nominated_or_endorsed_the_nominee(db, panel, enter):
    def setup(p):
        entry, user = enter(p.cycle, p.users[0], f"n-by-judge-{p.cycle.year}@example.org", "Nominated By Judge")
        p.entries.append(entry)
        entry, user = enter(p.cycle, p.nominator, f"endorsed-{p.cycle.year}@example.org", "Endorsed By Judge",
                            endorsers=[p.users[1].email])
        p.entries.append(entry)

    p = panel(entries=1, before_close=setup)
    conflicts.check_cycle(db, p.cycle, p.admin)
    assert _kinds(db, p.judges[0], p.entries[1]) == {"nominated"}
    assert _kinds(db, p.judges[1], p.entries[2]) == {"endorsed"}
    assert _kinds(db, p.judges[2], p.entries[1]) == set()


def test_the_judge_coached_or_marked_the_nominee(db, panel):
    from api.assessments import submissions
    from api.assessments.models import Mark
    from api.catalog import service as catalog_service

    p = panel()
    brief = submissions.briefs_for(db, [catalog_service.get_by_slug(db, "acxp").id])[catalog_service.get_by_slug(
        db, "acxp").id][0]
    coached = submissions.start(db, p.nominees[0], brief)
    coached.allocated_coach_id = p.users[0].id
    db.add(coached)
    marked = submissions.start(db, p.nominees[1], brief)
    db.add(Mark(submission_id=marked.id, rubric_version_id=marked.rubric_version_id, marker_id=p.users[1].id))
    db.flush()
    conflicts.check_cycle(db, p.cycle, p.admin)
    assert _kinds(db, p.judges[0], p.entries[0]) == {"coached"}
    assert _kinds(db, p.judges[1], p.entries[1]) == {"marked"}
    assert _kinds(db, p.judges[0], p.entries[1]) == set()


def test_a_judge_who_is_a_nominee_is_conflicted_with_every_entry(db, panel, enter):
    def setup(p):
        entry, _ = enter(p.cycle, p.nominator, p.users[2].email, "Judge 2", user=p.users[2])
        p.entries.append(entry)

    p = panel(entries=2, before_close=setup)
    conflicts.check_cycle(db, p.cycle, p.admin)
    for e in p.entries:
        assert "nominee" in _kinds(db, p.judges[2], e)
    assert _kinds(db, p.judges[0], p.entries[0]) == set()


def test_a_declared_conflict_recuses_reassigns_and_hides_the_entry(db, panel):
    p = panel(judges=3)
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    entry = p.entries[0]
    active = db.exec(select(Assignment).where(Assignment.round_id == sift.id, Assignment.entry_id == entry.id,
                                              Assignment.status == "active")).all()
    leaving = next(j for j in p.judges if j.id == active[0].judge_id)
    spare = next(j for j in p.judges if j.id not in {a.judge_id for a in active})
    user = p.users[[j.id for j in p.judges].index(leaving.id)]
    conflicts.recuse(db, leaving, entry, "She is my sister-in-law")
    now = db.exec(select(Assignment).where(Assignment.round_id == sift.id, Assignment.entry_id == entry.id)
                  .order_by(Assignment.id)).all()
    assert {(a.judge_id, a.status) for a in now} == {(leaving.id, "recused"), (active[1].judge_id, "active"),
                                                     (spare.id, "active")}
    assert next(a for a in now if a.judge_id == spare.id).replaces_id == active[0].id
    with pytest.raises(NotFound):
        deps.load_entry_access(db, user, sift.public_id, entry.public_id)


def test_when_no_judge_is_free_the_gap_shows(db, panel):
    p = panel(judges=2)
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    conflicts.recuse(db, p.judges[0], p.entries[0], "Former colleague")
    assert service.quorum_gaps(db, sift)[p.entries[0].id] == (0, 1)


def test_a_conflict_found_after_the_freeze_is_an_amendment_that_re_ranks(db, panel):
    p = panel(judges=3)
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    for a in db.exec(select(Assignment).where(Assignment.round_id == sift.id)).all():
        scoring.submit(db, a, {"pass": "pass"})
    service.close_round(db, sift, p.admin)
    short = service.round_of(db, p.cycle, RoundKind.shortlist)
    service.set_options(db, short, quorum=2, blind=False, normalise=False, advance=1)
    service.open_round(db, short, p.admin)
    rows = db.exec(select(Assignment).where(Assignment.round_id == short.id)).all()
    # Entry 1 wins on raw scores only because one judge scored it 10; that judge turns out to be conflicted.
    booster = None
    for a in rows:
        if a.entry_id == p.entries[1].id and booster is None:
            booster = a
            v = 10
        elif a.entry_id == p.entries[1].id:
            v = 6  # with the booster's 10: a mean of 8, ahead of entry 0's 7; without it, 6
        elif a.entry_id == p.entries[0].id:
            v = 7
        else:
            v = 3
        scoring.submit(db, a, {"personal": str(v), "professional": str(v), "business": str(v)})
    service.close_round(db, short, p.admin)
    frozen = scoring.frozen(db, short)
    first = frozen.snapshot
    assert first["entries"][0]["entry"] == p.entries[1].id and first["through"] == [p.entries[1].id]
    judge = next(j for j in p.judges if j.id == booster.judge_id)
    conflicts.declare(db, judge, p.entries[1], "Realised I mentored her for a year", p.admin)
    amended = scoring.current_snapshot(db, short)
    assert amended["through"] == [p.entries[0].id]
    assert amended["excluded"] == [{"judge": judge.id, "entry": p.entries[1].id, "reason": "declared"}]
    [amendment] = scoring.amendments(db, frozen)
    assert amendment.number == 1 and "no longer counts" in amendment.reason
    db.refresh(frozen)
    assert frozen.snapshot == first  # the frozen result itself is never rewritten
    assert db.get(Assignment, booster.id).status == AssignmentStatus.conflicted
    c = db.exec(select(JudgeConflict).where(JudgeConflict.judge_id == judge.id)).one()
    assert c.after_scoring


def test_a_conflicted_judge_cannot_score_even_through_an_assignment_they_held(db, panel):
    p = panel(judges=3)
    sift = service.open_round(db, service.round_of(db, p.cycle, RoundKind.sift), p.admin)
    a = db.exec(select(Assignment).where(Assignment.round_id == sift.id, Assignment.entry_id == p.entries[0].id)
                .order_by(Assignment.id)).first()
    judge = next(j for j in p.judges if j.id == a.judge_id)
    conflicts.recuse(db, judge, p.entries[0], "My brother")
    with pytest.raises(NotFound):
        scoring.submit(db, a, {"pass": "pass"})
    # a conflict recorded while the assignment still reads active (another request's view) is caught too
    b = db.exec(select(Assignment).where(Assignment.round_id == sift.id, Assignment.entry_id == p.entries[1].id,
                                         Assignment.status == "active").order_by(Assignment.id)).first()
    db.add(JudgeConflict(cycle_id=p.cycle.id, judge_id=b.judge_id, entry_id=p.entries[1].id, kind="declared"))
    db.flush()
    with pytest.raises(NotFound):
        scoring.submit(db, b, {"pass": "pass"})
    assert scoring.score_of(db, a) is None and scoring.score_of(db, b) is None


def test_members_of_one_organisation_record_are_conflicted(db, panel):
    """Runs where the organisations domain is merged (its own branch until then)."""
    organisations = pytest.importorskip("api.organisations.service")
    from api.organisations.models import Membership

    p = panel()
    org = organisations.create(db, p.users[1], name="Shared Employer Plc")  # the judge creates it: a member
    db.add(Membership(organisation_id=org.id, user_id=p.nominees[2].id))
    db.flush()
    assert organisations.shares_organisation(db, p.users[1].id, p.nominees[2].id)
    conflicts.check_cycle(db, p.cycle, p.admin)
    assert _kinds(db, p.judges[1], p.entries[2]) == {"same_organisation"}
