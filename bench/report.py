"""The results as a table (printed, and written into docs/benchmarks.md between two markers) and
the targets of the issue, each said met or not."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.e2e import EndToEnd
from bench.env import ROOT, BenchEnv
from bench.ingest import IngestResult
from bench.throughput import APPS, Cell

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:results:begin (written by `make bench`; edit the text around it, not inside) -->"
END = "<!-- bench:results:end -->"


@dataclass
class Report:
    started: dt.datetime
    command: str
    machine: dict[str, str] = field(default_factory=dict)
    throughput: dict[tuple[str, int], Cell] = field(default_factory=dict)
    end_to_end: list[EndToEnd] = field(default_factory=list)
    ingest: IngestResult | None = None
    loads: list[tuple[str, str]] = field(default_factory=list)  # (moment, load average)
    seconds: float = 0.0

    # --- targets ------------------------------------------------------------------------------------

    def targets(self) -> list[tuple[str, str, bool | None]]:
        out: list[tuple[str, str, bool | None]] = []
        t = self.throughput
        if ("intake", 64) in t and ("bare", 64) in t:
            ratio = t[("intake", 64)].best.rate / t[("bare", 64)].best.rate
            out.append(("intake ≥ 0.70 × bare FastAPI at 64 connections", f"{ratio:.2f} ×", ratio >= 0.70))
        intake = [c for (a, _), c in t.items() if a == "intake"]
        if intake:
            failures = sum(c.failures for c in intake)
            top = max(c.connections for c in intake)
            out.append(
                (f"intake: no answer other than 202 up to {top} connections", f"{failures} other", failures == 0)
            )
        if ("intake", 16) in t:
            p99 = t[("intake", 16)].best.p("p99")
            out.append(("intake p99 < 10 ms at 16 connections", f"{p99:.1f} ms", p99 < 10))
        for e in self.end_to_end:
            if e.n >= 241_802:
                out.append(
                    (f"{e.n:,} submissions, first POST to last row, < 60 s", f"{e.seconds:.1f} s", e.seconds < 60)
                )
        if self.ingest:
            ratio = self.ingest.ingester_rate / self.ingest.copy_rate
            out.append(("ingester alone ≥ 0.5 × raw COPY", f"{ratio:.2f} ×", ratio >= 0.5))
        return out

    # --- rendering ----------------------------------------------------------------------------------

    def markdown(self) -> str:
        lines: list[str] = []
        w = lines.append
        w(f"Run of {self.started:%Y-%m-%d %H:%M} UTC, `{self.command}`, {self.seconds / 60:.1f} minutes.")
        w("")
        w("**Machine.** " + "; ".join(f"{k}: {v}" for k, v in self.machine.items()) + ".")
        if self.loads:
            w("")
            w("**Load average (1, 5, 15 min)** — " + "; ".join(f"{m}: {v}" for m, v in self.loads) + ".")
        w("")
        w("### Targets")
        w("")
        w("| target | measured | met |")
        w("| --- | --- | --- |")
        for name, value, ok in self.targets():
            w(f"| {name} | {value} | {'yes' if ok else 'no' if ok is not None else '—'} |")
        if self.throughput:
            conns = sorted({c for _, c in self.throughput})
            apps = [a for a in APPS if any(k[0] == a for k in self.throughput)]
            w("")
            w("### Accepted submissions per second (best of the runs at each point)")
            w("")
            w(
                "| server | "
                + " | ".join(f"c={c}: /s · p50 · p99 (ms)" for c in conns)
                + " | × bare at 64 | intake × it at 64 | non-202 |"
            )
            w("| --- | " + " | ".join("---" for _ in conns) + " | --- | --- | --- |")
            bare64 = self.throughput.get(("bare", 64))
            intake64 = self.throughput.get(("intake", 64))
            for a in apps:
                cells = [self.throughput[(a, c)] for c in conns if (a, c) in self.throughput]
                parts = [f"{c.best.rate:,.0f} · {c.best.p('p50'):.1f} · {c.best.p('p99'):.1f}" for c in cells]
                c64 = self.throughput.get((a, 64))
                vs_bare = f"{c64.best.rate / bare64.best.rate:.2f}" if c64 and bare64 else "—"
                vs_it = f"{intake64.best.rate / c64.best.rate:.2f}" if c64 and intake64 and a != "intake" else "—"
                failures = sum(c.failures for c in cells)
                w(f"| {a} | " + " | ".join(parts) + f" | {vs_bare} | {vs_it} | {failures} |")
            w("")
            for a in apps:
                runs = [f"c={c.connections}: " + ", ".join(f"{r.rate:,.0f}" for r in c.runs) for c in cells_of(self, a)]
                w(f"- `{a}` — {APPS[a][2]}. Every run (/s): " + "; ".join(runs) + ".")
            if intake64 and intake64.redis_calls:
                calls = ", ".join(f"{k.upper()} {v}" for k, v in intake64.redis_calls.items())
                w(
                    f"- Redis commands per accepted intake submission at c=64 (server-wide INFO commandstats, "
                    f"so another client of the same Redis would show here too): {calls} — the per-address "
                    f"counter (INCR), the per-phone and per-ID-number counters (SET NX on their first use in "
                    f"a window, INCR after), "
                    f"the idempotency key (SET NX) and the tracking record (HSET) were written for every "
                    f"submission."
                )
        if self.end_to_end:
            w("")
            w("### End to end: first POST to last committed row (intake + ingester running together)")
            w("")
            w("| submissions | first POST → last row | rows/s | all answered after | rows | non-202 | dead letters |")
            w("| --- | --- | --- | --- | --- | --- | --- |")
            for e in self.end_to_end:
                w(
                    f"| {e.n:,} | {e.seconds:.1f} s | {e.rate:,.0f} | {e.posting_seconds:.1f} s | {e.rows:,} | "
                    f"{e.wrk.failures} | {e.dead_letters} |"
                )
        if self.ingest:
            i = self.ingest
            w("")
            w("### The ingester alone against a raw COPY of the same rows")
            w("")
            w("| | rows | seconds | rows/s | ratio |")
            w("| --- | --- | --- | --- | --- |")
            w(
                f"| ingester (stream pre-filled, `Ingester.step()` loop) | {i.ingester_rows:,} | "
                f"{i.ingester_seconds:.1f} | {i.ingester_rate:,.0f} | {i.ingester_rate / i.copy_rate:.2f} |"
            )
            w(
                f"| COPY into review.submissions (admin, best of "
                f"{', '.join(f'{s:.1f}' for s in i.copy_seconds)} s) | {i.n:,} | {min(i.copy_seconds):.1f} | "
                f"{i.copy_rate:,.0f} | 1 |"
            )
        return "\n".join(lines)

    def console(self) -> str:
        text = self.markdown()
        text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
        return text.replace("`", "")


def cells_of(report: Report, app: str) -> list[Cell]:
    return [c for (a, _), c in sorted(report.throughput.items(), key=lambda kv: kv[0][1]) if a == app]


def write_doc(report: Report) -> Path:
    section = f"{BEGIN}\n\n{report.markdown()}\n\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n## Latest results\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
    return DOC


def machine(env: BenchEnv) -> dict[str, str]:
    out: dict[str, str] = {}
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out["CPU"] = (
        f"{cpu or platform.processor()} × {os.cpu_count()} (load generator, servers, Redis and PostgreSQL share them)"
    )
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
        out["memory"] = f"{mem} GiB"
    except (OSError, ValueError, IndexError):
        pass
    out["kernel"] = platform.release()
    out["Python"] = sys.version.split()[0]
    with env.pg(autocommit=True) as c:
        row: Any = c.execute("SHOW server_version").fetchone()
        out["PostgreSQL"] = str(row[0]).split()[0] if row else "?"
        for name in ("shared_buffers", "synchronous_commit"):
            r2: Any = c.execute(f"SHOW {name}").fetchone()
            out[f"PostgreSQL {name}"] = str(r2[0]) if r2 else "?"
    info: Any = env.redis().info("server")
    out["Redis"] = str(info.get("redis_version", "?"))
    persistence: Any = env.redis().config_get("appendonly")
    out["Redis appendonly"] = str(persistence.get("appendonly", "?"))
    wrk = shutil.which("wrk")
    if wrk:
        v = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        out["wrk"] = (v.stdout + v.stderr).split("Copyright")[0].strip()
    import fastapi
    import uvicorn

    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    out["server"] = f"uvicorn {uvicorn.__version__} (2 workers, {loop}, httptools), FastAPI {fastapi.__version__}"
    return out
