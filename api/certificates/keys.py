"""Issuer signing keys: Ed25519 keys kept as PEM files, one current key and any number of retired
ones, published together in the site's did:web DID document and JWKS.

A retired key signs nothing new but stays published, so credentials it signed keep verifying.
Layout of settings.keys_dir (mode 700):
    keys.json        index: [{"id": "key-…", "file": "key-….pem", "status": "current"|"retired", …}]
    key-….pem        PKCS#8 private key, mode 600
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from api.certificates.dataintegrity import public_key_to_multibase, xsd_datetime
from api.certificates.jsonld import DID_V1, MULTIKEY_V1
from api.core.config import get_settings

INDEX_FILE = "keys.json"
LOCK_FILE = ".lock"
KeyStatus = Literal["current", "retired"]

_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


class KeyStoreError(RuntimeError):
    """The key directory is missing, inconsistent or unsafe; the message says what to do."""


@dataclass(frozen=True)
class IssuerKey:
    key_id: str  # the DID URL fragment, e.g. "key-3f9a2c1b"
    status: KeyStatus
    created_at: str
    retired_at: str | None
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_multibase(self) -> str:
        return public_key_to_multibase(self.public_key)

    def verification_method(self, host: str) -> str:
        """The id credentials name in proof.verificationMethod, e.g. did:web:cadre.example#key-…"""
        return f"{did_web(host)}#{self.key_id}"


def did_web(host: str) -> str:
    """did:web for a host, a port's colon percent-encoded: did:web:127.0.0.1%3A8000."""
    if not _HOST.match(host):
        raise ValueError(f"{host!r} is not a host name (with optional port) usable in did:web")
    return "did:web:" + host.replace(":", "%3A")


def host_from_base_url(base_url: str) -> str:
    """The host[:port] of the site's base URL (settings.base_url), for did_web()."""
    return urlsplit(base_url).netloc


def did_web_document_url(did: str) -> str:
    """Where a host-only did:web publishes its DID document (did:web method, §3.2)."""
    if not did.startswith("did:web:") or ":" in did.removeprefix("did:web:"):
        raise ValueError(f"{did!r} is not a host-only did:web")
    return f"https://{unquote(did.removeprefix('did:web:'))}/.well-known/did.json"


def _keys_dir(keys_dir: Path | None) -> Path:
    return Path(keys_dir) if keys_dir is not None else get_settings().keys_dir


def _now() -> str:
    return xsd_datetime(datetime.now(UTC))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise create/rotate across processes so two rotations cannot both become current."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    with open(directory / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_index(directory: Path) -> list[dict[str, Any]]:
    path = directory / INDEX_FILE
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyStoreError(f"{path} is not a valid key index ({exc}); restore it from backup") from exc
    if sum(1 for e in entries if e.get("status") == "current") > 1:
        raise KeyStoreError(f"{path} lists more than one current key; restore it from backup")
    return entries


def _write_index(directory: Path, entries: list[dict[str, Any]]) -> None:
    tmp = directory / f".{INDEX_FILE}.tmp"
    tmp.write_text(json.dumps({"keys": entries}, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, directory / INDEX_FILE)  # atomic: readers see the old or the new index


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        raise KeyStoreError(f"key file {path} is missing; restore it from backup")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        # Like ssh: a signing key others can read may already be someone else's.
        raise KeyStoreError(f"key file {path} is readable by other users; run: chmod 600 {path}")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyStoreError(f"key file {path} does not hold an Ed25519 key")
    return key


def _new_key_file(directory: Path) -> tuple[str, str]:
    key_id = f"key-{secrets.token_hex(4)}"
    filename = f"{key_id}.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # O_EXCL with mode 600 from the start: the key is never on disk with looser permissions.
    fd = os.open(directory / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(directory / filename, 0o600)
    return key_id, filename


def load_keys(keys_dir: Path | None = None) -> list[IssuerKey]:
    """All published keys, the current one first, then retired ones newest first."""
    directory = _keys_dir(keys_dir)
    keys = [
        IssuerKey(
            key_id=entry["id"],
            status=entry["status"],
            created_at=entry["created_at"],
            retired_at=entry.get("retired_at"),
            private_key=_load_private_key(directory / entry["file"]),
        )
        for entry in reversed(_read_index(directory))  # the index only grows: last is newest
    ]
    return sorted(keys, key=lambda k: k.status != "current")  # stable: current, then retired newest first


def current_key(keys_dir: Path | None = None) -> IssuerKey:
    """The key that signs new credentials."""
    for key in load_keys(keys_dir):
        if key.status == "current":
            return key
    raise KeyStoreError("there is no current issuer key; create one with create_key() (cadre keys create)")


def create_key(keys_dir: Path | None = None) -> IssuerKey:
    """Create the first signing key. Refuses if a current key exists: use rotate_key() instead."""
    directory = _keys_dir(keys_dir)
    with _locked(directory):
        entries = _read_index(directory)
        if any(e["status"] == "current" for e in entries):
            raise KeyStoreError("a current issuer key already exists; use rotate_key() to replace it")
        key_id, filename = _new_key_file(directory)
        entries.append({"id": key_id, "file": filename, "status": "current", "created_at": _now(), "retired_at": None})
        _write_index(directory, entries)
    return current_key(directory)


def rotate_key(keys_dir: Path | None = None) -> IssuerKey:
    """Make a new current key; the old one is retired but stays published so its credentials verify."""
    directory = _keys_dir(keys_dir)
    with _locked(directory):
        entries = _read_index(directory)
        now = _now()
        for entry in entries:
            if entry["status"] == "current":
                entry["status"] = "retired"
                entry["retired_at"] = now
        key_id, filename = _new_key_file(directory)
        entries.append({"id": key_id, "file": filename, "status": "current", "created_at": now, "retired_at": None})
        _write_index(directory, entries)
    return current_key(directory)


def did_document(host: str, keys: Sequence[IssuerKey]) -> dict[str, Any]:
    """The did:web DID document served at /.well-known/did.json.

    assertionMethod lists current and retired keys alike: a credential is checked against the key
    that signed it, which must still be listed for the credential to keep verifying.
    """
    did = did_web(host)
    methods = [
        {
            "id": key.verification_method(host),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def jwks(host: str, keys: Sequence[IssuerKey]) -> dict[str, Any]:
    """The same public keys as a JSON Web Key Set (RFC 8037 OKP keys), for JOSE-minded consumers."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
                .rstrip(b"=")
                .decode(),
                "kid": key.verification_method(host),
                "use": "sig",
                "alg": "EdDSA",
            }
            for key in keys
        ]
    }
