"""Tenant isolation under raw SQL, as the application's own role (the runtime URL), and at the
doors of reporting's and notify's APIs.

The tables come from the catalog: every table of the review, reporting and notify schemas with a
``tenant_id`` column. Each must have row-level security enabled and forced. Then, on one
transaction of the app role (rolled back at the end), both seed provinces get rows in every one
of them through the workflow's own functions and the services' repositories, and with
``SET LOCAL app.tenant_id`` naming province A:

* a SELECT of province B's rows returns none (B's rows are first seen to be there, under B);
* an UPDATE or DELETE aimed at B's rows touches none; moving one of A's rows to B is refused;
* an INSERT of a row of B (a copy of one of A's rows, relabelled) is refused by the policy;
* with no tenant set, no row of any table is visible.

A table added later without forced RLS fails the first test; one added without rows here fails
the second, naming it (give it rows in ``_province``), so the checks never pass vacuously.

``national_nominations`` is the one table shared on purpose: the Tổng Liên đoàn's rows (tenant
999) are readable by the province that sent them (``source_tenant_id``), so there "B's rows"
are also the rows B sent.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from services.notify import planner
from services.notify import repository as notify_repo
from services.notify.app import create_app as create_notify_app
from services.notify.config import NotifySettings
from services.notify.tasks import policy
from services.reporting import repository as reporting_repo
from services.reporting.app import create_app as create_reporting_app
from services.reporting.config import ReportingSettings
from services.review.accounts.models import Role
from services.review.console import repository as console_repo
from services.review.console.service import signature_values
from services.review.retention import service as retention
from services.review.workflow import nominations, routing, service
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.contracts.obligations import SYSTEM_ROLE
from shared.contracts.reminders import NOTIFY_AUDIENCE
from shared.db import make_engine, make_sessionmaker, tenant_session
from shared.servicetoken import issue
from shared.storage import ensure_bucket, make_client
from shared.timeutil import VN_TZ
from tests.notify.conftest import obligations, unit
from tests.reporting.conftest import dossier
from tests.review.test_route_catalogue import _routes as served_routes  # the same walk of included routers
from tests.review.workflow.conftest import workflow_seeded, world  # noqa: F401  # fixtures, requested by name
from tests.review.workflow.factories import CAO_BANG, THANH_HOA, TLD, World, vn

SCHEMAS = ("review", "reporting", "notify")

CATALOG_SQL = """
SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       EXISTS (SELECT 1 FROM pg_attribute s WHERE s.attrelid = c.oid AND s.attname = 'source_tenant_id'
               AND NOT s.attisdropped) AS shared,
       ARRAY(SELECT quote_ident(a2.attname) FROM pg_attribute a2
             WHERE a2.attrelid = c.oid AND a2.attnum > 0 AND NOT a2.attisdropped AND a2.attgenerated = ''
             ORDER BY a2.attnum) AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:schemas)
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    rls: bool
    forced: bool
    policies: int
    shared: bool  # has source_tenant_id: readable by the tenant that sent the row
    columns: list[str]

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'

    def of(self, tenant_param: str, alias: str = "") -> str:
        """The SQL condition "this row is that tenant's" (of the row named ``alias``)."""
        p = f"{alias}." if alias else ""
        own = f"{p}tenant_id = :{tenant_param}"
        return f"({own} OR {p}source_tenant_id = :{tenant_param})" if self.shared else own


def catalog(conn: Connection) -> list[Table]:
    return [
        Table(r[0], r[1], r[2], r[3], r[4], r[5], list(r[6]))
        for r in conn.execute(text(CATALOG_SQL), {"schemas": list(SCHEMAS)})
    ]


def set_local(conn: Connection, tenant_id: int | None) -> None:
    """Literally what the brief of row-level security says: SET LOCAL for this transaction.
    (shared.db.set_tenant is its function form; the tenant is an int, formatted here.)"""
    conn.execute(text(f"SET LOCAL app.tenant_id = '{'' if tenant_id is None else int(tenant_id)}'"))


def refusal(conn: Connection, sql: str, params: dict[str, Any]) -> str | None:
    """Run ``sql`` in a savepoint: the database's message when it refuses, else None."""
    try:
        with conn.begin_nested():
            conn.execute(text(sql), params)
    except DBAPIError as exc:
        return str(exc.orig).splitlines()[0]
    return None


