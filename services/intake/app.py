"""Intake: the public portal. Stateless; depends on Redis only, never on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.exceptions import RedisError
from starlette.middleware import Middleware

from services.intake import repository
from services.intake.api import TrustedProxies, router
from services.intake.config import IntakeSettings
from services.intake.directory import Directory
from services.intake.fastpath import SubmitFastPath
from services.intake.leaderboard import Leaderboard
from services.intake.portal import router as portal_router
from services.intake.repository import StreamAppender
from services.intake.service import IntakeService
from shared.contracts.directory import DirectorySnapshot
from shared.health import redis_check
from shared.logging import configure_logging, get_logger
from shared.pii import PiiCipher
from shared.web import create_app as create_base_app

log = get_logger("intake")


async def refresh_directory(svc: IntakeService, client: aioredis.Redis) -> bool:
    """Load the published directory when its version changed. Keeps the old one on failure."""
    try:
        version = await repository.directory_version(client)
        if version is None or (svc.directory is not None and svc.directory.version == version):
            return False
        raw = await repository.directory_snapshot(client)
    except (RedisError, OSError):
        return False
    if raw is None:
        return False
    try:
        svc.directory = Directory(DirectorySnapshot.model_validate_json(raw), version)
    except ValueError as exc:  # a bad publish: keep serving the last good copy
        log.error("directory snapshot unreadable, keeping the previous one", error=type(exc).__name__)
        return False
    log.info("directory loaded", version=version[:12], campaigns=len(svc.directory.snapshot.campaigns))
    return True


async def _refresh_loop(svc: IntakeService, board: Leaderboard, client: aioredis.Redis, every: float) -> None:
    while True:
        await refresh_directory(svc, client)
        await board.refresh(client)
        await asyncio.sleep(every if svc.directory else 0.5)


# Net allocations of container objects between two collections of the youngest generation.
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """The garbage collector, sized for a server with requests in flight (once started up).

    What start-up built (modules, the app, its schemas, the directory: ~100,000 objects) lives
    as long as the process: frozen out of the collector's sight, a collection of the oldest
    generation no longer walks all of it (under load: a pause of ~100 ms, every few seconds).
    The youngest generation's threshold (700 by default) is below what the requests in flight
    hold at any moment (~2,000 coroutines, cells, tuples for 32 requests): it fired every ~50
    requests and walked them all, a few per cent of the CPU for nothing. Cyclic garbage is still
    collected, after 10,000 net allocations."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, old)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    configure_logging("intake", level=settings.log_level, json=settings.log_json)
    # Short timeouts: a Redis that does not answer must become a 503 quickly, not a hung phone.
    # A blocking pool: past 64 commands in flight a request waits (up to 2 s) for a connection.
    # The default pool raises at once instead, and a flood of look-ups then turned every other
    # caller's tracking into a wrong 404 and let the flood past its own rate limit.
    redis = aioredis.Redis.from_pool(
        aioredis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=64,
            timeout=2,
            socket_timeout=2,
            socket_connect_timeout=1,
            health_check_interval=0,
        )
    )
    appender = StreamAppender(redis, max_batch=settings.max_batch, max_in_flight=settings.batches_in_flight)
    svc = IntakeService(settings, PiiCipher.from_settings(settings), appender)
    review = httpx.AsyncClient(base_url=settings.review_url, timeout=3.0)
    board = Leaderboard()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        appender.start()
        await refresh_directory(svc, redis)
        await board.refresh(redis)
        if not await repository.is_durable(redis):
            log.warning("redis has appendonly off: queued submissions would not survive a Redis restart")
        refresh = _refresh_loop(svc, board, redis, settings.directory_refresh_seconds)
        task = asyncio.get_running_loop().create_task(refresh)
        tune_gc()
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await appender.stop()
        await review.aclose()
        await redis.aclose()

    app = create_base_app(
        "intake",
        checks=lambda: [redis_check(redis)],
        lifespan=lifespan,
        title="Sáng kiến — Cổng tiếp nhận",
        otel=False,  # nothing to record into; its per-request check is not free (shared/web.py)
    )
    app.include_router(router)
    app.include_router(portal_router)
    # Innermost of the app's middlewares, inside the observability one (add_middleware would put
    # it outermost): POST /api/v1/submissions goes straight to its endpoint (fastpath.py).
    app.user_middleware.append(Middleware(SubmitFastPath))
    app.state.settings = settings
    app.state.redis = redis
    app.state.intake = svc
    app.state.leaderboard = board
    app.state.review = review
    app.state.trusted_proxies = TrustedProxies(
        [ipaddress.ip_network(p.strip(), strict=False) for p in settings.trusted_proxies.split(",") if p.strip()]
    )
    return app
