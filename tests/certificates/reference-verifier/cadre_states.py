"""Run by test_reference_verifier.py with the live server's environment (same database, keys and
base URL): issues certificates through Cadre's own services and moves them into the states the
outside verifiers are asked about. Prints {case: slug} as JSON.

    python cadre_states.py
        issues valid, revoked, suspended, reinstated and tampered (a valid one, to be altered),
        rotates the issuer key (as `cadre keys rotate` does), then issues issued-after-rotation
"""

from __future__ import annotations

import json

from api.accounts import service as accounts_service
from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.catalog import service as catalog_service
from api.certificates import keys as keystore
from api.certificates import service
from api.cli import _session
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource, EnrolmentStatus


def _issue(session, case: str, admin) -> str:
    user = accounts_service.create_user(
        session, UserCreate(email=f"{case}@example.com", full_name=f"Holder {case.title()}",
                            password="correct-horse-battery"), verified=True)
    programme = catalog_service.get_by_slug(session, "acxp")
    enrolment = learning_service.enrol(session, user_id=user.id, programme_id=programme.id,
                                       source=EnrolmentSource.admin_grant, check_prerequisites=False)
    enrolment.status = EnrolmentStatus.completed.value
    session.add(enrolment)
    cert = service.issue(session, user=user, programme=programme, holder_name=user.full_name, enrolment=enrolment)
    if case == "revoked":
        service.change_status(session, cert, "revoke", "Assessment found to be plagiarised", admin)
    elif case == "suspended":
        service.change_status(session, cert, "suspend", "Instalment overdue", admin)
    elif case == "reinstated":
        service.change_status(session, cert, "suspend", "Instalment overdue", admin)
        service.change_status(session, cert, "reinstate", "Instalment paid", admin)
    return cert.slug


def main() -> dict[str, str]:
    with _session() as session:
        admin = accounts_service.get_by_email(session, "registrar@example.com") or accounts_service.create_user(
            session, UserCreate(email="registrar@example.com", full_name="Rita Registrar",
                                password="correct-horse-battery"), roles={Role.admin}, verified=True)
        slugs = {case: _issue(session, case, admin)
                 for case in ("valid", "revoked", "suspended", "reinstated", "tampered")}
        session.commit()
        keystore.rotate_key()
        slugs["issued-after-rotation"] = _issue(session, "rotation", admin)
        session.commit()
    return slugs


if __name__ == "__main__":
    print(json.dumps(main()))
