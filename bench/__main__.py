"""`make bench` (``python -m bench``): measures, prints the table, refreshes docs/benchmarks.md.

    python -m bench                      # everything (~8 minutes)
    python -m bench --quick              # shorter runs, smaller end-to-end and ingester runs
    python -m bench --only throughput    # or e2e, ingest, flood, render, dossiers, reminders (comma-separated)

Uses PostgreSQL at DATABASE_URL's server (database ``sangkien_bench``, dropped at the end) and
Redis at REDIS_URL's server (db 9, emptied), or BENCH_DATABASE_URL / BENCH_REDIS_URL. Every run
is bounded (wrk -d, or a fixed number of requests) and every process started is stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import dossiers, e2e, flood, ingest, reminders, render, report, throughput
from bench.env import ROOT, BenchEnv
from bench.load import start_api, write_destinations
from shared.logging import configure_logging

CAMPAIGN_2021 = 241_802  # every submission of the 2021 campaign


def say(msg: str) -> None:
    print(msg, flush=True)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="shorter runs; 20,000 and 50,000 submissions")
    ap.add_argument(
        "--only", default="throughput,e2e,ingest,flood,dossiers,reminders,render", help="phases, comma-separated"
    )
    ap.add_argument("--apps", default=",".join(throughput.APPS), help="servers of the throughput phase")
    ap.add_argument("--connections", default="16,64,256")
    ap.add_argument("--duration", type=float, help="seconds of each measured wrk run (default 8; quick 4)")
    ap.add_argument("--repeat", type=int, help="runs of bare and intake at each concurrency (default 2; quick 1)")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--keep", action="store_true", help="keep the bench database and Redis db afterwards")
    args = ap.parse_args(argv)

    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    if "render" in phases:  # dossier rendering needs no database, Redis nor wrk (bench/render.py)
        say("\n== render: dossier PDF and DOCX against render_html, 10 to 1,000 rows ==")
        render.run(quick=args.quick, say=say)
        phases.remove("render")
        if not phases:
            return 0
    if {"throughput", "e2e", "flood"} & set(phases) and not shutil.which("wrk"):
        say("wrk is not installed: `sh tools/apt-install.sh wrk` (make bench does it)")
        return 2
    duration = args.duration or (4 if args.quick else 8)
    repeat = args.repeat or (1 if args.quick else 2)
    sizes = [20_000, 50_000] if args.quick else [75_000, CAMPAIGN_2021]
    ingest_n = 50_000 if args.quick else CAMPAIGN_2021

    configure_logging("bench", level="WARNING")  # the in-process ingester logs every batch at INFO
    started = time.monotonic()
    rep = report.Report(started=dt.datetime.now(dt.UTC), command="python -m bench " + " ".join(argv or sys.argv[1:]))
    env = BenchEnv.from_environ()
    logdir = ROOT / ".data" / "bench" / f"{rep.started:%Y%m%d-%H%M%S}"
    logdir.mkdir(parents=True, exist_ok=True)
    say(f"bench database {env.database_url}, Redis {env.redis_url}; logs in {logdir.relative_to(ROOT)}")
    rep.loads.append(("start", loadavg()))
    t = time.monotonic()
    env.build()
    say(
        f"database built and migrated, 2021 tree and campaigns loaded, directory published "
        f"({time.monotonic() - t:.1f}s)"
    )
    rep.machine = report.machine(env)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        dest = write_destinations(Path(tmp) / "destinations.lua")
        try:
            if "throughput" in phases:
                apps = [a.strip() for a in args.apps.split(",") if a.strip()]
                conns = [int(c) for c in args.connections.split(",")]
                say(f"\n== throughput: {', '.join(apps)} at {conns} connections, {duration:.0f}s runs ==")
                rep.throughput = throughput.run(
                    env,
                    dest,
                    logdir,
                    apps=apps,
                    connections=conns,
                    duration=duration,
                    warmup=2 if args.quick else 3,
                    repeats={"bare": repeat, "intake": repeat},
                    say=say,
                )
                rep.loads.append(("after throughput", loadavg()))
            if "e2e" in phases:
                say(f"\n== end to end: {', '.join(f'{n:,}' for n in sizes)} submissions, intake + ingester ==")
                argv_, ready, _ = throughput.APPS["intake"]
                intake = start_api("intake-e2e", argv_, env.env, logdir, ready)
                try:
                    for n in sizes:
                        r = e2e.run_one(env, intake, dest, logdir, n=n, connections=64, say=say)
                        rep.end_to_end.append(r)
                        say(
                            f"  {n:,}: {r.seconds:.1f}s first POST → last row ({r.rate:,.0f} rows/s), "
                            f"all answered after {r.posting_seconds:.1f}s, rows {r.rows:,}, "
                            f"non-202 {r.wrk.failures}, dead letters {r.dead_letters}"
                        )
                finally:
                    intake.stop()
                rep.loads.append(("after end to end", loadavg()))
            if "ingest" in phases:
                say(f"\n== ingester alone vs COPY: {ingest_n:,} rows ==")
                rep.ingest = ingest.run(env, ingest_n, say)
                rep.loads.append(("after ingester", loadavg()))
            if "flood" in phases:
                say("\n== flood: ordinary clients alone and beside one abuser (address, phone, ID number) ==")
                say(flood.table(flood.run(env, dest, logdir, quick=args.quick, say=say)))
                rep.loads.append(("after flood", loadavg()))
            if "dossiers" in phases:
                say("\n== dossiers: a province's units' dossiers at once, reporting worker (2 processes) ==")
                results = dossiers.run(env, logdir, quick=args.quick, say=say)
                say(dossiers.table(results))
                rep.loads.append(("after dossiers", loadavg()))
            if "reminders" in phases:
                say("\n== reminders: one deadline to every unit, notify worker (2 processes) to local SMTP ==")
                sent = reminders.run(env, logdir, quick=args.quick, say=say)
                say(reminders.table(sent))
                rep.loads.append(("after reminders", loadavg()))
        finally:
            if not args.keep:
                env.drop()
    rep.seconds = time.monotonic() - started
    say("\n" + rep.console())
    if not args.no_doc:
        path = report.write_doc(rep)
        say(f"\n{path.relative_to(ROOT)} updated")
    (logdir / "results.md").write_text(rep.markdown() + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
