from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.reporting.config import ReportingSettings
from shared.health import redis_check, s3_check
from shared.logging import configure_logging
from shared.storage import make_client
from shared.web import create_app as create_base_app


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    configure_logging("reporting", level=settings.log_level, json=settings.log_json)
    redis = aioredis.from_url(settings.redis_url)
    storage = make_client(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    app = create_base_app(
        "reporting",
        checks=lambda: [redis_check(redis), s3_check(storage, settings.bucket)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
