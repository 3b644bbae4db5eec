"""Reporting's dossier jobs through its API and its service, on the real database, Redis and
SeaweedFS: asked for with a signed token, one job per content, another tenant's job 404, the
render writing both objects before the job says done, a second run doing nothing, a changed
list a new version while the old stays downloadable, and a job two workers meet rendered by one."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.reporting import service
from services.reporting.app import create_app
from services.reporting.config import ReportingSettings
from services.reporting.tasks import renderers
from shared.contracts.dossier import RENDER_TASK, Dossier
from shared.db import tenant_session
from shared.storage import make_client
from tests.reporting.conftest import CAO_BANG, THANH_HOA, TokenFor, dossier, settings_of


@pytest.fixture
def queue() -> str:
    return f"reporting-test-{secrets.token_hex(4)}"


@pytest.fixture
def api(reporting_env: dict[str, str], queue: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_of(reporting_env, task_queue=queue))) as c:
        yield c


def _ask(api: TestClient, token: str, *dossiers: Dossier) -> httpx.Response:
    body = {"dossiers": [d.model_dump(mode="json") for d in dossiers]}
    return api.post("/api/v1/dossiers", json=body, headers={"authorization": f"Bearer {token}"})


def _render(sessions: sessionmaker[Session], settings: ReportingSettings, tenant: int, job_id: str) -> str:
    """What the task does, in this process: its two transactions."""
    with tenant_session(sessions, tenant) as s:
        if not service.begin_render(s, tenant, job_id):
            return "nothing-to-do"
    with tenant_session(sessions, tenant) as s:
        return service.render_claimed(s, make_client(settings), settings.bucket, tenant, job_id, renderers())


def test_asking_gives_a_job_and_sends_one_task_after_commit(
    api: TestClient, token_for: TokenFor, queue: str, redis_url: str
) -> None:
    d = dossier()
    r = _ask(api, token_for(), d)
    assert r.status_code == 202, r.text
    [job] = r.json()["jobs"]
    assert (job["state"], job["state_label"], job["rows"]) == ("queued", "Đang chờ tạo hồ sơ", 3)
    assert job["content_hash"] == d.content_hash() and job["pdf_url"] is None
    assert job["created_at"].endswith("+07:00")  # a person reads it: Asia/Ho_Chi_Minh
    # The same data again: the same job, and no second task.
    again = _ask(api, token_for(), d)
    assert again.status_code == 202 and again.json()["jobs"][0]["id"] == job["id"]
    sent = redis.Redis.from_url(redis_url).lrange(queue, 0, -1)
    assert len(sent) == 1 and RENDER_TASK.encode() in sent[0] and job["id"].encode() in sent[0]
    got = api.get(f"/api/v1/dossiers/{job['id']}", headers={"authorization": f"Bearer {token_for()}"})
    assert got.status_code == 200 and got.json()["id"] == job["id"]
    assert got.headers["cache-control"] == "no-store"


def test_tokens_and_tenants(api: TestClient, token_for: TokenFor) -> None:
    d = dossier()
    assert _ask(api, "", d).status_code == 401
    assert _ask(api, token_for(ttl=-5), d).status_code == 401
    assert _ask(api, token_for(aud="notify"), d).status_code == 401
    # Cao Bằng's officer sending Thanh Hóa's dossier: as if it did not exist.
    r = _ask(api, token_for(CAO_BANG), d)
    assert r.status_code == 404 and r.json()["message"] == "Không tìm thấy đơn vị của hồ sơ"
    [job] = _ask(api, token_for(), d).json()["jobs"]
    stranger = {"authorization": f"Bearer {token_for(CAO_BANG)}"}
    assert api.get(f"/api/v1/dossiers/{job['id']}", headers=stranger).status_code == 404
    listing = api.get("/api/v1/dossiers", params={"campaign": "75k-demo", "round": "dot-1"}, headers=stranger)
    assert listing.status_code == 200 and job["id"] not in listing.text
    assert api.get("/api/v1/dossiers/not-a-uuid", headers=stranger).status_code == 404
    assert api.post("/api/v1/dossiers", json={"dossiers": []}, headers=stranger).status_code == 422


def test_render_writes_both_objects_then_says_done(
    api: TestClient,
    token_for: TokenFor,
    sessions: sessionmaker[Session],
    reporting_settings: ReportingSettings,
) -> None:
    d = dossier(rows=2)
    [job] = _ask(api, token_for(), d).json()["jobs"]
    assert _render(sessions, reporting_settings, THANH_HOA, job["id"]) == "rendered"
    auth = {"authorization": f"Bearer {token_for()}"}
    done = api.get(f"/api/v1/dossiers/{job['id']}", headers=auth).json()
    assert done["state"] == "done" and done["finished_at"]
    client = make_client(reporting_settings)
    keys = sorted(o.object_name for o in client.list_objects(reporting_settings.bucket, prefix="38/", recursive=True))
    mine = [k for k in keys if d.content_hash() in k]
    assert mine == [
        f"38/ho-so/75k-demo/dot-1/{d.unit_code}/{d.content_hash()}.docx",
        f"38/ho-so/75k-demo/dot-1/{d.unit_code}/{d.content_hash()}.pdf",
    ]
    # The presigned link works without credentials, names the file, and is the PDF.
    pdf = httpx.get(done["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    docx = httpx.get(done["docx_url"])
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    # A second delivery of the task: nothing to do. Its objects still there.
    assert _render(sessions, reporting_settings, THANH_HOA, job["id"]) == "nothing-to-do"
    with tenant_session(sessions, THANH_HOA) as s:
        assert service.render_claimed(s, client, reporting_settings.bucket, THANH_HOA, job["id"], renderers()) == (
            "done-before"
        )
    # The list changed (one more nominee): a new job and new objects; the old link still works.
    changed = d.model_copy(update={"rows": [*d.rows, dossier(rows=1).rows[0]]})
    [new] = _ask(api, token_for(), changed).json()["jobs"]
    assert new["id"] != job["id"] and new["state"] == "queued"
    assert _render(sessions, reporting_settings, THANH_HOA, new["id"]) == "rendered"
    assert httpx.get(done["pdf_url"]).status_code == 200
    listing = api.get("/api/v1/dossiers", params={"campaign": "75k-demo", "round": "dot-1"}, headers=auth).json()
    ids = [j["id"] for j in listing["jobs"]]
    assert ids.index(new["id"]) < ids.index(job["id"])  # newest first


def test_an_expired_link_is_refused(
    api: TestClient, token_for: TokenFor, sessions: sessionmaker[Session], reporting_env: dict[str, str]
) -> None:
    settings = settings_of(reporting_env)
    [job] = _ask(api, token_for(), dossier(rows=1)).json()["jobs"]
    _render(sessions, settings, THANH_HOA, job["id"])
    with tenant_session(sessions, THANH_HOA) as s:
        found = service.get_job(s, _claims(token_for(), settings), job["id"])
        links = service.Links(make_client(settings), settings.bucket, ttl_seconds=1)
        url = service.describe(found, links).pdf_url
    assert url is not None
    import time

    time.sleep(2.1)
    assert httpx.get(url).status_code == 403


def _claims(token: str, settings: ReportingSettings) -> service.Claims:
    from shared.servicetoken import verify

    return verify(settings.service_token_key(), token, aud="reporting")


def test_two_workers_on_one_job_render_it_once(
    api: TestClient, token_for: TokenFor, sessions: sessionmaker[Session], reporting_settings: ReportingSettings
) -> None:
    """A task delivered twice (a visibility timeout while the first still renders): the second
    finds the job's row locked and leaves it; once the first committed, there is nothing to do."""
    [job] = _ask(api, token_for(), dossier(rows=1)).json()["jobs"]
    with tenant_session(sessions, THANH_HOA) as s:
        assert service.begin_render(s, THANH_HOA, job["id"])
    calls: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def slow_pdf(d: Dossier) -> bytes:
        calls.append("pdf")
        entered.set()
        release.wait(10)
        return renderers().pdf(d)

    slow = service.Renderers(pdf=slow_pdf, docx=renderers().docx)
    client = make_client(reporting_settings)
    first: list[str] = []

    def run_first() -> None:
        with tenant_session(sessions, THANH_HOA) as s:
            first.append(service.render_claimed(s, client, reporting_settings.bucket, THANH_HOA, job["id"], slow))

    t = threading.Thread(target=run_first)
    t.start()
    assert entered.wait(10)
    with tenant_session(sessions, THANH_HOA) as s:
        assert service.render_claimed(s, client, reporting_settings.bucket, THANH_HOA, job["id"], slow) == "busy"
    release.set()
    t.join(20)
    assert first == ["rendered"] and calls == ["pdf"]
    assert _render(sessions, reporting_settings, THANH_HOA, job["id"]) == "nothing-to-do"
