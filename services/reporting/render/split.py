"""A big table rendered in parts, side by side: where to cut it, and the child processes that
render all parts but the first (``python -m services.reporting.render.part``).

WeasyPrint is single-threaded and costs about the same for every line it lays out, so a
1,000-row table takes one core for a quarter of a minute. Its rows are cut into one part per
core, each laid out by its own WeasyPrint in its own process, and the PDFs joined (merge.py).

Child processes, not ``multiprocessing``: render_pdf runs in a Celery prefork worker child,
which is daemonic, and a daemonic process may not have multiprocessing children. A plain
subprocess may be started from anywhere. Its input and output go through unlinked temporary
files rather than pipes: the parent is busy in WeasyPrint (holding the GIL) for the whole time
the child works, so nobody would be there to feed or drain a pipe, and a child blocked on one
would wait for the parent instead of working.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from services.reporting.render import content

# The cost model (row_lines) counts lines laid out, about half a millisecond each here. What a
# child costs before its first line, in lines: a fresh interpreter importing WeasyPrint (about
# a second) and its first document's setup. And what numbering and joining a continuation
# part's pages costs the calling process, as a share of laying them out (a blank page with its
# number costs a tenth of a full one). Set from bench/render.py's 1,000-row dossiers, whose two
# parts then end within half a second of each other (about the noise of a shared machine).
START_LINES = 1200
STAMP_SHARE = 0.1
ROW_LINES = 4  # a row's own cost beyond its lines (seven cells, their borders), in lines
# The table's text width in points (A4 landscape less its margins), the cells' padding, and
# the average advance of a character of Vietnamese text in the shipped face, in em.
_TABLE_PT = (content.LANDSCAPE["width"] - content.LANDSCAPE["left"] - content.LANDSCAPE["right"]) * content.PT_PER_MM
_PADDING_PT = 6.0
_CHAR_EM = 0.43
_FONT_PT = 11.0
PART_MODULE = "services.reporting.render.part"  # what a child runs (python -m)
# The import root of this package, given to the child so that it runs this very code whatever
# the caller's working directory or sys.path.
_ROOT = Path(__file__).resolve().parents[3]


class PartFailed(RuntimeError):
    """A part's child process failed, was killed or ran out of time."""


def cpus() -> int:
    """The cores this process may run on (its affinity, which a container's cpuset narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def part_count(rows: int, split_rows: int, parts: int | None) -> int:
    """How many parts a table of ``rows`` rows is rendered in: one below ``split_rows``, else one
    per core, two to four (more parts than cores would only add interpreter starts; beyond four,
    each part's start outweighs what it saves). On a single core, one."""
    if rows < split_rows:
        return 1
    n = parts if parts is not None else min(cpus(), 4)
    return max(1, min(n, rows))


def _chars_per_line() -> tuple[float, ...]:
    em = _CHAR_EM * _FONT_PT
    return tuple(max(1.0, (_TABLE_PT * share / 100 - _PADDING_PT) / em) for share in content.COLUMN_WIDTHS[1:])


def _cell_lines(row: content.Row, per_line: Sequence[float]) -> list[int]:
    cells = zip(row.cells, per_line, strict=True)
    return [sum(math.ceil(len(text) / cpl) for text in cell.lines) for cell, cpl in cells]


def row_lines(row: content.Row, per_line: Sequence[float]) -> float:
    """An estimate of what laying out and drawing the row costs: its lines, cell by cell (the
    cost WeasyPrint has per line), and its own share. Rough on purpose: it only balances parts."""
    return sum(_cell_lines(row, per_line)) + ROW_LINES


def lines(rows: Sequence[content.Row]) -> float:
    """The cost model's estimate for rendering these rows."""
    per_line = _chars_per_line()
    return sum(row_lines(r, per_line) for r in rows)


def height(rows: Sequence[content.Row]) -> float:
    """The rows' height in lines, each as tall as its tallest cell and its padding: the pages
    they fill are in proportion (not their cost: a row of short cells is as tall as one)."""
    per_line = _chars_per_line()
    return sum(max(_cell_lines(r, per_line)) + 0.5 for r in rows)


def plan(rows: Sequence[content.Row], n: int, *, start_lines: float = START_LINES) -> list[tuple[content.Row, ...]]:
    """The rows cut into ``n`` consecutive parts, none empty, that end about together: each
    child first starts an interpreter (``start_lines``), and the calling process, once done with
    the first part, numbers and joins the others' pages (STAMP_SHARE of their cost)."""
    per_line = _chars_per_line()
    prefix = list(itertools.accumulate(row_lines(r, per_line) for r in rows))
    total = prefix[-1]
    # At most half an even share: a small table split on request (the tests do) is still cut
    # into parts of some size. render_pdf only splits tables far bigger than a start.
    start = min(start_lines, total / n / 2)
    # first + STAMP_SHARE * (n - 1) * other == start + other, first + (n - 1) * other == total
    other = (total - start) / (1 + (n - 1) * (1 - STAMP_SHARE))
    cuts = [0]
    for k in range(1, n):
        goal = total - (n - k) * other  # the lines before the k-th cut
        i = bisect.bisect_left(prefix, goal)  # prefix[i] is the first sum that reaches it
        cut = i + 1 if i < len(prefix) and prefix[i] - goal < goal - (prefix[i - 1] if i else 0) else i
        cuts.append(min(max(cut, cuts[-1] + 1), len(rows) - (n - k)))
    cuts.append(len(rows))
    return [tuple(rows[a:b]) for a, b in itertools.pairwise(cuts)]


def _environ() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(_ROOT) + (os.pathsep + path if path else "")}


