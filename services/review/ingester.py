"""The review ingester: the consumer of the ``submissions`` stream.

Reads through a consumer group in batches; commits each batch in one transaction; only then
marks the submitters' tracking records ``received``, acknowledges (and deletes) the entries and
moves the unreadable or refused ones to the dead-letter stream with the reason. A dead
consumer's pending entries are reclaimed after ``ingester_min_idle_ms``; an entry delivered
``ingester_max_deliveries`` times without being resolved is parked as a dead letter.

Outages: with PostgreSQL down the batch is kept and retried (nothing acknowledged, intake goes
on queueing); with Redis down the loop waits. Both heal without a restart.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import redis
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from redis.exceptions import NoScriptError

from services.review import ingest_repository, leaderboard, publisher
from services.review.config import ReviewSettings
from services.review.deadletters import park
from services.review.ingest import Entry, Outcome, Resolver, commit_batch, parse
from shared.contracts.submissions import SubmissionStatus, status_key
from shared.db import make_engine, make_sessionmaker, tenant_scope
from shared.logging import get_logger
from shared.redispack import pack

HEARTBEAT_TTL = 30

# What an operator on call watches (served on INGESTER_METRICS_PORT): a backlog that grows while
# committed rows stay flat means PostgreSQL is away; dead letters need an administrator.
COMMITTED = Counter("ingester_rows_committed_total", "Submissions committed (new rows)")
DUPLICATES = Counter("ingester_duplicates_total", "Entries found already committed (redeliveries)")
DEAD_LETTERS = Counter("ingester_dead_letters_total", "Entries parked in the dead-letter stream")
BATCH_SECONDS = Histogram(
    "ingester_batch_seconds", "One batch, read to acknowledged", buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)
BACKLOG = Gauge("ingester_stream_backlog", "Entries in the submissions stream (not yet acknowledged)")
log = get_logger("review.ingester")

# Moves tracking records from queued to received; a record that has moved further on, or has
# expired, is left alone. One call for a slice of a batch (MARK_SLICE keys: a few milliseconds of
# Redis at most, so intake's appends never wait long behind it).
MARK_RECEIVED_LUA = """
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 's') == ARGV[1] then
    redis.call('HSET', KEYS[i], 's', ARGV[2])
  end
