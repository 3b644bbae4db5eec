"""Accepted submissions per second and latency at several concurrencies: intake against the bare
FastAPI endpoint and the usual designs (bench/apps.py), all served with the same uvicorn settings.

Every server is started first and warmed up; then, concurrency by concurrency, the apps are
measured in turn (interleaved, so that a burst of load from elsewhere on the machine does not
land on one app only), each run on a fresh state: an emptied Redis db (the directory restored),
an emptied review.submissions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.env import BenchEnv
from bench.load import PYTHON, Server, WrkResult, start_api, wrk

WORKERS = 2

# name → (command line without --port, readiness path, what it is)
APPS: dict[str, tuple[list[str], str, str]] = {
    "bare": (
        [PYTHON, "-m", "bench.serve", "bench.apps:bare", "--workers", str(WORKERS)],
        "/healthz",
        "bare FastAPI: pydantic validation of the same body, 202",
    ),
    "intake": (
        [PYTHON, "-m", "shared.cli", "api", "intake", "--workers", str(WORKERS)],
        "/api/v1/campaign",
        "intake (sangkien api intake): validation, sealing, rate limits, idempotency, status, batched Lua",
    ),
    "xadd": (
        [PYTHON, "-m", "bench.serve", "bench.apps:xadd", "--workers", str(WORKERS)],
        "/healthz",
        "one XADD per request (redis.asyncio), after validation and sealing",
    ),
    "insert": (
        [PYTHON, "-m", "bench.serve", "bench.apps:insert", "--workers", str(WORKERS)],
        "/healthz",
        "one INSERT transaction per request (psycopg AsyncConnectionPool, RLS), after validation and sealing",
    ),
    "celery": (
        [PYTHON, "-m", "bench.serve", "bench.apps:celery", "--workers", str(WORKERS)],
        "/healthz",
        "one Celery send_task per request (Redis broker), after validation and sealing",
    ),
}


@dataclass
class Cell:
    app: str
    connections: int
    runs: list[WrkResult] = field(default_factory=list)
    redis_calls: dict[str, float] = field(default_factory=dict)  # commands per accepted submission

    @property
    def best(self) -> WrkResult:
        """The run with the highest rate (the machine is shared: the least disturbed run)."""
        return max(self.runs, key=lambda r: r.rate)

    @property
    def failures(self) -> int:
        return sum(r.failures for r in self.runs)


def _commandstats(env: BenchEnv) -> dict[str, int]:
    raw: Any = env.redis().info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in raw.items()}


def run(
    env: BenchEnv,
    dest: Path,
    logdir: Path,
    *,
    apps: list[str],
    connections: list[int],
    duration: float,
    warmup: float,
    repeats: dict[str, int],
    say: Callable[[str], None],
) -> dict[tuple[str, int], Cell]:
    servers: dict[str, Server] = {}
    cells: dict[tuple[str, int], Cell] = {(a, c): Cell(a, c) for a in apps for c in connections}
    seed = int(time.time()) % 100_000
    try:
        for a in apps:
            argv, ready, _ = APPS[a]
            servers[a] = start_api(a, argv, env.env, logdir, ready)
            say(f"  {a} listening on {servers[a].url}")
        for a in apps:  # connections opened, pools filled, code paths warm
            wrk(servers[a].url, connections=64, duration=warmup, dest=dest, seed=seed)
            seed += 1
        for c in connections:
            for rep in range(max(repeats.values())):
                for a in apps:
                    if rep >= repeats.get(a, 1):
                        continue
                    env.reset_redis()
                    if a == "insert":
                        env.truncate()
                    before = _commandstats(env) if a == "intake" else {}
                    r = wrk(servers[a].url, connections=c, duration=duration, dest=dest, seed=seed)
                    seed += 1
                    cell = cells[(a, c)]
                    cell.runs.append(r)
                    if a == "intake" and r.accepted:
                        after = _commandstats(env)
                        cell.redis_calls = {
                            k: round((after.get(k, 0) - before.get(k, 0)) / r.accepted, 2)
                            for k in ("evalsha", "incr", "set", "hset", "xadd")
                        }
                    say(
                        f"  {a:7s} c={c:<3d} {r.rate:8.0f}/s  p50 {r.p('p50'):7.1f} ms  p99 {r.p('p99'):7.1f} ms  "
                        f"non-202 {r.refused}  socket errors {r.socket_errors}"
                    )
                    if not servers[a].alive():
                        raise RuntimeError(f"{a} died:\n{servers[a].tail()}")
    finally:
        for s in servers.values():
            s.stop()
        env.reset_redis()
        env.truncate()
    return cells
