"""Health, readiness, money, markdown safety and the migrations matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from api.core.markdown import render_markdown
from api.core.money import format_money, split_instalments
from tests.conftest import REAL_SELLER


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"


@pytest.mark.parametrize("amount,currency,text", [
    (86000, "GBP", "£860"), (43000, "GBP", "£430"), (10750, "GBP", "£107.50"), (123456789, "USD", "$1,234,567.89"),
    (500, "JPY", "5 JPY"), (-43000, "GBP", "\u2212£430"), (-10750, "GBP", "\u2212£107.50"),
])
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_instalments_always_add_up_to_the_total():
    assert split_instalments(43000, 4) == [10750] * 4
    assert split_instalments(1000, 3) == [334, 333, 333]
    for total in range(0, 5000, 7):
        for n in range(1, 13):
            parts = split_instalments(total, n)
            assert sum(parts) == total and max(parts) - min(parts) <= 1


def test_markdown_never_passes_script_or_raw_html():
    html = render_markdown("Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_migrations_match_the_models(engine):
    import api.models  # noqa: F401

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"models and migrations differ; run `alembic revision --autogenerate`: {diff}"


def test_migrations_run_down_and_up_again(tmp_path):
    """On a scratch database of the same kind, the whole chain downgrades and upgrades cleanly."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from api.core.config import ROOT, get_settings

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["skip_logging"] = True
    settings = get_settings()
    if settings.is_sqlite:
        cfg.attributes["url"] = f"sqlite:///{tmp_path / 'scratch.db'}"
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        return
    url = make_url(settings.database_url)
    scratch = f"{url.database}_scratch"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        cfg.attributes["url"] = url.set(database=scratch).render_as_string(hide_password=False)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_production_refuses_default_secret_and_sqlite(monkeypatch):
    from pydantic import ValidationError

    from api.core.config import DEV_SECRET, Settings

    with pytest.raises(ValidationError, match="refusing to start in production") as exc:
        Settings(env="production", secret_key=DEV_SECRET, database_url="sqlite:///x.db", email_backend="console")
    for problem in ("CADRE_SECRET_KEY", "CADRE_DATABASE_URL", "CADRE_EMAIL_BACKEND"):
        assert problem in str(exc.value)
    ok = Settings(env="production", secret_key="x" * 40, database_url="postgresql+psycopg://db/cadre",
                  base_url="https://cadre.example.org",
                  email_backend="smtp", stripe_secret_key="sk_live_x", stripe_webhook_secret="whsec_x",
                  storage="s3", s3_bucket="uploads", **REAL_SELLER)
    assert ok.env == "production"


def test_production_refuses_the_example_seller_and_development_keeps_it():
    from pydantic import ValidationError

    from api.core.config import Settings

    safe = {"env": "production", "secret_key": "x" * 40, "database_url": "postgresql+psycopg://db/cadre",
            "base_url": "https://cadre.example.org", "email_backend": "smtp", "stripe_secret_key": "sk_live_x",
            "stripe_webhook_secret": "whsec_x", "storage": "s3", "s3_bucket": "uploads"}
    with pytest.raises(ValidationError, match="refusing to start in production") as exc:
        Settings(**safe)
    assert ("CADRE_SELLER_LEGAL_NAME and CADRE_SELLER_ADDRESS and CADRE_SELLER_VAT_NUMBER must be set to the "
            "seller's own legal name and address and VAT number") in str(exc.value)
    # One left at its example: only that one is named.
    with pytest.raises(ValidationError) as exc:
        Settings(**safe, **{**REAL_SELLER, "seller_address": Settings.model_fields["seller_address"].default})
    assert "CADRE_SELLER_ADDRESS" in str(exc.value)
    assert "CADRE_SELLER_LEGAL_NAME" not in str(exc.value) and "CADRE_SELLER_VAT_NUMBER" not in str(exc.value)
    # A seller not registered for VAT says so with an empty number.
    assert Settings(**safe, **{**REAL_SELLER, "seller_vat_number": ""}).seller_vat_number == ""
    assert Settings(**safe, **REAL_SELLER).seller_legal_name == REAL_SELLER["seller_legal_name"]
    # Development keeps the example seller (its invoices say SPECIMEN).
    dev = Settings(env="development")
    assert dev.seller_vat_number == Settings.model_fields["seller_vat_number"].default


