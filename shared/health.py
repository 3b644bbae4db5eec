"""Dependency checks for /readyz. Each returns None when healthy and raises otherwise.

A check opens what it checks for real (a query, a PING, a bucket look-up, an SMTP NOOP) with a
short timeout, because a probe that only checks a configuration value lies.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.engine import Engine

CheckFn = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Check:
    name: str
    run: CheckFn
    timeout: float = 2.0


def postgres_check(engine: Engine) -> Check:
    def _q() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def run() -> None:
        await asyncio.to_thread(_q)

    return Check("postgres", run)


def redis_check(client: aioredis.Redis) -> Check:
    async def run() -> None:
        # After Redis restarted, each idle connection of the pool is dead and fails once (the
        # pool drops it): the probe asks again, on a fresh one, before saying Redis is away.
        for attempt in range(3):
            try:
                await client.ping()
                return
            except (aioredis.ConnectionError, aioredis.TimeoutError):
                if attempt == 2:
                    raise

    return Check("redis", run)


def s3_check(client: object, bucket: str) -> Check:
    async def run() -> None:
        exists = await asyncio.to_thread(client.bucket_exists, bucket)  # type: ignore[attr-defined]  # minio.Minio
        if not exists:
            raise RuntimeError(f"bucket {bucket} missing")

    return Check("s3", run)


def smtp_check(host: str, port: int) -> Check:
    def _noop() -> None:
        with smtplib.SMTP(host, port, timeout=2) as s:
            code, _ = s.noop()
            if code != 250:
                raise RuntimeError(f"SMTP NOOP answered {code}")

    async def run() -> None:
        await asyncio.to_thread(_noop)

    return Check("smtp", run)


async def run_checks(checks: list[Check]) -> dict[str, str]:
    async def one(c: Check) -> tuple[str, str]:
        try:
            await asyncio.wait_for(c.run(), c.timeout)
            return c.name, "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports any failure, it never raises
            return c.name, f"lỗi: {type(exc).__name__}"

    results = await asyncio.gather(*(one(c) for c in checks))
    return dict(results)
