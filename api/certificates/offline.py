"""`cadre verify FILE`: check a credential on any machine, without the database.

Signature, the issuer's key (from its did:web document, fetched or given with --did-document),
dates and, when the site can be reached, the status lists. Exit code 0: verified; 1: a check
failed; 2: everything checked passed but the status could not be checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from api.certificates.verify import Check, verify_credential

_LOCAL = ("127.0.0.1", "localhost", "[::1]")
_UNREACHABLE = "could not be fetched"


def did_web_url(did: str) -> str:
    host = unquote(did.removeprefix("did:web:").split("#")[0])
    scheme = "http" if host.split(":")[0] in _LOCAL else "https"  # a dev server has no TLS
    return f"{scheme}://{host}/.well-known/did.json"


def _get_json(url: str) -> Any:
    response = httpx.get(url, timeout=10, follow_redirects=False)
    response.raise_for_status()
    return response.json()


def verify_file(path: Path, did_document: Path | None = None, offline: bool = False) -> int:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"Cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    given = json.loads(did_document.read_text()) if did_document else None

    def resolve(did: str) -> dict[str, Any]:
        base = did.split("#")[0]
        if given is not None and given.get("id") == base:
            return given
        if base.startswith("did:web:") and not offline:
            return _get_json(did_web_url(base))
        raise LookupError(f"the DID document of {base} is not available (pass --did-document did.json)")

    def fetch_status(url: str) -> Any:
        if offline:
            raise LookupError("offline")
        return _get_json(url)

    result = verify_credential(raw, resolve, fetch_status)
    status_unknown = False
    for i, check in enumerate(result.checks):
        if check.name == "status" and check.status == "fail" and _UNREACHABLE in check.reason:
            result.checks[i] = Check("status", "skip", "Not checked: the issuer's status list could not be reached "
                                     "(the credential may have been revoked since).")
            status_unknown = True
    width = max(len(c.name) for c in result.checks)
    for c in result.checks:
        mark = {"pass": "PASS", "fail": "FAIL", "skip": "----"}[c.status]
        print(f"{mark}  {c.name:<{width}}  {c.reason}")
    if not result.verified:
        print("\nNOT VERIFIED.")
        return 1
    print("\nVERIFIED, but the status was not checked." if status_unknown else "\nVERIFIED.")
    return 2 if status_unknown else 0
