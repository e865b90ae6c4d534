"""Cadre's own short-lived signed links: the expiry is checked by Cadre, the purpose is bound in, and
any change to a token breaks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.core import signed

NOW = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_a_fresh_token_gives_back_its_subject_until_it_expires():
    token = signed.sign("file", "f_7KQ2M9XD", timedelta(minutes=5), now=NOW)
    assert signed.verify("file", token, now=NOW) == "f_7KQ2M9XD"
    assert signed.verify("file", token, now=NOW + timedelta(minutes=4, seconds=59)) == "f_7KQ2M9XD"
    assert signed.expires_at(token) == NOW + timedelta(minutes=5)


def test_an_expired_token_is_refused():
    token = signed.sign("file", "f_1", timedelta(minutes=5), now=NOW)
    assert signed.verify("file", token, now=NOW + timedelta(minutes=5)) is None
    assert signed.verify("file", token, now=NOW + timedelta(days=30)) is None
    # And against the real clock: a token made ten minutes ago for five minutes no longer works.
    old = signed.sign("file", "f_1", timedelta(minutes=5), now=datetime.now(UTC) - timedelta(minutes=10))
    assert signed.verify("file", old) is None
    assert signed.verify("file", signed.sign("file", "f_1", timedelta(minutes=5))) == "f_1"


def test_a_token_for_another_purpose_is_refused():
    token = signed.sign("file", "f_1", timedelta(minutes=5), now=NOW)
    assert signed.verify("file-download", token, now=NOW) is None
    assert signed.verify("email", token, now=NOW) is None


def test_any_tampering_is_refused():
    token = signed.sign("file", "f_1", timedelta(minutes=5), now=NOW)
    body, mac = token.split(".")
    # Another subject or a later expiry, with the old signature.
    forged_subject = signed._b64(b'["f_2",' + str(int((NOW + timedelta(minutes=5)).timestamp())).encode() + b"]")
    forged_expiry = signed._b64(b'["f_1",' + str(int((NOW + timedelta(days=5)).timestamp())).encode() + b"]")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (f"{forged_subject}.{mac}", f"{forged_expiry}.{mac}", f"{body}.{flipped}", body, f"{body}.",
                f".{mac}", f"{body}.{mac}.{mac}", "", None, "x" * 5000, "not-base64!.also-not"):
        assert signed.verify("file", bad, now=NOW) is None


def test_a_token_signed_with_another_secret_is_refused(monkeypatch):
    from api.core.config import get_settings

    token = signed.sign("file", "f_1", timedelta(minutes=5), now=NOW)
    monkeypatch.setattr(get_settings(), "secret_key", "another-secret-that-is-also-long-enough-0000")
    assert signed.verify("file", token, now=NOW) is None


def test_tokens_are_made_only_for_sensible_purposes_and_lifetimes():
    for ttl in (timedelta(0), timedelta(seconds=-1), timedelta(days=8)):
        with pytest.raises(ValueError):
            signed.sign("file", "f_1", ttl)
    with pytest.raises(ValueError):
        signed.sign("File Purpose", "f_1", timedelta(minutes=1))
