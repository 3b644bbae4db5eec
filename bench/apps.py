"""The baselines intake is measured against, served exactly as intake is (``python -m bench.serve``:
the same uvicorn.run arguments as ``sangkien api``, two workers, uvloop + httptools).

* ``bare``:   FastAPI validating the body with the declared pydantic model (SubmissionIn), then
              answering 202. No middleware, no queue: the ceiling of a FastAPI endpoint here.
* ``xadd``:   the usual queue design: validate (pydantic), seal the ID number and phone (the same
              PiiCipher), then one ``XADD`` per request (redis.asyncio, connection pool).
* ``insert``: the usual database design: validate, seal, then one transaction per request on a
              psycopg AsyncConnectionPool as the app role (set the tenant, INSERT into
              review.submissions: row-level security applies as in review).
* ``celery``: validate, seal, then ``send_task`` per request (Celery on the Redis broker; no
              worker consumes it) from a sync endpoint, as Celery is usually called.

None of them has intake's rate limits, idempotency or tracking record: they do less work per
request than intake does.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI

from services.intake.schemas import SubmissionIn
from shared.config import CommonSettings
from shared.contracts.submissions import new_tracking_code
from shared.pii import PiiCipher, normalize_id_number, normalize_phone

STREAM = os.environ.get("SUBMISSIONS_STREAM", "bench:submissions") + ":baseline"


def _accepted(code: str) -> dict[str, Any]:
    return {"tracking_code": code, "status": "queued", "submitted_at": dt.datetime.now(dt.UTC).isoformat()}


def _sealed(cipher: PiiCipher, body: SubmissionIn) -> tuple[bytes, bytes, bytes, bytes]:
    i = cipher.seal(normalize_id_number(body.id_number), kind="id_number")
    p = cipher.seal(normalize_phone(body.phone), kind="phone")
    return i.ciphertext, i.digest, p.ciphertext, p.digest


def _app(lifespan: Any = None) -> FastAPI:
    """A baseline's app: its /healthz answers the bench's readiness wait."""
    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare() -> FastAPI:
    app = _app()

    @app.post("/api/v1/submissions", status_code=202)
    async def submit(body: SubmissionIn) -> dict[str, Any]:
        return _accepted(f"0-{secrets.token_hex(4)}")

    return app


def xadd() -> FastAPI:
    import redis.asyncio as aioredis

    settings = CommonSettings()
    cipher = PiiCipher.from_settings(settings)
    # Requests wait for one of 64 connections (redis-py's default pool refuses past its limit).
    pool = aioredis.BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=10)
    client = aioredis.Redis(connection_pool=pool)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = _app(lifespan)

    @app.post("/api/v1/submissions", status_code=202)
    async def submit(body: SubmissionIn) -> dict[str, Any]:
        ict, ih, pct, ph = _sealed(cipher, body)
        code = new_tracking_code(0)
        message = body.model_dump(exclude={"id_number", "phone"}) | {
            "tracking_code": code,
            "submission_id": uuid.uuid4().hex,
            "id_number": {"ct": ict.hex(), "h": ih.hex()},
            "phone": {"ct": pct.hex(), "h": ph.hex()},
        }
        await client.xadd(STREAM, {"m": orjson.dumps(message)})
        return _accepted(code)

    return app


INSERT = """
INSERT INTO review.submissions (
  tenant_id, tracking_code, submission_id, campaign_id, unit_id, full_name,
  id_number_enc, id_number_hash, phone_enc, phone_hash, idea_group, field, title, description,
  birth_year, position, workplace, email, applied_from, benefit, awards, status, submitted_at, stream_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'received', now(), '')
"""


def insert() -> FastAPI:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    settings = CommonSettings()
    cipher = PiiCipher.from_settings(settings)
    pool = AsyncConnectionPool(settings.runtime_database_url, min_size=settings.database_pool_size, open=False)
    units: dict[tuple[str, str], tuple[int, int]] = {}  # (tenant, subunit) → (tenant id, unit id)
    campaign: list[int] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The reference data, read once as the administrator (a real service would cache it too).
        async with await psycopg.AsyncConnection.connect(settings.database_url) as c:
            cur = await c.execute(
                "SELECT t.code, u.code, u.tenant_id, u.id FROM review.units u "
                "JOIN review.tenants t ON t.id = u.tenant_id JOIN review.campaigns c ON c.tree_id = u.tree_id "
                "WHERE c.code = %s",
                (os.environ.get("INTAKE_CAMPAIGN", "75k-demo"),),
            )
            for tcode, ucode, tid, uid in await cur.fetchall():
                units[(tcode, ucode)] = (tid, uid)
            cur = await c.execute("SELECT id FROM review.campaigns WHERE code = %s", ("75k-demo",))
            row = await cur.fetchone()
            campaign.append(row[0] if row else 0)
        await pool.open()
        yield
        await pool.close()

    app = _app(lifespan)

    @app.post("/api/v1/submissions", status_code=202)
    async def submit(body: SubmissionIn) -> dict[str, Any]:
        ict, ih, pct, ph = _sealed(cipher, body)
        tenant_id, unit_id = units[(body.unit, body.subunit)]
        code = new_tracking_code(tenant_id)
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
            await conn.execute(
                INSERT,
                (
                    tenant_id, code, uuid.uuid4().hex, campaign[0], unit_id, body.full_name,
                    ict, ih, pct, ph, body.group, body.field, body.title, body.description,
                    body.birth_year, body.position, body.workplace, body.email, body.applied_from,
                    body.benefit, body.awards,
                ),
            )  # fmt: skip
        return _accepted(code)

    return app


def celery() -> FastAPI:
    from celery import Celery

    settings = CommonSettings()
    cipher = PiiCipher.from_settings(settings)
    capp = Celery("bench", broker=settings.redis_url)
    capp.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)

    app = _app()

    @app.post("/api/v1/submissions", status_code=202)
    def submit(body: SubmissionIn) -> dict[str, Any]:
        ict, ih, pct, ph = _sealed(cipher, body)
        code = new_tracking_code(0)
        message = body.model_dump(exclude={"id_number", "phone"}) | {
            "tracking_code": code,
            "id_number": {"ct": ict.hex(), "h": ih.hex()},
            "phone": {"ct": pct.hex(), "h": ph.hex()},
        }
        capp.send_task("bench.submit", args=[message], queue="bench")
        return _accepted(code)

    return app
