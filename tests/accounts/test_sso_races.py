"""On PostgreSQL, where the unique index waits for real: the same provider account linked twice at the
same moment gives one identity and one 409, as if the two had come one after the other."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from api.accounts import service as accounts_service
from api.accounts import sso
from api.accounts.models import User, UserIdentity
from api.accounts.schemas import UserCreate
from api.core.config import OIDCProviderSettings, get_settings
from api.core.errors import Conflict
from tests.learning.test_concurrency import _race

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(engine):
    if get_settings().is_sqlite:
        pytest.skip("unique-index waits are only real on PostgreSQL; set CADRE_TEST_DATABASE_URL to run the races")
    return engine


def test_one_identity_linked_twice_at_once(pg, monkeypatch):
    provider = OIDCProviderSettings(key="acme", issuer="https://idp.example.com", client_id="cadre", name="Acme ID")
    monkeypatch.setattr(get_settings(), "oidc_providers", [provider])
    with Session(pg, expire_on_commit=False) as s:
        user = accounts_service.create_user(s, UserCreate(email="twice@example.com", full_name="Tess Twice",
                                                          password="correct-horse-battery"), verified=True)
        s.commit()
        uid = user.id
    claims = {"sub": "the-same-subject", "email": "twice@example.com", "email_verified": True}
    try:
        def link(session, u):
            return sso.complete(session, provider, claims, link_user_id=u.id).kind

        first, second, waited = _race(pg, uid, link, link)
        assert waited, "the second link should have waited for the first at the unique index"
        assert first == "linked"
        assert isinstance(second, Conflict) and second.status_code == 409 and second.code == "identity_taken"
        with Session(pg) as s:
            assert len(s.exec(select(UserIdentity).where(UserIdentity.subject == "the-same-subject")).all()) == 1
    finally:
        with Session(pg) as s:
            s.exec(delete(User).where(User.id == uid))  # identities cascade
            s.commit()
