"""After a full run through real processes, no ID number or phone is anywhere in clear.

The run: intake, review (API and ingester), reporting (API and worker) and notify's worker as
production starts them (`python -m shared.cli …`), every one logging at DEBUG into its own file.
People submit on the portal with their numbers typed as people type them (spaces, dots, +84, 84);
error pages are provoked (a wrong phone, a wrong ID number: 422; a tracking code that does not
exist or a wrong phone: 404); the ingester commits; officers open the initiatives in the console,
unmask one (audited), export masked and full-phone files, import a paper file with a bad row,
ask who saw a person; a dossier is rendered and downloaded as PDF and DOCX; reminders are planned
and e-mailed by the worker to a real SMTP server.

Then every place personal data could end up is scanned for every number in every format
(9/12 digits, the phone with 0, 84 or +84, with spaces, dots, dashes, URL-encoded separators,
as ASCII hex or base64): every process's log, every Redis key and value of the database the run
used (streams, Celery's messages with their base64 bodies, results), a `pg_dump` of the
database, the maildir, every page and error body the run got back, the exports, and the text of
the PDF and DOCX. The only places a number may be in clear are the two the rules allow, and
they are checked as positive controls of the scanner: the unmasking's answer, and the exports a
chủ tịch asked for with the phones in full (phones only — never an ID number — and each such
file named by an audit record)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import re
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.notify.config import NotifySettings
from services.notify.review_client import ReviewClient
from services.notify.schedule import send_at
from services.notify.tasks import Resources, plan_all
from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.workflow import appraisal, confirmation, nominations
from services.review.workflow.schemas import ConfirmIn
from shared.celery_app import make_celery
from shared.contracts.submissions import status_key
from shared.db import make_sessionmaker, tenant_session
from shared.timeutil import now
from tests.reporting.conftest import reporting_env  # noqa: F401  # a fixture, requested by name
from tests.review.accounts.conftest import PASSWORD
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    _clean_console_keys,
    make_officer,
    make_unit,
)
from tests.review.console.selection_scene import SCORES, principal
from tests.review.console.test_import import workbook
from tests.review.workflow.conftest import workflow_seeded  # noqa: F401
from tests.review.workflow.factories import KEY
from tests.support.processes import ROOT, Children, postgres_bindir, tail, wait_for

# ruff: noqa: F811  # the fixtures imported above are requested by name

TH = 38
DEMO = "75k-demo"
ROUND = "dot-1"

# Between two digits of a number as it may be written: spaces (also non-breaking, as HTML or
# JSON escapes), dots, dashes, slashes, brackets, and their URL encodings.
SEP = r"(?:[\s.\-_/()]|%20|%2[bBeE]|%2[dD]|&nbsp;|&#160;|\\u00a0|\xa0){0,3}"


def _pattern(digits: str, *, phone: bool) -> re.Pattern[str]:
    """The digits as a whole number (not inside a longer run of digits: the database holds long
    numbers of its own), a phone also after 0, 84 or +84."""
    body = SEP.join(re.escape(d) for d in digits)
    prefix = rf"(?:(?:\+?84|0){SEP})?" if phone else ""
    return re.compile(rf"(?<!\d){prefix}{body}(?!\d)")


@dataclass(frozen=True)
class Secret:
    label: str  # "ID number of P1", "phone of P2"…: what a finding says (never the digits)
    digits: str  # the shortest digits that give it away: the ID number, the phone without its 0

    @property
    def forms(self) -> list[str]:
        """Encodings a process might write it in without a separator to match."""
        plain = [self.digits] + (["0" + self.digits, "84" + self.digits, "+84" + self.digits] if self.is_phone else [])
        out = [p.encode().hex() for p in plain]
        out += [base64.b64encode(p.encode()).decode().rstrip("=") for p in plain]
        out += [base64.urlsafe_b64encode(p.encode()).decode().rstrip("=") for p in plain]
        return out

    @property
    def is_phone(self) -> bool:
        return self.label.startswith("phone")


@dataclass(frozen=True)
class Finding:
    where: str
    secret: str
    context: str  # around the match, the digits masked

    def __str__(self) -> str:
        return f"{self.secret} in {self.where}: …{self.context}…"


@dataclass
class Scanner:
    secrets: list[Secret]
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.patterns = {s.label: _pattern(s.digits, phone=s.is_phone) for s in self.secrets}

    def scan(self, where: str, haystack: str) -> list[Finding]:
        found: list[Finding] = []
        for s in self.secrets:
            m = self.patterns[s.label].search(haystack)
            hit = m.start() if m else next((haystack.find(f) for f in s.forms if f in haystack), -1)
            if hit >= 0:
                around = haystack[max(0, hit - 60) : hit + 80]
                found.append(Finding(where, s.label, re.sub(r"\d", "#", around)))
        return found


def _b64_bodies(value: str) -> list[str]:
    """Celery's messages carry their body base64-encoded inside JSON: decode it to scan it."""
    out = []
    for m in re.finditer(r'"body"\s*:\s*"([A-Za-z0-9+/=]{8,})"', value):
        try:
            out.append(base64.b64decode(m.group(1)).decode("utf-8", "replace"))
        except ValueError:
            continue
    return out


