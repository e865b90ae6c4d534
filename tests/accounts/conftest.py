"""A real OpenID Connect provider for the single sign-on tests: Canaille, started in-process on a free
port by pytest-iam's `iam_server`, with Cadre registered as its client."""

from __future__ import annotations

import pytest

CLIENT_ID = "cadre-test"
CLIENT_SECRET = "cadre-test-secret-0123456789"  # noqa: S105 - a local test provider's client
OTHER_ID = "someone-else"
OTHER_SECRET = "someone-else-secret-0123456789"  # noqa: S105

# Canaille sends no email_verified claim: users named here get `email_verified: true`, as a provider that
# checks addresses would say. Everyone else is unverified (no claim at all, like Canaille itself).
VERIFIED: set[str] = set()


def _redirects(bases: list[str], keys: tuple[str, ...] = ("acme", "wrongaud")) -> list[str]:
    return [f"{b}/sso/{k}/callback" for b in bases for k in keys]


@pytest.fixture(scope="session")
def oidc_provider(iam_server):
    """Canaille with two clients: Cadre (`aud` names it, as Canaille does only when asked) and one whose
    tokens are addressed to another application (its audience is set to someone else)."""
    import canaille.oidc.provider as canaille_provider

    original = canaille_provider.generate_user_claims

    def claims_with_verification(user, jwt_mapping_config=None):
        data = original(user, jwt_mapping_config)
        if user.user_name in VERIFIED:
            data["email_verified"] = True
        return data

    canaille_provider.generate_user_claims = claims_with_verification
    models, backend = iam_server.models, iam_server.backend
    redirects = _redirects(["http://testserver"])
    common = dict(redirect_uris=redirects, grant_types=["authorization_code"], response_types=["code"],
                  token_endpoint_auth_method="client_secret_basic", scope=["openid", "email", "profile"])
    cadre = models.Client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, client_name="Cadre", **common)
    backend.save(cadre)
    cadre.audience = [cadre]
    backend.save(cadre)
    unrelated = models.Client(client_id="unrelated-app", client_secret="x" * 20, client_name="Unrelated", **common)
    backend.save(unrelated)
    other = models.Client(client_id=OTHER_ID, client_secret=OTHER_SECRET, client_name="Other", **common)
    backend.save(other)
    other.audience = [unrelated]
    backend.save(other)
    yield iam_server
    canaille_provider.generate_user_claims = original


def forget_codes(iam_server) -> None:
    """Drop the provider's unused authorization codes. Canaille's in-memory backend answers a query on
    several attributes with the union of the matches (code OR client), so a code left unused by an earlier
    test (a refused PKCE verifier, a mismatched state) could be taken for this one."""
    with iam_server.app.app_context():
        for code in iam_server.backend.query(iam_server.models.AuthorizationCode):
            iam_server.backend.delete(code)


def provider_settings(iam_server, **overrides):
    from api.core.config import OIDCProviderSettings

    values = dict(key="acme", issuer=iam_server.url.rstrip("/"), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                  name="Acme ID")
    values.update(overrides)
    return OIDCProviderSettings(**values)


@pytest.fixture
def providers(oidc_provider, monkeypatch):
    """Cadre configured with the local provider ("acme") and the client whose tokens are for someone else
    ("wrongaud"); returns a setter for changing them within a test."""
    from api.accounts import oidc
    from api.core.config import get_settings

    def configure(*items):
        monkeypatch.setattr(get_settings(), "oidc_providers", list(items))
        oidc.forget_cache()

    configure(provider_settings(oidc_provider),
              provider_settings(oidc_provider, key="wrongaud", client_id=OTHER_ID, client_secret=OTHER_SECRET,
                                name="Wrong Audience"))
    yield configure
    oidc.forget_cache()


@pytest.fixture
def idp_user(oidc_provider):
    """A person at the provider: `idp_user("ann@acme.test", verified=True)`."""
    import uuid

    def make(email: str, *, verified: bool = False, name: str = "Ann Example"):
        user = oidc_provider.random_user(user_name=f"idp-{uuid.uuid4().hex[:12]}",
                                         emails=[email], formatted_name=name, given_name=name.split()[0],
                                         family_name=name.split()[-1])
        if verified:
            VERIFIED.add(user.user_name)
        return user

    yield make
    VERIFIED.clear()
