from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.notify.api import router
from services.notify.config import NotifySettings
from shared.health import redis_check, smtp_check
from shared.logging import configure_logging
from shared.web import create_app as create_base_app


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    configure_logging("notify", level=settings.log_level, json=settings.log_json)
    redis = aioredis.from_url(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    app = create_base_app(
        "notify",
        checks=lambda: [redis_check(redis), smtp_check(settings.smtp_host, settings.smtp_port)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(router)
    return app