def rowcount(conn: Connection, sql: str, params: dict[str, Any]) -> int | str:
    """Rows an UPDATE or DELETE touched (in a savepoint, rolled back), or the refusal."""
    try:
        with conn.begin_nested() as sp:
            n = conn.execute(text(sql), params).rowcount
            sp.rollback()
            return n
    except DBAPIError as exc:
        return str(exc.orig).splitlines()[0]


# --- the catalog ---------------------------------------------------------------------------------


def test_every_tenant_table_of_the_three_services_has_forced_rls(conn: Connection) -> None:
    tables = catalog(conn)
    names = {f"{t.schema}.{t.name}" for t in tables}
    # The catalog query finds the real tables of all three services, not an empty list.
    assert {"review.submissions", "review.audit_log", "reporting.dossier_jobs", "notify.reminders"} <= names
    lacking = [
        f"{t.schema}.{t.name}: " + ", ".join(w for w, ok in (("ENABLE", t.rls), ("FORCE", t.forced)) if not ok)
        for t in tables
        if not (t.rls and t.forced)
    ]
    assert lacking == []
    assert [t.name for t in tables if t.policies == 0] == []


def test_the_catalog_check_sees_a_new_table_without_rls(migrated: CommonSettings, loaded_trees: CommonSettings) -> None:
    """The check above fails for a table someone forgets to protect (built and rolled back)."""
    owner = make_engine(migrated.owner_database_url, pool_size=1)
    try:
        with owner.begin() as c:
            c.execute(text("CREATE TABLE notify.careless (tenant_id int, note text)"))
            [careless] = [t for t in catalog(c) if t.name == "careless"]
            assert (careless.rls, careless.forced, careless.policies) == (False, False, 0)
            c.rollback()
    finally:
        owner.dispose()


def test_nothing_in_the_schemas_reads_past_rls(conn: Connection) -> None:
    """No view that runs as its owner and no SECURITY DEFINER function: either would read the
    tables without the caller's policies."""
    views = conn.execute(
        text(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY(:s) "
            "AND NOT coalesce('security_invoker=true' = ANY(c.reloptions), false)"
        ),
        {"s": list(SCHEMAS)},
    ).scalars()
    assert list(views) == []
    definers = conn.execute(
        text(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.prosecdef AND n.nspname = ANY(:s)"
        ),
        {"s": list(SCHEMAS)},
    ).scalars()
    assert list(definers) == []


def test_the_runtime_url_is_the_app_role_bound_by_rls(conn: Connection, migrated: CommonSettings) -> None:
    row = conn.execute(
        text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert tuple(row) == (migrated.database_app_user, False, False)


# --- rows of both provinces in every table -------------------------------------------------------


def _province(w: World, tenant_id: int, district_code: str, province_code: str, notify: NotifySettings) -> None:
    """One province's initiatives through the workflow's own functions: routed, appraised,
    confirmed, nominated up to the province, commended, proposed to the Tổng Liên đoàn; another
    one with a complaint; a text signature; as the flows of tests/review/workflow/test_flows.py."""
    w.as_tenant(tenant_id)
    district, province = w.unit(district_code), w.unit(province_code)
    cdcs = w.add_unit(district, name=f"Công đoàn cơ sở thử cô lập {tenant_id}")
    sub = w.submission(district)
    d_chair = w.officer(district, Role.chu_tich)
    routing.route(w.s, d_chair, sub.tracking_code, cdcs.code)
    c_chair = w.officer(cdcs, Role.chu_tich)
    w.appraise([w.officer(cdcs, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 3, 20))
    w.confirm(c_chair, sub.tracking_code, at=vn(2021, 3, 25))
    nominations.nominate(w.s, c_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 1))
    w.appraise([w.officer(district, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 5))
    nominations.nominate(w.s, d_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 10))
    p_chair = w.officer(province, Role.chu_tich)
    w.appraise([w.officer(province, Role.tham_dinh)], sub.tracking_code, "dot-1", at=vn(2021, 4, 20))
    nominations.commend(w.s, p_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 25))
    up = nominations.nominate(w.s, p_chair, sub.tracking_code, "dot-1", at=vn(2021, 4, 26))
    assert up.to_level == "toan_quoc"

    # The province's administrator reads the person's data (audit_subjects) and sets how long the
    # campaign's personal data is kept (campaign_retention).
    p_admin = w.officer(province, Role.quan_tri)
    service.unmask(w.s, p_admin, sub.tracking_code, w.cipher)
    retention.set_retention(w.s, p_admin, "75k-2021", "31/12/2030")

    other = w.submission(district)
    service.file_complaint(w.s, d_chair, other.tracking_code, kind="tac_gia", body="Trùng tác giả")
    console_repo.add_signatures(w.s, [signature_values(tenant_id, other.id, other.description)])

    # notify's ledger and templates, reporting's jobs: the services' own repositories.
    owed = obligations([unit(f"U{tenant_id}")]).model_copy(update={"tenant_id": tenant_id})
    planned = planner.plan(w.s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(notify))
    assert planned
    notify_repo.save_template(
        w.s,
        tenant_id,
        "nhac_han",
        {"subject": "Nhắc hạn", "body_text": "Kính gửi {{ unit.unit_name }}", "body_html": "<p>x</p>", "updated_by": 1},
    )
    d = dossier(tenant_id)
    reporting_repo.add_job(
        w.s,
        {
            "tenant_id": tenant_id,
            "content_hash": secrets.token_hex(32),
            "campaign_code": d.campaign_code,
            "round_code": d.round_code,
            "unit_code": d.unit_code,
            "unit_name": d.unit_name,
            "rows": len(d.rows),
            "payload": d.model_dump(mode="json"),
            "requested_by": 1,
        },
    )
    w.s.flush()


