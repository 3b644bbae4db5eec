"""Restarts of the two stores everything depends on, on real processes.

1. Redis killed (SIGKILL) in the middle of a burst of submissions and started again a few
   seconds later on its append-only file, with intake and two ingesters running throughout and
   never restarted: every answer was 202 or a 503 with Retry-After; the phones send a 503'd body
   again under the same Idempotency-Key (as the portal does), and in the end the rows in
   PostgreSQL are exactly the 202s, the stream drained by itself.
2. PostgreSQL crashed (immediate shutdown) under review's console and API and reporting's API,
   each on a real server: while it is away every request answers 503 with Retry-After and a
   Vietnamese message within seconds, never a 500 or a stack trace, and /readyz says not ready;
   started again, the same requests succeed with no service restarted. Writes caught in flight
   by the crash — nominations held inside their transaction (the quota counter taken, the
   nomination row written, waiting for the audit chain's lock), a request for two dossiers held
   on the second — left nothing behind: counters equal the nominations, the audit chain
   verifies, no dossier job of the request exists; asked again, they succeed once.
3. Redis restarted under the console: 503 while it is away, the officer's session there after.
4. A database that accepts connections and never answers: 503 within the connect timeout.

(tests/intake/test_faults.py kills Redis with no ingester running and PostgreSQL under intake.)
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from devstack.embedded import free_port
from services.reporting.app import create_app as create_reporting_app
from services.reporting.config import ReportingSettings
from services.reporting.models import DossierJob
from services.review.accounts.models import OfficerAccount, Role
from services.review.accounts.passwords import hash_password
from services.review.accounts.principal import login_name
from services.review.app import create_app as create_review_app
from services.review.audit import service as audit_service
from services.review.config import ReviewSettings
from services.review.workflow.seed import seed_workflows
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE, Dossier
from shared.db import make_engine, make_sessionmaker, tenant_scope, tenant_session
from shared.servicetoken import issue
from shared.storage import ensure_bucket, make_client
from shared.timeutil import now
from tests.reporting.conftest import dossier
from tests.review.accounts.conftest import PASSWORD, csrf_of
from tests.review.workflow.factories import World
from tests.support.faults import (
    Poster,
    Rows,
    accepted_codes,
    assert_exactly_once,
    ingester_env,
    prepare_database,
    publish_directory,
    stream_name,
)
from tests.support.processes import Children, IngesterProcesses, PrivatePostgres, PrivateRedis, wait_for
from tests.support.stack import Server

pytestmark = pytest.mark.xdist_group("outages")

THANH_HOA = 38
CAMPAIGN, ROUND = "75k-demo", "dot-1"
# A correctness bound, not a speed goal: a refusal comes at once, a hang would be the client's
# 30 s timeout or more.
QUICKLY = 5.0
UNAVAILABLE = "tam_thoi_khong_phuc_vu"


def assert_unavailable(r: httpx.Response, elapsed: float, *, page: bool = False) -> None:
    """503, Retry-After, a Vietnamese message, nothing of the failure's insides, quickly."""
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert int(r.headers["retry-after"]) > 0
    assert elapsed < QUICKLY, f"the 503 took {elapsed:.1f}s"
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "SELECT", "127.0.0.1"):
        assert leak not in r.text, leak
    if page:
        assert r.headers["content-type"].startswith("text/html")
        assert "Hệ thống tạm thời gián đoạn" in r.text and "vui lòng thử lại" in r.text
    else:
        body = r.json()
        assert body["code"] == UNAVAILABLE
        assert "vui lòng thử lại" in body["message"]


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    t = time.monotonic()
    r = call()
    return r, time.monotonic() - t


# --- 1. Redis restarted during a burst ----------------------------------------------------------------

BURST = 3000


