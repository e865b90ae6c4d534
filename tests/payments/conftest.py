"""Payments test helpers: the demo code, a logged-in learner, and Stripe-signed events."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from api.core.config import get_settings


def stripe_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}", "object": "event", "type": event_type,
            "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
            "data": {"object": obj}}


def signed(event: dict, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header, made with the stripe library's own signer."""
    import stripe

    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret or get_settings().webhook_secret, timestamp=timestamp)
    return body.encode(), header


@pytest.fixture
def send_event(client):
    def send(event_type: str, obj: dict, event_id: str | None = None, **kw):
        body, header = signed(stripe_event(event_type, obj, event_id), **kw)
        return client.post("/webhooks/stripe", content=body,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})

    return send


@pytest.fixture
def special50(db):
    from api.payments import codes

    codes.ensure_demo_codes(db)
    db.commit()
    return codes.get(db, "special50")


@pytest.fixture
def learner(make_user, login):
    user = make_user()
    login(user.email)
    return user


def checkout_object(order, **fields) -> dict:
    """A Stripe checkout.session for `order`, as Stripe would send it in an event."""
    base = {"id": order.provider_session_id, "object": "checkout.session",
            "mode": "subscription" if order.instalment_count > 1 else "payment", "status": "complete",
            "payment_status": "paid", "client_reference_id": order.public_id,
            "metadata": {"cadre_order": order.public_id}, "amount_total": order.amount_total,
            "currency": order.currency.lower(), "customer": "cus_test_1", "payment_intent": None,
            "subscription": None, "invoice": None}
    base.update(fields)
    return base


def invoice_object(order, invoice_id: str, amount: int, *, paid: bool = True, payment_intent: str | None = None,
                   reason: str = "subscription_cycle", subscription: str = "sub_test_1") -> dict:
    return {"id": invoice_id, "object": "invoice", "status": "paid" if paid else "open", "billing_reason": reason,
            "amount_due": amount, "amount_paid": amount if paid else 0, "currency": order.currency.lower(),
            "hosted_invoice_url": "https://invoice.example/pay" if not paid else None,
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": subscription, "metadata": {"cadre_order": order.public_id}}},
            "payments": {"object": "list", "data": [{"object": "invoice_payment", "status": "paid",
                                                     "payment": {"type": "payment_intent",
                                                                 "payment_intent": payment_intent}}]
                         if payment_intent else []}}


# --- Stripe over HTTP: localstripe, with the stand-in in front for what localstripe lacks ---------

STRIPE_TEST_KEY = "sk_test_cadre_localstripe"
STRIPE_TEST_WEBHOOK_SECRET = "whsec_test_cadre_localstripe"


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """localstripe (GPL; a test-only dependency) in a subprocess on a free port, answering on 127.0.0.1."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from tests.conftest import free_port

    try:
        import localstripe.server  # noqa: F401
    except ImportError:
        pytest.skip("localstripe is not installed (pip install -e '.[test]')")
    port = free_port()
    work = tmp_path_factory.mktemp("localstripe")
    pickle = Path("/tmp/localstripe.pickle")  # noqa: S108 - localstripe's own fixed path
    existed = pickle.exists()
    log = open(work / "localstripe.log", "w")  # noqa: SIM115 - closed at teardown
    # Its own `localstripe` command listens on every interface; serve its app on loopback only.
    serve = ("import sys; from aiohttp import web; from localstripe.server import app; "
             "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)")
    proc = subprocess.Popen([sys.executable, "-c", serve, str(port)], cwd=work, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/v1/customers", auth=(STRIPE_TEST_KEY, ""), timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"localstripe did not start; see {work / 'localstripe.log'}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    if not existed:
        pickle.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def stripe_standin(localstripe):
    from tests.payments.stripe_standin import StripeStandIn

    server = StripeStandIn(localstripe).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_settings(monkeypatch, stripe_standin):
    """Cadre configured for Stripe, with the stripe library pointed at the stand-in (and localstripe)."""
    monkeypatch.setenv("CADRE_STRIPE_SECRET_KEY", STRIPE_TEST_KEY)
    monkeypatch.setenv("CADRE_STRIPE_WEBHOOK_SECRET", STRIPE_TEST_WEBHOOK_SECRET)
    monkeypatch.setenv("CADRE_STRIPE_API_BASE", stripe_standin.url)
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def stripe_client(stripe_standin):
    """The stripe library, for a test's own setup in localstripe (what a real payment would create)."""
    import stripe

    return stripe.StripeClient(STRIPE_TEST_KEY, base_addresses={"api": stripe_standin.url})
