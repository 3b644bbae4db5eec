"""Intake: the public portal. Stateless; depends on Redis only, never on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from services.intake.config import IntakeSettings
from shared.health import redis_check
from shared.logging import configure_logging
from shared.web import create_app as create_base_app


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    configure_logging("intake", level=settings.log_level, json=settings.log_json)
    redis = aioredis.from_url(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    app = create_base_app("intake", checks=lambda: [redis_check(redis)], lifespan=lifespan)
    app.state.settings = settings
    app.state.redis = redis
    return app
