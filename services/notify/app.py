from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.notify.api import router
from services.notify.config import NotifySettings
from services.notify.templates_api import router as templates_router
from shared.celery_app import make_celery
from shared.db import make_engine, make_sessionmaker
from shared.health import postgres_check, redis_check, smtp_check
from shared.logging import configure_logging
from shared.web import create_app as create_base_app


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    configure_logging("notify", level=settings.log_level, json=settings.log_json)
    redis = aioredis.from_url(settings.redis_url)
    engine = make_engine(settings.runtime_database_url, pool_size=settings.database_pool_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()
        engine.dispose()

    app = create_base_app(
        "notify",
        checks=lambda: [
            postgres_check(engine),
            redis_check(redis),
            smtp_check(settings.smtp_host, settings.smtp_port),
        ],
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.sessions = make_sessionmaker(engine)
    app.state.token_key = settings.service_token_key()
    # The API only sends tasks (by name); the worker process owns services/notify/tasks.py.
    app.state.celery = make_celery("notify", settings)
    app.include_router(router)
    app.include_router(templates_router)
    return app
