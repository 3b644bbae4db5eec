"""`sangkien` — the one entry point of the one image.

    sangkien run <service> <role>     # container command: role is api | worker | beat | ingester | migrate
    sangkien api <service> [--port N]
    sangkien worker <service> [--concurrency N]
    sangkien beat notify
    sangkien ingester
    sangkien db bootstrap | migrate
    sangkien storage init
    sangkien review load-tree 2021 | seed [--demo]

Services are reached by import string (as uvicorn and celery do), never imported here: shared/
depends on no service.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from shared.config import CommonSettings
from shared.logging import configure_logging, get_logger

SERVICES = ("intake", "review", "reporting", "notify")
DEFAULT_PORTS = {"intake": 8000, "review": 8001, "reporting": 8002, "notify": 8003}
WORKER_SERVICES = ("reporting", "notify")
BEAT_SERVICES = ("notify",)
# What `sangkien run <service> <role>` accepts: the processes the system is made of.
RUN_PAIRS = {
    ("intake", "api"),
    ("review", "api"),
    ("review", "ingester"),
    ("review", "migrate"),
    ("reporting", "api"),
    ("reporting", "worker"),
    ("notify", "api"),
    ("notify", "worker"),
    ("notify", "beat"),
}


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def cmd_api(service: str, host: str, port: int | None, workers: int) -> None:
    import uvicorn

    env_port = os.environ.get(f"{service.upper()}_PORT") or os.environ.get("PORT")
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        host=host,
        port=port or int(env_port or DEFAULT_PORTS[service]),
        workers=workers,
        log_config=None,  # our logging (shared.logging) handles uvicorn's records
        access_log=False,  # the observability middleware logs and counts requests instead
        proxy_headers=True,
        server_header=False,  # no "server: uvicorn": what runs here is nobody else's business
        timeout_graceful_shutdown=10,
    )


def cmd_worker(service: str, concurrency: int) -> None:
    app = _load(f"services.{service}.tasks:celery")
    queue = app.conf.task_default_queue  # the service's name unless TASK_QUEUE says otherwise
    app.worker_main(["worker", "-Q", queue, "-c", str(concurrency), "-n", f"{service}@%h", "--loglevel", "INFO"])


def cmd_beat(service: str) -> None:
    app = _load(f"services.{service}.tasks:celery")
    # The schedule file is state: keep it out of the source tree (.data/ in dev, a volume in k8s).
    app.Beat(
        loglevel="INFO",
        schedule=os.environ.get("BEAT_SCHEDULE_FILE", os.path.join(tempfile.gettempdir(), "sangkien-beat")),
    ).run()


def cmd_migrate() -> None:
    from shared.dbadmin import bootstrap
    from shared.migrations import upgrade_all

    settings = CommonSettings()
    bootstrap(settings)
    upgrade_all(settings)


def cmd_storage_init() -> None:
    from shared.storage import ensure_bucket, make_client

    settings = CommonSettings()
    created = ensure_bucket(make_client(settings), settings.bucket)
    get_logger("storage").info("bucket ready", bucket=settings.bucket, created=created)


# The org trees the migration loads, oldest first: a newer tree supersedes the older one (ends
# its units at the reform date, links successors); reloading an older one never undoes that.
MIGRATE_TREES = ("2021", "2025")


def cmd_run_migrate() -> None:
    """`run review migrate`, the one-shot of every deployment: roles, database and every
    service's migrations; the bucket; both org trees; the campaigns, and the directory that
    intake serves published to Redis (a Redis error there is only a warning: the ingester
    publishes it again every few seconds). Safe to run again."""
    cmd_migrate()
    cmd_storage_init()
    review = _load("services.review.cli:main")
    review(["load-tree", *MIGRATE_TREES])
    review(["seed"])


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    settings = CommonSettings()
    ap = argparse.ArgumentParser(prog="sangkien")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("run", help="container entry point")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("role", choices=("api", "worker", "beat", "ingester", "migrate"))

    p = sub.add_parser("api")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))

    p = sub.add_parser("worker")
    p.add_argument("service", choices=WORKER_SERVICES)
    p.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))

    p = sub.add_parser("beat")
    p.add_argument("service", choices=BEAT_SERVICES)

    sub.add_parser("ingester")

    p = sub.add_parser("db")
    p.add_argument("action", choices=("bootstrap", "migrate"))

    p = sub.add_parser("storage")
    p.add_argument("action", choices=("init",))

    p = sub.add_parser("review", help="the review service's own commands")
    p.add_argument("rest", nargs=argparse.REMAINDER)

    args = ap.parse_args(argv)
    service = getattr(args, "service", None) or args.cmd
    configure_logging(str(service), level=settings.log_level, json=settings.log_json)

    handlers: dict[str, Callable[[], None]] = {
        "api": lambda: cmd_api(args.service, args.host, args.port, args.workers),
        "worker": lambda: cmd_worker(args.service, args.concurrency),
        "beat": lambda: cmd_beat(args.service),
        "ingester": lambda: _load("services.review.ingester:main")(),
        "db": lambda: cmd_migrate() if args.action == "migrate" else _bootstrap_only(),
        "storage": cmd_storage_init,
        "review": lambda: _load("services.review.cli:main")(args.rest),
    }
    if args.cmd == "run":
        role = args.role
        if (args.service, role) not in RUN_PAIRS:
            ap.error(f"'{args.service} {role}' is not a process of this system; valid: {sorted(RUN_PAIRS)}")
        if role == "api":
            cmd_api(args.service, "0.0.0.0", None, int(os.environ.get("WEB_WORKERS", "1")))  # noqa: S104 - a container listens on all its interfaces
        elif role == "worker":
            cmd_worker(args.service, int(os.environ.get("WORKER_CONCURRENCY", "2")))
        elif role == "beat":
            cmd_beat(args.service)
        elif role == "ingester":
            _load("services.review.ingester:main")()
        else:
            cmd_run_migrate()
        return
    handlers[args.cmd]()


def _bootstrap_only() -> None:
    from shared.dbadmin import bootstrap

    bootstrap(CommonSettings())


if __name__ == "__main__":
    main()