def redis_dump(client: redis.Redis) -> dict[str, str]:
    """Every key of the database with what it holds, as text (names included)."""
    dump: dict[str, str] = {}
    for raw in client.scan_iter(count=1000):
        key = raw.decode("utf-8", "replace")
        kind = client.type(raw).decode()
        if kind == "string":
            parts: list[Any] = [client.get(raw)]
        elif kind == "hash":
            parts = [x for kv in client.hgetall(raw).items() for x in kv]
        elif kind == "list":
            parts = client.lrange(raw, 0, -1)
        elif kind == "set":
            parts = list(client.smembers(raw))
        elif kind == "zset":
            parts = [m for m, _ in client.zrange(raw, 0, -1, withscores=True)]
        elif kind == "stream":
            parts = [x for _, fields in client.xrange(raw) for kv in fields.items() for x in kv]
        else:
            parts = []
        values = [p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in parts]
        values += [b for v in values for b in _b64_bodies(v)]
        dump[key] = key + "\n" + "\n".join(values)
    return dump


def pg_dump(url: str) -> str:
    binary = postgres_bindir() / "pg_dump"
    proc = subprocess.run(
        [str(binary), "--no-owner", "--no-privileges", "--dbname", url],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout.decode("utf-8", "replace")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def office_text(data: bytes) -> str:
    """The XML parts of a DOCX or XLSX (digits split across runs are joined per paragraph by
    python-docx below; the raw XML is scanned as well)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells) + "\n" + office_text(data)


def xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    return "\n".join(cells) + "\n" + office_text(data)


# --- the run ---------------------------------------------------------------------------------


NAMES = {"P1": "Lò Văn An", "P2": "Hà Thị Bình", "P3": "Vi Văn Cường", "P4": "Nông Thị Dung"}


@dataclass(frozen=True)
class Person:
    tag: str
    id_number: str
    phone: str
    typed_id: str
    typed_phone: str

    @property
    def name(self) -> str:
        return NAMES[self.tag]


def _people() -> list[Person]:
    def cccd() -> str:
        return f"038{secrets.randbelow(10**9):09d}"

    def phone() -> str:
        return f"09{secrets.randbelow(10**8):08d}"

    p1, p2, p3, p4 = cccd(), f"1{secrets.randbelow(10**8):08d}", cccd(), cccd()
    f1, f2, f3, f4 = phone(), phone(), phone(), phone()
    return [
        Person("P1", p1, f1, f"{p1[:3]} {p1[3:6]} {p1[6:9]} {p1[9:]}", f"{f1[:4]}.{f1[4:7]}.{f1[7:]}"),
        Person("P2", p2, f2, f"{p2[:3]}.{p2[3:6]}.{p2[6:]}", "84" + f2[1:]),
        Person("P3", p3, f3, p3, f3),
        Person("P4", p4, f4, p4, f"{f4[:4]} {f4[4:7]} {f4[7:]}"),  # on paper only
    ]


class Processes:
    """The run's processes, each logging into its own file under ``logs``."""

    def __init__(self, children: Children, logs: Path, env: dict[str, str]) -> None:
        self.children, self.logs, self.env = children, logs, env
        self.started: dict[str, Any] = {}

    def start(self, name: str, *args: str, **over: str) -> None:
        self.started[name] = self.children.spawn(
            [sys.executable, "-m", "shared.cli", *args],
            log=self.logs / f"{name}.log",
            env={**self.env, **over},
            cwd=ROOT,
        )

    def why(self) -> str:
        return "\n".join(
            f"--- {n} (exit {p.poll()})\n{tail(self.logs / f'{n}.log', 15)}" for n, p in self.started.items()
        )

    def alive(self) -> None:
        dead = [n for n, p in self.started.items() if p.poll() is not None]
        assert not dead, f"{dead} stopped:\n{self.why()}"


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _sign_in(base: str, login: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=30)
    form = c.get("/console/dang-nhap").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    r = c.post("/console/dang-nhap", data={"login": login, "password": PASSWORD, "csrf_token": token.group(1)})
    assert r.status_code == 303, r.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/console/").text)
    assert csrf
    return c, csrf.group(1)


@pytest.fixture
def district_email(app_engine: Engine) -> Callable[[int, str], None]:
    def set_email(unit_id: int, address: str) -> None:
        with tenant_session(make_sessionmaker(app_engine), TH) as s:
            s.execute(
                text("UPDATE review.units SET email = :e WHERE tenant_id = :t AND id = :u"),
                {"e": address, "t": TH, "u": unit_id},
            )

    return set_email


@pytest.fixture
def clean_reminders(app_engine: Engine) -> Iterator[None]:
    """The ledger rows this run's plan wrote: the notify tests plan the same deadlines."""
    yield
    for tenant in (TH, 4):
        with app_engine.begin() as c:
            c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
            c.execute(text("DELETE FROM notify.reminders WHERE tenant_id = :t"), {"t": tenant})


# Six processes of its own on a 2-core machine: never beside another such run.
@pytest.mark.xdist_group("pii-scan")
def test_no_id_number_or_phone_in_clear_anywhere_after_a_full_run(
    app_engine: Engine,
    base_env: dict[str, str],
    pg_admin_url: str,
    redis_url: str,
    reporting_env: dict[str, str],
    smtp_server: tuple[int, Path],
    workflow_seeded: Any,
    make_unit: Any,
    make_officer: Any,
    district_email: Callable[[int, str], None],
    clean_reminders: None,
    tmp_path: Path,
) -> None:
    people = _people()
    p1, p2, p3, p4 = people
    wrong_phone, wrong_id = f"00{secrets.randbelow(10**8):08d}", f"0{secrets.randbelow(10**10):010d}"
    paper_bad_phone = f"0{secrets.randbelow(10**6):06d}"  # 7 digits: too short to be a phone
    factory = make_sessionmaker(app_engine)
    district = make_unit(kind="district", name="LĐLĐ huyện Quét Dữ Liệu")
    # A district that owes the province its nominations, with an address: it gets the reminder.
    owing = make_unit(kind="district", name="LĐLĐ huyện Nhắc Hạn Quét")
    district_email(owing.id, f"{owing.code.lower()}@ldld.example.vn")
    chair = make_officer(TH, district.code, Role.chu_tich)
    appraiser = make_officer(TH, district.code, Role.tham_dinh)
    admin = make_officer(TH, district.code, Role.quan_tri)

    # --- the processes ------------------------------------------------------------------------
    logs = tmp_path / "logs"
    logs.mkdir()
    children = Children()
    ports = {name: free_port() for name in ("intake", "review", "reporting")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    stream = f"submissions-pii-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        **reporting_env,  # the worker's database and Redis, SeaweedFS, the token secret
        "LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
        "SUBMISSIONS_STREAM": stream,
        "INTAKE_CAMPAIGN": DEMO,
        "DIRECTORY_REFRESH_SECONDS": "0.5",
        "RATE_LIMIT_TRACKING_PER_IP": "100000",
        "REVIEW_URL": url["review"],
        "REPORTING_URL": url["reporting"],
        "PUBLIC_URL": url["review"],
        "CONSOLE_COOKIE_SECURE": "false",
        "CONSOLE_LOGIN_ATTEMPTS_PER_IP": "10000",
        "INGESTER_BLOCK_MS": "100",
        "INGESTER_LINGER_MS": "20",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server[0]),
    }
    queues = {"reporting": f"rep-pii-{secrets.token_hex(3)}", "notify": f"not-pii-{secrets.token_hex(3)}"}
    run = Processes(children, logs, env)
    pages: dict[str, str] = {}  # what came back to a browser or a client: scanned
    files: dict[str, str] = {}  # masked exports, the dossier's text: scanned
    full_exports: dict[str, str] = {}  # exports with the phones in full: phones allowed, IDs not
    try:
        run.start("review-api", "api", "review", "--port", str(ports["review"]))
        run.start("intake-api", "api", "intake", "--port", str(ports["intake"]))
        run.start("review-ingester", "ingester")
        run.start(
            "reporting-api", "api", "reporting", "--port", str(ports["reporting"]), TASK_QUEUE=queues["reporting"]
        )
        run.start("reporting-worker", "worker", "reporting", "--concurrency", "1", TASK_QUEUE=queues["reporting"])
        run.start("notify-worker", "worker", "notify", "--concurrency", "1", TASK_QUEUE=queues["notify"])
        for name in ("review", "intake", "reporting"):
            wait_for(f"{name} ready", lambda n=name: _ready(url[n]), timeout=90, every=0.5, why=run.why)

        # --- the portal ------------------------------------------------------------------------
        intake = httpx.Client(base_url=url["intake"], timeout=30)

        def submit(p: Person, title: str, **over: Any) -> httpx.Response:
            body = {
                "full_name": p.name,
                "id_number": p.typed_id,
                "phone": p.typed_phone,
                "unit": "thanh-hoa",
                "subunit": district.code,
                "group": "doanh_nghiep",
                "field": "san_xuat",
                "title": title,
                "description": f"Mô tả sáng kiến {title} của tổ sản xuất, áp dụng tại phân xưởng.",
                "consent": True,
                "birth_year": 1985,
                "position": "Tổ trưởng",
                "workplace": "Nhà máy Quét Dữ Liệu",
                "email": f"{p.tag.lower()}@vi-du.vn",
                "applied_from": f"{now():%m/%Y}",
                "benefit": "Làm lợi 100 triệu đồng mỗi năm",
                **over,
            }
            return intake.post("/api/v1/submissions", json=body)

        def first_accepted() -> bool:  # the directory reaches intake a moment after start-up
            r = submit(p1, "Sáng kiến quét thứ nhất")
            if r.status_code == 202:
                codes.append(r.json()["tracking_code"])
                return True
            assert r.status_code == 503, r.text
            return False

        codes: list[str] = []
        wait_for("intake to accept", first_accepted, timeout=60, every=0.5, why=run.why)
        for p, title, over in (
            (
                p1,
                "Sáng kiến quét thứ hai",
                {"id_number": f"{p1.id_number[:6]}.{p1.id_number[6:]}", "phone": "+84 " + p1.phone[1:]},
            ),
            (p2, "Sáng kiến quét của người thứ hai", {}),
            (p3, "Sáng kiến quét được đề cử", {}),
        ):
            r = submit(p, title, **over)
            assert r.status_code == 202, r.text
            codes.append(r.json()["tracking_code"])
            pages[f"intake 202 {p.tag}"] = r.text
        # The same submission sent twice with its Idempotency-Key: one answer, replayed.
        keyed = {"Idempotency-Key": secrets.token_hex(8)}
        body = {"full_name": p2.name, "id_number": p2.typed_id, "phone": p2.typed_phone, "unit": "thanh-hoa"}
        for _ in range(2):
            r = intake.post(
                "/api/v1/submissions",
                json={
                    **body,
                    "subunit": district.code,
                    "group": "khoi_co_quan",
                    "field": "cong_dong",
                    "title": "Sáng kiến gửi hai lần",
                    "description": "Mô tả sáng kiến được gửi lại khi mạng chập chờn.",
                    "consent": True,
                },
                headers=keyed,
            )
            assert r.status_code == 202, r.text
        codes.append(r.json()["tracking_code"])
        # Error pages: a wrong phone, a wrong ID number (the other number of each is real).
        r = submit(p2, "Sai số điện thoại", phone=wrong_phone)
        assert r.status_code == 422 and any(e["field"] == "phone" for e in r.json()["errors"]), r.text
        pages["intake 422 (phone)"] = r.text
        r = submit(p3, "Sai số CMND", id_number=wrong_id)
        assert r.status_code == 422 and any(e["field"] == "id_number" for e in r.json()["errors"]), r.text
        pages["intake 422 (ID number)"] = r.text
        r = submit(p1, "Sai kiểu", phone=int(p1.phone))
        assert r.status_code == 422
        pages["intake 422 (a number for the phone)"] = r.text
        r = submit(p2, "Số ở chỗ tên", full_name=f"Hà Thị {p2.typed_phone}")
        assert r.status_code == 422
        pages["intake 422 (the phone typed as the name)"] = r.text
        broken = '{"full_name": "Lò Văn An", "id_number": "' + p1.typed_id + '", "phone": "' + p1.typed_phone + '",'
        r = intake.post("/api/v1/submissions", content=broken, headers={"content-type": "application/json"})
        assert r.status_code == 422
        pages["intake 422 (a body cut short)"] = r.text
        # Tracking: a code that does not exist, a wrong phone, then the right answer.
        r = intake.get("/api/v1/submissions/38-ZZZZ-ZZZZ", headers={"X-Phone": p1.typed_phone})
        assert r.status_code == 404
        pages["intake 404 (tracking code)"] = r.text
        r = intake.get(f"/api/v1/submissions/{codes[0]}", params={"phone": p2.phone})
        assert r.status_code == 404
        pages["intake 404 (wrong phone, in the URL)"] = r.text
        pages["portal /theo-doi"] = intake.get("/theo-doi").text

        def ingested() -> bool:
            with tenant_session(factory, TH) as s:
                n = s.scalar(
                    text("SELECT count(*) FROM review.submissions WHERE tenant_id = :t AND tracking_code = ANY(:c)"),
                    {"t": TH, "c": codes},
                )
            return n == len(codes)

        wait_for("the ingester to commit", ingested, timeout=60, every=0.2, why=run.why)
        r = intake.get(f"/api/v1/submissions/{codes[0]}", headers={"X-Phone": p1.phone})
        assert r.status_code == 200
        pages["intake tracking answer"] = r.text

        # --- the console -----------------------------------------------------------------------
        review = url["review"]
        a, _ = _sign_in(review, appraiser.login)
        pages["console queue"] = a.get("/console/sang-kien", params={"q": "nguoi quet"}).text
        for code in codes:
            r = a.get(f"/console/sang-kien/{code}")
            assert r.status_code == 200
            pages[f"console detail {code}"] = r.text
        r = a.get("/console/sang-kien/38-ZZZZ-ZZZZ")
        assert r.status_code == 404
        pages["console 404"] = r.text
        c, c_csrf = _sign_in(review, chair.login)
        unmasked = c.post(f"/api/v1/workflow/submissions/{codes[0]}/unmask", headers={"X-CSRF-Token": c_csrf})
        assert unmasked.status_code == 200
        r = c.post(f"/api/v1/workflow/submissions/{codes[0]}/unmask")  # no CSRF token: refused
        assert r.status_code == 403
        pages["console 403 (unmask without CSRF)"] = r.text
        where = {"chuong_trinh": DEMO, "don_vi": str(district.id)}
        for fmt in ("csv", "xlsx"):
            r = c.get(f"/console/xuat-du-lieu/sang-kien.{fmt}", params=where)
            assert r.status_code == 200
            files[f"masked export .{fmt}"] = r.content.decode("utf-8-sig") if fmt == "csv" else xlsx_text(r.content)
            r = c.post(
                f"/console/xuat-du-lieu/sang-kien.{fmt}",
                data={**where, "hien_so_dien_thoai": "1", "csrf_token": c_csrf},
            )
            assert r.status_code == 200
            name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])
            assert name
            full_exports[name.group(1)] = r.content.decode("utf-8-sig") if fmt == "csv" else xlsx_text(r.content)
        q, q_csrf = _sign_in(review, admin.login)
        r = q.post("/console/ai-da-xem", data={"so": p1.typed_id, "csrf_token": q_csrf})
        assert r.status_code == 200 and codes[0] in r.text
        pages["console who saw"] = r.text
        r = q.post("/console/ai-da-xem", data={"so": wrong_phone, "csrf_token": q_csrf})
        assert r.status_code == 422
        pages["console who saw 422"] = r.text
        r = q.post("/api/v1/workflow/audit/who-saw", json={"number": p2.typed_phone}, headers={"X-CSRF-Token": q_csrf})
        assert r.status_code == 200 and r.json()["tracking_codes"] == sorted([codes[2], codes[4]])
        pages["API who saw"] = r.text
        for fmt in ("jsonl", "csv"):
            r = q.get("/api/v1/workflow/audit/export", params={"format": fmt})
            assert r.status_code == 200 and "xem_du_lieu_ca_nhan" in r.text
            pages[f"audit log export .{fmt}"] = r.text
        paper = workbook(
            [
                {
                    "full_name": p4.name,
                    "id_number": p4.typed_id,
                    "phone": p4.typed_phone,
                    "group": "Doanh nghiệp",
                    "field": "san xuat co gia tri lam loi cao",
                    "title": "Sáng kiến quét trên giấy",
                    "description": "Mô tả sáng kiến được thu bằng phiếu giấy tại công đoàn cơ sở.",
                },
                {
                    "full_name": "Người Quét Sai",
                    "id_number": p4.id_number,
                    "phone": paper_bad_phone,
                    "group": "Doanh nghiệp",
                    "field": "san xuat co gia tri lam loi cao",
                    "title": "Sai điện thoại trên giấy",
                    "description": "Mô tả sáng kiến có số điện thoại sai trên phiếu giấy.",
                },
            ]
        )
        r = q.post(
            "/console/nhap-tu-excel",
            data={"csrf_token": q_csrf, "don_vi": str(district.id), "chuong_trinh": DEMO},
            files={"tep": ("phieu.xlsx", io.BytesIO(paper), "application/octet-stream")},
        )
        assert r.status_code == 200 and "dòng đã nhập mới" in r.text and "Điện thoại" in r.text
        pages["console paper import (a bad row)"] = r.text

        # --- a dossier, rendered by the worker and downloaded ------------------------------------
        with tenant_session(factory, TH) as s:
            as_chair, as_appraiser = principal(factory, chair), principal(factory, appraiser)
            appraisal.score(s, as_appraiser, codes[3], ROUND, SCORES, "Đạt yêu cầu")
            link = confirmation.create_link(
                s, as_chair, codes[3], key=KEY, ttl=dt.timedelta(days=7), base_url="http://x"
            )
        with tenant_session(factory, TH) as s:
            confirmation.confirm(
                s,
                confirmation.claims_of(KEY, link.token),
                ConfirmIn(name="Ông Giám Đốc", title="Giám đốc", applied_on=now().date()),
            )
        with tenant_session(factory, TH) as s:
            nominations.nominate(s, as_chair, codes[3], ROUND)
        r = c.post("/console/ho-so", data={"csrf_token": c_csrf, "chuong_trinh": DEMO, "dot": ROUND})
        assert r.status_code == 303, r.text
        listing = r.headers["location"]
        wait_for("the dossier rendered", lambda: "Tải hồ sơ (PDF)" in c.get(listing).text, timeout=120, why=run.why)
        pages["console dossiers"] = c.get(listing).text
        for fmt in ("pdf", "docx"):
            href = re.search(rf'href="(/console/ho-so/[^"]+/{fmt})"', pages["console dossiers"])
            assert href
            r = c.get(href.group(1))
            assert r.status_code == 303
            body = httpx.get(r.headers["location"], timeout=30).content
            files[f"dossier .{fmt}"] = pdf_text(body) if fmt == "pdf" else docx_text(body)
            assert p3.name in files[f"dossier .{fmt}"] and "*******" + p3.phone[-3:] in files[f"dossier .{fmt}"]

        # --- reminders, planned and e-mailed by notify's worker ---------------------------------
        notify_settings = NotifySettings(
            **{k.lower(): v for k, v in base_env.items()},
            service_token_secret=reporting_env["SERVICE_TOKEN_SECRET"],
            task_queue=queues["notify"],
        )
        key = notify_settings.service_token_key()
        owed = ReviewClient(review, key).obligations(TH, now(), now() + dt.timedelta(days=59))
        [deadline] = [d for d in owed.deadlines if d.campaign_code == DEMO and d.level_code == "tinh"][:1]
        assert owing.code in {u.unit_code for u in deadline.units if not u.fulfilled}
        at = send_at(deadline.due_at, "3d", notify_settings.reminder_morning) + dt.timedelta(minutes=1)
        celery = make_celery("notify", notify_settings)
        rds = redis.Redis.from_url(redis_url)
        before = len(list(smtp_server[1].glob("*.eml")))
        handed = plan_all(
            Resources(factory, rds, ReviewClient(review, key)),
            notify_settings,
            at,
            lambda t, ids: celery.send_task("notify.send_batch", args=[t, ids]),
        )
        assert handed.get(TH)
        wait_for(
            "the reminders e-mailed",
            lambda: len(list(smtp_server[1].glob("*.eml"))) >= before + len(handed[TH]),
            timeout=60,
            why=run.why,
        )
        run.alive()
    finally:
        children.stop_all()

    # --- what is scanned -------------------------------------------------------------------------
    scanner = Scanner(
        [Secret(f"ID number of {p.tag}", p.id_number) for p in people]
        + [Secret(f"phone of {p.tag}", p.phone[1:]) for p in people]
        + [
            Secret("phone (a wrong one) typed on the portal", wrong_phone[1:]),
            Secret("ID number (a wrong one) typed on the portal", wrong_id),
        ]
    )
    found: list[Finding] = []
    for log in sorted(logs.glob("*.log")):
        content = log.read_text(errors="replace")
        assert "service=" in content, f"{log.name} holds none of our log lines: {content[-500:]}"
        found += scanner.scan(f"log {log.name}", content)
    assert "dossier_rendered" in (logs / "reporting-worker.log").read_text()
    assert "reminders_sent" in (logs / "notify-worker.log").read_text()
    dump = redis_dump(redis.Redis.from_url(redis_url))
    assert all(status_key(c) in dump for c in codes), "the run's tracking records are among what is scanned"
    for key, value in dump.items():
        found += scanner.scan(f"Redis key {key}", value)
    database = pg_dump(pg_admin_url)
    assert all(c in database for c in codes) and p4.name in database, "the run's rows are in the dump"
    found += scanner.scan("pg_dump", database)
    for eml in sorted(smtp_server[1].glob("*.eml")):
        msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
        parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
        found += scanner.scan(f"e-mail {eml.name}", eml.read_text(errors="replace") + "\n".join(map(str, parts)))
    for where, body in {**pages, **files}.items():
        found += scanner.scan(where, body)
    # The paper import's wrong phone is not echoed by its page.
    assert paper_bad_phone not in pages["console paper import (a bad row)"]
    assert not found, "personal data in clear:\n" + "\n".join(map(str, found))

    # --- the two places a number may be in clear, as positive controls of the scanner ------------
    control = scanner.scan("unmask answer", unmasked.text)
    assert {f.secret for f in control} == {"ID number of P1", "phone of P1"}
    for name, content in full_exports.items():
        hits = {f.secret for f in scanner.scan(name, content)}
        assert hits == {"phone of P1", "phone of P2", "phone of P3"}, (name, hits)  # P4 came later, on paper
    with tenant_session(factory, TH) as s:
        audited = set(
            s.scalars(
                select(AuditRow.entity_id).where(
                    AuditRow.tenant_id == TH, AuditRow.action == "xuat_so_dien_thoai", AuditRow.actor_id == chair.id
                )
            )
        )
        unmasks = s.scalar(
            select(func.count())
            .select_from(AuditRow)
            .where(AuditRow.tenant_id == TH, AuditRow.action == "xem_du_lieu_ca_nhan", AuditRow.actor_id == chair.id)
        )
    assert set(full_exports) <= audited and unmasks == 1


