"""`make run` must work where no PostgreSQL or Redis answers: the embedded ones are real."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis

from devstack.embedded import (
    Managed,
    ensure_postgres,
    ensure_redis,
    free_port,
    postgres_answers,
    redis_answers,
)

pytestmark = pytest.mark.xdist_group("embedded")


def test_embedded_postgres_when_none_answers(tmp_path: Path) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/sangkien"
    assert not postgres_answers(dead)
    m = Managed()
    try:
        url = ensure_postgres(dead, tmp_path / "pg", m, "postgres")
        assert url != dead
        with psycopg.connect(url) as c:
            version = c.execute("SHOW server_version").fetchone()
            assert version and version[0].startswith("16")
            c.execute("CREATE TABLE t (x int)")
    finally:
        m.stop()
    assert not postgres_answers(url)  # stopped with the stack


def test_embedded_redis_when_none_answers(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    m = Managed()
    try:
        url = ensure_redis(dead, tmp_path / "redis", m, free_port())
        r = redis.Redis.from_url(url)
        r.xadd("s", {"a": "1"})
        assert r.xlen("s") == 1
    finally:
        m.stop()
    assert not redis_answers(url)


def test_the_machines_servers_are_used_when_they_answer(pg_admin_url: str, redis_url: str, tmp_path: Path) -> None:
    m = Managed()
    assert ensure_postgres(pg_admin_url, tmp_path, m, "x") == pg_admin_url
    assert ensure_redis(redis_url, tmp_path, m, free_port()) == redis_url
    assert m.procs == [] and m.pg_server is None
