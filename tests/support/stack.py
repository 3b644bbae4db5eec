"""Intake (and review's API) on real uvicorn servers (a thread of the test process) against the worker's Redis,
with the directory published by review's real publisher from the worker's database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import uvicorn
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.intake.app import create_app
from services.intake.config import IntakeSettings
from services.review import publisher
from services.review.config import ReviewSettings
from services.review.ingester import Ingester, ensure_group
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_scope


def form(**over: Any) -> dict[str, Any]:
    """A valid submission as the portal sends it (Hà Quảng district union, Cao Bằng)."""
    body: dict[str, Any] = {
        "full_name": "Nông Thị Hoa",
        "id_number": "001 203 004 567",
        "phone": "0912.345.678",
        "unit": "cao-bang",
        "subunit": "H045",
        "group": "khoi_co_quan",
        "field": "cai_cach_hanh_chinh",
        "title": "Số hoá sổ theo dõi đoàn viên công đoàn cơ sở",
        "description": "Dùng bảng tính dùng chung để cập nhật đoàn viên, giảm thời gian tổng hợp báo cáo.",
        "consent": True,
    }
    body.update(over)
    return body


@pytest.fixture(scope="session")
def published(loaded_trees: CommonSettings, app_engine: Engine, redis_url: str) -> str:
    factory = make_sessionmaker(app_engine)

    scope = tenant_scope(factory)

    client = redis.Redis.from_url(redis_url)
    client.delete("directory:version")
    publisher.publish(client, publisher.build_snapshot(scope))
    return redis_url


class Server:
    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_config=None,
                lifespan="on",
                access_log=False,
                server_header=False,  # as `sangkien api` serves (shared/cli.py)
            )
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("intake did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def review_server(published: str, base_env: dict[str, str], worker_id_str: str) -> Iterator[Server]:
    """Review's API, which intake asks about tracking codes no longer in Redis."""
    from services.review.app import create_app as create_review_app

    env = {k.lower(): v for k, v in base_env.items()}
    settings = ReviewSettings(**env, admin_token="test-admin-token", submissions_stream=f"submissions-{worker_id_str}")
    server = Server(create_review_app(settings), free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def intake_factory(
    published: str, base_env: dict[str, str], worker_id_str: str, review_server: Server
) -> Iterator[Callable[..., Server]]:
    servers: dict[tuple[tuple[str, Any], ...], Server] = {}

    def start(**over: Any) -> Server:
        key = tuple(sorted(over.items()))
        if key not in servers:
            env = {k.lower(): v for k, v in base_env.items()}
            env.update(
                submissions_stream=f"submissions-{worker_id_str}",
                intake_campaign="75k-demo",
                directory_refresh_seconds=0.5,
                review_url=review_server.url,
                # The suite's many look-ups all come from 127.0.0.1 within a minute; the limit
                # itself is tested with its own server (test_api).
                rate_limit_tracking_per_ip=100_000,
                # Most tests post form()'s one ID number; the per-person limit has its own tests
                # (tests/security/test_floods.py).
                rate_limit_per_id_number=100_000,
            )
            env.update(over)
            settings = IntakeSettings(**env)
            servers[key] = Server(create_app(settings), free_port()).start()
        return servers[key]

    yield start
    for s in servers.values():
        s.stop()


@pytest.fixture
def intake(intake_factory: Callable[..., Server]) -> Server:
    return intake_factory()


@pytest.fixture
def review_settings(base_env: dict[str, str], worker_id_str: str, migrated: CommonSettings) -> ReviewSettings:
    env = {k.lower(): v for k, v in base_env.items()}
    return ReviewSettings(
        **env,
        submissions_stream=f"submissions-{worker_id_str}",
        ingester_block_ms=50,
        ingester_min_idle_ms=500,
        ingester_reclaim_every_seconds=0.2,
    )


@pytest.fixture
def ingester(review_settings: ReviewSettings, published: str) -> Iterator[Ingester]:
    client = redis.Redis.from_url(review_settings.redis_url)
    ensure_group(client, review_settings.submissions_stream, review_settings.ingester_group)
    ing = Ingester(review_settings, client)
    yield ing
    ing.close()


def drain(ing: Ingester, *, rounds: int = 50) -> int:
    """Run the ingester until the stream has nothing more for it."""
    total = 0
    for _ in range(rounds):
        n = ing.step(block_ms=20)
        total += n
        if n == 0 and not ing.busy:
            break
    return total
