"""Dossier rendering: the Tờ trình and its Bảng tổng hợp to PDF (WeasyPrint) and DOCX
(python-docx), 10, 100 and 1,000 rows, against ``render_html`` of the same dossier (the Jinja2
template alone: what the PDF costs beyond it is WeasyPrint's layout and drawing).

Every measurement runs in a child process of its own (``python -m bench.render --child …``):
its peak resident memory is its ru_maxrss, which counts WeasyPrint's C side (Pango, HarfBuzz,
fontconfig) that tracemalloc does not see. The child builds the dossier, renders a one-row
dossier to warm up (templates compiled, fonts loaded: a Celery worker is long-lived), then times
``repeat`` calls of the real render_pdf and reports the best by the wall clock, which is what
the target is about: a big table is rendered in parts, in processes of render_pdf's own
(services/reporting/render/split.py), whose start is in the time. Its CPU time is reported
beside it, the parts' processes' included, and their peak memory added to the render's (the
parts run at the same time): an upper bound, which counts the pages they share (the
interpreter, Pango, the fonts) once per process; so the sum of their proportional set sizes
(PSS), sampled together five times a second, is reported too. The dossiers are made up, their summaries of 150 to 1,000
characters evenly spread; last, 1,000 rows whose summaries all have the portal's maximum of
1,000 characters.

    python -m bench --only render          # or: python -m bench.render [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.words import FIRST, GIVEN, MIDDLE, SENTENCES, TITLES
from shared.contracts.dossier import Dossier, DossierRow

FORMATS = ("html", "pdf", "docx")
SIZES = (10, 100, 1000)
TARGETS = {"pdf": 10.0, "docx": 3.0}  # seconds for 1,000 rows
MEMORY_TARGET_MB = 500


def dossier(n: int, seed: int = 2021, *, full: bool = False) -> Dossier:
    """``n`` made-up rows; summaries of 150 to 1,000 characters, or all of 1,000 when ``full``."""
    rng = random.Random(seed)  # noqa: S311 - made-up rows, not secrets
    rows = []
    for i in range(n):
        target = 1000 if full else 150 + (i * 850) // max(n - 1, 1)
        summary = ""
        while len(summary) < target:
            summary += (" " if summary else "") + rng.choice(SENTENCES)
        extra = i % 3 != 0
        rows.append(
            DossierRow(
                tracking_code=f"SK-{seed}-{i:05d}",
                full_name=f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                birth_year=1965 + i % 40 if extra else None,
                position="Tổ trưởng sản xuất" if extra else None,
                workplace=f"Phân xưởng {i % 12 + 1}, Công ty cổ phần Xi măng Bỉm Sơn",
                phone_masked=f"*******{i % 1000:03d}" if extra else None,
                title=f"{rng.choice(TITLES)} ({i + 1})",
                applied_from="Tháng 3/2021",
                summary=summary[:1000],
                benefit=f"Tiết kiệm {10 + i % 300} triệu đồng mỗi năm; áp dụng toàn công ty",
                awards="Lao động tiên tiến năm 2019, 2020" if i % 4 else None,
                trade_secret=i % 29 == 7,
            )
        )
    return Dossier(
        tenant_id=38,
        campaign_code="75k-2021",
        campaign_name="75 nghìn sáng kiến, vượt khó, phát triển",
        round_code="dot-1",
        round_name="Đợt 1 – Tháng Công nhân năm 2021",
        unit_code="38",
        unit_name="Liên đoàn Lao động tỉnh Thanh Hóa",
        superior_name="Tổng Liên đoàn Lao động Việt Nam",
        recipient_name="Đoàn Chủ tịch Tổng Liên đoàn Lao động Việt Nam",
        number_symbol="Số: …/TTr-LĐLĐ",
        place="Thanh Hóa",
        issued_on=dt.date(2021, 4, 16),
        signer_name="Võ Mạnh Sơn",
        recipients=["Ban Tuyên giáo Tổng Liên đoàn", "TT. LĐLĐ tỉnh"],
        rows=rows,
    )


def _child(fmt: str, n: int, repeat: int, full: bool) -> None:
    from services.reporting import render
    from services.reporting.render import split
    from services.reporting.render.pdf import SPLIT_ROWS

    renderers: dict[str, Callable[[Dossier], object]] = {
        "html": render.render_html,
        "pdf": render.render_pdf,
        "docx": render.render_docx,
    }
    fn = renderers[fmt]
    fn(dossier(1, seed=1))  # warm-up
    d = dossier(n, full=full)
    times, cpu, size, pages = [], [], 0, 0
    for _ in range(repeat):
        t, c = time.perf_counter(), _cpu()
        out = fn(d)
        times.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
        size = len(out) if isinstance(out, bytes) else len(str(out).encode())
        if isinstance(out, bytes) and fmt == "pdf":
            pages = _pages(out)
        del out
    best = times.index(min(times))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The biggest of the part processes (a render has one at a time on two cores, up to three
    # on four, all alike): reaped by render_pdf, so counted among this process's children.
    parts = split.part_count(n, SPLIT_ROWS, None) if fmt == "pdf" else 1
    parts_rss = (parts - 1) * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"seconds": times[best], "cpu": cpu[best], "runs": times, "bytes": size, "pages": pages}
    print(json.dumps({**result, "parts": parts, "rss_mb": rss, "parts_rss_mb": parts_rss}))


def _cpu() -> float:
    """CPU time of this process and of its reaped children: the parts of a PDF rendered in
    processes of their own, which process_time() alone would leave out."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _pages(pdf: bytes) -> int:
    # pypdf is a dev dependency (the tests read PDFs with it); without it, no page count.
    try:
        from pypdf import PdfReader
    except ImportError:
        return 0
    return len(PdfReader(io.BytesIO(pdf)).pages)


