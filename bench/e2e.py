"""From the first POST to the last committed row: intake (``sangkien api intake``, two workers) and
the ingester process (``sangkien ingester``) running together, wrk posting exactly N forms.

The clock starts when wrk is launched and stops when, every form having been answered, the
stream is empty: the ingester acknowledges and deletes entries only after their transaction
committed, so an empty stream means every accepted submission is a row. (XLEN is O(1): polling it
costs the system under test nothing, where a count(*) over a growing table would.) The count of
rows is then checked with SELECT count(*) as the administrator, whom row-level security does not
bind."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.env import BenchEnv
from bench.load import PYTHON, Proc, Server, WrkResult, WrkRun
from shared.contracts.submissions import DEAD_LETTER_STREAM


@dataclass
class EndToEnd:
    n: int
    seconds: float  # first POST → last row committed
    posting_seconds: float  # first POST → last answer
    rows: int
    dead_letters: int
    wrk: WrkResult
    load_before: str
    load_after: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start_ingester(env: BenchEnv, logdir: Path, name: str) -> Proc:
    r = env.redis()
    for k in r.scan_iter("review:ingester:heartbeat:*"):
        r.delete(k)
    p = Proc(name, [PYTHON, "-m", "shared.cli", "ingester"], env.env, logdir / f"{name}.log")
    deadline = time.monotonic() + 60
    while not any(True for _ in r.scan_iter("review:ingester:heartbeat:*")):
        if not p.alive() or time.monotonic() > deadline:
            p.stop()
            raise RuntimeError(f"the ingester did not start:\n{p.tail()}")
        time.sleep(0.1)
    return p


def run_one(
    env: BenchEnv,
    intake: Server,
    dest: Path,
    logdir: Path,
    *,
    n: int,
    connections: int,
    say: Callable[[str], None],
    cap_seconds: float = 600,
) -> EndToEnd:
    env.reset_redis()
    env.truncate()
    ingester = start_ingester(env, logdir, f"ingester-{n}")
    r = env.redis()
    w: WrkRun | None = None
    try:
        load_before = _loadavg()
        t0 = time.monotonic()
        w = WrkRun(  # the clock starts before wrk does: its start-up counts against intake
            intake.url, connections=connections, duration=cap_seconds, dest=dest, seed=int(t0) % 100_000, quota=n
        )
        posted_at: float | None = None
        next_note = t0 + 10
        while True:
            now = time.monotonic()
            if posted_at is None and w.done():
                posted_at = now
            if posted_at is not None and r.xlen(env.stream) == 0:
                break
            if now - t0 > cap_seconds + 300:
                w.stop()
                raise RuntimeError(f"not done after {now - t0:.0f}s:\n{ingester.tail()}")
            if not ingester.alive():
                w.stop()
                raise RuntimeError(f"the ingester died:\n{ingester.tail()}")
            if now >= next_note:
                say(
                    f"    {now - t0:5.0f}s: stream backlog {r.xlen(env.stream)}, posting {'done' if posted_at else '…'}"
                )
                next_note = now + 10
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        result = w.result()
        load_after = _loadavg()
    finally:
        if w is not None:
            w.stop()
        ingester.stop()
    rows = env.committed()
    return EndToEnd(
        n=n,
        seconds=seconds,
        posting_seconds=(posted_at or t0) - t0,
        rows=rows,
        dead_letters=int(r.xlen(DEAD_LETTER_STREAM)),
        wrk=result,
        load_before=load_before,
        load_after=load_after,
    )
