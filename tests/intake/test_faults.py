"""Faults on real processes: the ingester killed with SIGKILL in the middle of a batch,
PostgreSQL stopped while intake takes submissions, Redis killed and started again.

The promise checked each time: every submission intake acknowledged (202) is in the database
exactly once — no acknowledged one lost, none written twice, none written that nobody was told
about — and the stream is left with nothing pending. The ingester runs as production runs it,
`python -m shared.cli ingester`, configured by its environment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
from tests.support.processes import (
    Children,
    IngesterProcesses,
    PrivatePostgres,
    PrivateRedis,
    kill9,
    wait_for,
)
from tests.support.stack import Server, form

pytestmark = pytest.mark.xdist_group("faults")

_serial = itertools.count(1)


# --- posting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: str | None
    seconds: float


def bodies(n: int) -> list[dict[str, Any]]:
    """Valid submissions, each from its own phone."""
    out = []
    for _ in range(n):
        k = next(_serial)
        out.append(form(phone=f"0912{k % 1_000_000:06d}", id_number=f"001203{k % 1_000_000:06d}"))
    return out


async def _post_all(url: str, items: list[dict[str, Any]], concurrency: int, burst: int, rate: float) -> list[Answer]:
    """POST every body; the first ``burst`` at once, the rest paced at ``rate`` per second."""
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
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            async with gate:
                for attempt in range(4):
                    start = loop.time()
                    try:
                        r = await client.post("/api/v1/submissions", json=body, headers=headers)
                    except httpx.TransportError:
                        if attempt == 3:
                            raise
                        continue
                    return Answer(r.status_code, r.json(), r.headers.get("retry-after"), loop.time() - start)
            raise AssertionError("unreachable")

        return list(await asyncio.gather(*(one(i, b) for i, b in enumerate(items))))


def post(url: str, n: int, *, concurrency: int = 32) -> list[Answer]:
    return asyncio.run(_post_all(url, bodies(n), concurrency, n, 0))


class Poster(threading.Thread):
    """Posts in the background while the test kills things."""

    def __init__(self, url: str, n: int, *, burst: int, rate: float, concurrency: int = 32) -> None:
        super().__init__(daemon=True)
        self.args_ = (url, bodies(n), concurrency, burst, rate)
        self.answers: list[Answer] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answers = asyncio.run(_post_all(*self.args_))
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


# --- fixtures -----------------------------------------------------------------------------------------


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


def _stream() -> str:
    return f"submissions-faults-{uuid.uuid4().hex[:8]}"


# --- 1. kill -9 of the ingester in the middle of a batch ----------------------------------------------


def test_ingester_killed_mid_batch_loses_and_duplicates_nothing(
    base_env: dict[str, str],
    loaded_trees: CommonSettings,
    app_engine: Engine,
    pg_admin_url: str,
    private_redis: PrivateRedis,
    start_intake: Callable[..., Server],
    children: Children,
    tmp_path: Path,
) -> None:
    # A Redis of its own: thousands of submissions from 127.0.0.1 would otherwise fill the
    # per-address rate counter that the worker's other intake servers share.
    client = private_redis.client()
    publish_directory(app_engine, client)
    stream = _stream()
    intake = start_intake(submissions_stream=stream, redis_url=private_redis.url())
    rows = Rows(pg_admin_url, dt.datetime.now(dt.UTC))
    ingesters = IngesterProcesses(
        children, ingester_env(base_env, stream, INGESTER_BATCH="100", REDIS_URL=private_redis.url()), tmp_path
    )
    total = 2000
    # A backlog first (full batches), then a steady flow that outlasts the kills and restarts.
    poster = Poster(intake.url, total, burst=500, rate=150)
    poster.start()

    def why() -> str:
        return f"rows {rows.count()}/{total}, pending {pending(client, stream)}\n{ingesters.logs()}"

    def kill_mid_batch(consumer: str, ready: Callable[[], bool] = lambda: True, **over: str) -> int:
        """Start an ingester, SIGKILL it once it has committed rows and holds a batch it has not
        acknowledged; returns how many entries it left pending."""
        before = max(rows.count(), 0)
        proc = ingesters.start(INGESTER_CONSUMER=consumer, **over)
        wait_for(
            f"{consumer} to commit rows and hold a batch",
            lambda: rows.count() > before and pending(client, stream, consumer) > 0 and ready(),
            timeout=60,  # the process starts in 1-2 s on an idle machine, far slower on a busy one
            every=0.005,
            why=why,
        )
        kill9(proc)
        return pending(client, stream, consumer)

    # The first ingester dies holding a batch; the next one, under another name, must reclaim it
    # (after INGESTER_MIN_IDLE_MS) — and dies in its turn in the middle of a batch.
    for attempt in range(5):  # SIGKILL can land between an acknowledgement and the next read
        first = f"faults-a{attempt}"
        if kill_mid_batch(first) > 0:
            break
    else:
        pytest.fail("never caught the ingester holding a batch")
    assert rows.count() < total, "the kill came too late to test anything"

    second = "faults-b"
    left = kill_mid_batch(second, ready=lambda: pending(client, stream, first) == 0)
    assert pending(client, stream, first) == 0, "the dead consumer's entries were not reclaimed"
    if left == 0:  # the kill fell between two batches: once more under the same name
        left = kill_mid_batch(second)
    assert left > 0, why()
    assert rows.count() < total, "the kill came too late to test anything"

    # Restarted in place under the same name (a pod keeps its name): it must take back its own
    # pending entries at once — reclaiming them from a "dead" consumer is made impossible here.
    last = ingesters.start(INGESTER_CONSUMER=second, INGESTER_MIN_IDLE_MS="600000")
    answers = poster.result()
    assert {a.status for a in answers} == {202}, Counter(a.status for a in answers)
    accepted = accepted_codes(answers)
    wait_for("every accepted submission in the database", lambda: rows.count() >= total, timeout=90, why=why)
    wait_for("the stream to be empty", lambda: pending(client, stream) == 0, timeout=30, why=why)
    assert last.poll() is None, ingesters.logs()
    assert_exactly_once(rows.codes(), accepted, client, stream)
    rows.close()


# --- 2. PostgreSQL stopped while intake takes submissions ---------------------------------------------


def test_postgres_outage_intake_keeps_accepting_and_ingester_catches_up(
    base_env: dict[str, str],
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    start_intake: Callable[..., Server],
    children: Children,
    tmp_path: Path,
) -> None:
    pg = private_postgres
    env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
    env["database_url"] = pg.url("sangkien_faults")
    settings = CommonSettings(**env)
    engine = prepare_database(settings)
    client = private_redis.client()
    publish_directory(engine, client)
    engine.dispose()

    stream = _stream()
    intake = start_intake(submissions_stream=stream, redis_url=private_redis.url())
    rows = Rows(settings.database_url, dt.datetime.now(dt.UTC))
    ingesters = IngesterProcesses(
        children,
        ingester_env(base_env, stream, DATABASE_URL=settings.database_url, REDIS_URL=private_redis.url()),
        tmp_path,
    )
    ingester = ingesters.start(INGESTER_CONSUMER="faults-pg")

    def why() -> str:
        return (
            f"rows {rows.count()}, stream {client.xlen(stream)}, pending {pending(client, stream)}\n{ingesters.logs()}"
        )

    before = post(intake.url, 200)
    assert {a.status for a in before} == {202}
    wait_for("the first submissions", lambda: rows.count() == 200, timeout=60, why=why)
    wait_for("their acknowledgement", lambda: client.xlen(stream) == 0, timeout=30, why=why)

    pg.crash()
    assert not pg.answers()
    during = post(intake.url, 500)
    # Intake never touches PostgreSQL: it goes on acknowledging.
    assert {a.status for a in during} == {202}, Counter(a.status for a in during)
    time.sleep(1.5)  # the ingester meets the outage, retries, and keeps its batch
    assert client.xlen(stream) == 500, "entries were acknowledged while PostgreSQL was down"
    assert ingester.poll() is None, ingesters.logs()

    pg.start()  # the same data directory: crash recovery from the WAL
    after = post(intake.url, 200)
    assert {a.status for a in after} == {202}
    accepted = accepted_codes(before + during + after)
    wait_for("the ingester to catch up", lambda: rows.count() == len(accepted), timeout=60, why=why)
    wait_for("the stream to be empty", lambda: client.xlen(stream) == 0, timeout=30, why=why)
    assert ingester.poll() is None, "the ingester had to be restarted:\n" + ingesters.logs()
    assert len(ingesters.started) == 1
    assert "postgresql unavailable, batch kept for retry" in ingesters.full_log(ingester)
    assert_exactly_once(rows.codes(), accepted, client, stream)
    rows.close()


# --- 3. Redis killed and started again ----------------------------------------------------------------


def test_redis_outage_answers_503_and_loses_nothing_acknowledged(
    base_env: dict[str, str],
    loaded_trees: CommonSettings,
    app_engine: Engine,
    pg_admin_url: str,
    private_redis: PrivateRedis,
    start_intake: Callable[..., Server],
    children: Children,
    tmp_path: Path,
) -> None:
    client = private_redis.client()
    publish_directory(app_engine, client)
    stream = _stream()
    intake = start_intake(submissions_stream=stream, redis_url=private_redis.url())
    rows = Rows(pg_admin_url, dt.datetime.now(dt.UTC))

    before = post(intake.url, 300)
    assert {a.status for a in before} == {202}
    assert httpx.get(f"{intake.url}/readyz").status_code == 200

    private_redis.kill()  # with the ingester not running: the 300 exist only in Redis
    refused = post(intake.url, 20, concurrency=5)
    for a in refused:
        assert a.status == 503, a
        assert a.retry_after is not None and int(a.retry_after) > 0, a
        assert a.body["code"] == "tam_thoi_khong_phuc_vu"
        assert "vui lòng gửi lại sau" in a.body["message"], a.body
        assert a.seconds < 5, f"a 503 should come quickly, took {a.seconds:.1f}s"
    ready = httpx.get(f"{intake.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable" and ready.json()["checks"]["redis"].startswith("lỗi")
    # What does not need Redis still works: the portal can say what campaign is open.
    assert httpx.get(f"{intake.url}/api/v1/campaign").status_code == 200

    private_redis.start()  # the same directory: the append-only file brings everything back
    assert client.xlen(stream) == 300
    # Intake heals without a restart (its connections and its Lua script are gone: both come back).
    after: list[Answer] = []
    deadline = time.monotonic() + 15
    while len(accepted_codes(after)) < 50 and time.monotonic() < deadline:
        batch = post(intake.url, 10, concurrency=5)
        assert all(a.status == 202 or (a.status == 503 and a.retry_after) for a in batch), batch
        after += batch
    assert len(accepted_codes(after)) >= 50, Counter(a.status for a in after)
    healed = httpx.get(f"{intake.url}/readyz")
    assert healed.status_code == 200, healed.text

    ingesters = IngesterProcesses(children, ingester_env(base_env, stream, REDIS_URL=private_redis.url()), tmp_path)
    ingesters.start(INGESTER_CONSUMER="faults-redis")
    accepted = accepted_codes(before + after)

    def why() -> str:
        return f"rows {rows.count()}/{len(accepted)}, stream {client.xlen(stream)}\n{ingesters.logs()}"

    wait_for("every accepted submission in the database", lambda: rows.count() >= len(accepted), timeout=60, why=why)
    wait_for("the stream to be empty", lambda: client.xlen(stream) == 0, timeout=30, why=why)
    assert_exactly_once(rows.codes(), accepted, client, stream)
    rows.close()
