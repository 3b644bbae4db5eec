"""The retention job end to end on real parts: a Thanh Hóa campaign past its retention date,
with submissions (names, numbers, email, workplace…), an employer's confirmation, a complaint,
dossiers rendered into SeaweedFS with a working presigned link, tracking records and a dead
letter in Redis. The job runs three times: first with reporting away (the database part is done
and audited, the rest waits), then as the CronJob runs it (`sangkien review retention`, a real
process) which finishes — objects gone and their link dead, Redis records gone, counts in the
audit log — and then again, doing nothing. What the statistics need stays; another tenant's
rows, a campaign still within its date and another campaign's files are untouched."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.reporting import service as reporting_service
from services.reporting.app import create_app as create_reporting_app
from services.reporting.config import ReportingSettings
from services.reporting.tasks import renderers
from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.config import ReviewSettings
from services.review.retention import job, service
from services.review.retention.client import ReportingPurgeClient
from shared.contracts.submissions import DEAD_LETTER_STREAM, MESSAGE_FIELD, status_key
from shared.db import make_sessionmaker, tenant_scope, tenant_session
from shared.pii import PiiCipher
from shared.storage import make_client
from tests.reporting.conftest import TokenFor, dossier, settings_of
from tests.review.console.conftest import MakeOfficer, MakeSubmission, MakeUnit, signed_in
from tests.review.console.selection_scene import principal
from tests.support.processes import ROOT
from tests.support.stack import Server

TH, CB = 38, 4


@pytest.fixture
def reporting(reporting_env: dict[str, str]) -> Iterator[Server]:
    server = Server(create_reporting_app(settings_of(reporting_env)), free_port()).start()
    yield server
    server.stop()


def _dossier_with(
    server: Server, settings: ReportingSettings, token: str, campaign: str, rows: list[tuple[str, str]]
) -> dict[str, Any]:
    """A dossier of these (tracking code, name) rows asked of reporting's API and rendered here
    (the task's own two transactions), then read back with its presigned links."""
    base = dossier(TH, rows=len(rows), campaign_code=campaign)
    d = base.model_copy(
        update={
            "rows": [
                r.model_copy(update={"tracking_code": c, "full_name": n})
                for r, (c, n) in zip(base.rows, rows, strict=True)
            ]
        }
    )
    auth = {"authorization": f"Bearer {token}"}
    r = httpx.post(f"{server.url}/api/v1/dossiers", json={"dossiers": [d.model_dump(mode="json")]}, headers=auth)
    assert r.status_code == 202, r.text
    job_id = r.json()["jobs"][0]["id"]
    sessions = make_sessionmaker(_engine_of(settings))
    with tenant_session(sessions, TH) as s:
        assert reporting_service.begin_render(s, TH, job_id)
    with tenant_session(sessions, TH) as s:
        got = reporting_service.render_claimed(s, make_client(settings), settings.bucket, TH, job_id, renderers())
        assert got == "rendered"
    out: dict[str, Any] = httpx.get(f"{server.url}/api/v1/dossiers/{job_id}", headers=auth).json()
    assert out["state"] == "done" and out["pdf_url"]
    return out


def _engine_of(settings: ReportingSettings) -> Engine:
    from shared.db import make_engine

    return make_engine(settings.runtime_database_url, pool_size=1)


def _objects(settings: ReportingSettings, prefix: str) -> list[str]:
    client = make_client(settings)
    return [o.object_name for o in client.list_objects(settings.bucket, prefix=prefix, recursive=True) if o.object_name]


def _rows(engine: Engine, tenant: int, campaign: str) -> list[Any]:
    with tenant_session(make_sessionmaker(engine), tenant) as s:
        return list(
            s.execute(
                text(
                    "SELECT s.* FROM review.submissions s JOIN review.campaigns c ON c.id = s.campaign_id "
                    "WHERE s.tenant_id = :t AND c.code = :c ORDER BY s.id"
                ),
                {"t": tenant, "c": campaign},
            ).mappings()
        )


def _stats(engine: Engine, tenant: int, campaign: str) -> list[Any]:
    """What Tiến độ counts: initiatives per unit, field, group and state."""
    with tenant_session(make_sessionmaker(engine), tenant) as s:
        return list(
            s.execute(
                text(
                    "SELECT s.unit_id, s.field, s.idea_group, s.status, count(*) FROM review.submissions s "
                    "JOIN review.campaigns c ON c.id = s.campaign_id WHERE s.tenant_id = :t AND c.code = :c "
                    "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                ),
                {"t": tenant, "c": campaign},
            )
        )


def _audits(engine: Engine, campaign: str) -> list[AuditRow]:
    with tenant_session(make_sessionmaker(engine), TH) as s:
        q = select(AuditRow).where(
            AuditRow.tenant_id == TH, AuditRow.entity == "campaign", AuditRow.entity_id == campaign
        )
        return list(s.scalars(q.order_by(AuditRow.seq)))


def _dead_letter(client: redis.Redis, tenant_id: int, campaign: str, name: str) -> str:
    message = {"tenant_id": tenant_id, "campaign": campaign, "tracking_code": "", "full_name": name}
    sid = client.xadd(DEAD_LETTER_STREAM, {MESSAGE_FIELD: orjson.dumps(message), b"reason": b"unknown unit"})
    return sid.decode() if isinstance(sid, bytes) else str(sid)


def test_past_its_date_a_campaign_loses_its_personal_data_files_and_records(
    app_engine: Engine,
    campaign: str,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
    make_officer: MakeOfficer,
    client_factory: Any,
    reporting: Server,
    reporting_env: dict[str, str],
    reporting_settings: ReportingSettings,
    token_for: TokenFor,
    redis_url: str,
    base_env: dict[str, str],
    cipher: PiiCipher,
) -> None:
    factory = make_sessionmaker(app_engine)
    district = make_unit(kind="district", name="LĐLĐ huyện Lưu Trữ Thử")
    cdcs = make_unit(parent_code=district.code, name="CĐCS Công ty Lưu Trữ Thử")
    people = [
        {
            "id_number": f"0386{secrets.randbelow(10**8):08d}",
            "phone": f"09{secrets.randbelow(10**8):08d}",
            "full_name": f"Người Lưu Trữ {i}",
            "email": f"nguoi{i}@vi-du.vn",
            "birth_year": 1980 + i,
            "position": "Tổ trưởng",
            "workplace": "Nhà máy Thử Nghiệm",
            "awards": "Chiến sĩ thi đua cơ sở 2020",
        }
        for i in range(3)
    ]
    subs = [make_submission(cdcs if i else district, campaign=campaign, **p) for i, p in enumerate(people)]
    current = make_submission(cdcs, full_name="Người Còn Hạn")  # the demo campaign: within its date
    cb_unit = make_unit(4, "cao-bang", name="CĐCS Cao Bằng Lưu Trữ")
    theirs = make_submission(cb_unit, campaign=campaign, full_name="Người Cao Bằng")
    # Cao Bằng keeps this campaign's data longer: its administrator said so.
    with tenant_session(factory, CB) as s:
        service.set_retention(
            s, principal(factory, make_officer(CB, "cao-bang", Role.quan_tri)), campaign, "31/12/2099"
        )
    with tenant_session(factory, TH) as s:
        args = {"t": TH, "s": subs[0].id, "at": dt.datetime.now(dt.UTC)}
        s.execute(
            text(
                "INSERT INTO review.wf_confirmations (tenant_id, submission_id, created_at, expires_at, consumed_at, "
                "confirmer_name, confirmer_title, applied_on) VALUES (:t, :s, :at, :at, :at, 'Ông Giám Đốc', "
                "'Giám đốc', CURRENT_DATE)"
            ),
            args,
        )
        s.execute(
            text(
                "INSERT INTO review.wf_complaints (tenant_id, submission_id, kind, filer_name, body, filed_at) "
                "VALUES (:t, :s, 'tac_gia', 'Bà Khiếu Nại', 'Tôi là đồng tác giả, gọi 0911222333', :at)"
            ),
            args,
        )
    rds = redis.Redis.from_url(redis_url)
    for sub, p in zip(subs, people, strict=True):
        rds.hset(
            status_key(sub.tracking_code), mapping={"s": "received", "p": cipher.digest(p["phone"], kind="phone").hex()}
        )
    rds.hset(status_key(current.tracking_code), mapping={"s": "received"})
    mine = _dead_letter(rds, TH, campaign, "Người Thư Lỗi")
    kept = _dead_letter(rds, TH, "75k-demo", "Người Thư Lỗi Khác")
    # A dossier of the campaign, and one of the demo campaign of the same province.
    token = token_for(TH)
    done = _dossier_with(reporting, reporting_settings, token, campaign, [(subs[1].tracking_code, "Người Lưu Trữ 1")])
    other = _dossier_with(reporting, reporting_settings, token, "75k-demo", [(current.tracking_code, "Người Còn Hạn")])
    prefix = f"{TH}/ho-so/{campaign}/"
    assert len(_objects(reporting_settings, prefix)) == 2
    assert httpx.get(done["pdf_url"]).content.startswith(b"%PDF")
    review = TestClient(create_review_app_for(base_env))
    digest = {"x-phone-digest": cipher.digest(people[1]["phone"], kind="phone").hex()}
    assert review.get(f"/api/v1/tracking/{subs[1].tracking_code}", headers=digest).status_code == 200
    stats = _stats(app_engine, TH, campaign)
    scope = tenant_scope(factory)
    narrowed = {"tenant_codes": ["thanh-hoa", "cao-bang"], "campaign_codes": [campaign]}

    try:
        # 1. Reporting away: the database's part is done and audited; files and Redis wait.
        away = ReportingPurgeClient(f"http://127.0.0.1:{free_port()}", lambda: b"k" * 32, timeout=2)
        first = job.run(scope, rds, away, **narrowed)
        [run] = first.campaigns
        assert (run.tenant_code, run.submissions, run.confirmations, run.complaints) == ("thanh-hoa", 3, 1, 1)
        assert run.problem and "reporting" in run.problem and not run.finished
        assert len(_objects(reporting_settings, prefix)) == 2 and rds.exists(status_key(subs[0].tracking_code))
        for row in _rows(app_engine, TH, campaign):
            assert row["full_name"] == "" and row["id_number_enc"] is None and row["phone_hash"] is None
            assert row["personal_data_deleted_at"] is not None

        # 2. As the CronJob runs it: a real process, which finishes the campaign.
        env = {
            **os.environ,
            **base_env,
            "REPORTING_URL": reporting.url,
            "SERVICE_TOKEN_SECRET": reporting_env["SERVICE_TOKEN_SECRET"],
        }
        argv = [
            sys.executable,
            "-m",
            "shared.cli",
            "review",
            "retention",
            "--tenant",
            "thanh-hoa",
            "--tenant",
            "cao-bang",
        ]
        cron = subprocess.run(
            [*argv, "--campaign", campaign], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert cron.returncode == 0, cron.stdout + cron.stderr
        assert (
            f"thanh-hoa/{campaign}: xoá dữ liệu cá nhân của 0 sáng kiến, 2 tệp hồ sơ, 3 bản ghi theo dõi" in cron.stdout
        )

        # 3. Again: nothing left to do, nothing recorded.
        before = len(_audits(app_engine, campaign))
        assert job.run(scope, rds, away, **narrowed).campaigns == []
        assert len(_audits(app_engine, campaign)) == before
    finally:
        rds.xdel(DEAD_LETTER_STREAM, kept, mine)

    # The database: who the people were is gone, what the statistics count is not.
    for row, p in zip(_rows(app_engine, TH, campaign), people, strict=True):
        assert row["full_name"] == "" and row["email"] is None and row["birth_year"] is None
        assert row["position"] is None and row["workplace"] is None and row["awards"] is None
        assert None is row["id_number_enc"] is row["id_number_hash"] is row["phone_enc"] is row["phone_hash"]
        assert row["title"] and row["description"] and row["field"] and row["status"]
        assert p["full_name"] not in (row["search_text"] or "")
    assert _stats(app_engine, TH, campaign) == stats
    with tenant_session(factory, TH) as s:
        confirmer = s.execute(
            text(
                "SELECT confirmer_name, confirmer_title FROM review.wf_confirmations "
                "WHERE tenant_id = :t AND submission_id = :s"
            ),
            {"t": TH, "s": subs[0].id},
        ).one()
        complaint = s.execute(
            text("SELECT filer_name, body, kind FROM review.wf_complaints WHERE tenant_id = :t AND submission_id = :s"),
            {"t": TH, "s": subs[0].id},
        ).one()
    assert tuple(confirmer) == ("", "") and tuple(complaint) == ("", "", "tac_gia")
    # Untouched: the campaign still within its date, and Cao Bằng's rows of this one.
    [kept_row] = [r for r in _rows(app_engine, TH, "75k-demo") if r["id"] == current.id]
    assert kept_row["full_name"] == "Người Còn Hạn" and kept_row["phone_enc"] is not None
    [cb_row] = _rows(app_engine, CB, campaign)
    assert cb_row["id"] == theirs.id and cb_row["full_name"] == "Người Cao Bằng" and cb_row["phone_hash"] is not None

    # Storage: the campaign's objects are gone and their presigned link with them; the other stays.
    assert _objects(reporting_settings, prefix) == []
    dead_link = httpx.get(done["pdf_url"])
    assert dead_link.status_code in (403, 404) and not dead_link.content.startswith(b"%PDF")
    assert httpx.get(other["pdf_url"]).content.startswith(b"%PDF")
    with tenant_session(factory, TH) as s:
        jobs = s.scalar(
            text("SELECT count(*) FROM reporting.dossier_jobs WHERE tenant_id = :t AND campaign_code = :c"),
            {"t": TH, "c": campaign},
        )
    assert jobs == 0

    # Redis: the tracking records and the campaign's dead letter are gone; the others stay.
    assert not any(rds.exists(status_key(s.tracking_code)) for s in subs)
    assert rds.exists(status_key(current.tracking_code))
    left = {sid.decode() for sid, _ in rds.xrange(DEAD_LETTER_STREAM)}
    assert mine not in left

    # The submitter's look-up and the console: nothing of the person is left to show.
    assert review.get(f"/api/v1/tracking/{subs[1].tracking_code}", headers=digest).status_code == 404
    admin = make_officer(TH, district.code, Role.quan_tri)
    c, csrf = signed_in(client_factory, admin)
    page = c.get(f"/console/sang-kien/{subs[1].tracking_code}")
    assert page.status_code == 200 and "đã xoá khi hết thời hạn lưu trữ" in page.text
    assert people[1]["full_name"] not in page.text and people[1]["workplace"] not in page.text
    r = c.post(f"/api/v1/workflow/submissions/{subs[1].tracking_code}/unmask", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409 and "thời hạn lưu trữ" in r.json()["message"]
    found = c.post(
        "/api/v1/workflow/audit/who-saw", json={"number": people[1]["id_number"]}, headers={"X-CSRF-Token": csrf}
    )
    assert found.status_code == 200 and found.json()["tracking_codes"] == []

    # The audit log: what was deleted, as counts, never the data.
    entries = _audits(app_engine, campaign)
    assert [e.action for e in entries] == [service.DELETE_ACTION, service.FINISH_ACTION]
    deleted, finished = entries[0].after, entries[1].after
    assert (deleted["submissions"], deleted["confirmations"], deleted["complaints"]) == (3, 1, 1)
    assert "phone" in deleted["fields"] and "id_number" in deleted["fields"]
    assert finished == {"objects": 2, "dossier_jobs": 1, "tracking_records": 3, "dead_letters": 1}
    assert entries[0].actor_id is None and entries[0].actor == "hệ thống"
    logged = str([e.after for e in entries])
    for p in people:
        assert p["full_name"] not in logged and p["id_number"] not in logged and p["phone"] not in logged
    with tenant_session(factory, TH) as s:
        purged = s.scalar(
            text(
                "SELECT r.purged_at FROM review.campaign_retention r JOIN review.campaigns c ON c.id = r.campaign_id "
                "WHERE r.tenant_id = :t AND c.code = :c"
            ),
            {"t": TH, "c": campaign},
        )
    assert purged is not None


def create_review_app_for(base_env: dict[str, str]) -> Any:
    from services.review.app import create_app

    return create_app(ReviewSettings(**{k.lower(): v for k, v in base_env.items()}))


def test_a_campaign_within_its_date_or_without_rows_is_left_alone(
    app_engine: Engine, campaign: str, make_unit: MakeUnit, make_submission: MakeSubmission, redis_url: str
) -> None:
    """The day before the date nothing is deleted; the day after, a tenant without a single row
    in the campaign is marked done without asking reporting (an unreachable one here)."""
    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, TH) as s:
        [view] = [v for v in service.views(s, TH) if v.code == campaign]
    assert view.work_ends_on == dt.date(2021, 4, 20) and view.is_default
    assert view.retain_until == dt.date(2024, 4, 20) == service.add_months(view.work_ends_on, service.DEFAULT_MONTHS)
    sub = make_submission(make_unit(), campaign=campaign, full_name="Người Chưa Hết Hạn")
    rds = redis.Redis.from_url(redis_url)
    away = ReportingPurgeClient(f"http://127.0.0.1:{free_port()}", lambda: b"k" * 32, timeout=2)
    scope = tenant_scope(factory)
    narrowed = {"tenant_codes": ["thanh-hoa", "cao-bang"], "campaign_codes": [campaign]}
    assert job.run(scope, rds, away, today=view.retain_until, **narrowed).campaigns == []
    assert _rows(app_engine, TH, campaign)[0]["full_name"] == "Người Chưa Hết Hạn"

    after = job.run(scope, rds, away, today=view.retain_until + dt.timedelta(days=1), **narrowed)
    [th] = after.campaigns  # Cao Bằng has no row in it: done quietly, reporting never asked
    assert th.tenant_code == "thanh-hoa" and th.submissions == 1 and th.problem
    assert _rows(app_engine, TH, campaign)[0]["id"] == sub.id
    with tenant_session(factory, CB) as s:
        [cb] = [v for v in service.views(s, CB) if v.code == campaign]
    assert cb.purged_at is not None


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2021, 4, 20), 36, dt.date(2024, 4, 20)),
        (dt.date(2020, 2, 29), 36, dt.date(2023, 2, 28)),
        (dt.date(2021, 10, 31), 4, dt.date(2022, 2, 28)),
        (dt.date(2021, 12, 15), 1, dt.date(2022, 1, 15)),
    ],
)
def test_months_are_added_as_people_count_them(day: dt.date, months: int, expected: dt.date) -> None:
    assert service.add_months(day, months) == expected


def test_the_last_day_of_an_instant_is_read_in_vietnam() -> None:
    from shared.timeutil import VN_TZ, end_of_day

    assert service.last_day(end_of_day(dt.date(2021, 4, 20))) == dt.date(2021, 4, 20)  # 24:00 on 20/4
    assert service.last_day(dt.datetime(2021, 4, 12, tzinfo=VN_TZ)) == dt.date(2021, 4, 11)  # “trước ngày 12/4”
    assert service.last_day(dt.datetime(2021, 4, 19, 20, 0, tzinfo=dt.UTC)) == dt.date(2021, 4, 20)  # 03:00 on 20/4
