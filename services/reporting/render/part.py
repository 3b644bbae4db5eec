"""One part of a dossier, rendered in a child process (split.py starts it):

    python -m services.reporting.render.part PARENT_PID TIMEOUT_SECONDS < part.html > part.pdf

The HTML is the part's document as the parent made it from the template (so that both render
exactly the same markup); the PDF is what WeasyPrint makes of it. A failure is a traceback on
stderr and a non-zero exit, which the parent turns into an exception.
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """Killed when the parent dies (a Celery worker child killed at its time limit, say): the
    kernel sends SIGKILL when the thread that started us exits, the one blocked in render_pdf."""
    if sys.platform == "linux":
        # Should it fail (it does not, on Linux), the alarm below still ends us in time.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before that
        os._exit(70)


def main(argv: list[str]) -> int:
    parent, timeout = int(argv[0]), float(argv[1])
    _die_with(parent)
    # Never running past the parent's deadline, even were the parent unable to kill us:
    # SIGALRM's default action ends the process.
    signal.alarm(max(1, math.ceil(timeout)))
    # Imported only now, WeasyPrint taking a second to: the parent may die meanwhile.
    from services.reporting.render.weasy import write_pdf

    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(write_pdf(html))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
