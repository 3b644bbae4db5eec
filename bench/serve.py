"""Serve a baseline app with exactly the server settings ``sangkien api`` gives intake
(shared/cli.py cmd_api): uvicorn, factory, N workers, loop and HTTP implementation left to
uvicorn's "auto" (uvloop and httptools, both installed), no access log, proxy headers on.

    python -m bench.serve bench.apps:bare --port 9000 --workers 2
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from shared.config import CommonSettings
from shared.logging import configure_logging


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))
    args = ap.parse_args()
    settings = CommonSettings()
    configure_logging("bench", level=settings.log_level, json=settings.log_json)
    uvicorn.run(
        args.target,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
