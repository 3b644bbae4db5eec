"""The reporting worker as `make run` starts it (`python -m shared.cli worker reporting`),
against real Redis, PostgreSQL and SeaweedFS: a dossier asked for through the API is rendered;
object storage down while jobs run (a forwarder in front of SeaweedFS cut, then back): jobs
retry with backoff and finish, none done without its objects; the worker SIGKILLed in the middle
of a render: the job is rendered again by the next worker and finishes once."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.app import create_app
from services.reporting.models import DossierJob
from shared.contracts.dossier import Dossier
from shared.db import tenant_session
from shared.storage import make_client
from tests.reporting.conftest import THANH_HOA, StartWorker, TokenFor, dossier, settings_of
from tests.support.netproxy import Proxy
from tests.support.processes import wait_for

pytestmark = pytest.mark.xdist_group("reporting-worker")


def _ask(api: TestClient, token: str, *ds: Dossier) -> list[str]:
    r = api.post(
        "/api/v1/dossiers",
        json={"dossiers": [d.model_dump(mode="json") for d in ds]},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 202, r.text
    return [j["id"] for j in r.json()["jobs"]]


def _job(sessions: sessionmaker[Session], job_id: str) -> DossierJob:
    import uuid

    with tenant_session(sessions, THANH_HOA) as s:
        found = s.get(DossierJob, (THANH_HOA, uuid.UUID(job_id)))
        assert found is not None
        return found


@pytest.fixture
def queue() -> str:
    return f"reporting-test-{secrets.token_hex(4)}"


@pytest.fixture
def api(reporting_env: dict[str, str], queue: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_of(reporting_env, task_queue=queue))) as c:
        yield c


def test_the_worker_renders_what_the_api_was_asked(
    api: TestClient, token_for: TokenFor, start_worker: StartWorker, queue: str, sessions: sessionmaker[Session]
) -> None:
    start_worker(queue)
    ids = _ask(api, token_for(), dossier(rows=5), dossier(rows=1))
    wait_for("two dossiers rendered", lambda: all(_job(sessions, i).state == "done" for i in ids), timeout=90)
    got = api.get(f"/api/v1/dossiers/{ids[0]}", headers={"authorization": f"Bearer {token_for()}"}).json()
    assert httpx.get(got["pdf_url"]).content.startswith(b"%PDF")


def test_storage_down_while_jobs_run(
    api: TestClient,
    token_for: TokenFor,
    start_worker: StartWorker,
    queue: str,
    sessions: sessionmaker[Session],
    reporting_env: dict[str, str],
) -> None:
    s3_port = int(reporting_env["S3_ENDPOINT"].rsplit(":", 1)[1])
    proxy = Proxy(s3_port)  # down: nothing listens on its port yet
    start_worker(queue, S3_ENDPOINT=proxy.endpoint, RENDER_BACKOFF_MAX_SECONDS="2", RENDER_MAX_RETRIES="60")
    ds = [dossier(rows=2) for _ in range(3)]
    ids = _ask(api, token_for(), *ds)
    wait_for("the worker to try", lambda: all(_job(sessions, i).attempts >= 1 for i in ids), timeout=60)
    time.sleep(4)  # a few retries against the dead address
    jobs = [_job(sessions, i) for i in ids]
    assert all(j.state != "done" and j.pdf_key is None for j in jobs), [j.state for j in jobs]
    settings = settings_of(reporting_env)
    client = make_client(settings)
    for d in ds:
        assert not [
            o
            for o in client.list_objects(settings.bucket, prefix="38/", recursive=True)
            if d.content_hash() in o.object_name
        ]
    proxy.up()
    try:
        wait_for(
            "every job done once storage is back",
            lambda: all(_job(sessions, i).state == "done" for i in ids),
            timeout=90,
        )
    finally:
        proxy.down()
    done = [_job(sessions, i) for i in ids]
    # The client's own retries may carry a first attempt over a short cut; at least one job went
    # round the task's backoff (a new attempt each time).
    assert max(j.attempts for j in done) >= 2
    for j, d in zip(done, ds, strict=True):
        assert j.pdf_key and d.content_hash() in j.pdf_key
        assert client.stat_object(settings.bucket, j.pdf_key).size > 0
        assert client.stat_object(settings.bucket, j.docx_key or "").size > 0


def test_a_worker_killed_mid_render_leaves_the_job_to_the_next(
    api: TestClient,
    token_for: TokenFor,
    start_worker: StartWorker,
    queue: str,
    sessions: sessionmaker[Session],
    reporting_env: dict[str, str],
) -> None:
    # Unacknowledged five seconds after delivery: Redis gives the task to another worker.
    first = start_worker(queue, TASK_VISIBILITY_TIMEOUT="5", TASK_RESTORE_INTERVAL="1")
    d = dossier(rows=1000)
    [job_id] = _ask(api, token_for(), d)
    wait_for("the render to start", lambda: _job(sessions, job_id).state == "rendering", timeout=60, every=0.02)
    time.sleep(0.5)  # well inside WeasyPrint
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    assert _job(sessions, job_id).state == "rendering"
    start_worker(queue, TASK_VISIBILITY_TIMEOUT="5", TASK_RESTORE_INTERVAL="1")
    wait_for("the job finished by the next worker", lambda: _job(sessions, job_id).state == "done", timeout=120)
    job = _job(sessions, job_id)
    assert job.attempts == 2
    settings = settings_of(reporting_env)
    objects = [
        o.object_name
        for o in make_client(settings).list_objects(settings.bucket, prefix="38/", recursive=True)
        if d.content_hash() in o.object_name
    ]
    assert sorted(objects) == sorted([job.pdf_key, job.docx_key])
