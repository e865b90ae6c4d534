"""Settings from the environment (CADRE_ prefix), with safe local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused in production below


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADRE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    secret_key: str = DEV_SECRET
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str = f"sqlite:///{ROOT / 'var' / 'cadre.db'}"
    content_dir: Path = ROOT / "content"
    var_dir: Path = ROOT / "var"
    # Issuer signing keys (Ed25519 PEM files, mode 600) and their index; back this directory up.
    keys_dir: Path = ROOT / "var" / "keys"
    issuer_name: str = "Cadre Accreditation"  # the body named on certificates and credentials

    # Email: "console" prints each message and files it under var/mail; "smtp" sends it.
    email_backend: Literal["console", "smtp"] = "console"
    email_from: str = "Cadre <no-reply@cadre.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    session_days: int = 14
    # Login throttling: this many failures in the window locks the account (or the address).
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_window_minutes: int = 15

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            problems = []
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                problems.append("CADRE_SECRET_KEY must be set to a random value of 32+ characters")
            if self.is_sqlite:
                problems.append("CADRE_DATABASE_URL must point at PostgreSQL")
            if self.email_backend == "console":
                problems.append("CADRE_EMAIL_BACKEND must be smtp")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