@dataclass
class Measure:
    fmt: str
    n: int
    full: bool
    seconds: float  # wall clock, best run
    cpu: float  # CPU time of that run, its part processes' included
    runs: list[float]
    bytes: int
    pages: int
    parts: int  # processes the PDF was rendered in
    max_rss_mb: float  # the render's process and its part processes, which run at the same time
    max_pss_mb: float | None  # their PSS added up, sampled (None where /proc has no smaps_rollup)


def measure(fmt: str, n: int, repeat: int, *, full: bool = False) -> Measure:
    argv = [sys.executable, "-m", "bench.render", "--child", fmt, str(n), str(repeat), "full" if full else "mixed"]
    pss: float | None = None
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as p:  # noqa: S603 - our own module
        while p.poll() is None:
            now = _tree_pss_mb(p.pid)
            pss = now if pss is None or now is None else max(pss, now)
            time.sleep(0.2)
        out = p.stdout.read() if p.stdout else ""
    if p.returncode != 0:
        raise RuntimeError(f"bench.render child {fmt} {n} failed with {p.returncode}")
    r = json.loads(out.strip().splitlines()[-1])
    rss = r["rss_mb"] + r["parts_rss_mb"]
    return Measure(fmt, n, full, r["seconds"], r["cpu"], r["runs"], r["bytes"], r["pages"], r["parts"], rss, pss)


def _tree_pss_mb(pid: int) -> float | None:
    """The PSS of a process and its descendants, added up (Linux), in MB."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:")) / 1024
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):  # gone meanwhile, or no such file here
            if p == pid:
                return None
    return total


def run(*, quick: bool = False, say: Callable[[str], None] = print) -> list[Measure]:
    """Each size in each format; then, unless quick, 1,000 rows whose summaries all have the
    portal's maximum of 1,000 characters (the heaviest dossier a round can produce), once."""
    plan = [(n, fmt, 3 if n <= 100 else 2, False) for n in ((10, 100) if quick else SIZES) for fmt in FORMATS]
    if not quick:
        plan += [(1000, fmt, 1, True) for fmt in FORMATS]
    results: list[Measure] = []
    for n, fmt, repeat, full in plan:
        m = measure(fmt, n, repeat, full=full)
        results.append(m)
        say(
            f"  {n:>5,} rows{' (full)' if full else ''} {fmt:<4}: {m.seconds:7.3f} s, CPU {m.cpu:.3f} s "
            f"(runs {', '.join(f'{t:.3f}' for t in m.runs)}), {m.bytes / 1024:,.0f} KiB"
            f"{f', {m.pages} pages' if m.pages else ''}{f', in {m.parts} processes' if m.parts > 1 else ''}, "
            f"peak RSS {m.max_rss_mb:,.0f} MB{f' (PSS {m.max_pss_mb:,.0f})' if m.max_pss_mb else ''}"
        )
    say("\n" + table(results))
    return results


def table(results: list[Measure]) -> str:
    by = {(m.fmt, m.n, m.full): m for m in results}
    lines = [
        "| rows | summaries | render_html (baseline) | PDF (wall; CPU of all its processes) | × html | DOCX | × html "
        "| PDF pages | peak RSS html · PDF · DOCX (MB) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, full in sorted({(m.n, m.full) for m in results}):
        h, p, d = by[("html", n, full)], by[("pdf", n, full)], by[("docx", n, full)]
        lines.append(
            f"| {n:,} | {'all 1,000 chars' if full else '150–1,000 chars'} | {h.seconds * 1000:,.1f} ms "
            f"| {p.seconds:.2f} s (CPU {p.cpu:.2f}{f', {p.parts} processes' if p.parts > 1 else ''}) "
            f"| {p.seconds / h.seconds:,.0f} "
            f"| {d.seconds:.2f} s (CPU {d.cpu:.2f}) | {d.seconds / h.seconds:,.0f} | {p.pages} "
            f"| {h.max_rss_mb:,.0f} · {p.max_rss_mb:,.0f}{f' (PSS {p.max_pss_mb:,.0f})' if p.max_pss_mb else ''} "
            f"· {d.max_rss_mb:,.0f} |"
        )
    lines.append("")
    for fmt, limit in TARGETS.items():  # the targets are for 1,000 rows: none in a quick run
        for m in (x for x in results if x.fmt == fmt and x.n == 1000):
            ok = "met" if m.seconds < limit else "NOT met"
            kind = "summaries of 1,000 chars" if m.full else "mixed summaries"
            lines.append(f"- 1,000-row {fmt.upper()} ({kind}) < {limit:.0f} s: {m.seconds:.2f} s, {ok}")
    peak = max(m.max_rss_mb for m in results)
    verdict = "met" if peak < MEMORY_TARGET_MB else "NOT met"
    lines.append(f"- peak memory < {MEMORY_TARGET_MB} MB: {peak:,.0f} MB (RSS peaks added up), {verdict}")
    if all(m.max_pss_mb is not None for m in results):
        pss = max(m.max_pss_mb or 0.0 for m in results)
        verdict = "met" if pss < MEMORY_TARGET_MB else "NOT met"
        lines.append(f"- peak memory < {MEMORY_TARGET_MB} MB: {pss:,.0f} MB (PSS of the processes together), {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.render", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    ap.add_argument("--quick", action="store_true", help="10 and 100 rows only")
    ap.add_argument("--child", nargs=4, metavar=("FORMAT", "ROWS", "REPEAT", "TEXT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        fmt, n, repeat, text = args.child
        _child(fmt, int(n), int(repeat), text == "full")
        return 0
    run(quick=args.quick, say=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
