"""A real S3 API server on 127.0.0.1 for the tests (moto's server mode, a test-only dependency), and
a fixture that points Cadre's storage at a fresh bucket on it.

moto speaks the S3 protocol over HTTP like any S3-compatible store; it does not check presigned URL
signatures or their expiry, which is why Cadre's short-lived file links are Cadre's own
(api/core/signed.py) whatever the store."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

S3_KEYS = {"s3_access_key_id": "cadre-test-key", "s3_secret_access_key": "cadre-test-secret",
           "s3_region": "eu-west-2"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The server's endpoint URL."""
    from moto.server import ThreadedMotoServer

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server) -> str:
    """A new, empty bucket on the server."""
    import boto3

    name = f"cadre-{secrets.token_hex(6)}"
    client = boto3.session.Session().client(
        "s3", endpoint_url=s3_server, region_name=S3_KEYS["s3_region"],
        aws_access_key_id=S3_KEYS["s3_access_key_id"], aws_secret_access_key=S3_KEYS["s3_secret_access_key"])
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_KEYS["s3_region"]})
    return name


@pytest.fixture
def use_s3(s3_server, s3_bucket, monkeypatch) -> str:
    """Cadre's settings choose S3 (this bucket on the local server) for the test; the bucket's name."""
    from api.core.config import get_settings

    settings = get_settings()
    for field, value in {"storage": "s3", "s3_bucket": s3_bucket, "s3_endpoint_url": s3_server, **S3_KEYS}.items():
        monkeypatch.setattr(settings, field, value)
    return s3_bucket
