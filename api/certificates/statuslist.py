"""W3C Bitstring Status List v1.0: one bit per issued credential says revoked (or suspended).

The list is a bitstring of at least 131,072 bits, GZIP-compressed and written as multibase
base64url without padding ('u…'). Index 0 is the left-most (most significant) bit of the first
byte. The list travels inside a BitstringStatusListCredential, signed like any credential, so a
verifier can tell a genuine list from a forged one.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from api.certificates.dataintegrity import xsd_datetime
from api.certificates.jsonld import CREDENTIALS_V2

MIN_STATUS_LIST_BITS = 131_072  # 16 KiB: the spec's floor, so one index says little about whose it is
# A status list is fetched from elsewhere when verifying; a gzip bomb must not eat the memory.
MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024

StatusPurpose = Literal["revocation", "suspension"]
STATUS_PURPOSES: tuple[str, ...] = ("revocation", "suspension")


class StatusListError(ValueError):
    """A status list or status entry is malformed; the message is meant for people."""


class StatusList:
    """A mutable bitstring; set() revokes or suspends, get() reads."""

    def __init__(self, size_bits: int = MIN_STATUS_LIST_BITS):
        if size_bits < MIN_STATUS_LIST_BITS or size_bits % 8:
            raise StatusListError(f"a status list needs a multiple of 8 and at least {MIN_STATUS_LIST_BITS} bits")
        self._bits = bytearray(size_bits // 8)

    @property
    def size(self) -> int:
        return len(self._bits) * 8

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.size:
            raise StatusListError(f"status list index {index!r} is outside 0..{self.size - 1}")
        return index // 8, 7 - index % 8  # index 0 is the left-most bit

    def get(self, index: int) -> bool:
        byte, bit = self._locate(index)
        return bool(self._bits[byte] >> bit & 1)

    def set(self, index: int, value: bool = True) -> None:
        byte, bit = self._locate(index)
        if value:
            self._bits[byte] |= 1 << bit
        else:
            self._bits[byte] &= ~(1 << bit) & 0xFF

    def encode(self) -> str:
        """encodedList: 'u' + base64url(gzip(bits)) without padding; mtime 0 keeps it reproducible."""
        compressed = gzip.compress(bytes(self._bits), mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: Any) -> StatusList:
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url, starting with 'u'")
        body = encoded[1:]
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise StatusListError("encodedList is not valid base64url") from None
        inflater = zlib.decompressobj(wbits=31)  # 31: gzip container only
        try:
            raw = inflater.decompress(compressed, MAX_STATUS_LIST_BYTES + 1)
        except zlib.error:
            raise StatusListError("encodedList is not GZIP-compressed data") from None
        if len(raw) > MAX_STATUS_LIST_BYTES or inflater.unconsumed_tail:
            raise StatusListError(f"the status list is larger than {MAX_STATUS_LIST_BYTES} bytes once expanded")
        if len(raw) * 8 < MIN_STATUS_LIST_BITS:
            raise StatusListError(
                f"the status list has {len(raw) * 8} bits; at least {MIN_STATUS_LIST_BITS} are required"
            )
        status_list = cls.__new__(cls)
        status_list._bits = bytearray(raw)
        return status_list


@dataclass(frozen=True)
class StatusEntry:
    """Where a credential's status bit lives: list URL, index in it, and what a set bit means."""

    status_list_credential: str
    status_list_index: int
    status_purpose: StatusPurpose = "revocation"

    def as_json(self) -> dict[str, Any]:
        """The credentialStatus value (a BitstringStatusListEntry)."""
        if self.status_purpose not in STATUS_PURPOSES:
            raise StatusListError(f"status purpose must be one of {STATUS_PURPOSES}")
        if self.status_list_index < 0:
            raise StatusListError("status list index must not be negative")
        return {
            "id": f"{self.status_list_credential}#{self.status_list_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.status_purpose,
            "statusListIndex": str(self.status_list_index),
            "statusListCredential": self.status_list_credential,
        }


def build_status_list_credential(
    *,
    credential_id: str,
    issuer: str,
    status_purpose: StatusPurpose,
    status_list: StatusList,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential; sign it with dataintegrity.add_proof."""
    if status_purpose not in STATUS_PURPOSES:
        raise StatusListError(f"status purpose must be one of {STATUS_PURPOSES}")
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": credential_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": {
            "id": f"{credential_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_purpose,
            "encodedList": status_list.encode(),
        },
    }
    if valid_until is not None:
        credential["validUntil"] = xsd_datetime(valid_until)
    return credential


def parse_entry(entry: Any) -> StatusEntry:
    """A credentialStatus value read back into a StatusEntry, or StatusListError saying what is wrong."""
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        raise StatusListError("credentialStatus is not a BitstringStatusListEntry")
    purpose = entry.get("statusPurpose")
    if purpose not in STATUS_PURPOSES:
        raise StatusListError(f"status purpose {purpose!r} is not supported (only {', '.join(STATUS_PURPOSES)})")
    if entry.get("statusSize", 1) not in (1, "1"):
        raise StatusListError("only one-bit statuses (statusSize 1) are supported")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit() or len(index) > 12:
        raise StatusListError(f"statusListIndex {index!r} is not a non-negative integer string")
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise StatusListError("statusListCredential must be an http(s) URL")
    return StatusEntry(status_list_credential=url, status_list_index=int(index), status_purpose=purpose)


def status_bit(entry: StatusEntry, status_list_credential: dict[str, Any]) -> bool:
    """The entry's bit in an (already verified) status list credential: True means revoked/suspended."""
    if status_list_credential.get("id") != entry.status_list_credential:
        raise StatusListError("the status list fetched is not the one the credential names")
    types = status_list_credential.get("type", [])
    if "BitstringStatusListCredential" not in (types if isinstance(types, list) else [types]):
        raise StatusListError("the status list is not a BitstringStatusListCredential")
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        raise StatusListError("the status list credential has no BitstringStatusList subject")
    purposes = subject.get("statusPurpose")
    if entry.status_purpose not in (purposes if isinstance(purposes, list) else [purposes]):
        raise StatusListError(f"the status list is not a {entry.status_purpose} list")
    bits = StatusList.decode(subject.get("encodedList"))
    if entry.status_list_index >= bits.size:
        raise StatusListError(f"status list index {entry.status_list_index} is beyond the list's {bits.size} bits")
    return bits.get(entry.status_list_index)
