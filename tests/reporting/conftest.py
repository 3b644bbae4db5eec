"""Reporting on real parts: the worker's database (migrated, with the reporting schema), the
worker's Redis as the Celery broker, SeaweedFS as object storage, and, for the flows and the
faults, a real Celery worker process (`python -m shared.cli worker reporting`)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.config import ReportingSettings
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE, Dossier, DossierRow
from shared.db import make_sessionmaker
from shared.servicetoken import issue
from shared.storage import ensure_bucket, make_client
from tests.support.processes import ROOT, Children, tail, wait_for

THANH_HOA = 38
CAO_BANG = 4


@pytest.fixture(scope="session")
def reporting_env(base_env: dict[str, str], s3_env: dict[str, str], migrated: CommonSettings) -> dict[str, str]:
    env = {**base_env, **s3_env, "SERVICE_TOKEN_SECRET": secrets.token_urlsafe(24)}
    settings = ReportingSettings(**{k.lower(): v for k, v in env.items()})
    ensure_bucket(make_client(settings), settings.bucket)
    return env


def settings_of(env: dict[str, str], **over: Any) -> ReportingSettings:
    return ReportingSettings(**{k.lower(): v for k, v in env.items()}, **over)


@pytest.fixture(scope="session")
def reporting_settings(reporting_env: dict[str, str]) -> ReportingSettings:
    return settings_of(reporting_env)


@pytest.fixture(scope="session")
def sessions(app_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(app_engine)


TokenFor = Callable[..., str]


@pytest.fixture(scope="session")
def token_for(reporting_settings: ReportingSettings) -> TokenFor:
    def make(tenant_id: int = THANH_HOA, *, aud: str = REPORTING_AUDIENCE, ttl: int = 120, officer_id: int = 7) -> str:
        return issue(
            reporting_settings.service_token_key(),
            tenant_id=tenant_id,
            officer_id=officer_id,
            unit_code="H380",
            role="chu_tich",
            aud=aud,
            ttl=ttl,
        )

    return make


def dossier(tenant_id: int = THANH_HOA, *, rows: int = 3, unit: str | None = None, **over: Any) -> Dossier:
    """A dossier of its own (a fresh unit code and codes: its content hash is new every call)."""
    tag = secrets.token_hex(3)
    body: dict[str, Any] = {
        "tenant_id": tenant_id,
        "campaign_code": "75k-demo",
        "campaign_name": "75 nghìn sáng kiến, vượt khó, phát triển",
        "round_code": "dot-1",
        "round_name": "Đợt 1 – Tháng Công nhân năm 2021",
        "unit_code": unit or f"T{tag}",
        "unit_name": "Liên đoàn Lao động huyện Hà Trung",
        "superior_name": "Liên đoàn Lao động tỉnh Thanh Hóa",
        "recipient_name": "Ban Thường vụ Liên đoàn Lao động tỉnh Thanh Hóa",
        "number_symbol": "Số:      /TTr-LĐLĐ",
        "place": "Hà Trung",
        "issued_on": dt.date(2021, 4, 15),
        "signer_name": "Lê Thị Hồng",
        "rows": [
            DossierRow(
                tracking_code=f"{tenant_id}-{tag.upper()[:4]:0<4}-{i:04d}",
                full_name=f"Nguyễn Văn Đức {i}",
                birth_year=1980 + i % 20,
                position="Tổ trưởng",
                workplace="Công ty CP Xi măng Nghi Sơn",
                phone_masked="*******678",
                title=f"Cải tiến băng tải số {i} giảm tiêu hao điện năng",
                applied_from="Tháng 3/2021",
                summary="Thay động cơ và bộ biến tần; lắp cảm biến dừng khi băng tải chạy không tải.",
                benefit="Tiết kiệm 120 triệu đồng mỗi năm; áp dụng toàn nhà máy",
                awards="Lao động tiên tiến 2019, 2020",
            )
            for i in range(rows)
        ],
    }
    body.update(over)
    return Dossier(**body)


@pytest.fixture
def children() -> Iterator[Children]:
    c = Children()
    yield c
    c.stop_all()


StartWorker = Callable[..., Any]


@pytest.fixture
def start_worker(
    children: Children, reporting_env: dict[str, str], tmp_path: Path, worker_id_str: str
) -> Iterator[StartWorker]:
    """A real reporting worker, as `make run` starts it, on a queue of this test's own (so the
    tasks other tests left in the worker's Redis never reach it)."""
    started: list[Path] = []

    def start(queue: str, *, concurrency: int = 1, **env_over: str) -> Any:
        log = tmp_path / f"worker-{len(started)}.log"
        started.append(log)
        env = {
            **os.environ,
            **reporting_env,
            "PYTHONUNBUFFERED": "1",
            "TASK_QUEUE": queue,
            "LOG_LEVEL": "INFO",
            **env_over,
        }
        return children.spawn(
            [sys.executable, "-m", "shared.cli", "worker", "reporting", "--concurrency", str(concurrency)],
            log=log,
            env=env,
            cwd=ROOT,
        )

    yield start
    if started:
        print("\n".join(f"--- {p.name}\n{tail(p)}" for p in started))


def flush_queue(redis_url: str, queue: str) -> None:
    redis.Redis.from_url(redis_url).delete(queue)


__all__ = ["CAO_BANG", "THANH_HOA", "dossier", "settings_of", "wait_for"]