def test_redis_restarted_during_a_burst_loses_and_invents_nothing(
    base_env: dict[str, str],
    loaded_trees: CommonSettings,
    app_engine: Engine,
    pg_admin_url: str,
    private_redis: PrivateRedis,
    start_intake: Callable[..., Server],
    children: Children,
    tmp_path: Path,
) -> None:
    client = private_redis.client()
    publish_directory(app_engine, client)
    stream = stream_name("submissions-restart")
    intake = start_intake(submissions_stream=stream, redis_url=private_redis.url())
    rows = Rows(pg_admin_url, dt.datetime.now(dt.UTC))
    ingesters = IngesterProcesses(children, ingester_env(base_env, stream, REDIS_URL=private_redis.url()), tmp_path)
    procs = [ingesters.start(INGESTER_CONSUMER=f"restart-{c}") for c in "ab"]

    def why() -> str:
        return f"rows {rows.count()}, stream {client.xlen(stream)}\n{ingesters.logs()}"

    beating = [f"review:ingester:heartbeat:restart-{c}" for c in "ab"]
    wait_for("both ingesters to run", lambda: client.exists(*beating) == 2, timeout=60, why=why)

    # A burst, then a steady flow that outlasts the outage; a 503 is sent again after its
    # Retry-After, under the same key, up to six times.
    poster = Poster(intake.url, BURST, burst=600, rate=200, resend_503=6)
    poster.start()
    wait_for(
        "a third of the burst answered and ingesting under way",
        lambda: len(poster.seen) >= BURST // 3 and rows.count() > 0,
        timeout=60,
        every=0.01,
        why=why,
    )
    private_redis.kill()
    answered_at_kill = len(poster.seen)
    time.sleep(3)
    private_redis.start()  # the same directory: the append-only file brings everything back
    answers = poster.result(timeout=240)
    assert len(poster.seen) > answered_at_kill, "nothing was posted after the restart"

    seen = poster.seen
    statuses = Counter(a.status for a in seen)
    assert set(statuses) <= {202, 503}, statuses
    assert statuses[503] > 0, "the outage was never seen: the kill came too late to test anything"
    for a in seen:
        if a.status == 503:
            assert a.retry_after is not None and int(a.retry_after) > 0, a
            assert a.body["code"] == UNAVAILABLE and "vui lòng gửi lại sau" in a.body["message"], a.body
            assert a.seconds < QUICKLY, f"a 503 took {a.seconds:.1f}s"
    # Every phone got its 202 in the end, once per body, and only ever one code per key.
    assert Counter(a.status for a in answers) == {202: BURST}, Counter(a.status for a in answers)
    codes_by_key: dict[str, set[str]] = {}
    for a in seen:
        if a.status == 202:
            codes_by_key.setdefault(a.key, set()).add(a.body["tracking_code"])
    assert all(len(c) == 1 for c in codes_by_key.values()), "one key, two tracking codes"
    accepted = accepted_codes(answers)
    resent = sum(1 for a in seen if a.status == 503)
    print(f"answered before the kill {answered_at_kill}, 503s {resent}, answers {len(seen)} for {BURST} bodies")

    wait_for("every accepted submission in the database", lambda: rows.count() >= len(accepted), timeout=90, why=why)
    wait_for("the stream to drain", lambda: client.xlen(stream) == 0, timeout=30, why=why)
    # The ingesters met the outage and went on by themselves: the same two processes.
    assert all(p.poll() is None for p in procs), ingesters.logs()
    assert len(ingesters.started) == 2
    assert any("redis unavailable" in ingesters.full_log(p) for p in procs), ingesters.logs()
    assert_exactly_once(rows.codes(), accepted, client, stream)
    rows.close()


# --- 2. PostgreSQL restarted under review and reporting -----------------------------------------------

# The audit chain's append lock (services/review/audit/repository.py): pg_advisory_xact_lock of
# this family and the tenant. Held from outside, every audited act waits for it, inside its
# transaction, after everything else it writes.
AUDIT_LOCK_FAMILY = 0x41554454


@dataclass
class District:
    code: str
    unit_id: int
    chair_login: str
    codes: list[str]  # three initiatives ready to be nominated (quota: two)


@dataclass
class Scene:
    url: str  # the private server's database, as a superuser
    settings: CommonSettings
    districts: list[District]


def _ready_district(w: World, n: int) -> District:
    """A district union of Thanh Hóa with its chair (who signs in), an appraiser, and three
    initiatives of the demo campaign appraised and confirmed: each may be nominated."""
    unit = w.add_unit(w.unit("thanh-hoa"), kind="district", name=f"LĐLĐ huyện Thử Khởi Động Lại {n}")
    chair = w.officer(unit, Role.chu_tich)
    w.s.execute(
        update(OfficerAccount).where(OfficerAccount.id == chair.id).values(password_hash=hash_password(PASSWORD))
    )
    appraiser = w.officer(unit, Role.tham_dinh)
    at = now() - dt.timedelta(hours=2)
    codes = []
    for _ in range(3):
        sub = w.submission(
            unit,
            campaign=CAMPAIGN,
            submitted_at=at - dt.timedelta(days=1),
            applied_from=f"{at:%m/%Y}",
        )
        w.appraise([appraiser], sub.tracking_code, ROUND, at=at)
        w.confirm(chair, sub.tracking_code, at=at, applied_on=at.date())
        codes.append(sub.tracking_code)
    return District(unit.code, unit.id, login_name(chair.username, "thanh-hoa"), codes)


