"""“Ai đã xem dữ liệu của người này” on real parts: officers open a person's initiative, unmask
it, export files holding it and download a dossier with it, through the console and the API as
they do; a quản trị then asks by the person's ID number or phone (typed any way people type
them) and gets every one of those sightings — who, when in Asia/Ho_Chi_Minh, what — and nobody
else's. The answer comes from an index (no scan of the chain), the number is never written back
in clear (page, audit record, logs), and another tenant's officer finds none of ours (404)."""

# The console's and reporting's fixtures are imported by name below (this package's conftest is
# the workflow's): each test parameter that requests one "redefines" it.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.reporting.app import create_app as create_reporting_app
from services.review.accounts.models import Role
from services.review.audit import repository as audit_repo
from services.review.audit.models import AuditRow, AuditSubject
from services.review.workflow import nominations
from services.review.workflow.models import Case
from shared.db import make_sessionmaker, tenant_session
from shared.pii import PiiCipher
from tests.reporting.conftest import (  # noqa: F401  # fixtures, requested by name
    StartWorker,
    children,
    reporting_env,
    settings_of,
    start_worker,
)
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    CAO_BANG,
    THANH_HOA,
    MadeUnit,
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    _clean_console_keys,
    cipher,
    client_factory,
    make_officer,
    make_submission,
    make_unit,
    officer_at,
    scene,
    settings_factory,
    signed_in,
    workflow_seeded,
    world,
)
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import KEY
from tests.support.processes import wait_for
from tests.support.stack import Server

Client = Callable[..., TestClient]
API = "/api/v1/workflow/audit/who-saw"
PAGE = "/console/ai-da-xem"
DEMO = "75k-demo"


def _number(prefix: str = "0384") -> str:
    return f"{prefix}{secrets.randbelow(10**8):08d}"


def _phone() -> str:
    return f"09{secrets.randbelow(10**8):08d}"


