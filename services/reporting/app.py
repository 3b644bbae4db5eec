from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.reporting.api import router
from services.reporting.config import ReportingSettings
from services.reporting.internal_api import router as internal_router
from services.reporting.storage import presign_client
from shared.celery_app import make_celery
from shared.db import make_engine, make_sessionmaker
from shared.health import postgres_check, redis_check, s3_check
from shared.logging import configure_logging
from shared.storage import make_client
from shared.web import create_app as create_base_app


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    configure_logging("reporting", level=settings.log_level, json=settings.log_json)
    engine = make_engine(settings.runtime_database_url, pool_size=settings.database_pool_size)
    redis = aioredis.from_url(settings.redis_url)
    storage = make_client(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()
        engine.dispose()

    app = create_base_app(
        "reporting",
        checks=lambda: [postgres_check(engine), redis_check(redis), s3_check(storage, settings.bucket)],
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.sessions = make_sessionmaker(engine)
    app.state.token_key = settings.service_token_key()
    app.state.presigner = presign_client(settings)
    app.state.storage = storage  # the retention purge deletes objects (internal_api)
    # The API only sends tasks (by name); the worker process owns services/reporting/tasks.py.
    app.state.celery = make_celery("reporting", settings)
    app.include_router(router)
    app.include_router(internal_router)
    return app
