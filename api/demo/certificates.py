"""Demo data of certificates: the demo learner's ACXS certificate, to try at /verify.

Issued directly through the certificates service (as an administrator's hand issue is, without the
reason), so the demo has a certificate whatever else ACXS's completion rule comes to need; the
assessments demo seed, when wired in api/demo/__init__.py, releases the passing assessment that
completes the enrolment itself."""

from __future__ import annotations

from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.certificates import service as certificates_service
from api.certificates.models import Certificate
from api.learning import service as learning_service


def seed(session: Session, people: dict[str, User]) -> list[str]:
    learner = people["learner"]
    programme = catalog_service.get_by_slug(session, "acxs")
    cert = session.exec(select(Certificate).where(Certificate.user_id == learner.id,
                                                  Certificate.programme_id == programme.id)).first()
    if cert is None:
        cert = certificates_service.issue(session, user=learner, programme=programme, holder_name=learner.full_name,
                                          enrolment=learning_service.get_enrolment(session, learner.id, programme.id))
    surname = certificates_service.surname_of(cert.holder_name)
    return [f"Certificate {cert.number} ({programme.code}, {cert.holder_name}): try /verify with that number and "
            f"the surname {surname}, or open {certificates_service.verify_url(cert)}"]