def _ask(c: TestClient, csrf: str, number: str) -> dict[str, Any]:
    r = c.post(API, json={"number": number}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _tree(make_unit: MakeUnit) -> tuple[MadeUnit, MadeUnit]:
    district = make_unit(kind="district", name="LĐLĐ huyện Ai Đã Xem")
    return district, make_unit(parent_code=district.code, name="CĐCS Công ty Ai Đã Xem")


def test_every_sighting_of_a_person_with_who_when_and_what(
    app_engine: Engine,
    client_factory: Client,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
    capfd: pytest.CaptureFixture[str],
) -> None:
    district, cdcs = _tree(make_unit)
    id_number, phone = _number(), _phone()
    first = make_submission(cdcs, id_number=id_number, phone=phone, full_name="Lò Thị Được Xem")
    second = make_submission(cdcs, id_number=id_number, phone=_phone(), full_name="Lò Thị Được Xem")
    other_id, other_phone = _number("0385"), _phone()
    other = make_submission(cdcs, id_number=other_id, phone=other_phone, full_name="Hà Văn Khác")
    appraiser = officer_at(make_officer, cdcs, Role.tham_dinh)
    chair = officer_at(make_officer, district, Role.chu_tich)
    admin = officer_at(make_officer, district, Role.quan_tri)
    # DEBUG: every library's records too (SQL and its parameters among them) reach the log.
    over = {"log_level": "DEBUG"}

    a, _ = signed_in(client_factory, appraiser, **over)
    assert a.get(f"/console/sang-kien/{first.tracking_code}").status_code == 200
    assert a.get(f"/console/sang-kien/{other.tracking_code}").status_code == 200
    assert a.get(f"/api/v1/workflow/submissions/{second.tracking_code}").json()["author"] == "Lò Thị Được Xem"
    c, c_csrf = signed_in(client_factory, chair, **over)
    r = c.post(f"/api/v1/workflow/submissions/{first.tracking_code}/unmask", headers={"X-CSRF-Token": c_csrf})
    assert r.status_code == 200 and r.json()["id_number"] == id_number
    masked = c.get("/console/xuat-du-lieu/sang-kien.csv", params={"chuong_trinh": DEMO, "don_vi": str(cdcs.id)})
    assert masked.status_code == 200 and phone not in masked.content.decode("utf-8-sig")
    form = {"chuong_trinh": DEMO, "don_vi": str(cdcs.id), "hien_so_dien_thoai": "1", "csrf_token": c_csrf}
    full = c.post("/console/xuat-du-lieu/sang-kien.xlsx", data=form)
    assert full.status_code == 200
    full_name = re.search(r'filename="([^"]+)"', full.headers["content-disposition"])
    assert full_name is not None

    q, q_csrf = signed_in(client_factory, admin, **over)
    before = capfd.readouterr()
    # As people type it: dots and spaces in the ID number.
    spaced = f"{id_number[:3]} {id_number[3:6]}.{id_number[6:9]}.{id_number[9:]}"
    answer = _ask(q, q_csrf, spaced)
    assert answer["number_masked"] == "*********" + id_number[-3:]
    assert answer["tracking_codes"] == sorted([first.tracking_code, second.tracking_code])
    seen = {(s["action"], s["tracking_code"], s["officer_id"]) for s in answer["sightings"]}
    assert seen == {
        ("xem_trang_sang_kien", first.tracking_code, appraiser.id),
        ("xem_trang_sang_kien", second.tracking_code, appraiser.id),  # through the API
        ("xem_du_lieu_ca_nhan", first.tracking_code, chair.id),
        ("xuat_du_lieu", first.tracking_code, chair.id),
        ("xuat_du_lieu", second.tracking_code, chair.id),
        ("xuat_so_dien_thoai", first.tracking_code, chair.id),
        ("xuat_so_dien_thoai", second.tracking_code, chair.id),
    }
    by_action = {s["action"]: s for s in answer["sightings"] if s["tracking_code"] == first.tracking_code}
    [via_api] = [
        s
        for s in answer["sightings"]
        if s["tracking_code"] == second.tracking_code and s["action"] == "xem_trang_sang_kien"
    ]
    assert via_api["detail"] == "Qua giao diện lập trình (API)"
    assert appraiser.login in by_action["xem_trang_sang_kien"]["officer"]
    assert by_action["xuat_so_dien_thoai"]["what"] == "Xuất dữ liệu ra tệp có số điện thoại đầy đủ"
    assert full_name.group(1) in by_action["xuat_so_dien_thoai"]["detail"]
    for s in answer["sightings"]:
        at = dt.datetime.fromisoformat(s["at"])
        assert at.utcoffset() == dt.timedelta(hours=7)  # Asia/Ho_Chi_Minh
        assert abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=10)
    newest_first = [dt.datetime.fromisoformat(s["at"]) for s in answer["sightings"]]
    assert newest_first == sorted(newest_first, reverse=True)

    # By the phone of the first, as an international number: the same person's first initiative.
    by_phone = _ask(q, q_csrf, "+84 " + phone[1:4] + " " + phone[4:7] + " " + phone[7:])
    assert by_phone["tracking_codes"] == [first.tracking_code]
    # Looking up is itself a sighting, and shows in the next look-up.
    again = _ask(q, q_csrf, id_number)
    lookups = [s for s in again["sightings"] if s["action"] == "tra_cuu_nguoi_xem"]
    assert {s["officer_id"] for s in lookups} == {admin.id} and len(lookups) >= 2
    # The other person: their own sightings only.
    theirs = _ask(q, q_csrf, other_phone)
    assert theirs["tracking_codes"] == [other.tracking_code]
    assert ("xem_trang_sang_kien", appraiser.id) in {(s["action"], s["officer_id"]) for s in theirs["sightings"]}
    assert {s["tracking_code"] for s in theirs["sightings"]} == {other.tracking_code}

    # The page: the same answer in Vietnamese, the number never back in clear (not even typed).
    csrf_page = re.search(r'name="csrf_token" value="([^"]+)"', q.get(PAGE).text)
    assert csrf_page is not None
    page = q.post(PAGE, data={"so": id_number, "csrf_token": csrf_page.group(1)})
    assert page.status_code == 200
    assert "Mở trang sáng kiến" in page.text and "Xem số CMND/CCCD và số điện thoại đầy đủ" in page.text
    assert f"Cán bộ {appraiser.username}" in page.text and first.tracking_code in page.text
    assert id_number not in page.text and "*********" + id_number[-3:] in page.text

    # Nowhere in clear: not in the log lines of these requests, not in the audit records.
    logs = before.out + capfd.readouterr().out
    assert "service=review" in logs and "/console/ai-da-xem" in logs  # the capture holds review's log lines
    lines = [re.sub(r"\D", "", line) for line in logs.splitlines()]  # digits however separated
    for secret in (id_number, phone, phone[1:], other_phone, spaced):
        assert secret not in logs
        assert not any(re.sub(r"\D", "", secret) in line for line in lines), secret[-3:]
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        rows = s.scalars(
            select(AuditRow).where(AuditRow.tenant_id == THANH_HOA, AuditRow.action == "tra_cuu_nguoi_xem")
        ).all()
        mine = [r for r in rows if r.actor_id == admin.id]
        assert mine and all(id_number not in str(r.after) + r.entity_id for r in mine)
        assert all(phone not in str(r.after) + r.entity_id and other_phone not in str(r.after) for r in mine)


