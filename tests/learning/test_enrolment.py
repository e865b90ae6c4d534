"""Enrolment rules: idempotent, the ladder enforced, standing changes that only go where they may."""

from __future__ import annotations

import pytest

from api.catalog import service as catalog_service
from api.learning import service
from api.learning.models import EnrolmentSource, EnrolmentStatus


def test_enrol_is_idempotent_and_reactivates_a_cancelled_enrolment(db, make_user):
    user = make_user()
    acxp = catalog_service.get_by_slug(db, "acxp")
    first = service.enrol(db, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.purchase, reference="o1")
    again = service.enrol(db, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.purchase, reference="o1")
    assert again.id == first.id and again.status == "active"
    assert service.cancel(db, first, "refunded") is True
    assert service.cancel(db, first, "refunded") is False
    assert not service.has_access(first)
    back = service.enrol(db, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.admin_grant)
    assert back.id == first.id and back.status == "active" and back.source == "admin_grant"


def test_acx_master_needs_acxp_and_says_how_to_get_there(db, make_user):
    user = make_user()
    acxm = catalog_service.get_by_slug(db, "acxm")
    with pytest.raises(service.PrerequisiteMissing) as exc:
        service.enrol(db, user_id=user.id, programme_id=acxm.id, source=EnrolmentSource.purchase)
    assert exc.value.status_code == 403
    assert "Accredited Customer Experience Professional (ACXP)" in exc.value.message
    assert service.get_enrolment(db, user.id, acxm.id) is None
    # Completing ACXP is not enough: the ladder asks for a current ACXP certificate.
    acxp = catalog_service.get_by_slug(db, "acxp")
    e = service.enrol(db, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.purchase)
    e.status = EnrolmentStatus.completed.value
    db.flush()
    with pytest.raises(service.PrerequisiteMissing):
        service.enrol(db, user_id=user.id, programme_id=acxm.id, source=EnrolmentSource.purchase)
    from api.certificates import service as certificates_service

    cert = certificates_service.issue(db, user=user, programme=acxp, holder_name=user.full_name, enrolment=e)
    assert service.enrol(db, user_id=user.id, programme_id=acxm.id, source=EnrolmentSource.purchase).status == "active"
    # A revoked ACXP no longer opens the door to the next rung (for a new enrolment).
    other = make_user()
    e2 = service.enrol(db, user_id=other.id, programme_id=acxp.id, source=EnrolmentSource.purchase)
    e2.status = EnrolmentStatus.completed.value
    db.flush()
    cert2 = certificates_service.issue(db, user=other, programme=acxp, holder_name=other.full_name, enrolment=e2)
    certificates_service.change_status(db, cert2, "revoke", "issued in error", other)
    with pytest.raises(service.PrerequisiteMissing):
        service.enrol(db, user_id=other.id, programme_id=acxm.id, source=EnrolmentSource.purchase)
    assert cert.status == "active"


def test_admin_override_skips_the_ladder(db, make_user):
    user = make_user()
    acxc = catalog_service.get_by_slug(db, "acxc")
    e = service.enrol(db, user_id=user.id, programme_id=acxc.id, source=EnrolmentSource.admin_grant,
                      check_prerequisites=False)
    assert service.has_access(e)


def test_suspend_and_reinstate(db, make_user):
    user = make_user()
    acxs = catalog_service.get_by_slug(db, "acxs")
    e = service.enrol(db, user_id=user.id, programme_id=acxs.id, source=EnrolmentSource.instalment_plan)
    assert service.suspend(db, e, "instalment 2 failed") and not service.has_access(e)
    assert service.reinstate(db, e) and service.has_access(e)
    assert service.reinstate(db, e) is False


def test_an_expired_prerequisite_does_not_open_the_next_rung(db, make_user):
    from datetime import timedelta

    from api.certificates import service as certificates_service
    from api.core.db import utcnow

    user = make_user()
    acxp = catalog_service.get_by_slug(db, "acxp")
    acxm = catalog_service.get_by_slug(db, "acxm")
    e = service.enrol(db, user_id=user.id, programme_id=acxp.id, source=EnrolmentSource.purchase)
    e.status = EnrolmentStatus.completed.value
    db.flush()
    cert = certificates_service.issue(db, user=user, programme=acxp, holder_name=user.full_name, enrolment=e,
                                      now=utcnow() - timedelta(days=800))  # current for 24 months: lapsed
    assert certificates_service.effective_status(cert) == "expired"
    with pytest.raises(service.PrerequisiteMissing):
        service.enrol(db, user_id=user.id, programme_id=acxm.id, source=EnrolmentSource.purchase)