# --- the scanner itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "091-234-5678",
        "+84 912 345 678",
        "+84912345678",
        "84912345678",
        "phone=%2B84912345678",
        "0912%20345%20678",
        "0912&nbsp;345&nbsp;678",
        '"0912\\u00a0345\\u00a0678"',
        "(+84) 912-345-678",
        "3039313233343536373" + "8",  # "0912345678" as ASCII hex
        "MDkxMjM0NTY3OA",  # … and base64
    ],
)
def test_the_scanner_finds_a_phone_however_it_is_written(written: str) -> None:
    assert Scanner([Secret("phone of X", "912345678")]).scan("x", f"… {written} …")


@pytest.mark.parametrize("written", ["*******678", "19123456789", "0912345670", "9123456781234", "912 34"])
def test_the_scanner_leaves_what_is_not_the_number(written: str) -> None:
    assert not Scanner([Secret("phone of X", "912345678")]).scan("x", f"… {written} …")


def test_the_scanner_finds_an_id_number_and_never_repeats_it() -> None:
    scanner = Scanner([Secret("ID number of X", "038095001234")])
    [hit] = scanner.scan("log", "user typed 038 095 001 234 here")
    assert "038095001234" not in str(hit) and "### ### ### ###" in str(hit)
    assert not scanner.scan("log", "038095001235 or ********1234")
