"""Outbox fixtures: an SMTP server of the test's own (aiosmtpd) that can be stopped and started
again, settings that point a worker at it, and links read out of a received email."""

from __future__ import annotations

import re
from collections import Counter
from email import message_from_bytes
from email import policy as email_policy

import pytest

from api.core.config import get_settings
from tests.conftest import free_port
from tests.learning.conftest import enrol, outline  # noqa: F401 - other domains' fixtures, shared here
from tests.payments.conftest import learner, special50  # noqa: F401


class CountingServer:
    """A real SMTP server on its own port; counts every message it accepts, by Message-ID."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.original_content, policy=email_policy.default))
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def ids(self) -> Counter:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def settings(self, **changes):
        """Settings for a worker that sends here (and whatever else the test changes)."""
        return get_settings().model_copy(update={"email_backend": "smtp", "smtp_host": "127.0.0.1",
                                                 "smtp_port": self.port, "smtp_timeout_seconds": 5, **changes})


@pytest.fixture
def smtp_server():
    server = CountingServer()
    server.start()
    yield server
    server.stop()


def links(body: str) -> list[str]:
    """The site's links in an email body, as paths (a sentence's full stop is not part of a link)."""
    base = re.escape(get_settings().base_url.rstrip("/"))
    return [m.rstrip(".,;:") or "/" for m in re.findall(base + r"(/[^\s<>\"')]*)", body)]


@pytest.fixture
def links_answer(client):
    """Every site link in the email answers 200 for whoever the client is logged in as."""

    def check(body: str, at_least: int = 1) -> list[str]:
        found = links(body)
        assert len(found) >= at_least, f"expected links in: {body}"
        for path in found:
            r = client.get(path, follow_redirects=True)
            assert r.status_code == 200, f"{path} answered {r.status_code}"
            assert not r.url.path.startswith("/login"), f"{path} asked the recipient to log in"
        return found

    return check
