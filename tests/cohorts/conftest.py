"""Cohorts test helpers: cohorts built through the service, a buyer's seat bought through the real
checkout (offline provider), and payments' Stripe fixtures for the localstripe runs."""

from __future__ import annotations

from datetime import date

import pytest

from tests.payments.conftest import localstripe, stripe_client, stripe_settings, stripe_standin  # noqa: F401


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