@pytest.fixture
def scene(private_postgres: PrivatePostgres, base_env: dict[str, str]) -> Iterator[Scene]:
    env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
    env["database_url"] = private_postgres.url("sangkien_restart")
    settings = CommonSettings(**env)
    engine = prepare_database(settings)
    factory = make_sessionmaker(engine)
    seed_workflows(tenant_scope(factory), [CAMPAIGN])
    with tenant_session(factory, THANH_HOA) as s:
        w = World(s, settings).as_tenant(THANH_HOA)
        districts = [_ready_district(w, n) for n in (1, 2)]
    engine.dispose()
    yield Scene(settings.database_url, settings, districts)


def _sign_in(client: httpx.Client, login: str) -> str:
    """Through the console's form, as a browser does; returns the session's CSRF token."""
    form = {"login": login, "password": PASSWORD, "csrf_token": csrf_of(client.get("/console/dang-nhap").text)}
    assert client.post("/console/dang-nhap", data=form).status_code == 303
    return csrf_of(client.get("/console/").text)


@dataclass
class Officers:
    """A signed-in chair per district, each with their own cookies and CSRF token."""

    clients: list[tuple[httpx.Client, str]]

    def nominate(self, i: int, code: str) -> httpx.Response:
        c, csrf = self.clients[i]
        return c.post(
            f"/api/v1/workflow/submissions/{code}/nominate", json={"round": ROUND}, headers={"x-csrf-token": csrf}
        )


