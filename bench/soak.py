"""The soak (issue 7, docs/reliability.md): half of intake's measured maximum rate for 30 minutes,
with officers working in the console at the same time; no error, memory that settles, p99 steady.

    python -m bench.soak                   # 30 minutes, the figures into docs/reliability.md
    python -m bench.soak --minutes 3 --no-doc

The whole path runs as `make run` runs it: intake (``sangkien api intake``, two workers), the
ingester (``sangkien ingester``) and review (``sangkien api review``) over the machine's
PostgreSQL and Redis, in a database and Redis db of its own (``sangkien_soak``, db 14; dropped
at the end). First the maximum is measured in this run: wrk as fast as intake answers, with the
ingester writing behind it, as in production (both share this machine's two cores, so intake
alone would be faster: ``make bench`` gives that figure). Then one-minute wrk segments at half
that rate: each connection waits a fixed delay before each request (bench/wrk/submit.lua,
BENCH_DELAY_MS), with the number of connections found by three 10-second tries before the
soak and then kept: a closed loop of fixed connections offers at most the target, and when the
system falls behind it shows as a lower rate and a longer latency, not as ever more connections
(a first version corrected the count minute by minute, and so drove the system into overload
once the growing tables made it slower). Meanwhile officers of Thanh Hóa, signed in to the
console, page through the queue, open initiatives, score those they may score, and look at the
progress page; every answer they get is checked. Every ten seconds the memory (PSS: shared
pages counted once) of intake's, review's and the ingester's processes is sampled, with Redis's
memory, the stream's backlog and the database's size. At the end the backlog is left to drain
and the rows are counted against the 202s.

Verdict: no answer other than 202 to the load and no 5xx or lost connection for the officers; the
memory of each service at the end within 10% (and 20 MB) of what it settled to after the warm-up
(the first five minutes, or the first third of a shorter run); the p99 of every minute after the
first within twice the median minute's; every 202 a row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.env import ROOT, BenchEnv
from bench.load import PYTHON, Proc, WrkResult, parse_wrk, start_api, write_destinations, wrk_argv
from bench.officers import Officer, OfficerStats
from shared.contracts.submissions import status_key

DOC = ROOT / "docs" / "reliability.md"
BEGIN = "<!-- soak:results:begin (written by `python -m bench.soak`; edit the text around it, not inside) -->"
END = "<!-- soak:results:end -->"
OFFICERS = ("tham-dinh.huyen@thanh-hoa", "chu-tich.huyen@thanh-hoa", "tham-dinh.tinh@thanh-hoa")
DELAY_MS = 10


def say(msg: str) -> None:
    print(msg, flush=True)


# --- memory -------------------------------------------------------------------------------------------


def pss_mb(root_pid: int) -> float:
    """PSS of a process and its children (uvicorn's workers): shared pages counted once."""
    total = 0.0
    try:
        root = psutil.Process(root_pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                total += p.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    except psutil.NoSuchProcess:
        return 0.0
    return total / 2**20


@dataclass
class Sample:
    t: float
    pss: dict[str, float]
    redis_mb: float
    backlog: int
    db_mb: float


class Sampler(threading.Thread):
    def __init__(self, env: BenchEnv, procs: dict[str, Proc], stop: threading.Event, every: float = 10) -> None:
        super().__init__(daemon=True, name="sampler")
        self.env, self.procs, self.stop_, self.every = env, procs, stop, every
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()

    def run(self) -> None:
        r = self.env.redis()
        with self.env.pg(autocommit=True) as pg:
            while not self.stop_.is_set():
                row = pg.execute("SELECT pg_database_size(current_database())").fetchone()
                info = r.info("memory")
                self.samples.append(
                    Sample(
                        t=time.monotonic() - self.t0,
                        pss={name: pss_mb(p.p.pid) for name, p in self.procs.items()},
                        redis_mb=float(info["used_memory"]) / 2**20,
                        backlog=int(r.xlen(self.env.stream)),
                        db_mb=(int(row[0]) if row else 0) / 2**20,
                    )
                )
                self.stop_.wait(self.every)


# --- the load -----------------------------------------------------------------------------------------


def run_wrk(url: str, dest: Path, *, connections: int, seconds: int, seed: int, delay_ms: int) -> WrkResult:
    env = {**os.environ, "BENCH_DELAY_MS": str(delay_ms)}
    argv = wrk_argv(url, connections=connections, duration=seconds, dest=dest, seed=seed, threads=2)
    r = subprocess.run(  # noqa: S603 - wrk with our script
        argv, capture_output=True, text=True, check=False, timeout=seconds + 60, env=env
    )
    return parse_wrk(r.stdout + r.stderr, r.returncode, connections)


@dataclass
class Minute:
    n: int
    offered: int  # connections
    result: WrkResult
    officer_requests: int
    officer_p99_ms: float
    officer_errors: int


@dataclass
class Soak:
    started: dt.datetime
    command: str
    maximum: WrkResult
    target: float
    minutes: list[Minute]
    samples: list[Sample]
    officers: list[OfficerStats]
    accepted: int  # the 202s wrk counted: it stops at -d with requests in flight, unanswered to it
    acknowledged: int  # the tracking records intake wrote: one per 202 it answered
    rows: int
    drained_s: float
    warm_minutes: int

    # The verdicts, each with the figures behind it.
    def errors(self) -> int:
        return sum(m.result.failures for m in self.minutes) + sum(len(o.errors) for o in self.officers)

    def settled(self) -> dict[str, tuple[float, float, bool]]:
        """Per process: (max PSS over the minute after warm-up, max PSS over the last minute, within)."""
        warm = self.warm_minutes * 60
        out = {}
        for name in self.samples[0].pss if self.samples else []:
            after = [s.pss[name] for s in self.samples if warm <= s.t < warm + 60]
            last_t = self.samples[-1].t
            last = [s.pss[name] for s in self.samples if s.t >= last_t - 60]
            base, end = max(after or [0.0]), max(last or [0.0])
            out[name] = (base, end, end <= max(base * 1.10, base + 20))
        return out

    def p99s(self) -> list[float]:
        return [m.result.p("p99") for m in self.minutes[1:]]

    def p99_steady(self) -> bool:
        p = self.p99s()
        return bool(p) and max(p) <= 2 * statistics.median(p)

    def verdict(self) -> bool:
        return (
            self.errors() == 0
            and all(ok for *_, ok in self.settled().values())
            and self.p99_steady()
            and self.rows == self.acknowledged
        )

    def markdown(self) -> str:
        total = sum(m.result.accepted for m in self.minutes)
        seconds = sum(m.result.duration_s for m in self.minutes)
        officers = sum(o.requests for o in self.officers)
        lat = sorted(x for o in self.officers for x in o.latencies)
        o99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0.0
        median_p99 = statistics.median(self.p99s()) if self.p99s() else 0.0
        lines = [
            f"Run of {self.started:%Y-%m-%d %H:%M} UTC, `{self.command}`: {len(self.minutes)} minutes.",
            "",
            f"* Maximum measured first (wrk, 64 connections, 20 s, the ingester writing behind): "
            f"**{self.maximum.rate:,.0f}/s** (p99 {self.maximum.p('p99'):.1f} ms). Target: half, "
            f"**{self.target:,.0f}/s**.",
            f"* Offered over the soak: {total:,} submissions in {seconds / 60:.1f} min "
            f"(**{total / seconds if seconds else 0:,.0f}/s**); answers other than 202: "
            f"{sum(m.result.refused for m in self.minutes)}; socket errors: "
            f"{sum(m.result.socket_errors for m in self.minutes)}.",
            f"* Rows in PostgreSQL at the end: {self.rows:,}, for {self.acknowledged:,} tracking records intake "
            f"wrote (one per 202 it answered; wrk counted {self.accepted:,}: it stops with requests in "
            f"flight); the backlog "
            f"drained {self.drained_s:.1f} s after the last request.",
            f"* Officers: {len(self.officers)}, {officers:,} requests (p99 {o99:.0f} ms), "
            f"{sum(o.scored for o in self.officers)} scores saved, "
            f"{sum(o.refused for o in self.officers)} refusals the console meant, "
            f"{sum(len(o.errors) for o in self.officers)} errors.",
            f"* p99 of each minute after the first: median {median_p99:.1f} ms, "
            f"max {max(self.p99s() or [0]):.1f} ms "
            f"({'steady' if self.p99_steady() else 'NOT steady'}: the max within twice the median).",
            "",
            "| process | PSS after warm-up (minute "
            f"{self.warm_minutes + 1}) | PSS in the last minute | settled (≤ +10% or +20 MB) |",
            "| --- | --- | --- | --- |",
        ]
        for name, (base, end, ok) in self.settled().items():
            lines.append(f"| {name} | {base:.0f} MB | {end:.0f} MB | {'yes' if ok else '**no**'} |")
        if self.samples:
            a, b = self.samples[0], self.samples[-1]
            lines += [
                "",
                f"Redis memory {a.redis_mb:.0f} → {b.redis_mb:.0f} MB and the database {a.db_mb:.0f} → "
                f"{b.db_mb:.0f} MB: the data itself (each submission's tracking record and idempotency "
                "answer live in Redis for their TTLs, the rows in PostgreSQL), not a process's growth. "
                f"Largest stream backlog sampled: {max(s.backlog for s in self.samples):,}.",
            ]
        lines += [
            "",
            "| minute | connections | accepted/s | p50 | p99 | non-202 | socket errors "
            "| officers' requests | officers' p99 | officers' errors |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for m in self.minutes:
            r = m.result
            lines.append(
                f"| {m.n} | {m.offered} | {r.rate:,.0f} | {r.p('p50'):.1f} ms | {r.p('p99'):.1f} ms | "
                f"{r.refused} | {r.socket_errors} | {m.officer_requests} | {m.officer_p99_ms:.0f} ms | "
                f"{m.officer_errors} |"
            )
        lines += ["", f"**Verdict: {'passed' if self.verdict() else 'FAILED'}.**"]
        errors = [e for o in self.officers for e in o.errors][:10]
        if errors:
            lines += ["", "Officers' errors (first ten): " + "; ".join(errors)]
        return "\n".join(lines)


def write_doc(text: str) -> None:
    section = f"{BEGIN}\n\n{text}\n\n{END}"
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc = head + section + tail
    else:
        doc = doc.rstrip() + "\n\n## The soak\n\n" + section + "\n"
    DOC.write_text(doc, encoding="utf-8")


@dataclass
class Stack:
    env: BenchEnv
    procs: dict[str, Proc]

    @property
    def intake(self) -> str:
        return self.procs["intake"].url  # type: ignore[attr-defined, no-any-return]

    @property
    def review(self) -> str:
        return self.procs["review"].url  # type: ignore[attr-defined, no-any-return]


def _seed(env: BenchEnv, logdir: Path) -> None:
    cli = [PYTHON, "-m", "shared.cli", "review"]
    for step in (["seed-workflow"], ["seed-officers"], ["seed-demo"]):
        r = subprocess.run(  # noqa: S603 - our CLI
            [*cli, *step], env=_env(env), cwd=ROOT, capture_output=True, text=True, check=False
        )
        (logdir / f"seed-{step[0]}.log").write_text(r.stdout + r.stderr, encoding="utf-8")
        if r.returncode != 0:
            raise RuntimeError(f"{step[0]} failed:\n{r.stdout}{r.stderr}")


def _env(env: BenchEnv) -> dict[str, str]:
    return {**env.env, "CONSOLE_COOKIE_SECURE": "false", "ENVIRONMENT": "bench"}


def _start(env: BenchEnv, logdir: Path) -> Generator[Stack, None, None]:
    procs: dict[str, Proc] = {}
    try:
        procs["intake"] = start_api(
            "intake",
            [PYTHON, "-m", "shared.cli", "api", "intake", "--workers", "2"],
            _env(env),
            logdir,
            "/api/v1/campaign",
        )
        procs["review"] = start_api(
            "review", [PYTHON, "-m", "shared.cli", "api", "review", "--workers", "1"], _env(env), logdir, "/healthz"
        )
        from bench.e2e import start_ingester

        procs["ingester"] = start_ingester(env, logdir, "ingester")
        yield Stack(env, procs)
    finally:
        for p in procs.values():
            p.stop()


@dataclass
class Calibrated:
    accepted: int = 0


def calibrate(url: str, dest: Path, target: float, *, seed: int, say: Callable[[str], None]) -> tuple[int, Calibrated]:
    """The connections that offer ``target``/s with each waiting DELAY_MS before each request:
    three 10-second tries, each corrected by the rate the one before reached (the latency under
    that load adds to the delay, so the first guess is short)."""
    done = Calibrated()
    connections = max(2, round(target * (DELAY_MS + 2) / 1000))
    for i in range(3):
        r = run_wrk(url, dest, connections=connections, seconds=10, seed=seed + 20 * i, delay_ms=DELAY_MS)
        done.accepted += r.accepted
        say(f"  calibrating: {connections} connections → {r.rate:,.0f}/s (p99 {r.p('p99'):.1f} ms)")
        if r.rate > 0:
            connections = max(2, round(connections * target / r.rate))
    return connections, done


def tracking_records(env: BenchEnv) -> int:
    """What intake acknowledged, exactly: it writes ``sub:<code>`` with every 202 (a replay of
    an Idempotency-Key writes none); seed-demo's initiatives have none."""
    r = env.redis()
    return sum(1 for _ in r.scan_iter(match=status_key("*"), count=10_000))


def drain(env: BenchEnv, cap: float = 600) -> float:
    r = env.redis()
    t = time.monotonic()
    while r.xlen(env.stream) and time.monotonic() - t < cap:
        time.sleep(0.2)
    return time.monotonic() - t


def run(minutes: int, *, say: Callable[[str], None] = say, officers: int = 3, command: str = "") -> Soak:
    from services.review.accounts.demo import DEMO_PASSWORD

    started = dt.datetime.now(dt.UTC)
    env = BenchEnv.from_environ(database="sangkien_soak", redis_db=14)
    logdir = ROOT / ".data" / "soak" / f"{started:%Y%m%d-%H%M%S}"
    logdir.mkdir(parents=True, exist_ok=True)
    dest = write_destinations(logdir / "destinations.lua")
    say(f"soak database {env.database_url}, Redis {env.redis_url}; logs in {logdir.relative_to(ROOT)}")
    env.build()
    _seed(env, logdir)
    env.publish_directory()
    seeded = env.committed()  # seed-demo's initiatives: rows that no 202 stands for
    # Runs 20 or more seeds apart: no phone number or ID number comes twice (submit.lua).
    seed_base = int(time.time()) % 10_000 * 100
    gen = _start(env, logdir)
    stack = next(gen)
    stop = threading.Event()
    try:
        say("measuring the maximum: 64 connections, 20 s, the ingester writing behind")
        maximum = run_wrk(stack.intake, dest, connections=64, seconds=20, seed=seed_base, delay_ms=0)
        target = maximum.rate / 2
        say(f"  {maximum.rate:,.0f}/s, p99 {maximum.p('p99'):.1f} ms; target {target:,.0f}/s")
        drain(env)
        accepted_before = maximum.accepted
        connections, calibrated = calibrate(stack.intake, dest, target, seed=seed_base + 50, say=say)
        drain(env)
        sampler = Sampler(env, stack.procs, stop)
        sampler.start()
        team = [
            Officer(stack.review, OFFICERS[i % len(OFFICERS)], DEMO_PASSWORD, stop, seed=i) for i in range(officers)
        ]
        for o in team:
            o.start()
        out: list[Minute] = []
        seen = [0] * len(team)
        for n in range(1, minutes + 1):
            res = run_wrk(
                stack.intake, dest, connections=connections, seconds=60, seed=seed_base + 100 * n, delay_ms=DELAY_MS
            )
            reqs, lat, errs = 0, [], 0
            for i, o in enumerate(team):
                with o.lock:
                    reqs += o.stats.requests - seen[i]
                    lat += o.stats.latencies[len(o.stats.latencies) - (o.stats.requests - seen[i]) :]
                    errs += len(o.stats.errors)
                    seen[i] = o.stats.requests
            lat.sort()
            m = Minute(n, connections, res, reqs, lat[int(len(lat) * 0.99)] * 1000 if lat else 0.0, errs)
            out.append(m)
            last = sampler.samples[-1] if sampler.samples else None
            say(
                f"  minute {n:2}: {connections:3} conns {res.rate:7,.0f}/s p50 {res.p('p50'):5.1f} ms "
                f"p99 {res.p('p99'):6.1f} ms non-202 {res.refused} sockerr {res.socket_errors} | officers "
                f"{reqs} req p99 {m.officer_p99_ms:.0f} ms errors {errs}"
                + (
                    " | PSS " + " ".join(f"{k} {v:.0f}" for k, v in last.pss.items()) + f" MB, backlog {last.backlog}"
                    if last
                    else ""
                )
            )
        stop.set()
        for o in team:
            o.join(35)
        drained = drain(env)
        sampler.join(15)
        accepted = accepted_before + calibrated.accepted + sum(m.result.accepted for m in out)
        soak = Soak(
            started=started,
            command=command,
            maximum=maximum,
            target=target,
            minutes=out,
            samples=sampler.samples,
            officers=[o.stats for o in team],
            accepted=accepted,
            acknowledged=tracking_records(env),
            rows=env.committed() - seeded,
            drained_s=drained,
            warm_minutes=5 if minutes >= 15 else max(1, minutes // 3),
        )
    finally:
        stop.set()
        gen.close()
        env.drop()
    return soak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--officers", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/reliability.md")
    args = ap.parse_args(argv)
    from shared.logging import configure_logging

    configure_logging("bench", level="WARNING")
    # A SIGTERM (an operator stopping the run) unwinds like Ctrl-C: the servers, the ingester and
    # wrk are stopped and the soak's database dropped by the finally blocks, nothing left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    soak = run(args.minutes, officers=args.officers, command=command.strip())
    text = soak.markdown()
    say("\n" + text)
    if not args.no_doc:
        write_doc(text)
        say(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0 if soak.verdict() else 1


if __name__ == "__main__":
    sys.exit(main())
