"""Faults on real processes: the ingester killed with SIGKILL in the middle of a batch,
PostgreSQL stopped while intake takes submissions, Redis killed and started again.

The promise checked each time: every submission intake acknowledged (202) is in the database
exactly once — no acknowledged one lost, none written twice, none written that nobody was told
about — and the stream is left with nothing pending. The ingester runs as production runs it,
`python -m shared.cli ingester`, configured by its environment.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from shared.config import CommonSettings
from tests.support.faults import (
    Answer,
    Poster,
    Rows,
    accepted_codes,
    assert_exactly_once,
    ingester_env,
    pending,
    post,
    prepare_database,
    publish_directory,
)
from tests.support.faults import stream_name as _stream
from tests.support.processes import Children, IngesterProcesses, PrivatePostgres, PrivateRedis, kill9, wait_for
from tests.support.stack import Server

pytestmark = pytest.mark.xdist_group("faults")


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