def test_the_app_does_not_start_in_production_with_the_example_seller(tmp_path):
    """`cadre serve` (any command) fails at once, naming the settings, before serving anything."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update({"CADRE_ENV": "production", "CADRE_SECRET_KEY": "x" * 40,
                "CADRE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                "CADRE_BASE_URL": "https://cadre.example.org", "CADRE_EMAIL_BACKEND": "smtp",
                "CADRE_STRIPE_SECRET_KEY": "sk_live_x", "CADRE_STRIPE_WEBHOOK_SECRET": "whsec_x",
                "CADRE_STORAGE": "s3", "CADRE_S3_BUCKET": "uploads",
                "CADRE_SELLER_LEGAL_NAME": "Northgate Learning Ltd"})
    run = subprocess.run([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    out = run.stdout + run.stderr
    assert run.returncode != 0 and "refusing to start in production" in out, out[-2000:]
    assert "CADRE_SELLER_ADDRESS and CADRE_SELLER_VAT_NUMBER must be set" in out
    assert "CADRE_SELLER_LEGAL_NAME" not in out


def test_api_docs_are_served_without_a_cdn(client):
    import swagger_ui_bundle

    page = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "swagger-ui-5." in str(swagger_ui_bundle.swagger_ui_path)  # 5.x reads OpenAPI 3.1; 4.15 could not
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/programmes" in spec["paths"] and "/api/v1/auth/login" in spec["paths"]


def test_serve_refuses_the_development_secret_off_loopback(monkeypatch, capsys):
    from api.cli import main
    from api.core.config import DEV_SECRET, get_settings

    monkeypatch.setattr(get_settings(), "secret_key", DEV_SECRET)
    assert main(["serve", "--host", "0.0.0.0"]) == 1  # noqa: S104 - the point of the test
    assert "development secret" in capsys.readouterr().err


def test_an_unexpected_error_still_answers_in_the_standard_shape(app):
    from fastapi.testclient import TestClient

    @app.get("/api/v1/boom", include_in_schema=False)
    def boom():
        raise RuntimeError("internal detail that must not leak")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom")
    assert r.status_code == 500
    body = r.json()["error"]
    assert body["code"] == "internal_error" and "request id" in body["message"]
    assert "internal detail" not in r.text


def test_readiness_fails_when_the_database_is_gone(app, monkeypatch):
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    import api.main

    monkeypatch.setattr(api.main, "get_engine", lambda: create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with TestClient(app) as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["error"]["code"] == "not_ready"


def test_session_cookie_is_secure_under_https(client, make_user, monkeypatch):
    from api.core.config import get_settings

    make_user("https@example.com")
    monkeypatch.setattr(get_settings(), "base_url", "https://cadre.example.org")
    r = client.post("/api/v1/auth/login", json={"email": "https@example.com", "password": "correct-horse-battery"})
    assert "Secure" in r.headers["set-cookie"]


def test_one_date_format_everywhere():
    from datetime import UTC, date, datetime

    from api.core.templates import env

    assert env.filters["date"](date(2026, 12, 1)) == "1 December 2026"
    assert env.filters["date"](datetime(2027, 1, 1, 9, 5, tzinfo=UTC)) == "1 January 2027"
    assert env.filters["date_time"](datetime(2026, 12, 1, 14, 5, tzinfo=UTC)) == "1 December 2026, 14:05 UTC"


def test_console_email_file_names_have_no_colons(tmp_path):
    from email.message import EmailMessage

    from api.core.config import Settings
    from api.core.email import _to_console

    msg = EmailMessage()
    msg["To"], msg["Subject"] = "a@example.com", "Hello"
    msg.set_content("Hi")
    _to_console(msg, Settings(var_dir=tmp_path))
    [saved] = (tmp_path / "mail").iterdir()
    assert ":" not in saved.name and saved.suffix == ".eml"
