"""Settings from the environment (CADRE_ prefix), with safe local defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused in production below
# The seller's details whose example defaults are refused in production (below), with what each is.
SPECIMEN_SELLER = {"seller_legal_name": "legal name", "seller_address": "address",
                   "seller_vat_number": "VAT number (empty: not registered for VAT)"}


class OIDCProviderSettings(BaseModel):
    """One OpenID Connect provider people may log in with (see README, Single sign-on)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")  # in URLs (/sso/{key}/...) and stored with identities
    issuer: str  # exactly as the provider's discovery document states it
    client_id: str
    client_secret: str = ""
    name: str  # shown on the button: "Log in with {name}"
    # Email domains whose people are offered this provider on the log-in page, or must use it.
    domains: list[str] = []
    required: bool = False  # True: a password log-in for those domains is refused
    listed: bool = True  # shown to everyone on the log-in page (False: only to its domains)
    scopes: str = "openid email profile"

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, domains: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in domains if d.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADRE_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    secret_key: str = DEV_SECRET
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str = f"sqlite:///{ROOT / 'var' / 'cadre.db'}"
    # Connections and the requests that may hold one. A request holds at most two connections (its
    # own and a short independent one for rate-limit counters and failed log-ins), so at most
    # (pool size + overflow) / 2 requests hold a session at once; the rest wait for a slot without
    # holding a connection or a thread. Waiting longer than the pool timeout answers 503.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 5.0  # seconds
    db_slot_timeout: float = 30.0  # seconds a request may queue for a session slot (holding nothing)
    db_session_slots: int | None = None  # default: (pool size + overflow) / 2
    threadpool_threads: int | None = None  # worker threads for sync routes; default: max(40, 2 x slots)
    # Addresses (IPs or CIDRs, comma-separated) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. Empty: forwarded headers are ignored and the peer is the client.
    trusted_proxies: str = ""
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
    smtp_timeout_seconds: float = 15.0  # a hung mail server holds up the worker this long, never a page

    # The background worker (`cadre worker`; embedded in `cadre serve` outside production).
    worker_embedded: bool | None = None  # None: on unless CADRE_ENV=production
    worker_concurrency: int = 1  # threads per worker process, each with its own connection
    worker_poll_seconds: float = 1.0  # how often an idle worker looks for work
    worker_batch_size: int = 20  # messages claimed at a time
    worker_lease_seconds: int = 300  # a claim lapses after this long (a worker that died mid-batch)
    worker_max_attempts: int = 8  # then the message is a dead letter
    worker_backoff_seconds: int = 30  # first retry after this long, doubling each time ...
    worker_backoff_max_seconds: int = 3600  # ... up to this long
    worker_keep_days: int = 30  # delivered messages are deleted after this many days

    # Shared state for several app processes. Set: rate limits on public look-ups are counted in Redis
    # (shared by every process) and rendered public pages are shared between processes; empty: both live
    # in each process's memory. Durable limits (log-in throttling, code tries) are always in the database.
    web_workers: int = 1  # app processes `cadre serve` starts (--workers)
    redis_url: str = ""
    redis_prefix: str = "cadre:"  # every key Cadre writes starts with this
    lookups_per_minute: int = 60  # certificate look-ups per address (verify pages and the credentials API)
    # Bulk verification (api/certificates/bulk.py): the most rows one upload or API call checks, and the
    # rows (or credential files) an account or an API key may check per hour, counted like look-ups.
    bulk_max_rows: int = 1000
    bulk_rows_per_hour: int = 5000
    api_key_requests_per_minute: int = 120  # requests per API key (api/organisations/apikeys.py)
    # Anonymous public pages (home, catalogue, programme pages, hall of fame, /api/v1/programmes) are
    # rendered once per content version; each process re-reads the version at most this often, so a
    # `cadre content sync` run elsewhere shows within this many seconds (at once in the same process).
    page_cache: bool = True
    page_cache_recheck_seconds: float = 2.0
    # A logged-in viewer's lesson pages and dashboard kept once rendered (api/core/viewercache.py): seen
    # again only while nothing they show has changed (checked on every view) and for at most this long.
    viewer_cache: bool = True
    viewer_cache_seconds: float = 30.0
    viewer_cache_bytes: int = 64 * 1024 * 1024

    session_days: int = 14
    # Login throttling, per window: failures per account from one address, per account from every
    # address, and per address across accounts.
    login_max_failures_per_account: int = 5
    login_max_failures_per_account_everywhere: int = 50
    login_max_failures_per_ip: int = 20
    login_window_minutes: int = 15

    # Single sign-on: a JSON list of OIDCProviderSettings, e.g.
    # CADRE_OIDC_PROVIDERS='[{"key": "entra", "issuer": "https://...", "client_id": "...", ...}]'
    oidc_providers: list[OIDCProviderSettings] = []
    oidc_timeout_seconds: float = 10.0  # each call to a provider (discovery, keys, token)
    oidc_leeway_seconds: int = 60  # clock difference tolerated on a token's times

    # Payments. No Stripe key: the offline provider (a local checkout page that sends Stripe-shaped,
    # Stripe-signed events to the same webhook route). Refused in production.
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # empty: Stripe's own API; tests point it at a local stand-in
    stripe_webhook_tolerance_seconds: int = 300
    checkout_expiry_minutes: int = 60  # Stripe accepts 30 minutes to 24 hours
    instalment_grace_days: int = 7  # a failed instalment suspends access after this many days
    # The seller printed on invoices and credit notes (api/payments/invoices.py). The defaults are an
    # example for development: an invoice issued with them says it is a specimen. Prices include VAT
    # at seller_vat_rate percent (0: no VAT line). invoice_prefix starts every number (CAD-000001) and
    # names the seller's own numbering: change it and numbering starts again at 1 for the new seller.
    seller_legal_name: str = "Cadre Accreditation Ltd"
    seller_address: str = "1 Example Street; London EC1A 1AA; United Kingdom"  # lines split by ";"
    seller_vat_number: str = "GB000000000"
    seller_vat_rate: int = 20
    invoice_prefix: str = "CAD"

    # Organisations (api/organisations): how long an invitation link works, and how many times each
    # seat bought may be taken back from a member who has not started (a pool's budget: this × seats).
    org_invitation_days: int = 14
    org_seat_take_backs: int = 3

    # Uploaded files (api/core/storage.py). "local": files under uploads_dir (default <var_dir>/uploads);
    # "s3": a bucket on AWS or any S3-compatible store. Production refuses local storage unless told it
    # is one machine with a backed-up disk (allow_local_storage_in_production).
    storage: Literal["local", "s3"] = "local"
    uploads_dir: Path | None = None
    allow_local_storage_in_production: bool = False
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself; e.g. https://minio.internal:9000
    s3_region: str = ""
    s3_access_key_id: str = ""  # empty: boto3's own credentials chain (an instance role, AWS_* variables)
    s3_secret_access_key: str = ""
    s3_prefix: str = ""  # objects under this prefix in the bucket
    # Request bodies: the most any route reads, and the most a route that takes a file upload reads
    # (the upload routes are listed once, in api/core/middleware.py: UPLOAD_ROUTES).
    max_body_bytes: int = 1024 * 1024
    max_upload_body_bytes: int = 55 * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uploads_path(self) -> Path:
        return self.uploads_dir or self.var_dir / "uploads"

    @property
    def embedded_worker(self) -> bool:
        return self.env != "production" if self.worker_embedded is None else self.worker_embedded

    @property
    def session_slots(self) -> int:
        return self.db_session_slots or max(1, (self.db_pool_size + self.db_max_overflow) // 2)

    @property
    def threads(self) -> int:
        return self.threadpool_threads or max(40, 2 * self.session_slots)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def payments_provider(self) -> Literal["stripe", "offline"]:
        return "stripe" if self.stripe_secret_key else "offline"

    @property
    def webhook_secret(self) -> str:
        """The secret payment events are verified with. Offline: derived from CADRE_SECRET_KEY, so the
        local checkout can sign events exactly as Stripe would without any configuration."""
        if self.stripe_webhook_secret or self.payments_provider == "stripe":
            return self.stripe_webhook_secret
        import hashlib
        import hmac

        return "whsec_offline_" + hmac.new(self.secret_key.encode(), b"offline-payment-events",
                                           hashlib.sha256).hexdigest()

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @model_validator(mode="after")
    def _base_url_follows_the_port(self) -> Settings:
        # CADRE_PORT=8001 alone should give links (emails, verify URLs, the DID) on port 8001 too.
        if "base_url" not in self.model_fields_set:
            self.base_url = f"http://{self.host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _pool_fits_the_slots(self) -> Settings:
        # A request may hold two connections; if the pool cannot give every slot two, requests can
        # wait on each other for ever (until the pool timeout). Threads must outnumber the slots so a
        # request holding a session always finds a thread to finish on.
        if self.db_pool_size < 1 or self.db_max_overflow < 0 or self.db_pool_timeout <= 0 or \
                self.db_slot_timeout <= 0:
            raise ValueError("CADRE_DB_POOL_SIZE must be 1 or more, CADRE_DB_MAX_OVERFLOW 0 or more, and "
                             "CADRE_DB_POOL_TIMEOUT and CADRE_DB_SLOT_TIMEOUT above 0")
        if 2 * self.session_slots > self.db_pool_size + self.db_max_overflow:
            raise ValueError(f"CADRE_DB_SESSION_SLOTS={self.session_slots} needs at least "
                             f"{2 * self.session_slots} connections (CADRE_DB_POOL_SIZE + CADRE_DB_MAX_OVERFLOW)")
        if self.threads <= self.session_slots:
            raise ValueError(f"CADRE_THREADPOOL_THREADS must be more than the {self.session_slots} session slots")
        from ipaddress import ip_network

        for proxy in self.trusted_proxy_list:
            try:
                ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"CADRE_TRUSTED_PROXIES: {proxy!r} is not an IP address or network") from exc
        return self

    @model_validator(mode="after")
    def _storage_is_complete(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("CADRE_STORAGE=s3 needs CADRE_S3_BUCKET")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise ValueError("set both CADRE_S3_ACCESS_KEY_ID and CADRE_S3_SECRET_ACCESS_KEY, or neither")
        if self.max_body_bytes < 1024 or self.max_upload_body_bytes < self.max_body_bytes:
            raise ValueError("CADRE_MAX_BODY_BYTES must be 1024 or more and CADRE_MAX_UPLOAD_BODY_BYTES at least as "
                             "large")
        return self

    @model_validator(mode="after")
    def _providers_are_distinct(self) -> Settings:
        keys = [p.key for p in self.oidc_providers]
        if len(keys) != len(set(keys)):
            raise ValueError("CADRE_OIDC_PROVIDERS: each provider needs its own key")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            problems = []
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                problems.append("CADRE_SECRET_KEY must be set to a random value of 32+ characters")
            if self.is_sqlite:
                problems.append("CADRE_DATABASE_URL must point at PostgreSQL")
            if not self.base_url.startswith("https://"):
                problems.append("CADRE_BASE_URL must be https:// (session cookies are Secure only then)")
            if self.email_backend == "console":
                problems.append("CADRE_EMAIL_BACKEND must be smtp")
            if self.payments_provider == "offline":
                problems.append("CADRE_STRIPE_SECRET_KEY must be set (the offline payment provider takes no money)")
            elif not self.stripe_webhook_secret:
                problems.append("CADRE_STRIPE_WEBHOOK_SECRET must be set to verify Stripe's events")
            if self.storage == "local" and not self.allow_local_storage_in_production:
                problems.append("CADRE_STORAGE must be s3 (uploads on one machine's disk are lost with it and "
                                "not shared between app servers); set CADRE_ALLOW_LOCAL_STORAGE_IN_PRODUCTION=true "
                                "if Cadre really runs on one machine whose disk is backed up")
            # The example seller makes every invoice a specimen nobody can account for. An empty VAT
            # number is a seller not registered for VAT; the example one is refused.
            left = [name for name in SPECIMEN_SELLER if getattr(self, name) == Settings.model_fields[name].default]
            if left:
                problems.append(" and ".join(f"CADRE_{n.upper()}" for n in left)
                                + f" must be set to the seller's own {' and '.join(SPECIMEN_SELLER[n] for n in left)}"
                                " (still the development example seller: every invoice would be a SPECIMEN)")
            for provider in self.oidc_providers:
                if not provider.issuer.startswith("https://"):
                    problems.append(f"CADRE_OIDC_PROVIDERS: the issuer of {provider.key!r} must be https://")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
