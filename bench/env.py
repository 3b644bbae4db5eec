"""The bench's own world: a database (``sangkien_bench``) built by the real migrations and loaded
with the 2021 tree and the open demo campaign, a Redis db of its own (``/9``), generated PII keys,
and the environment the real processes are started with."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from shared.config import CommonSettings
from shared.db import tenant_scope

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = "75k-demo"  # open now (ensure_campaigns(demo=True)); pinned to the 2021 tree
STREAM = "bench:submissions"


def _with_db(url: str, db: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, f"/{db}", p.query, p.fragment))


def _with_redis_db(url: str, index: int) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, f"/{index}", p.query, p.fragment))


@dataclass
class BenchEnv:
    database_url: str  # admin (superuser) URL of the bench database: RLS does not bind it
    redis_url: str
    stream: str = STREAM
    _directory: dict[str, bytes] | None = None
    pii: dict[str, str] = field(
        default_factory=lambda: {
            "PII_ENCRYPTION_KEYS": "b1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "PII_HASH_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )

    @classmethod
    def from_environ(cls, database: str = "sangkien_bench", redis_db: int = 9) -> BenchEnv:
        pg = os.environ.get("BENCH_DATABASE_URL") or _with_db(
            os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sangkien"), database
        )
        rd = os.environ.get("BENCH_REDIS_URL") or _with_redis_db(
            os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), redis_db
        )
        return cls(database_url=pg, redis_url=rd)

    # --- what the processes are given -------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Environment of every process the bench starts (intake, ingester, baselines)."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "BENCH_"))},
            "ENVIRONMENT": "bench",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            **self.pii,
            "SUBMISSIONS_STREAM": self.stream,
            "INTAKE_CAMPAIGN": CAMPAIGN,
            "TRUSTED_PROXIES": "127.0.0.1",  # the load generator plays the ingress: X-Forwarded-For counts
            "LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
        }

    @cached_property
    def settings(self) -> CommonSettings:
        return CommonSettings(
            database_url=self.database_url,
            redis_url=self.redis_url,
            pii_encryption_keys=self.pii["PII_ENCRYPTION_KEYS"],  # type: ignore[arg-type]
            pii_hash_key=self.pii["PII_HASH_KEY"],  # type: ignore[arg-type]
        )

    @cached_property
    def _redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=60)

    def redis(self) -> redis.Redis:
        return self._redis

    def pg(self, **kw: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.database_url, **kw)

    # --- building and resetting --------------------------------------------------------------------

    def build(self) -> None:
        """A fresh database through the real bootstrap and migrations, the 2021 tree, the open
        demo campaign; an empty Redis db with the directory published."""
        from services.review.service import ensure_campaigns, load_tree
        from shared.dbadmin import bootstrap, database_name, drop_database
        from shared.migrations import upgrade_all
        from shared.orgtree import read_tree
        from shared.timeutil import now

        s = self.settings
        drop_database(s, database_name(s.database_url))
        bootstrap(s)
        upgrade_all(s)
        with self._scope_factory() as scope:
            load_tree(scope, read_tree("2021"))
            with scope(None) as session:
                ensure_campaigns(session, tree_code="2021", now=now(), demo=True)
        self.reset_redis()

    @contextmanager
    def _scope_factory(self) -> Iterator[Any]:
        from shared.db import make_engine, make_sessionmaker

        engine = make_engine(self.settings.runtime_database_url, pool_size=2)
        factory = make_sessionmaker(engine)

        scope = tenant_scope(factory)

        try:
            yield scope
        finally:
            engine.dispose()

    def publish_directory(self) -> None:
        from services.review import publisher

        with self._scope_factory() as scope:
            publisher.publish(self.redis(), publisher.build_snapshot(scope))

    def reset_redis(self) -> None:
        """Empty the bench's Redis db (stream, tracking records, rate counters, idempotency keys,
        a baseline's queue) and put the published directory back (as review published it)."""
        from shared.contracts.directory import DIRECTORY_KEY, DIRECTORY_VERSION_KEY

        r = self.redis()
        if self._directory is None:
            r.flushdb()
            self.publish_directory()
            self._directory = {k: bytes(r.get(k) or b"") for k in (DIRECTORY_KEY, DIRECTORY_VERSION_KEY)}
        else:
            r.flushdb()
            r.mset(self._directory)  # type: ignore[arg-type]

    def truncate(self) -> None:
        with self.pg(autocommit=True) as c:
            c.execute("TRUNCATE review.submissions CASCADE")  # and what the workflow built on them

    def committed(self) -> int:
        with self.pg(autocommit=True) as c:
            row = c.execute("SELECT count(*) FROM review.submissions").fetchone()
            return int(row[0]) if row else 0

    def drop(self) -> None:
        from shared.dbadmin import database_name, drop_database

        self.redis().flushdb()
        drop_database(self.settings, database_name(self.settings.database_url))


def destinations() -> list[tuple[str, str, int]]:
    """(tenant code, subunit code, weight) for the load generator, spread over the 83 tenants of
    the 2021 tree like the real campaign: a province's submissions over all its units (the
    province's own union included), each central-sector union (one unit) weighted like an
    average province. The national union (no subunits to submit to) is left out."""
    import csv

    tenants = {r["code"]: r for r in csv.DictReader((ROOT / "data/orgtree/2021/tenants.csv").open(encoding="utf-8"))}
    units: dict[str, list[str]] = {}
    for r in csv.DictReader((ROOT / "data/orgtree/2021/units.csv").open(encoding="utf-8")):
        units.setdefault(r["tenant"], []).append(r["code"])
    provinces = [t for t, r in tenants.items() if r["kind"] == "province"]
    average = round(sum(len(units[t]) for t in provinces) / len(provinces))
    out: list[tuple[str, str, int]] = []
    for code, r in tenants.items():
        if r["kind"] == "national":
            continue
        subunits = units[code]
        if len(subunits) == 1:
            out.append((code, subunits[0], average))
        else:
            out.extend((code, u, 1) for u in subunits)
    return out


def start_worker(service: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A service's Celery worker as `make run` starts it (two processes), logging to ``log``."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - our interpreter, our module, a service name of ours
            [sys.executable, "-m", "shared.cli", "worker", service, "--concurrency", "2"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
