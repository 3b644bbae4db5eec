from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis as redis_sync
import redis.asyncio as aioredis
from fastapi import FastAPI

from services.review.accounts.api import router as accounts_router
from services.review.api import router
from services.review.audit.api import router as audit_api_router
from services.review.audit.pages import router as audit_pages_router
from services.review.config import ReviewSettings
from services.review.console.config_pages import router as config_router
from services.review.console.dispute_pages import router as dispute_router
from services.review.console.export_pages import router as export_router
from services.review.console.national_pages import router as national_router
from services.review.console.pages import IMPORT_PATH
from services.review.console.pages import router as console_router
from services.review.console.selection_pages import router as selection_router
from services.review.console.unit_pages import router as unit_router
from services.review.console.xlsx import MAX_BYTES as XLSX_MAX_BYTES
from services.review.dossiers.client import ReportingClient
from services.review.dossiers.pages import router as dossier_router
from services.review.internal_api import router as internal_router
from services.review.outbox.client import NotifyClient
from services.review.outbox.pages import router as outbox_router
from services.review.retention.pages import router as retention_router
from services.review.workflow.api import public as workflow_public
from services.review.workflow.api import router as workflow_router
from services.review.workflow.tracking import install_tracking_refresh
from shared.db import make_engine, make_sessionmaker
from shared.health import postgres_check, redis_check
from shared.logging import configure_logging
from shared.web import create_app as create_base_app


def create_app(settings: ReviewSettings | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    configure_logging("review", level=settings.log_level, json=settings.log_json)
    engine = make_engine(settings.runtime_database_url, pool_size=settings.database_pool_size)
    redis = aioredis.from_url(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()
        engine.dispose()

    app = create_base_app(
        "review",
        checks=lambda: [postgres_check(engine), redis_check(redis)],
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        # The Excel import takes a file up to its own limit (a clear page past it) plus the form.
        body_limits={IMPORT_PATH: max(settings.max_body_bytes, XLSX_MAX_BYTES + 1024 * 1024)},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    # Dead-letter administration runs in sync handlers (thread pool), beside the database calls.
    app.state.redis_sync = redis_sync.Redis.from_url(settings.redis_url, socket_timeout=5)
    install_tracking_refresh(app.state.sessions, app.state.redis_sync)
    # The console's clients of the other services (no connection is made until a page calls).
    key, timeout = settings.service_token_key, settings.service_call_timeout_seconds
    app.state.reporting_client = ReportingClient(settings.reporting_url, key, timeout=timeout)
    app.state.notify_client = NotifyClient(settings.notify_url, key, timeout=timeout)
    app.include_router(router)
    app.include_router(accounts_router)
    app.include_router(console_router)
    app.include_router(selection_router)
    app.include_router(config_router)
    app.include_router(dispute_router)
    app.include_router(national_router)
    app.include_router(export_router)
    app.include_router(unit_router)
    app.include_router(dossier_router)
    app.include_router(workflow_router)
    app.include_router(workflow_public)
    app.include_router(internal_router)
    app.include_router(outbox_router)
    app.include_router(retention_router)
    app.include_router(audit_pages_router)
    app.include_router(audit_api_router)
    return app