@pytest.fixture
def both(
    world: World,  # noqa: F811  # the fixture imported above
    conn: Connection,
    base_env: dict[str, str],
) -> tuple[Connection, list[Table]]:
    notify = NotifySettings(**_settings_env(base_env))
    _province(world, THANH_HOA, "H380", "thanh-hoa", notify)
    _province(world, CAO_BANG, "H045", "cao-bang", notify)
    world.as_tenant(None)
    return conn, catalog(conn)


def _count(conn: Connection, table: Table, where: str, params: dict[str, Any]) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table.qualified} WHERE {where}"), params).scalar_one())  # noqa: S608 - names from the catalog


@pytest.mark.parametrize(("a", "b"), [(THANH_HOA, CAO_BANG), (CAO_BANG, THANH_HOA)])
def test_under_one_province_raw_sql_reaches_no_row_of_the_other(
    both: tuple[Connection, list[Table]], a: int, b: int
) -> None:
    conn, tables = both
    problems: list[str] = []
    ids = {"a": a, "b": b}
    for t in tables:
        name = f"{t.schema}.{t.name}"
        # B's rows are there (seen under B), and A has rows of its own to copy from.
        set_local(conn, b)
        if _count(conn, t, t.of("b"), ids) == 0:
            problems.append(f"{name}: no row of tenant {b} to test with (give it rows in _province)")
            continue
        set_local(conn, a)
        if _count(conn, t, t.of("a"), ids) == 0:
            problems.append(f"{name}: no row of tenant {a} to test with (give it rows in _province)")
            continue

        # SELECT: none of B's rows, and nothing that is not A's at all.
        if (n := _count(conn, t, t.of("b"), ids)) != 0:
            problems.append(f"{name}: SELECT under {a} sees {n} rows of {b}")
        if (n := _count(conn, t, f"NOT {t.of('a')}", ids)) != 0:
            problems.append(f"{name}: SELECT under {a} sees {n} rows of other tenants")

        # UPDATE and DELETE aimed at B's rows touch none (the append-only audit log refuses the
        # statement outright: it touches none either).
        for verb, sql in (
            ("UPDATE", f"UPDATE {t.qualified} SET tenant_id = tenant_id WHERE {t.of('b')}"),  # noqa: S608
            ("DELETE", f"DELETE FROM {t.qualified} WHERE {t.of('b')}"),  # noqa: S608
        ):
            got = rowcount(conn, sql, ids)
            if isinstance(got, int) and got != 0:
                problems.append(f"{name}: {verb} under {a} touched {got} rows of {b}")
            elif isinstance(got, str) and "permission denied" not in got:
                problems.append(f"{name}: {verb} under {a} failed oddly: {got}")

        # One of A's rows moved to B: refused (the policy's WITH CHECK, or no UPDATE at all).
        moved = refusal(
            conn,
            f"UPDATE {t.qualified} SET tenant_id = :b WHERE ctid = (SELECT ctid FROM {t.qualified} "  # noqa: S608
            f"WHERE {t.of('a')} LIMIT 1)",
            ids,
        )
        if t.shared:
            pass  # A reads the Tổng Liên đoàn's rows it sent but may not update them: no row matches
        elif moved is None:
            problems.append(f"{name}: a row of {a} could be moved to {b}")
        elif "row-level security" not in moved and "permission denied" not in moved:
            problems.append(f"{name}: moving a row to {b} refused for another reason: {moved}")

        # INSERT of a row of B: a copy of one of A's rows, relabelled. The policy refuses it
        # before any other constraint is looked at.
        relabels = ["tenant_id"] + (["source_tenant_id"] if t.shared else [])
        for column in relabels:
            cols = ", ".join(t.columns)
            insert = (
                f"INSERT INTO {t.qualified} ({cols}) OVERRIDING SYSTEM VALUE "  # noqa: S608
                f"SELECT {cols} FROM jsonb_populate_record(NULL::{t.qualified}, "
                f"(SELECT to_jsonb(x) || jsonb_build_object('{column}', :b) FROM {t.qualified} x "
                f"WHERE {t.of('a', 'x')} LIMIT 1))"
            )
            got_insert = refusal(conn, insert, ids)
            if got_insert is None:
                problems.append(f"{name}: INSERT of a row with {column} = {b} under {a} was accepted")
            elif "row-level security" not in got_insert:
                problems.append(f"{name}: INSERT with {column} = {b} refused for another reason: {got_insert}")

    # With no tenant at all: nothing, in any table (the rows of both are still there).
    set_local(conn, None)
    for t in tables:
        if (n := _count(conn, t, "true", {})) != 0:
            problems.append(f"{t.schema}.{t.name}: {n} rows visible with no tenant set")
    assert problems == []