end
return #KEYS
"""
MARK_SLICE = 500


@dataclass(frozen=True)
class Batch:
    entries: list[tuple[Any, dict[Any, Any]]]  # as read: every one is acknowledged at the end
    ok: list[Entry]
    poison: list[tuple[str, bytes, str]]


def consumer_name() -> str:
    # A pod restarted in place keeps its name and so finds its own pending entries at once.
    return os.environ.get("INGESTER_CONSUMER") or f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class Ingester:
    def __init__(self, settings: ReviewSettings, client: redis.Redis, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.redis = client
        self.stop = stop or threading.Event()
        self.name = consumer_name()
        self.stream = settings.submissions_stream
        self.group = settings.ingester_group
        self._pg: psycopg.Connection[Any] | None = None
        self._own_pending = True  # on start, and after a failure: re-read what we were given
        self._last_reclaim = 0.0
        self._mark = self.redis.register_script(MARK_RECEIVED_LUA)
        self.resolver = Resolver()  # used by the writer thread only
        # One writer thread owns the PostgreSQL connection; one batch in it at a time.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingester-writer")
        self._inflight: tuple[Batch, float, Future[Outcome | None]] | None = None
        self.committed = 0

    # --- connections -----------------------------------------------------------------------------

    def pg(self) -> psycopg.Connection[Any]:
        if self._pg is None or self._pg.closed:
            self._pg = ingest_repository.connect(self.settings.ingest_runtime_database_url)
        return self._pg

    def close(self) -> None:
        """Settle the batch being written (its commit acknowledged, if Redis lets us), then let go
        of the writer and the connection."""
        if self._inflight is not None:
            try:
                self._settle(None)
            except (redis.RedisError, psycopg.Error) as exc:
                log.warning("batch left pending at shutdown", error=type(exc).__name__)
                self._inflight = None
        self._writer.shutdown(wait=True)
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    # --- one step ------------------------------------------------------------------------------------

    def step(self, block_ms: int | None = None) -> int:
        """Read a batch (own pending first, then reclaimed, then new) and hand it to the writer;
        resolve the batch the writer finished before. Returns how many entries this call
        resolved (committed, found already committed, or parked); a batch handed to the writer
        is counted by the call that resolves it (see ``busy``).

        Two batches overlap: while the writer thread COPYs batch N and PostgreSQL stores it, this
        thread reads and parses batch N+1 and, once N is committed, marks and acknowledges it.
        Only one batch is ever being written, and nothing is acknowledged before its commit."""
        s = self.settings
        reclaim_due = time.monotonic() - self._last_reclaim >= s.ingester_reclaim_every_seconds
        settled = 0
        if self._inflight is not None and (self._own_pending or reclaim_due):
            settled = self._settle(None)  # never re-read our own pending entries while one is written
        entries: list[tuple[Any, dict[Any, Any]]] = []
        if self._own_pending:
            entries = self._read("0", block_ms=None)
            if not entries:
                self._own_pending = False
        if not entries and reclaim_due:
            self._last_reclaim = time.monotonic()
            self._expire_poison()
            entries = self._reclaim()
        if not entries and self._inflight is not None:
            entries = self._read(">", block_ms=None)  # no waiting while a batch is being written
        elif not entries:
            entries = self._read(">", block_ms=s.ingester_block_ms if block_ms is None else block_ms)
            if 0 < len(entries) < s.ingester_batch and s.ingester_linger_ms > 0:
                # Submissions are arriving: let a batch's worth gather rather than commit a few
                # rows per transaction at the cost of CPU that intake needs at the deadline.
                # At most ingester_linger_ms more latency.
                self.stop.wait(s.ingester_linger_ms / 1000)
                entries += self._read(">", block_ms=None, count=s.ingester_batch - len(entries))
        batch = Batch(entries, *parse(entries)) if entries else None
        if self._inflight is not None:
            settled += self._settle(batch)
        elif batch is not None:
            self._submit(batch)
        return settled

    @property
    def busy(self) -> bool:
        """Work is under way: a batch being written, or our own pending entries to read again."""
        return self._inflight is not None or self._own_pending

    def _submit(self, batch: Batch) -> None:
        self._inflight = (batch, time.perf_counter(), self._writer.submit(self._commit, batch.ok))

    def _settle(self, following: Batch | None) -> int:
        """Wait for the batch being written; hand the writer the following one at once; then mark
        and acknowledge the committed one. Returns the number of entries resolved."""
        assert self._inflight is not None
        batch, started, future = self._inflight
        self._inflight = None
        try:
            outcome = future.result()
        except BaseException:
            self._own_pending = True  # both batches stay pending and are read again
            raise
        if outcome is None:
            self._own_pending = True  # stopped while PostgreSQL was away: the entries stay pending
            return 0
        if following is not None:
            self._submit(following)
        outcome.rejected += batch.poison
        self._finish(batch.entries, outcome)
        BATCH_SECONDS.observe(time.perf_counter() - started)
        return len(batch.entries)

    def _read(self, cursor: str, *, block_ms: int | None, count: int | None = None) -> list[tuple[Any, dict[Any, Any]]]:
        res: Any = self.redis.xreadgroup(
            self.group, self.name, {self.stream: cursor}, count=count or self.settings.ingester_batch, block=block_ms
        )
        if not res:
            return []
        return [(sid, fields) for sid, fields in res[0][1] if fields]

    def _reclaim(self) -> list[tuple[Any, dict[Any, Any]]]:
        """Entries a dead consumer left pending for longer than the idle limit become ours."""
        res: Any = self.redis.xautoclaim(
            self.stream,
            self.group,
            self.name,
            min_idle_time=self.settings.ingester_min_idle_ms,
            start_id="0-0",
            count=self.settings.ingester_batch,
        )
        claimed = [(sid, fields) for sid, fields in res[1] if fields]
        if claimed:
            log.warning("reclaimed pending entries", count=len(claimed))
        return claimed

    def _expire_poison(self) -> None:
        """An entry delivered too many times (it crashes every consumer that takes it) is parked."""
        limit = self.settings.ingester_max_deliveries
        rows: Any = self.redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=self.settings.ingester_batch,
            idle=self.settings.ingester_min_idle_ms,
        )  # fmt: skip
        for p in rows:
            if p["times_delivered"] < limit:
                continue
            sid = p["message_id"]
            found: Any = self.redis.xrange(self.stream, min=sid, max=sid)
            raw = found[0][1].get(b"m", b"") if found else b""
            park(
                self.redis,
                self.settings,
                [
                    (
                        sid.decode() if isinstance(sid, bytes) else sid,
                        raw,
                        f"Đã giao {p['times_delivered']} lần mà không ghi được",
                    )
                ],
                ack_ids=[sid],
            )

    def _commit(self, ok: list[Entry]) -> Outcome | None:
        """In the writer thread: the batch committed, retried while PostgreSQL is away; None if
        the process is stopped meanwhile."""
        delay = 0.2
        while True:
            try:
                return commit_batch(self.pg(), ok, self.resolver)
            except psycopg.OperationalError as exc:
                log.warning("postgresql unavailable, batch kept for retry", error=type(exc).__name__, entries=len(ok))
                if self._pg is not None:
                    self._pg.close()
                    self._pg = None
                self._keep_claimed([e.stream_id for e in ok])
                if self.stop.wait(delay):
                    return None
                delay = min(delay * 2, 5.0)

    def _keep_claimed(self, ids: list[Any]) -> None:
        """Still ours while we wait for PostgreSQL: reset the entries' idle time (XCLAIM JUSTID
        counts no delivery), or another consumer would reclaim them as a dead one's and, after
        a few rounds, park healthy submissions as dead letters."""
        if not ids:
            return
        try:
            self.redis.xclaim(
                self.stream, self.group, self.name, min_idle_time=0,
                message_ids=ids, justid=True,
            )  # fmt: skip
        except redis.RedisError as exc:
            log.warning("could not keep the batch claimed", error=type(exc).__name__)

    def _finish(self, entries: list[tuple[Any, dict[Any, Any]]], outcome: Outcome) -> None:
        """After the commit: the tracking records, then dead letters, acknowledgement and
        deletion in one MULTI (so an entry is never acknowledged without its dead letter).
        Marking first: a crash between the two leaves entries pending (redelivered, found
        duplicate, marked again), never acknowledged with their records stuck at queued."""
        self._mark_received(outcome.done)
        ids = [sid for sid, _ in entries]
        park(self.redis, self.settings, outcome.rejected, ack_ids=ids)
        self.committed += len(outcome.inserted)
        COMMITTED.inc(len(outcome.inserted))
        DUPLICATES.inc(len(outcome.duplicates))
        DEAD_LETTERS.inc(len(outcome.rejected))
        if outcome.inserted or outcome.rejected:
            log.info(
                "batch committed",
                inserted=len(outcome.inserted),
                duplicates=len(outcome.duplicates),
                dead_letters=len(outcome.rejected),
            )

    def _mark_received(self, codes: list[str]) -> None:
        """MARK_RECEIVED_LUA over the batch's tracking records, a slice per call, every call in one
        round trip (packed by hiredis). A Redis that lost its scripts (restarted) gets the script
        and the calls again (they are idempotent); an error reply is raised once every reply has
        been read."""
        if not codes:
            return
        queued, received = SubmissionStatus.queued.value, SubmissionStatus.received.value
        calls = [
            pack(("EVALSHA", self._mark.sha, len(part), *map(status_key, part), queued, received))
            for part in (codes[i : i + MARK_SLICE] for i in range(0, len(codes), MARK_SLICE))
        ]
        data = b"".join(calls)
        for _attempt in range(2):
            replies = self._round_trip(data, len(calls))
            errors = [r for r in replies if isinstance(r, redis.ResponseError)]
            if not errors:
                return
            if not all(isinstance(e, NoScriptError) for e in errors):
                raise errors[0]
            self.redis.script_load(MARK_RECEIVED_LUA)
        raise errors[0]

    def _round_trip(self, data: bytes, count: int) -> list[Any]:
        pool = self.redis.connection_pool
        conn: Any = pool.get_connection()

        def send_and_read() -> list[Any]:
            conn.send_packed_command([data])
            replies: list[Any] = []
            for _ in range(count):
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as exc:
                    replies.append(exc)
            return replies

        try:
            return conn.retry.call_with_retry(send_and_read, lambda _error: conn.disconnect())  # type: ignore[no-any-return]
        finally:
            pool.release(conn)

    # --- the process ----------------------------------------------------------------------------------

    def run(self) -> None:
        s = self.settings
        engine = make_engine(s.runtime_database_url, pool_size=1)
        factory = make_sessionmaker(engine)

        scope = tenant_scope(factory)

        next_chores = next_board = 0.0
        while not self.stop.is_set():
            try:
                if time.monotonic() >= next_chores:
                    ensure_group(self.redis, self.stream, self.group)
                    self.redis.set(f"review:ingester:heartbeat:{self.name}", "1", ex=HEARTBEAT_TTL)
                    BACKLOG.set(int(self.redis.xlen(self.stream)))
                    try:
                        publisher.publish(self.redis, publisher.build_snapshot(scope))
                    except Exception as exc:  # noqa: BLE001 - the directory can wait; ingesting cannot
                        log.warning("directory not published", error=type(exc).__name__)
                    next_chores = time.monotonic() + HEARTBEAT_TTL / 3
                if time.monotonic() >= next_board:
                    # The public leaderboard: counts per tenant, less often than the directory.
                    try:
                        leaderboard.publish(self.redis, leaderboard.build_leaderboard(scope))
                    except Exception as exc:  # noqa: BLE001 - the leaderboard can wait; ingesting cannot
                        log.warning("leaderboard not published", error=type(exc).__name__)
                    next_board = time.monotonic() + leaderboard.LEADERBOARD_EVERY
                self.step()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("redis unavailable", error=type(exc).__name__)
                self._own_pending = True
                self.stop.wait(1)
            except redis.ResponseError as exc:
                # Redis refused a command (out of memory, a group deleted by hand): the batch
                # stays pending and is read again; the process lives on for the operators.
                log.error("redis refused a command", error=type(exc).__name__)
                self._own_pending = True
                self.stop.wait(1)
        self.close()
        engine.dispose()
        log.info("ingester stopped")


def main() -> None:
    settings = ReviewSettings()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ingester = Ingester(settings, client, stop)
    if settings.ingester_metrics_port:
        start_http_server(settings.ingester_metrics_port)
    log.info("ingester ready", stream=ingester.stream, group=ingester.group, consumer=ingester.name)
    ingester.run()
