"""Seats: granted or bought, assigned to a member (an enrolment with source organisation_seat), taken
back and reassigned only until the holder starts, with the take-backs capped; never more assigned than
bought; leaving gives an unstarted seat back and keeps everything the learner earned."""

from __future__ import annotations

import pytest
from sqlmodel import select

from api.catalog.models import Lesson
from api.core.errors import Conflict, Invalid
from api.learning import service as learning_service
from api.learning import study
from api.organisations import seats, service
from tests.organisations.conftest import add_member


@pytest.fixture
def acxp(db):
    return seats.programme_by_slug(db, "acxp")


def _first_lesson(db, programme) -> Lesson:
    return db.exec(select(Lesson).where(Lesson.programme_id == programme.id).order_by(Lesson.id)).first()


def _start(db, user, programme):
    study.complete_lesson(db, user, programme.slug, _first_lesson(db, programme).slug)


def test_assigning_a_seat_enrols_the_member_from_the_organisation(db, team, acxp, mailbox):
    pool = seats.grant(db, team.org, acxp, 2, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    db.commit()
    e = learning_service.get_enrolment(db, team.member.id, acxp.id)
    assert (e.status, e.source, e.reference) == ("active", "organisation_seat", pool.public_id)
    assert (pool.quantity, pool.assigned) == (2, 1)
    [msg] = mailbox.to(team.member.email)
    assert "Acme Services has given you a seat on Accredited Customer Experience Professional" in \
        " ".join(str(msg["Subject"]).split())


def test_no_more_seats_than_bought(db, team, acxp, make_user):
    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    with pytest.raises(Conflict) as exc:
        seats.assign(db, team.org, pool, team.membership(db, team.manager), team.owner)
    assert exc.value.code == "no_seat_left"
    assert learning_service.get_enrolment(db, team.manager.id, acxp.id) is None


def test_the_database_refuses_assigned_above_quantity(db, team, acxp):
    from sqlalchemy.exc import IntegrityError

    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    pool.assigned = 2
    db.add(pool)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.flush()


def test_one_live_seat_per_member_and_programme(db, team, acxp):
    pool = seats.grant(db, team.org, acxp, 3, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    with pytest.raises(Conflict) as exc:
        seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    assert exc.value.code == "already_assigned"


def test_a_seat_goes_back_and_to_someone_else_until_its_holder_starts(db, team, acxp):
    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    first = seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    seats.take_back(db, team.org, pool, first.id, team.manager)
    assert learning_service.get_enrolment(db, team.member.id, acxp.id).status == "cancelled"
    db.refresh(pool)
    assert (pool.assigned, pool.take_backs) == (0, 1)
    second = seats.assign(db, team.org, pool, team.membership(db, team.manager), team.owner)
    _start(db, team.manager, acxp)  # the manager finishes a lesson: the seat is theirs now
    with pytest.raises(Conflict) as exc:
        seats.take_back(db, team.org, pool, second.id, team.owner)
    assert exc.value.code == "seat_started"
    assert learning_service.get_enrolment(db, team.manager.id, acxp.id).status == "active"


def test_take_backs_are_capped_per_seat_bought(db, team, acxp, monkeypatch):
    from api.core.config import get_settings

    monkeypatch.setattr(get_settings(), "org_seat_take_backs", 2)
    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    assert pool.max_take_backs_per_seat == 2
    member = team.membership(db, team.member)
    for _ in range(2):
        row = seats.assign(db, team.org, pool, member, team.manager)
        seats.take_back(db, team.org, pool, row.id, team.manager)
    row = seats.assign(db, team.org, pool, member, team.manager)
    with pytest.raises(Conflict) as exc:
        seats.take_back(db, team.org, pool, row.id, team.manager)
    assert exc.value.code == "take_back_cap"
    assert "2 per seat bought" in exc.value.message


def test_a_member_who_already_has_the_programme_needs_no_seat(db, team, acxp):
    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    learning_service.enrol(db, user_id=team.member.id, programme_id=acxp.id,
                           source=learning_service.EnrolmentSource.purchase)
    with pytest.raises(Conflict) as exc:
        seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    assert exc.value.code == "already_enrolled"
    db.refresh(pool)
    assert pool.assigned == 0


def test_leaving_returns_an_unstarted_seat_and_keeps_a_started_one_and_the_login(db, team, acxp, make_user):
    starter = make_user("starter@acme.example")
    add_member(db, team.org, starter)
    pool = seats.grant(db, team.org, acxp, 2, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    seats.assign(db, team.org, pool, service.membership_of(db, team.org.id, starter.id), team.manager)
    _start(db, starter, acxp)
    service.remove_member(db, team.org, team.membership(db, team.member))
    service.remove_member(db, team.org, service.membership_of(db, team.org.id, starter.id))
    db.refresh(pool)
    assert pool.assigned == 1 and pool.take_backs == 0  # leaving does not use up the cap
    assert learning_service.get_enrolment(db, team.member.id, acxp.id).status == "cancelled"
    assert learning_service.get_enrolment(db, starter.id, acxp.id).status == "active"
    assert starter.is_active and team.member.is_active


def test_a_finished_lesson_counts_as_started(db, team, acxp):
    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    seats.assign(db, team.org, pool, team.membership(db, team.member), team.manager)
    study.open_lesson(db, team.member, acxp.slug, _first_lesson(db, acxp).slug)  # opening is not starting
    assert not seats.started(db, team.member.id, acxp.id)
    _start(db, team.member, acxp)
    assert seats.started(db, team.member.id, acxp.id)


def test_a_grant_needs_a_sensible_quantity(db, team, acxp):
    with pytest.raises(Invalid):
        seats.grant(db, team.org, acxp, 0, team.admin)


def test_the_seats_page_assigns_and_takes_back(client, db, team, acxp, login):
    from tests.conftest import csrf_from

    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    db.commit()
    login(team.manager.email)
    url = f"/organisations/{team.org.public_id}/seats"
    page = client.get(url)
    assert "1</strong> of 1 seats free" in page.text
    r = client.post(f"{url}/{pool.public_id}/assign", data={
        "csrf_token": csrf_from(page.text), "email": team.member.email})
    assert "Milo Member has a seat and is enrolled" in r.text
    assert "0</strong> of 1 seats free" in r.text
    r = client.post(f"{url}/{pool.public_id}/assign", data={
        "csrf_token": csrf_from(page.text), "email": team.owner.email})
    assert "Every seat of" in r.text  # refused, with the reason on the page
    row = seats.live_assignment(db, pool.id, team.member.id)
    r = client.post(f"{url}/{pool.public_id}/take-back", data={"csrf_token": csrf_from(page.text),
                                                               "assignment": str(row.id)})
    assert "The seat is back in the pool" in r.text and "1</strong> of 1 seats free" in r.text


def test_assigning_by_the_address_of_someone_who_is_not_a_member_says_so(client, db, team, acxp, login):
    from tests.conftest import csrf_from

    pool = seats.grant(db, team.org, acxp, 1, team.admin)
    db.commit()
    login(team.manager.email)
    url = f"/organisations/{team.org.public_id}/seats"
    page = client.get(url)
    r = client.post(f"{url}/{pool.public_id}/assign", data={"csrf_token": csrf_from(page.text),
                                                            "email": team.outsider.email})
    assert f"{team.outsider.email} is not a member of Acme Services: invite them first." in r.text