def test_the_national_tenant_sees_only_its_own_rows(both: tuple[Connection, list[Table]]) -> None:
    conn, tables = both
    set_local(conn, TLD)
    seen = {f"{t.schema}.{t.name}": _count(conn, t, "tenant_id <> :me", {"me": TLD}) for t in tables}
    assert {k: v for k, v in seen.items() if v} == {}
    nat = next(t for t in tables if t.name == "national_nominations")
    # What both provinces proposed is there for it (the check above is not vacuous).
    assert _count(conn, nat, "source_tenant_id IN (:a, :b)", {"a": THANH_HOA, "b": CAO_BANG}) >= 2


def test_a_fresh_connection_of_the_app_role_sees_nothing(
    migrated: CommonSettings, loaded_trees: CommonSettings
) -> None:
    """Committed rows (both trees' units, for every tenant) and a connection that never set a
    tenant: not one row of any table."""
    engine = make_engine(migrated.runtime_database_url, pool_size=1)
    try:
        with engine.connect() as c:
            tables = catalog(c)
            assert c.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in (None, "")
            seen = {t.name: _count(c, t, "true", {}) for t in tables}
            assert {k: v for k, v in seen.items() if v} == {}
            # Garbage instead of a tenant is an error, never "every tenant".
            c.rollback()
            with pytest.raises(DBAPIError, match="invalid input syntax"), c.begin():
                c.execute(text("SET LOCAL app.tenant_id = '38 OR true'"))
                c.execute(text("SELECT count(*) FROM review.units")).scalar()
    finally:
        engine.dispose()
    owner = make_engine(migrated.database_url, pool_size=1)  # a superuser: the rows are really there
    try:
        with owner.connect() as c:
            assert c.execute(text("SELECT count(DISTINCT tenant_id) FROM review.units")).scalar_one() > 2
    finally:
        owner.dispose()


# --- reporting's and notify's routes --------------------------------------------------------------

REPORTING_ID = "test_reporting_routes_answer_another_tenant_404"
NOTIFY_ID = "test_notify_routes_answer_another_tenant_404"
NO_TENANT = "names no tenant's object: health, metrics or the API's documents"
OWN_TENANT = "the token's tenant only (row-level security); the test lists it and finds none of the other's"
DEV_MAILBOX = "the dev SMTP server's mailbox of `make run` (files on disk, no tenant, off unless DEV_MAILBOX_DIR)"

