"""create_app(): middleware, routers, pages, static files, error handlers, health checks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import api.models  # noqa: F401  - every table registered before anything queries
from api.accounts import pages as accounts_pages
from api.accounts import router as accounts_router
from api.accounts import sso_admin_pages as accounts_sso_admin_pages
from api.accounts import sso_pages as accounts_sso_pages
from api.assessments import admin_pages as assessments_admin_pages
from api.assessments import coach_pages as assessments_coach_pages
from api.assessments import pages as assessments_pages
from api.assessments import review_pages as assessments_review_pages
from api.assessments import review_router as assessments_review_router
from api.assessments import router as assessments_router
from api.awards import admin_pages as awards_admin_pages
from api.awards import pages as awards_pages
from api.awards import router as awards_router
from api.awards.judging import admin_pages as judging_admin_pages
from api.awards.judging import pages as judging_pages
from api.catalog import pages as catalog_pages
from api.catalog import router as catalog_router
from api.certificates import bulk_pages as certificates_bulk_pages
from api.certificates import bulk_router as certificates_bulk_router
from api.certificates import pages as certificates_pages
from api.certificates import router as certificates_router
from api.certificates import verified_pages
from api.cohorts import admin_pages as cohorts_admin_pages
from api.cohorts import pages as cohorts_pages
from api.cohorts import router as cohorts_router
from api.core import logging as cadre_logging
from api.core.config import ROOT, get_settings
from api.core.db import configure_threadpool, get_engine
from api.core.errors import error_body, install_error_handlers
from api.core.middleware import (
    BodyLimitMiddleware,
    ClientAddressMiddleware,
    InputGuardMiddleware,
    SecurityMiddleware,
    security_headers,
)
from api.core.pagecache import PageCacheMiddleware
from api.core.security import same_origin
from api.core.unit_of_work import UnitOfWorkMiddleware
from api.core.viewercache import ViewerCacheMiddleware
from api.halloffame import pages as halloffame_pages
from api.halloffame import router as halloffame_router
from api.learning import admin_pages as learning_admin_pages
from api.learning import pages as learning_pages
from api.learning import router as learning_router
from api.organisations import admin_pages as organisations_admin_pages
from api.organisations import pages as organisations_pages
from api.organisations import router as organisations_router
from api.organisations import settings_pages as organisations_settings_pages
from api.outbox import pages as outbox_pages
from api.payments import admin_pages as payments_admin_pages
from api.payments import pages as payments_pages
from api.payments import router as payments_router

# awards' /api/v1/awards/cycles before the hall of fame's /api/v1/awards/{slug}
API_ROUTERS = [accounts_router.router, catalog_router.router, awards_router.router, halloffame_router.router,
               learning_router.router,
               certificates_router.router, certificates_bulk_router.router, payments_router.router,
               payments_router.webhooks, assessments_router.router,
               assessments_review_router.router, cohorts_router.router, organisations_router.router]
PAGE_ROUTERS = [catalog_pages.router, accounts_pages.router, accounts_pages.login_router,
                accounts_sso_pages.router, accounts_sso_pages.bare_router, accounts_sso_admin_pages.router,
                halloffame_pages.router,
                # before learning's: /learn/{slug}/assessments must not be taken for a lesson slug
                assessments_pages.router, assessments_coach_pages.router, assessments_admin_pages.router,
                assessments_review_pages.router,
                learning_pages.router,
                # before certificates' own: /verify/bulk is not a certificate's /verify/{slug}
                learning_admin_pages.router, certificates_bulk_pages.router, certificates_pages.router,
                payments_pages.router,
                payments_admin_pages.router, outbox_pages.router, cohorts_pages.router, cohorts_admin_pages.router,
                organisations_settings_pages.router, organisations_pages.router, organisations_admin_pages.router,
                # judging before awards: /admin/awards/judging is not an award cycle's slug
                judging_pages.router, judging_admin_pages.router, awards_pages.router, awards_admin_pages.router]


class CadreApp(FastAPI):
    """FastAPI, with the answers that are kept whole (the issuer's DID document, verify pages and the
    verification API for anonymous viewers: api/certificates/verified_pages.py) sent before any layer,
    the framework's own included; every other request goes through the whole stack."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        entry = self.__dict__.get("_kept_entry")
        if entry is None:
            entry = self.__dict__["_kept_entry"] = self._kept_entry()
        await entry(scope, receive, send)

    def _kept_entry(self):
        security, full = security_headers(), super().__call__

        async def entry(scope, receive, send) -> None:
            # A kept answer carries a request id and writes its request line like any other answer; the
            # id is made only once an answer is sent (the full stack makes its own otherwise).
            start, seen = time.perf_counter(), {"status": 500}
            token = None

            async def first_send(message) -> None:
                nonlocal token
                if token is None:
                    rid = cadre_logging.incoming_or_new_id(scope)
                    token = cadre_logging.request_id.set(rid)
                    seen["send"] = cadre_logging.stamped(send, rid, seen)
                await seen["send"](message)

            try:
                answered = await verified_pages.answer(scope, first_send, security)
                if answered:
                    cadre_logging.log_request(scope, seen["status"], start)
            finally:
                if token is not None:
                    cadre_logging.request_id.reset(token)
            if not answered:
                await full(scope, receive, send)

        # The look-ups are counted per client: behind a trusted proxy, its forwarded address (the same
        # rule as ClientAddressMiddleware, which then finds the address already put in the scope).
        trusted = get_settings().trusted_proxy_list
        if trusted:
            from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

            return ProxyHeadersMiddleware(entry, trusted_hosts=trusted)
        return entry


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    configure_threadpool()
    # What the stored verify answers are keyed under, hashed from the templates once per process: at
    # start, not on the first look-up of a certificate (it reads every template: tens of ms).
    from api.certificates import answers

    answers.render_stamp()
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    cadre_logging.configure()
    app = CadreApp(
        lifespan=lifespan,
        title="Cadre",
        version="0.1.0",
        summary="Online learning and accreditation: programmes, progress, payments, verifiable certificates.",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Innermost first. Outermost: the request id and log line, then the client's address (from a trusted
    # proxy only), then the anonymous public pages kept once rendered (api/core/pagecache.py), then a
    # logged-in viewer's lesson pages and dashboard kept once rendered (api/core/viewercache.py), then the
    # unit of work; inside the security headers, the body limit and the input guard. Before all of them
    # (CadreApp), the verify answers kept whole.
    app.add_middleware(InputGuardMiddleware)
    # Bodies: CADRE_MAX_BODY_BYTES for every route, smaller for these prefixes, and the upload limit only
    # for routes declared with `dependencies=[UploadBody]` (api/core/middleware.py).
    app.add_middleware(BodyLimitMiddleware, default=settings.max_body_bytes, upload=settings.max_upload_body_bytes,
                       per_prefix={"/webhooks/": 512 * 1024, "/api/v1/verify": 256 * 1024},
                       routes=lambda: app.router.routes)
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(UnitOfWorkMiddleware)
    app.add_middleware(ViewerCacheMiddleware, enabled=settings.viewer_cache, seconds=settings.viewer_cache_seconds,
                       max_bytes=settings.viewer_cache_bytes)
    app.add_middleware(PageCacheMiddleware, recheck_seconds=settings.page_cache_recheck_seconds,
                       enabled=settings.page_cache)
    app.add_middleware(ClientAddressMiddleware, trusted=settings.trusted_proxy_list)
    app.add_middleware(cadre_logging.RequestLogMiddleware)

    for r in API_ROUTERS:
        app.include_router(r, dependencies=[Depends(same_origin)])
    for r in PAGE_ROUTERS:
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=ROOT / "web" / "static"), name="static")
    # Swagger UI from a pinned package, served by us: nothing is loaded from a CDN.
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Cadre API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz():
        # A bare DBAPI round trip, outside any transaction: readiness must not queue behind writers.
        try:
            raw = get_engine().raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("SELECT 1")
                cursor.close()
                raw.rollback()  # PostgreSQL opened a transaction for the SELECT; end it
            finally:
                raw.close()
        except Exception:
            return JSONResponse(error_body("not_ready", "The database is not reachable."), status_code=503)
        return {"status": "ready", "database": "sqlite" if settings.is_sqlite else "postgresql"}

    return app