def test_refusals_roles_and_another_tenant(
    client_factory: Client,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)
    id_number = _number()
    sub = make_submission(cdcs, id_number=id_number)
    admin = officer_at(make_officer, district, Role.quan_tri)
    q, csrf = signed_in(client_factory, admin)
    assert _ask(q, csrf, id_number)["tracking_codes"] == [sub.tracking_code]

    # Not a number of either kind: 422 in Vietnamese naming the field, the input not echoed.
    r = q.post(API, json={"number": "12345 678"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["field"] == "number"
    assert "CMND/CCCD" in r.json()["message"] and "12345" not in r.text
    page_csrf = re.search(r'name="csrf_token" value="([^"]+)"', q.get(PAGE).text)
    assert page_csrf is not None
    r = q.post(PAGE, data={"so": "12345 678", "csrf_token": page_csrf.group(1)})
    assert r.status_code == 422 and "số CMND/CCCD" in r.text and "12345 678" not in r.text
    assert q.post(API, json={"number": id_number}).status_code == 403  # no CSRF token

    # Only a quản trị asks.
    chair, c_csrf = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))
    r = chair.post(API, json={"number": id_number}, headers={"X-CSRF-Token": c_csrf})
    assert r.status_code == 403 and "Quản trị" in r.json()["message"]
    assert chair.get(PAGE).status_code == 403
    assert "ai-da-xem" not in chair.get("/console/").text  # not in the chair's menu
    assert "/console/ai-da-xem" in q.get("/console/").text

    # A quản trị of another branch of the tenant: the person is not in their reach.
    elsewhere = make_unit(kind="district", name="LĐLĐ huyện Nhánh Khác")
    side, s_csrf = signed_in(client_factory, officer_at(make_officer, elsewhere, Role.quan_tri))
    assert _ask(side, s_csrf, id_number)["tracking_codes"] == []

    # Another province's administrator: none of ours, and the initiative itself is a 404.
    stranger, x_csrf = signed_in(client_factory, make_officer(CAO_BANG, "cao-bang", Role.quan_tri))
    found = _ask(stranger, x_csrf, id_number)
    assert found["tracking_codes"] == [] and found["sightings"] == []
    assert stranger.get(f"/console/sang-kien/{sub.tracking_code}").status_code == 404


def test_the_answer_comes_from_indexes_not_a_scan_of_the_chain(
    app_engine: Engine, make_unit: MakeUnit, make_submission: MakeSubmission, cipher: PiiCipher
) -> None:
    """With sequential scans priced out, the plan of both look-ups still has none: an index
    answers each step (the submissions by hash, the subjects by submission, the log by key)."""
    _, cdcs = _tree(make_unit)
    id_number, phone = _number(), _phone()
    make_submission(cdcs, id_number=id_number, phone=phone)
    params = {
        "t": THANH_HOA,
        "h": cipher.digest(id_number, kind="id_number"),
        "p": cipher.digest(phone, kind="phone"),
    }
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plans = [
            "\n".join(s.scalars(text("EXPLAIN " + audit_repo._PERSON_SQL.text), params)),
            "\n".join(
                s.scalars(text("EXPLAIN " + audit_repo._ENTRIES_SQL.text), {"t": THANH_HOA, "ids": [1, 2], "limit": 5})
            ),
        ]
    for plan in plans:
        scanned = re.findall(r"Seq Scan on (\w+)", plan)
        assert not set(scanned) & {"submissions", "audit_subjects", "audit_log"}, plan