COMMON = {
    "GET /healthz": NO_TENANT,
    "GET /readyz": NO_TENANT,
    "GET /metrics": NO_TENANT,
    "GET /docs": NO_TENANT,
    "GET /docs/init.js": NO_TENANT,
    "GET /docs/{asset}": NO_TENANT,  # Swagger UI's files (shared/apidocs.py)
    "GET /openapi.json": NO_TENANT,
}
REPORTING_ROUTES = {
    **COMMON,
    # review's retention job, with a platform token signed for one tenant: it purges that tenant's.
    "POST /api/v1/internal/campaigns/{campaign}/purge": REPORTING_ID,
    "POST /api/v1/dossiers": REPORTING_ID,  # a dossier naming another tenant: 404
    "GET /api/v1/dossiers": OWN_TENANT,
    "GET /api/v1/dossiers/{job_id}": REPORTING_ID,
}
NOTIFY_ROUTES = {
    **COMMON,
    "GET /api/v1/reminders": OWN_TENANT,
    "GET /api/v1/reminders/{reminder_id}": NOTIFY_ID,
    "POST /api/v1/reminders/{reminder_id}/resend": NOTIFY_ID,
    "GET /api/v1/templates": OWN_TENANT,
    # A template's name is the same in every tenant; what another tenant writes or resets is its own.
    "PUT /api/v1/templates/{name}": NOTIFY_ID,
    "DELETE /api/v1/templates/{name}": NOTIFY_ID,
    "POST /api/v1/templates/{name}/preview": NOTIFY_ID,
    "GET /hop-thu": DEV_MAILBOX,
    "GET /hop-thu/{message_id}": DEV_MAILBOX,
}


def _settings_env(base_env: dict[str, str], **over: str) -> dict[str, Any]:
    return {**{k.lower(): v for k, v in base_env.items()}, **over}


@pytest.fixture(scope="module")
def token_secret() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def reporting_api(
    base_env: dict[str, str], s3_env: dict[str, str], migrated: CommonSettings, token_secret: str
) -> Iterator[tuple[TestClient, ReportingSettings]]:
    env = _settings_env(
        {**base_env, **s3_env},
        service_token_secret=token_secret,
        task_queue=f"reporting-iso-{secrets.token_hex(4)}",
    )
    settings = ReportingSettings(**env)
    ensure_bucket(make_client(settings), settings.bucket)
    with TestClient(create_reporting_app(settings)) as c:
        yield c, settings


@pytest.fixture
def notify_api(
    base_env: dict[str, str], migrated: CommonSettings, token_secret: str
) -> Iterator[tuple[TestClient, NotifySettings]]:
    env = _settings_env(
        base_env,
        service_token_secret=token_secret,
        task_queue=f"notify-iso-{secrets.token_hex(4)}",
        review_url="http://127.0.0.1:9",  # nobody there: the preview falls back to its sample
    )
    settings = NotifySettings(**env)
    with TestClient(create_notify_app(settings)) as c:
        yield c, settings


def _auth(settings: CommonSettings, tenant: int, aud: str, role: str = "quan_tri") -> dict[str, str]:
    token = issue(settings.service_token_key(), tenant_id=tenant, officer_id=5, unit_code="x", role=role, aud=aud)
    return {"authorization": f"Bearer {token}"}


def test_every_route_of_reporting_and_notify_is_in_the_catalogue(
    reporting_api: tuple[TestClient, ReportingSettings], notify_api: tuple[TestClient, NotifySettings]
) -> None:
    assert served_routes(reporting_api[0].app) == set(REPORTING_ROUTES)  # type: ignore[arg-type]
    assert served_routes(notify_api[0].app) == set(NOTIFY_ROUTES)  # type: ignore[arg-type]
    here = Path(__file__).read_text()
    # Each route that names an object points at the test here that sends another tenant there.
    for where in {*REPORTING_ROUTES.values(), *NOTIFY_ROUTES.values()}:
        if where.startswith("test_"):
            assert f"def {where}(" in here, where


def test_reporting_routes_answer_another_tenant_404(reporting_api: tuple[TestClient, ReportingSettings]) -> None:
    api, s = reporting_api
    mine, theirs = _auth(s, THANH_HOA, REPORTING_AUDIENCE), _auth(s, CAO_BANG, REPORTING_AUDIENCE)
    d = dossier(THANH_HOA)
    r = api.post("/api/v1/dossiers", json={"dossiers": [d.model_dump(mode="json")]}, headers=mine)
    assert r.status_code == 202, r.text
    [job] = r.json()["jobs"]
    # Cao Bằng's token: the job is not there, by id or in the round's list.
    got = api.get(f"/api/v1/dossiers/{job['id']}", headers=theirs)
    assert got.status_code == 404 and got.json()["message"]
    listing = api.get("/api/v1/dossiers", params={"campaign": d.campaign_code, "round": d.round_code}, headers=theirs)
    assert listing.status_code == 200 and job["id"] not in listing.text
    # A dossier naming Thanh Hóa, asked for with Cao Bằng's token: refused, no job made.
    again = dossier(THANH_HOA)
    refused = api.post("/api/v1/dossiers", json={"dossiers": [again.model_dump(mode="json")]}, headers=theirs)
    assert refused.status_code == 404
    assert api.get(f"/api/v1/dossiers/{uuid.uuid4()}", headers=mine).status_code == 404
    # The retention purge of the campaign, signed for Cao Bằng: none of Thanh Hóa's jobs go.
    system = _auth(s, CAO_BANG, REPORTING_AUDIENCE, role=SYSTEM_ROLE)
    purged = api.post(f"/api/v1/internal/campaigns/{d.campaign_code}/purge", headers=system)
    assert purged.status_code == 200, purged.text
    # And the owner still reads it: the 404s above are about the tenant, not a broken route.
    assert api.get(f"/api/v1/dossiers/{job['id']}", headers=mine).status_code == 200