class Children:
    """The child processes rendering parts 2.., started on entry; on exit (results taken, an
    error, the caller's own part failing) every one still running is killed and reaped, so none
    outlives the call. Each also kills itself at the deadline and dies with its parent (part.py)."""

    def __init__(self, htmls: Sequence[str], timeout: float) -> None:
        self._htmls = htmls
        self._timeout = timeout
        self._deadline = 0.0
        self._files = contextlib.ExitStack()
        self._procs: list[tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]] = []

    def __enter__(self) -> Children:
        self._deadline = time.monotonic() + self._timeout
        try:
            for html in self._htmls:
                self._procs.append(self._start(html))
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    def _start(self, html: str) -> tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]:
        # Kept until _stop, which closes (and so deletes) them with the ExitStack.
        stdout = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        stderr = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        with tempfile.TemporaryFile() as stdin:
            stdin.write(html.encode("utf-8"))
            stdin.seek(0)
            # -P: nothing from the working directory shadows a module; the timeout and our pid
            # let the child kill itself should this process die or hang.
            argv = [sys.executable, "-P", "-m", PART_MODULE, str(os.getpid()), str(self._timeout)]
            proc = subprocess.Popen(  # noqa: S603 - our own module, by the running interpreter
                argv, stdin=stdin, stdout=stdout, stderr=stderr, env=_environ(), close_fds=True
            )
        return proc, stdout, stderr

    def results(self) -> list[bytes]:
        """Each child's PDF, in order, once all have finished; PartFailed if one failed (a
        non-zero exit, a signal) or is still running at the deadline."""
        out: list[bytes] = []
        for i, (proc, stdout, stderr) in enumerate(self._procs, 2):
            try:
                code = proc.wait(timeout=max(0.0, self._deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise PartFailed(f"PDF part {i} still running after {self._timeout:g} s") from None
            stdout.seek(0)
            pdf = stdout.read()
            if code != 0 or not pdf.startswith(b"%PDF-"):
                stderr.seek(0)
                tail = stderr.read()[-2000:].decode("utf-8", "replace").strip()
                how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                raise PartFailed(f"PDF part {i} failed ({how}): {tail or 'no output'}")
            out.append(pdf)
        return out

    def _stop(self) -> None:
        for proc, _, _ in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._procs = []
        self._files.close()