def test_the_index_is_append_only_for_the_app_role(
    app_engine: Engine, make_unit: MakeUnit, make_submission: MakeSubmission
) -> None:
    from sqlalchemy.exc import ProgrammingError

    from services.review.audit import service as audit

    sub = make_submission(make_unit())
    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, THANH_HOA) as s:
        entry = audit.record(
            s, THANH_HOA, audit.SYSTEM, action="thu_nghiem", entity="test", entity_id="x", subjects=[sub.id]
        )
        seq = entry.seq
    with tenant_session(factory, THANH_HOA) as s:
        got = s.scalars(select(AuditSubject.seq).where(AuditSubject.submission_id == sub.id)).all()
        assert got == [seq]
    for stmt in ("UPDATE review.audit_subjects SET seq = seq", "DELETE FROM review.audit_subjects"):
        with pytest.raises(ProgrammingError, match="permission denied"), tenant_session(factory, THANH_HOA) as s:
            s.execute(text(stmt + " WHERE tenant_id = :t AND submission_id = :s"), {"t": THANH_HOA, "s": sub.id})


# --- dossiers: the download link audits who took the file ------------------------------------


@pytest.fixture
def reporting(reporting_env: dict[str, str]) -> Iterator[tuple[Server, str]]:
    queue = f"reporting-test-{secrets.token_hex(4)}"
    server = Server(create_reporting_app(settings_of(reporting_env, task_queue=queue)), free_port()).start()
    yield server, queue
    server.stop()


@pytest.mark.xdist_group("reporting-worker")
def test_a_dossier_download_is_a_sighting_of_everyone_in_it(
    client_factory: Client,
    scene: Scene,
    reporting: tuple[Server, str],
    reporting_env: dict[str, str],
    start_worker: StartWorker,
    cipher: PiiCipher,
    make_officer: MakeOfficer,
) -> None:
    server, queue = reporting
    start_worker(queue)
    nominee = scene.subs[0]
    scene.appraise(nominee.tracking_code)
    scene.confirm(nominee.tracking_code, KEY)
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        nominations.nominate(s, scene.as_officer(scene.chair), nominee.tracking_code, ROUND)
        case = s.get(Case, (scene.district.tenant_id, nominee.id))
        assert case is not None
        id_number = cipher.open(
            s.execute(
                text("SELECT id_number_enc FROM review.submissions WHERE tenant_id = :t AND id = :i"),
                {"t": scene.district.tenant_id, "i": nominee.id},
            ).scalar_one(),
            kind="id_number",
        )
    over = {"reporting_url": server.url, "service_token_secret": reporting_env["SERVICE_TOKEN_SECRET"]}
    c, csrf = signed_in(client_factory, scene.chair, **over)
    r = c.post("/console/ho-so", data={"csrf_token": csrf, "chuong_trinh": DEMO, "dot": ROUND})
    assert r.status_code == 303, r.text
    listing = r.headers["location"]
    wait_for("the dossier rendered", lambda: "Tải hồ sơ (PDF)" in c.get(listing).text, timeout=90)
    href = re.search(r'href="(/console/ho-so/[^"]+/pdf)"', c.get(listing).text)
    assert href is not None
    job_id = href.group(1).split("/")[3]

    r = c.get(href.group(1))
    assert r.status_code == 303 and r.headers["location"].startswith("http")
    assert httpx.get(r.headers["location"]).content.startswith(b"%PDF")
    assert c.get(f"/console/ho-so/{job_id}/docx").status_code == 303
    assert c.get(f"/console/ho-so/{job_id}/exe").status_code == 404
    assert c.get(f"/console/ho-so/{secrets.token_hex(4)}/pdf").status_code == 404

    # Another province's officer, with this job's id: reporting's row-level security says 404.
    stranger, _ = signed_in(client_factory, scene.stranger, **over)
    r = stranger.get(f"/console/ho-so/{job_id}/pdf")
    assert r.status_code == 404 and "Không tìm thấy" in r.text

    admin = make_officer(scene.district.tenant_id, scene.district.code, Role.quan_tri)
    q, q_csrf = signed_in(client_factory, admin, **over)
    answer = _ask(q, q_csrf, id_number)
    downloads = [s for s in answer["sightings"] if s["action"] == "tai_ho_so"]
    assert {(s["officer_id"], s["tracking_code"]) for s in downloads} == {(scene.chair.id, nominee.tracking_code)}
    assert sorted(s["detail"].split()[2] for s in downloads) == ["DOCX", "PDF"]  # "Hồ sơ PDF của đơn vị …"
    assert all(s["what"] == "Tải hồ sơ xét chọn" for s in downloads)