def test_notify_routes_answer_another_tenant_404(
    notify_api: tuple[TestClient, NotifySettings], app_engine: Engine, migrated: CommonSettings
) -> None:
    api, s = notify_api
    sessions: sessionmaker[Session] = make_sessionmaker(app_engine)
    owed = obligations([unit(f"ISO{secrets.token_hex(3).upper()}")])
    with tenant_session(sessions, THANH_HOA) as session:
        [rid] = planner.plan(session, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(s))
    mine, theirs = _auth(s, THANH_HOA, NOTIFY_AUDIENCE), _auth(s, CAO_BANG, NOTIFY_AUDIENCE)
    try:
        assert api.get(f"/api/v1/reminders/{rid}", headers=mine).status_code == 200
        assert api.get(f"/api/v1/reminders/{rid}", headers=theirs).status_code == 404
        assert api.post(f"/api/v1/reminders/{rid}/resend", headers=theirs).status_code == 404
        listing = api.get("/api/v1/reminders", headers=theirs)
        assert listing.status_code == 200 and all(i["id"] != rid for i in listing.json()["items"])
        with tenant_session(sessions, THANH_HOA) as session:
            state = session.execute(
                text("SELECT state, attempts FROM notify.reminders WHERE tenant_id = :t AND id = :i"),
                {"t": THANH_HOA, "i": rid},
            ).one()
        assert tuple(state) == ("planned", 0)  # the stranger's resend changed nothing

        # Templates: Thanh Hóa's wording; Cao Bằng's writes, resets and previews are its own.
        body = {"subject": "Nhắc hạn Thanh Hóa", "body_text": "Kính gửi {{ unit.unit_name }}", "body_html": "<p>TH</p>"}
        assert api.put("/api/v1/templates/nhac_han", json=body, headers=mine).status_code == 200
        theirs_list = api.get("/api/v1/templates", headers=theirs).json()["items"]
        assert all(i["is_default"] for i in theirs_list) and "Thanh Hóa" not in str(theirs_list)
        assert api.delete("/api/v1/templates/nhac_han", headers=theirs).status_code == 200
        other = {**body, "subject": "Của Cao Bằng"}
        assert api.put("/api/v1/templates/nhac_han", json=other, headers=theirs).status_code == 200
        preview = api.post("/api/v1/templates/nhac_han/preview", json=body, headers=theirs)
        assert preview.status_code == 200 and preview.json()["sample"] is True
        kept = {i["name"]: i for i in api.get("/api/v1/templates", headers=mine).json()["items"]}
        assert kept["nhac_han"]["subject"] == "Nhắc hạn Thanh Hóa" and not kept["nhac_han"]["is_default"]
    finally:
        for tenant in (THANH_HOA, CAO_BANG):
            with tenant_session(sessions, tenant) as session:
                session.execute(text("DELETE FROM notify.templates WHERE tenant_id = :t"), {"t": tenant})
        with tenant_session(sessions, THANH_HOA) as session:
            session.execute(
                text("DELETE FROM notify.reminders WHERE tenant_id = :t AND id = :i"), {"t": THANH_HOA, "i": rid}
            )


def test_the_routes_refuse_without_a_token(
    reporting_api: tuple[TestClient, ReportingSettings], notify_api: tuple[TestClient, NotifySettings]
) -> None:
    for api, path in ((reporting_api[0], f"/api/v1/dossiers/{uuid.uuid4()}"), (notify_api[0], "/api/v1/reminders/1")):
        assert api.get(path).status_code == 401
