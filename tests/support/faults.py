"""What the fault tests share (tests/intake/test_faults.py, tests/reliability/): posting
submissions to a real intake and recording every answer, counting what reached PostgreSQL and
what is left in the stream, the check that every acknowledged submission is there exactly once,
and fixtures for the private servers a test kills (registered by the root conftest).

The promise checked: every submission intake acknowledged (202) is in the database exactly
once — no acknowledged one lost, none written twice, none written that nobody was told about —
and the stream is left with nothing pending."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, LiteralString

import httpx
import orjson
import psycopg
import pytest
import redis
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.intake.app import create_app
from services.intake.config import IntakeSettings
from services.review import publisher
from shared.config import CommonSettings
from shared.contracts.submissions import DEAD_LETTER_STREAM, INGESTER_GROUP, MESSAGE_FIELD, status_key
from shared.db import make_engine, make_sessionmaker, tenant_scope, tenant_session
from tests.support.processes import Children, PrivatePostgres, PrivateRedis
from tests.support.stack import Server, form

_serial = itertools.count(1)


# --- posting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: str | None
    seconds: float
    key: str = ""  # the Idempotency-Key it was sent with


def bodies(n: int) -> list[dict[str, Any]]:
    """Valid submissions, each from its own phone."""
    out = []
    for _ in range(n):
        k = next(_serial)
        out.append(form(phone=f"0912{k % 1_000_000:06d}", id_number=f"001203{k % 1_000_000:06d}"))
    return out


async def _post_all(
    url: str,
    items: list[dict[str, Any]],
    concurrency: int,
    burst: int,
    rate: float,
    *,
    resend_503: int = 0,
    seen: list[Answer] | None = None,
) -> list[Answer]:
    """POST every body; the first ``burst`` at once, the rest paced at ``rate`` per second.
    Returns each body's last answer; ``seen`` gets every answer, in the order they came.

    ``resend_503``: up to that many times, a 503 is followed by the same body under the same
    Idempotency-Key once its Retry-After has passed, as the portal does (portal.js,
    waitThenRetry)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        t0 = loop.time()

        async def one(i: int, body: dict[str, Any]) -> Answer:
            if rate and i >= burst:
                await asyncio.sleep(max(0.0, t0 + (i - burst) / rate - loop.time()))
            # As the portal does: a lost answer is asked again under the same Idempotency-Key,
            # and intake answers with the code it gave the first time (never a second entry).
            key = uuid.uuid4().hex
            headers = {"Idempotency-Key": key}
            lost = resent = 0
            while True:
                async with gate:
                    start = loop.time()
                    try:
                        r = await client.post("/api/v1/submissions", json=body, headers=headers)
                    except httpx.TransportError:
                        lost += 1
                        if lost == 4:
                            raise
                        continue
                answer = Answer(r.status_code, r.json(), r.headers.get("retry-after"), loop.time() - start, key)
                if seen is not None:
                    seen.append(answer)
                if answer.status != 503 or resent == resend_503:
                    return answer
                resent += 1
                # Outside the gate: a waiting phone holds no connection.
                await asyncio.sleep(int(answer.retry_after or 5))

        return list(await asyncio.gather(*(one(i, b) for i, b in enumerate(items))))


def post(url: str, n: int, *, concurrency: int = 32) -> list[Answer]:
    return asyncio.run(_post_all(url, bodies(n), concurrency, n, 0))


class Poster(threading.Thread):
    """Posts in the background while the test kills things; ``seen`` fills as answers come."""

    def __init__(
        self, url: str, n: int, *, burst: int, rate: float, concurrency: int = 32, resend_503: int = 0
    ) -> None:
        super().__init__(daemon=True)
        self.seen: list[Answer] = []
        self.args_ = (url, bodies(n), concurrency, burst, rate)
        self.resend_503 = resend_503
        self.answers: list[Answer] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answers = asyncio.run(_post_all(*self.args_, resend_503=self.resend_503, seen=self.seen))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def result(self, timeout: float = 120) -> list[Answer]:
        self.join(timeout)
        assert not self.is_alive(), "posting did not finish"
        if self.error is not None:
            raise self.error
        return self.answers


def accepted_codes(answers: list[Answer]) -> list[str]:
    return [a.body["tracking_code"] for a in answers if a.status == 202]


# --- looking at the database and the stream -----------------------------------------------------------