def _state(url: str, d: District) -> dict[str, Any]:
    """What the database holds about a district's nominations (a superuser: no RLS): the quota
    counter, the nomination rows, each initiative's status and holder, the audited acts."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        with engine.connect() as c:
            args = {"t": THANH_HOA, "u": d.unit_id}
            used = c.execute(
                text("SELECT coalesce(sum(used), 0) FROM review.wf_quota_usage WHERE tenant_id = :t AND unit_id = :u"),
                args,
            ).scalar_one()
            nominated = c.execute(
                text(
                    "SELECT s.tracking_code FROM review.wf_nominations n JOIN review.submissions s"
                    " ON s.tenant_id = n.tenant_id AND s.id = n.submission_id"
                    " WHERE n.tenant_id = :t AND n.from_unit_id = :u ORDER BY 1"
                ),
                args,
            ).scalars()
            statuses: dict[str, tuple[str, int | None]] = {
                code: (status, holder)
                for code, status, holder in c.execute(
                    text(
                        "SELECT s.tracking_code, s.status, w.holder_unit_id FROM review.submissions s"
                        " LEFT JOIN review.wf_cases w ON w.tenant_id = s.tenant_id AND w.submission_id = s.id"
                        " WHERE s.tenant_id = :t AND s.unit_id = :u"
                    ),
                    args,
                )
            }
            audited = c.execute(
                text(
                    "SELECT s.tracking_code FROM review.audit_log a JOIN review.submissions s"
                    " ON s.tenant_id = a.tenant_id AND a.entity = 'submission' AND a.entity_id = s.id::text"
                    " WHERE a.tenant_id = :t AND s.unit_id = :u AND a.action = 'de_cu' ORDER BY 1"
                ),
                args,
            ).scalars()
            return {
                "used": int(used),
                "nominated": list(nominated),
                "statuses": statuses,
                "audited": list(audited),
            }
    finally:
        engine.dispose()


def _chain_verifies(settings: CommonSettings) -> int:
    engine = make_engine(settings.runtime_database_url, pool_size=1)
    try:
        with tenant_session(make_sessionmaker(engine), THANH_HOA) as s:
            v = audit_service.verify_chain(s, THANH_HOA)
            assert v.ok, (v.first_bad_seq, v.problem)
            return v.rows
    finally:
        engine.dispose()


def _dossier_jobs(url: str, hashes: list[str]) -> int:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        with engine.connect() as c:
            return int(
                c.execute(
                    text("SELECT count(*) FROM reporting.dossier_jobs WHERE content_hash = ANY(:h)"), {"h": hashes}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _lock_waits(url: str) -> Counter[str]:
    """The server's backends waiting on a lock, by kind (advisory, transactionid, tuple…)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        with engine.connect() as c:
            waits = c.execute(
                text(
                    "SELECT wait_event FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return Counter(str(w) for w in waits)
    finally:
        engine.dispose()


class InFlight(threading.Thread):
    """One request sent from a thread of its own, so the test can crash the server under it."""

    def __init__(self, call: Callable[[], httpx.Response]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self.finished_at = 0.0

    def run(self) -> None:
        try:
            self.response = self.call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc
        self.finished_at = time.monotonic()

    def result(self) -> httpx.Response:
        self.join(30)
        assert not self.is_alive(), "the request hung"
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


def _hold_dossier(c: Connection, d: Dossier) -> None:
    """An uncommitted job of the same content: reporting's INSERT … ON CONFLICT for it waits for
    this transaction to end (which the crash ends, by rolling it back)."""
    c.execute(
        insert(DossierJob).values(
            tenant_id=d.tenant_id,
            id=uuid.uuid4(),
            content_hash=d.content_hash(),
            campaign_code=d.campaign_code,
            round_code=d.round_code,
            unit_code=d.unit_code,
            unit_name=d.unit_name,
            rows=len(d.rows),
            payload=d.model_dump(mode="json"),
            state="queued",
            attempts=0,
            requested_by=1,
        )
    )


def test_postgres_restarted_under_review_and_reporting(
    scene: Scene,
    private_postgres: PrivatePostgres,
    base_env: dict[str, str],
    s3_env: dict[str, str],
    redis_url: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pg = private_postgres
    env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
    env["database_url"] = scene.url
    review_settings = ReviewSettings(
        **env,
        console_cookie_secure=False,
        console_login_attempts_per_ip=10_000,
        submissions_stream=stream_name("submissions-pg-restart"),
    )
    queue = f"reporting-restart-{secrets.token_hex(4)}"
    reporting_settings = ReportingSettings(
        **{**env, **{k.lower(): v for k, v in s3_env.items()}},
        service_token_secret=secrets.token_urlsafe(24),
        task_queue=queue,
    )
    ensure_bucket(make_client(reporting_settings), reporting_settings.bucket)
    review = Server(create_review_app(review_settings), free_port()).start()
    reporting = Server(create_reporting_app(reporting_settings), free_port()).start()
    token = issue(
        reporting_settings.service_token_key(),
        tenant_id=THANH_HOA,
        officer_id=7,
        unit_code="thanh-hoa",
        role="chu_tich",
        aud=REPORTING_AUDIENCE,
        ttl=600,
    )
    bearer = {"authorization": f"Bearer {token}"}
    html = {"accept": "text/html,application/xhtml+xml"}
    browsers: list[httpx.Client] = []
    admin_engine = create_engine(scene.url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    try:
        browsers += [httpx.Client(base_url=review.url, timeout=30) for _ in scene.districts]
        officers = Officers([(c, _sign_in(c, d.chair_login)) for c, d in zip(browsers, scene.districts, strict=True)])
        console = browsers[0]
        api = httpx.Client(base_url=reporting.url, timeout=30, headers=bearer)
        browsers.append(api)
        listing = {"campaign": CAMPAIGN, "round": ROUND}
        first_job = dossier(unit="T-restart-0")
        posted = api.post("/api/v1/dossiers", json={"dossiers": [first_job.model_dump(mode="json")]})
        assert posted.status_code == 202, posted.text
        first_job_id = posted.json()["jobs"][0]["id"]

        # What the test asks of both services before, during and after the outage.
        reads: list[tuple[str, Callable[[], httpx.Response], bool]] = [
            ("console: queue", lambda: console.get("/console/sang-kien", headers=html), True),
            ("console: nominations", lambda: console.get("/console/de-cu", headers=html), True),
            (
                "console: initiative",
                lambda: console.get(f"/console/sang-kien/{scene.districts[0].codes[2]}", headers=html),
                True,
            ),
            ("workflow API: cases", lambda: console.get("/api/v1/workflow/submissions"), False),
            ("reporting API: jobs", lambda: api.get("/api/v1/dossiers", params=listing), False),
            ("reporting API: job", lambda: api.get(f"/api/v1/dossiers/{first_job_id}"), False),
        ]
        for name, call, _ in reads:
            r = call()
            assert r.status_code == 200, (name, r.status_code, r.text[:300])
        for i, d in enumerate(scene.districts):
            r = officers.nominate(i, d.codes[0])
            assert r.status_code == 200, r.text
        before = {d.code: _state(scene.url, d) for d in scene.districts}
        for s in before.values():
            assert s["used"] == 1 and len(s["nominated"]) == 1 and len(s["audited"]) == 1, s

        # --- writes caught in flight -------------------------------------------------------------
        held = [dossier(unit="T-restart-1"), dossier(unit="T-restart-2")]
        holder = admin_engine.connect()
        # The session's lock outlives the transaction both run in (never committed).
        holder.execute(text("SELECT pg_advisory_lock(:f, :t)"), {"f": AUDIT_LOCK_FAMILY, "t": THANH_HOA})
        _hold_dossier(holder, held[1])
        in_flight = [
            InFlight(functools.partial(officers.nominate, i, code))
            for i, d in enumerate(scene.districts)
            for code in d.codes[1:]
        ]
        in_flight.append(
            InFlight(lambda: api.post("/api/v1/dossiers", json={"dossiers": [x.model_dump(mode="json") for x in held]}))
        )
        for t in in_flight:
            t.start()
        # Per district: one nomination holds the counter and its rows, waiting for the audit
        # lock; the other waits for the counter. The dossiers: the first inserted, the second
        # waiting for the held one.
        wait_for(
            "the five writes to wait inside their transactions",
            lambda: (w := _lock_waits(scene.url))["advisory"] == 2 and sum(w.values()) == 5,
            timeout=30,
            every=0.1,
            why=lambda: str(_lock_waits(scene.url)),
        )

        capfd.readouterr()  # what was logged before the crash is not the outage's
        crashed_at = time.monotonic()
        pg.crash()
        holder.invalidate()
        for t in in_flight:
            r = t.result()
            assert_unavailable(r, t.finished_at - crashed_at)

        # --- while PostgreSQL is away --------------------------------------------------------------
        for name, call, page in reads:
            r, took = timed(call)
            try:
                assert_unavailable(r, took, page=page)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {exc}") from exc
        r, took = timed(lambda: officers.nominate(0, scene.districts[0].codes[1]))
        assert_unavailable(r, took)
        r, took = timed(lambda: api.post("/api/v1/dossiers", json={"dossiers": [held[0].model_dump(mode="json")]}))
        assert_unavailable(r, took)
        for server in (review, reporting):
            ready = httpx.get(f"{server.url}/readyz", timeout=10)
            assert ready.status_code == 503, ready.text
            checks = ready.json()["checks"]
            assert checks["postgres"].startswith("lỗi") and checks["redis"] == "ok", checks
            assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive: not to be restarted

        # --- PostgreSQL back: the same requests succeed, nothing restarted ---------------------------
        # The services' own log of the outage (they run in this process): a warning a request,
        # naming the error's class, never a stack trace or the failed statement.
        out, err = capfd.readouterr()
        logged = out + err
        assert "dependency_unavailable" in logged
        for leak in ("Traceback", "Exception in ASGI application", "INSERT INTO", "SELECT "):
            assert leak not in logged, leak

        pg.start()  # crash recovery from the WAL on the same data directory
        for name, call, _ in reads:
            r = call()
            assert r.status_code == 200, (name, r.status_code, r.text[:300])
        for server in (review, reporting):
            ready = httpx.get(f"{server.url}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text

        # Nothing half-written: each district as it was before the crash.
        for d in scene.districts:
            after = _state(scene.url, d)
            assert after == before[d.code], (d.code, before[d.code], after)
        rows = _chain_verifies(scene.settings)
        assert _dossier_jobs(scene.url, [x.content_hash() for x in held]) == 0

        # Asked again: each write succeeds once, and the counter is exact (two allowed, so the
        # second nomination now, the third refused).
        for i, d in enumerate(scene.districts):
            r = officers.nominate(i, d.codes[1])
            assert r.status_code == 200, r.text
            r = officers.nominate(i, d.codes[2])
            assert r.status_code == 409 and "không quá 2" in r.json()["message"], r.text
            again = _state(scene.url, d)
            assert again["used"] == 2 and again["nominated"] == again["audited"] == sorted(d.codes[:2]), again
        assert _chain_verifies(scene.settings) == rows + 2 * 2  # a nomination: its act and its new status
        r = api.post("/api/v1/dossiers", json={"dossiers": [x.model_dump(mode="json") for x in held]})
        assert r.status_code == 202, r.text
        assert [j["state"] for j in r.json()["jobs"]] == ["queued", "queued"]
        assert _dossier_jobs(scene.url, [x.content_hash() for x in held]) == 2
    finally:
        for c in browsers:
            c.close()
        review.stop()
        reporting.stop()
        admin_engine.dispose()
        redis.Redis.from_url(redis_url).delete(queue)


# --- 3. Redis restarted under the console ---------------------------------------------------------------


def test_redis_restarted_under_the_console(
    base_env: dict[str, str], loaded_trees: CommonSettings, app_engine: Engine, private_redis: PrivateRedis
) -> None:
    """The console keeps its sessions (and sign-in throttles) in Redis: with Redis away its pages
    and API answer 503 like a database outage, and the officer's session is there again after
    the restart (the append-only file keeps it), with no sign-in and no restart of review."""
    env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
    settings = ReviewSettings(
        **{**env, "redis_url": private_redis.url()}, console_cookie_secure=False, console_login_attempts_per_ip=10_000
    )
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        w = World(s, settings).as_tenant(THANH_HOA)
        officer = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
        s.execute(
            update(OfficerAccount).where(OfficerAccount.id == officer.id).values(password_hash=hash_password(PASSWORD))
        )
    review = Server(create_review_app(settings), free_port()).start()
    browser = httpx.Client(base_url=review.url, timeout=30)
    html = {"accept": "text/html,application/xhtml+xml"}
    try:
        _sign_in(browser, login_name(officer.username, "thanh-hoa"))
        assert browser.get("/console/sang-kien", headers=html).status_code == 200

        private_redis.kill()
        r, took = timed(lambda: browser.get("/console/sang-kien", headers=html))
        assert_unavailable(r, took, page=True)
        r, took = timed(lambda: browser.get("/api/v1/workflow/submissions"))
        assert_unavailable(r, took)
        ready = httpx.get(f"{review.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("lỗi"), ready.text
        assert ready.json()["checks"]["postgres"] == "ok"

        private_redis.start()
        assert browser.get("/console/sang-kien", headers=html).status_code == 200, "the session was lost"
        assert browser.get("/api/v1/workflow/submissions").status_code == 200
        assert httpx.get(f"{review.url}/readyz", timeout=10).status_code == 200
    finally:
        browser.close()
        review.stop()


# --- 4. a database that accepts and never answers -------------------------------------------------------


def test_a_database_that_never_answers_is_503_within_the_connect_timeout(
    base_env: dict[str, str], s3_env: dict[str, str]
) -> None:
    """A listening socket nobody accepts on: the TCP handshake completes, PostgreSQL's greeting
    never comes. Without a connect timeout the request would hang as long as the client waits."""
    from shared.db import CONNECT_TIMEOUT_SECONDS

    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(64)
    port = black_hole.getsockname()[1]
    env: dict[str, Any] = {k.lower(): v for k, v in {**base_env, **s3_env}.items()}
    env["database_url"] = f"postgresql://postgres@127.0.0.1:{port}/sangkien"
    settings = ReportingSettings(**env, service_token_secret=secrets.token_urlsafe(24))
    server = Server(create_reporting_app(settings), free_port()).start()
    token = issue(
        settings.service_token_key(),
        tenant_id=THANH_HOA,
        officer_id=7,
        unit_code="thanh-hoa",
        role="chu_tich",
        aud=REPORTING_AUDIENCE,
        ttl=120,
    )
    try:
        r, took = timed(
            lambda: httpx.get(
                f"{server.url}/api/v1/dossiers",
                params={"campaign": CAMPAIGN, "round": ROUND},
                headers={"authorization": f"Bearer {token}"},
                timeout=60,
            )
        )
        assert r.status_code == 503, r.text
        assert r.json()["code"] == UNAVAILABLE and int(r.headers["retry-after"]) > 0
        assert took < CONNECT_TIMEOUT_SECONDS + QUICKLY, f"took {took:.1f}s"
    finally:
        server.stop()
        black_hole.close()
