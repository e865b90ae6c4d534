"""Oversized bodies are refused before they are read into memory."""

from __future__ import annotations


def test_declared_oversized_body_gets_413(client):
    r = client.post("/webhooks/stripe", content=b"x" * (600 * 1024), headers={"Stripe-Signature": "t=1,v1=x"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    r = client.post("/api/v1/auth/login", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_streamed_oversized_body_is_cut_off(client):
    def chunks():
        for _ in range(40):
            yield b"x" * (32 * 1024)

    r = client.post("/webhooks/stripe", content=chunks(), headers={"Stripe-Signature": "t=1,v1=x"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_normal_bodies_pass(client):
    r = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever-123"})
    assert r.status_code == 422  # reached the handler
