"""Cohorts test helpers: cohorts built through the service, a buyer's seat bought through the real
checkout (offline provider), and payments' Stripe fixtures for the localstripe runs."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from tests.payments.conftest import localstripe, stripe_client, stripe_settings, stripe_standin  # noqa: F401


@contextmanager
def coim_without_its_prerequisite(session, restore: bool):
    """COIM expects OIV on the ladder (tested in tests/learning and tests/catalog). These tests are about
    seats, sessions and attendance in COIM's weekly format, so its buyers are not asked for OIV: the
    requirement is lifted for the test and put back afterwards."""
    from sqlmodel import delete, select

    from api.catalog.models import Programme, ProgrammePrerequisite

    coim = session.exec(select(Programme).where(Programme.slug == "coim")).one()
    rows = [(r.programme_id, r.requires_id) for r in session.exec(
        select(ProgrammePrerequisite).where(ProgrammePrerequisite.programme_id == coim.id))]
    session.exec(delete(ProgrammePrerequisite).where(ProgrammePrerequisite.programme_id == coim.id))
    session.commit()
    try:
        yield
    finally:
        if restore:  # otherwise the test's own transaction is rolled back, and the rows with it
            session.rollback()
            for programme_id, requires_id in rows:
                session.add(ProgrammePrerequisite(programme_id=programme_id, requires_id=requires_id))
            session.commit()


@pytest.fixture(autouse=True)
def _coim_open_to_all(request):
    """Every test here: in the test's own transaction (`db`), or committed for the PostgreSQL races that
    run on connections of their own (`pg`)."""
    if "pg" in request.fixturenames:
        from sqlmodel import Session

        with Session(request.getfixturevalue("engine")) as s, coim_without_its_prerequisite(s, restore=True):
            yield
        return
    db = request.getfixturevalue("db")
    with coim_without_its_prerequisite(db, restore=False):
        yield


@pytest.fixture
def make_cohort(db):
    from api.cohorts import service

    def make(slug: str = "coim", starts_on: date = date(2027, 3, 1), zone: str = "Europe/London", **kw):
        cohort = service.create_cohort(db, programme_slug=slug, starts_on=starts_on, time_zone=zone, **kw)
        db.commit()
        return cohort

    return make


@pytest.fixture
def buy_seat(db):
    """A paid seat: checkout with the cohort, then the offline provider's payment (its signed events)."""
    from api.payments import service as payments_service
    from api.payments.providers import get_provider

    def buy(user, cohort, slug: str = "coim", offer: str = "full"):
        order = payments_service.start_checkout(db, user=user, programme_slug=slug, offer_slug=offer, code_text=None,
                                                address=None, cohort=cohort.public_id)
        get_provider().pay(db, order)
        db.commit()
        db.refresh(order)
        return order

    return buy
