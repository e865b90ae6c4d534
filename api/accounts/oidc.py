"""OpenID Connect relying party: discovery, the authorization request (code flow with PKCE, state and
nonce), the token exchange and the ID token's validation (signature by the provider's JWKS, issuer,
audience, expiry, nonce), through Authlib's OIDC claims and PKCE and joserfc (which Authlib 1.9 uses).

No database here. A failure is an `OIDCFailure` (plain data, not a CadreError): the page decides what
the person reads. The HTTP calls are short (CADRE_OIDC_TIMEOUT_SECONDS) and made with no transaction
open (the pages call this before they touch the database).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, InvalidKeyIdError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from api.core.config import OIDCProviderSettings, get_settings
from api.core.security import new_token

METADATA_TTL = 3600.0  # seconds a discovery document and key set are reused
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = Lock()


class OIDCFailure(Exception):
    """Why a provider's answer was not accepted; `kind` picks the page the person sees: unreachable,
    cancelled, provider_error, state_mismatch, invalid_token, wrong_audience, wrong_issuer, expired,
    nonce_mismatch or insecure."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Flow:
    """What the browser keeps (signed, api/accounts/sso_flow.py) between leaving and coming back."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next: str = "/dashboard"
    link_user_id: int | None = None  # linking from the account page: the logged-in account


def _check_transport(url: str) -> None:
    # Plain http only outside production (a provider on this machine). AUTHLIB_INSECURE_TRANSPORT, which
    # pytest-iam sets for the test process, plays no part: production refuses http whatever it says.
    if not url.startswith("https://") and not (url.startswith("http://") and get_settings().env != "production"):
        raise OIDCFailure("insecure", f"{url} is not https")


def _get_json(url: str) -> dict[str, Any]:
    _check_transport(url)
    try:
        response = httpx.get(url, timeout=get_settings().oidc_timeout_seconds, follow_redirects=False,
                             headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OIDCFailure("unreachable", f"{url}: {exc}") from None


def _cached(key: str, load, *, force: bool = False) -> dict[str, Any]:
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not force and time.monotonic() - hit[0] < METADATA_TTL:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (time.monotonic(), value)
    return value


def forget_cache() -> None:
    with _cache_lock:
        _cache.clear()


def metadata(provider: OIDCProviderSettings) -> dict[str, Any]:
    """The provider's discovery document, checked to be its own (OIDC Discovery 1.0, section 4.3)."""
    issuer = provider.issuer
    _check_transport(issuer)

    def load() -> dict[str, Any]:
        doc = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if doc.get("issuer") != provider.issuer:
            raise OIDCFailure("wrong_issuer", f"discovery names {doc.get('issuer')!r}, expected {provider.issuer!r}")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(field), str):
                raise OIDCFailure("unreachable", f"discovery document has no {field}")
            _check_transport(doc[field])
        return doc

    return _cached(f"meta:{provider.key}:{provider.issuer}", load)


def _keys(provider: OIDCProviderSettings, meta: dict[str, Any], *, force: bool = False) -> KeySet:
    doc = _cached(f"jwks:{provider.key}:{meta['jwks_uri']}", lambda: _get_json(meta["jwks_uri"]), force=force)
    try:
        return KeySet.import_key_set(doc)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OIDCFailure("unreachable", f"the provider's key set cannot be read: {exc}") from None


def redirect_uri(provider: OIDCProviderSettings) -> str:
    return f"{get_settings().base_url.rstrip('/')}/sso/{provider.key}/callback"


def begin(provider: OIDCProviderSettings, next_path: str, link_user_id: int | None = None) -> tuple[str, Flow]:
    """The provider's authorization URL and what to remember until the browser comes back."""
    meta = metadata(provider)
    flow = Flow(provider=provider.key, state=new_token(24), nonce=new_token(24), code_verifier=new_token(48),
                next=next_path, link_user_id=link_user_id)
    url = add_params_to_uri(meta["authorization_endpoint"], [
        ("response_type", "code"),
        ("client_id", provider.client_id),
        ("redirect_uri", redirect_uri(provider)),
        ("scope", provider.scopes),
        ("state", flow.state),
        ("nonce", flow.nonce),
        ("code_challenge", create_s256_code_challenge(flow.code_verifier)),
        ("code_challenge_method", "S256"),
    ])
    return url, flow


def exchange_code(provider: OIDCProviderSettings, code: str, flow: Flow) -> dict[str, Any]:
    """The token endpoint's answer for this code (client_secret_basic, with the PKCE verifier)."""
    meta = metadata(provider)
    try:
        response = httpx.post(meta["token_endpoint"], timeout=get_settings().oidc_timeout_seconds,
                              auth=(provider.client_id, provider.client_secret),
                              data={"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": redirect_uri(provider), "code_verifier": flow.code_verifier},
                              headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OIDCFailure("unreachable", f"token endpoint: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "id_token" not in body:
        raise OIDCFailure("provider_error", f"token endpoint answered {response.status_code}: "
                                            f"{body.get('error', '')} {body.get('error_description', '')}".strip())
    return body


def _now() -> int:
    return int(time.time())


def validate_id_token(provider: OIDCProviderSettings, token: dict[str, Any], flow: Flow) -> dict[str, Any]:
    """The ID token's claims, once its signature (the provider's JWKS), issuer, audience, expiry and
    nonce are right. Authlib checks only `iss` by default: the audience is asked for explicitly."""
    meta = metadata(provider)
    algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    # Signatures by the provider's published keys only: never "none", never a shared-secret HMAC.
    algorithms = [a for a in algorithms if a != "none" and not a.startswith("HS")] or ["RS256"]
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise OIDCFailure("invalid_token", "no ID token")
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(raw, _keys(provider, meta), registry=registry)
        except InvalidKeyIdError:  # the provider rotated its keys since we last looked
            decoded = jwt.decode(raw, _keys(provider, meta, force=True), registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        raise OIDCFailure("invalid_token", f"signature: {exc}") from None
    claims = CodeIDToken(
        decoded.claims, decoded.header,
        {"iss": {"essential": True, "value": provider.issuer},
         "aud": {"essential": True, "value": provider.client_id},
         "sub": {"essential": True}},
        {"nonce": flow.nonce, "client_id": provider.client_id, "access_token": token.get("access_token")},
    )
    try:
        claims.validate(now=_now(), leeway=get_settings().oidc_leeway_seconds)
    except ExpiredTokenError as exc:
        raise OIDCFailure("expired", str(exc)) from None
    except (InvalidClaimError, MissingClaimError) as exc:
        name = getattr(exc, "claim", "") or ""
        kind = {"aud": "wrong_audience", "azp": "wrong_audience", "iss": "wrong_issuer",
                "nonce": "nonce_mismatch", "exp": "expired"}.get(name, "invalid_token")
        raise OIDCFailure(kind, str(exc)) from None
    except JoseError as exc:
        raise OIDCFailure("invalid_token", str(exc)) from None
    if claims.get("nonce") != flow.nonce:  # Authlib checks it; said again here because it matters so
        raise OIDCFailure("nonce_mismatch", "nonce differs")
    return dict(claims)