class Rows:
    """The submissions committed since the test began (a superuser connection: no RLS)."""

    def __init__(self, admin_url: str, since: dt.datetime) -> None:
        self.url = admin_url.replace("+psycopg", "")
        self.since = since
        self._conn: psycopg.Connection[Any] | None = None

    CODES = "SELECT tracking_code FROM review.submissions WHERE submitted_at >= %s"
    COUNT = "SELECT count(*) FROM review.submissions WHERE submitted_at >= %s"

    def _query(self, sql: LiteralString) -> list[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
        try:
            cur = self._conn.execute(sql, (self.since,))
            return [r[0] for r in cur.fetchall()]
        except psycopg.OperationalError:
            self._conn.close()
            raise

    def codes(self) -> list[str]:
        return self._query(self.CODES)

    def count(self) -> int:
        """-1 while the database does not answer."""
        try:
            return int(self._query(self.COUNT)[0])
        except psycopg.OperationalError:
            return -1

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def pending(client: redis.Redis, stream: str, consumer: str | None = None) -> int:
    info: Any = client.xpending(stream, INGESTER_GROUP)
    if consumer is None:
        return int(info["pending"])
    for c in info["consumers"]:
        name = c["name"].decode() if isinstance(c["name"], bytes) else c["name"]
        if name == consumer:
            return int(c["pending"])
    return 0


def assert_exactly_once(rows: list[str], accepted: list[str], client: redis.Redis, stream: str) -> None:
    assert accepted, "nothing was accepted"
    assert len(set(accepted)) == len(accepted), "intake gave the same tracking code twice"
    twice = {code: n for code, n in Counter(rows).items() if n > 1}
    assert not twice, f"written more than once: {twice}"
    missing = set(accepted) - set(rows)
    assert not missing, f"{len(missing)} acknowledged (202) submissions are not in the database"
    extra = set(rows) - set(accepted)
    assert not extra, f"{len(extra)} rows nobody was given a 202 for"
    assert len(rows) == len(set(rows)) == len(accepted)
    # Nothing left behind in the stream, nothing parked as a dead letter.
    assert pending(client, stream) == 0
    assert client.xlen(stream) == 0
    dead: Any = client.xrange(DEAD_LETTER_STREAM)
    parked = {orjson.loads(f[MESSAGE_FIELD]).get("tracking_code") for _, f in dead} & set(accepted)
    assert not parked, f"{len(parked)} acknowledged submissions were parked as dead letters"
    # And the submitters see it: every tracking record says received.
    pipe = client.pipeline(transaction=False)
    for code in accepted:
        pipe.hget(status_key(code), "s")
    states = Counter(s.decode() if s else None for s in pipe.execute())
    assert states == {"received": len(accepted)}, states


# --- fixtures (a plugin of the root conftest) -----------------------------------------------------------


@pytest.fixture
def children() -> Iterator[Children]:
    c = Children()
    yield c
    c.stop_all()


@pytest.fixture
def start_intake(base_env: dict[str, str]) -> Iterator[Callable[..., Server]]:
    """Intake servers of this test (stopped at its end), rate limits out of the way: the load here
    comes from one address."""
    servers: list[Server] = []

    def start(**over: Any) -> Server:
        env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
        env.update(
            intake_campaign="75k-demo",
            directory_refresh_seconds=0.5,
            rate_limit_per_ip=10**9,
            rate_limit_per_phone=10**9,
        )
        env.update(over)
        server = Server(create_app(IntakeSettings(**env)), free_port())
        server.server.config.access_log = False  # as `sangkien api` runs it: a log line per request costs
        servers.append(server.start())
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def private_redis(children: Children) -> Iterator[PrivateRedis]:
    r = PrivateRedis(children)
    try:
        r.start()
        yield r
    finally:
        r.cleanup()


@pytest.fixture
def private_postgres(children: Children) -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(children)
    try:
        pg.start()
        yield pg
    finally:
        pg.cleanup()


# --- setting up ---------------------------------------------------------------------------------------


def worker_env(service_env: dict[str, str], queue: str, **over: str) -> dict[str, str]:
    """A Celery worker's environment for the fault tests: its own queue, and a killed worker's
    tasks back after five seconds (the least the settings allow), swept every second."""
    return {
        **os.environ,
        **service_env,
        "TASK_QUEUE": queue,
        "TASK_VISIBILITY_TIMEOUT": "5",
        "TASK_RESTORE_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
        **over,
    }


def ingester_env(base_env: dict[str, str], stream: str, **over: str) -> dict[str, str]:
    return {
        **base_env,
        "SUBMISSIONS_STREAM": stream,
        "INGESTER_BLOCK_MS": "100",
        "INGESTER_MIN_IDLE_MS": "1000",
        "INGESTER_RECLAIM_EVERY_SECONDS": "0.5",
        "LOG_JSON": "false",
        **over,
    }


def publish_directory(engine: Engine, client: redis.Redis) -> None:
    factory = make_sessionmaker(engine)

    scope = tenant_scope(factory)

    client.delete("directory:version")
    publisher.publish(client, publisher.build_snapshot(scope))


def prepare_database(settings: CommonSettings) -> Engine:
    """What `migrated` and `loaded_trees` (tests/conftest.py) do, on another server: roles and
    database, the migrations, the 2021 tree and its campaigns."""
    from services.review.service import ensure_campaigns, load_tree
    from shared.dbadmin import bootstrap
    from shared.migrations import upgrade_all
    from shared.orgtree import read_tree
    from shared.timeutil import now

    bootstrap(settings)
    upgrade_all(settings)
    engine = make_engine(settings.runtime_database_url, pool_size=2)
    factory = make_sessionmaker(engine)

    scope = tenant_scope(factory)

    load_tree(scope, read_tree("2021"))
    with tenant_session(factory, None) as s:
        ensure_campaigns(s, tree_code="2021", now=now(), demo=True)
    return engine


def stream_name(prefix: str = "submissions-faults") -> str:
    """A stream of the test's own."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
