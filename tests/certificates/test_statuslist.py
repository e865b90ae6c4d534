"""Bitstring Status List encoding, decoding and limits."""

from __future__ import annotations

import base64
import gzip

import pytest

from api.certificates.statuslist import (
    MIN_STATUS_LIST_BITS,
    StatusEntry,
    StatusList,
    StatusListError,
    build_status_list_credential,
    parse_entry,
    status_bit,
)

from .conftest import ISSUED_AT

LIST_URL = "https://cadre.test/status/1"


def test_new_list_has_the_minimum_size_and_no_bits_set():
    status_list = StatusList()
    assert status_list.size == MIN_STATUS_LIST_BITS == 131_072
    assert not any(status_list.get(i) for i in (0, 1, 4242, MIN_STATUS_LIST_BITS - 1))


def test_set_and_clear_a_bit():
    status_list = StatusList()
    status_list.set(4242)
    assert status_list.get(4242) and not status_list.get(4241) and not status_list.get(4243)
    status_list.set(4242, False)
    assert not status_list.get(4242)


def test_index_zero_is_the_left_most_bit():
    status_list = StatusList()
    status_list.set(0)
    status_list.set(15)
    encoded = status_list.encode()
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[:2] == b"\x80\x01"


def test_encoding_is_multibase_base64url_without_padding_and_round_trips():
    status_list = StatusList()
    for index in (0, 7, 8, 99_999, MIN_STATUS_LIST_BITS - 1):
        status_list.set(index)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert encoded == status_list.encode()  # reproducible (gzip mtime fixed)
    decoded = StatusList.decode(encoded)
    assert [i for i in range(decoded.size) if decoded.get(i)] == [0, 7, 8, 99_999, MIN_STATUS_LIST_BITS - 1]


def test_out_of_range_and_undersized_lists_are_refused():
    with pytest.raises(StatusListError, match="outside"):
        StatusList().get(MIN_STATUS_LIST_BITS)
    with pytest.raises(StatusListError, match="at least"):
        StatusList(1024)
    small = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16))).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="at least 131072"):
        StatusList.decode(small)


def test_a_gzip_bomb_is_not_expanded_in_full():
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(64 * 1024 * 1024))).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="larger than"):
        StatusList.decode(bomb)


def test_garbage_encoded_lists_are_refused():
    for value in [None, "zabc", "u!!!", "u" + base64.urlsafe_b64encode(b"not gzip").decode()]:
        with pytest.raises(StatusListError):
            StatusList.decode(value)


def test_entry_and_list_credential_shapes():
    entry = StatusEntry(LIST_URL, 42, "suspension")
    assert entry.as_json() == {
        "id": f"{LIST_URL}#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "42",
        "statusListCredential": LIST_URL,
    }
    assert parse_entry(entry.as_json()) == entry
    status_list = StatusList()
    status_list.set(42)
    credential = build_status_list_credential(
        credential_id=LIST_URL,
        issuer="did:web:cadre.test",
        status_purpose="suspension",
        status_list=status_list,
        valid_from=ISSUED_AT,
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["credentialSubject"]["type"] == "BitstringStatusList"
    assert status_bit(entry, credential) is True
    with pytest.raises(StatusListError, match="not a revocation list"):
        status_bit(StatusEntry(LIST_URL, 42, "revocation"), credential)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"statusPurpose": "refresh"}, "not supported"),
        ({"statusListIndex": 42}, "integer string"),
        ({"statusListIndex": "-1"}, "integer string"),
        ({"statusListCredential": "ftp://x"}, "http"),
        ({"statusSize": 2}, "one-bit"),
        ({"type": "StatusList2021Entry"}, "BitstringStatusListEntry"),
    ],
)
def test_malformed_entries_are_refused(change, message):
    with pytest.raises(StatusListError, match=message):
        parse_entry(StatusEntry(LIST_URL, 1).as_json() | change)
