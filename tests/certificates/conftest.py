"""Fixtures for the certificates core: no database, keys in a temporary directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.accounts.models import Role
from api.catalog import service as catalog_service
from api.certificates import keys
from api.certificates.credential import AchievementInfo, IssuerProfile, Recipient, build_open_badge_credential
from api.certificates.statuslist import StatusEntry
from api.certificates.verify import static_resolver
from api.learning import service as learning_service
from api.learning.models import EnrolmentSource, EnrolmentStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
# The official vectors, copied unchanged from shared/ob3-test-vectors (see vectors/SOURCES.md) so a
# fresh clone runs them; shared/ beside the repo, when present, is checked to be the same.
VECTORS = Path(__file__).resolve().parent / "vectors"
SHARED_VECTORS = REPO_ROOT / ".." / "shared" / "ob3-test-vectors"

HOST = "cadre.test"
ISSUED_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
NOW = ISSUED_AT + timedelta(days=30)


@pytest.fixture
def vectors() -> Path:
    return VECTORS


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    keys.create_key(directory)
    return directory


@pytest.fixture
def issuer() -> IssuerProfile:
    return IssuerProfile(id=keys.did_web(HOST), name="Cadre Academy", url=f"https://{HOST}/")


@pytest.fixture
def resolver(keys_dir: Path) -> Callable[[], Callable]:
    """Call it to get a resolver reflecting the key directory as it is now (after rotations too)."""
    return lambda: static_resolver({keys.did_web(HOST): keys.did_document(HOST, keys.load_keys(keys_dir))})


def make_credential(issuer: IssuerProfile, *, status: StatusEntry | None = None, **overrides: Any) -> dict:
    values: dict[str, Any] = {
        "credential_id": "urn:uuid:6f1c1d3e-1b7a-4c1e-9d7e-0c6a2f0b9a11",
        "issuer": issuer,
        "recipient": Recipient(email="Ada@Example.com", name="Ada Lovelace", salt="pepper-1"),
        "achievement": AchievementInfo(
            id=f"https://{HOST}/awards/data-analysis",
            name="Certificate in Data Analysis",
            description="Awarded for completing the Data Analysis programme.",
            criteria_narrative="Pass all six modules and the final assessed project.",
        ),
        "valid_from": ISSUED_AT,
        "status": status,
    }
    values.update(overrides)
    return build_open_badge_credential(**values)

@pytest.fixture
def completed(db, make_user):
    """A learner who has completed a programme and has not yet confirmed the certificate name."""

    def make(slug: str = "acxp", name: str = "Thandi Mokoena", email: str | None = None):
        user = make_user(email, name=name)
        programme = catalog_service.get_by_slug(db, slug)
        enrolment = learning_service.enrol(db, user_id=user.id, programme_id=programme.id,
                                           source=EnrolmentSource.admin_grant, check_prerequisites=False)
        enrolment.status = EnrolmentStatus.completed.value
        db.add(enrolment)
        db.commit()
        return user, programme, enrolment

    return make


@pytest.fixture
def issued(db, completed):
    from api.certificates import service

    def make(slug: str = "acxp", name: str = "Thandi Mokoena", email: str | None = None, **kw):
        user, programme, enrolment = completed(slug, name, email)
        cert = service.issue(db, user=user, programme=programme, holder_name=name, enrolment=enrolment, **kw)
        db.commit()
        return user, programme, cert

    return make


@pytest.fixture
def admin(make_user):
    return make_user("registrar@example.com", name="Rita Registrar", roles={Role.admin})
