"""Hostile text in the files the system writes: the dossier's PDF and DOCX (read back with pypdf
and python-docx: the text equals what was kept, no markup interpreted, no template evaluated),
the console's XLSX and CSV exports (formulas neutralised, control characters no crash, even in
rows that SQL wrote with them), the XLSX import (kept as the portal keeps it), and the reminder
e-mails as the real SMTP server receives them (HTML part escaped, no header injected, the
subject one line), with the administrator's own wording saved through notify's API.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import io
import secrets
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.notify import mailer, planner, sender
from services.notify.app import create_app as create_notify_app
from services.notify.config import NotifySettings
from services.notify.tasks import policy as notify_policy
from services.reporting.render import render_docx, render_pdf
from services.review.accounts.models import Role
from services.review.console.xlsx import COLUMNS, HEADER_ROW, SHEET, template
from shared.config import CommonSettings
from shared.contracts.dossier import Dossier, DossierRow
from shared.contracts.reminders import NOTIFY_AUDIENCE
from shared.db import make_sessionmaker, tenant_session
from shared.servicetoken import issue
from shared.timeutil import VN_TZ
from tests.notify.conftest import obligations, received, unit
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
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
    settings_factory,
    signed_in,
)
from tests.review.console.test_import import GOOD, upload
from tests.security.hostile import (
    BIDI,
    CONTROLS,
    CORPUS,
    CRLF,
    FORMULAS,
    IMG,
    INVISIBLE,
    JINJA,
    SCRIPT,
    kept_line,
    kept_text,
    visible,
)

THANH_HOA = 38
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- the dossier: PDF and DOCX ---------------------------------------------------------------------


def _dossier(rows: list[DossierRow]) -> Dossier:
    return Dossier(
        tenant_id=THANH_HOA,
        campaign_code="75k-2021",
        campaign_name="75 nghìn sáng kiến, vượt khó, phát triển",
        round_code="dot-1",
        round_name="Đợt 1 – Tháng Công nhân năm 2021",
        unit_code="hq",
        unit_name=kept_line(f"LĐLĐ huyện {IMG}"),
        superior_name="Liên đoàn Lao động tỉnh Thanh Hóa",
        recipient_name="Ban Thường vụ Liên đoàn Lao động tỉnh Thanh Hóa",
        number_symbol="Số: …/TTr-LĐLĐ",
        place=kept_line(JINJA),
        issued_on=dt.date(2021, 4, 12),
        signer_name="Nông Văn Tuấn",
        rows=rows,
    )


def _rows() -> list[DossierRow]:
    """One row per hostile text, in every column a person typed (as review sends them: kept)."""
    out = []
    for i, (name, typed) in enumerate(CORPUS.items(), start=1):
        out.append(
            DossierRow(
                tracking_code=f"38-HOST-{i:04d}",
                full_name=kept_line(f"Lê {name}"),
                position=kept_line(typed),
                workplace=kept_line(typed),
                title=kept_line(typed),
                applied_from="Tháng 3/2021",
                summary=kept_text(typed),
                benefit=kept_text(typed),
                awards=kept_text(typed),
            )
        )
    return out


@pytest.fixture(scope="module")
def hostile_dossier() -> Dossier:
    return _dossier(_rows())


def _pdf_text(pdf: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def _docx_text(data: bytes) -> str:
    body = docx.Document(io.BytesIO(data)).element.body
    return "\n".join(t.text or "" for t in body.iter(qn("w:t")))


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_dossier_says_exactly_what_was_typed(hostile_dossier: Dossier, kind: str) -> None:
    data = render_pdf(hostile_dossier) if kind == "pdf" else render_docx(hostile_dossier)
    got = visible(_pdf_text(data) if kind == "pdf" else _docx_text(data))
    for row in hostile_dossier.rows:
        for value in (row.title, row.summary, row.benefit, row.position):
            assert value is not None
            assert visible(value) in got, (kind, value[:40])
    # The unit's name and the place (template syntax) as text; nothing evaluated, nothing hidden.
    assert visible(kept_line(f"LĐLĐ huyện {IMG}")) in got
    assert visible("{{ 7*7 }}") in got and "49" not in got.replace("2021", "")
    assert not INVISIBLE.search(got)


def test_the_dossier_drops_what_xml_cannot_hold_and_says_the_rest(hostile_dossier: Dossier) -> None:
    """A snapshot with raw control characters (an old row, a row SQL wrote): still a document."""
    raw = DossierRow(
        tracking_code="38-RAW-0001",
        full_name="Lê Văn Thô",
        title=CONTROLS + "\ufffe\uffff",
        summary=f"{SCRIPT}\x00\x0b{BIDI}",
        benefit=CRLF,
    )
    d = _dossier([raw])
    pdf, word = _pdf_text(render_pdf(d)), _docx_text(render_docx(d))
    for got in (visible(pdf), visible(word)):
        assert visible(kept_line(CONTROLS)) in got
        assert visible(SCRIPT) in got
        assert not INVISIBLE.search(got)


# --- the console's exports --------------------------------------------------------------------------


Client = Callable[..., TestClient]
XLSX_PATH = "/console/xuat-du-lieu/sang-kien.xlsx"
CSV_PATH = "/console/xuat-du-lieu/sang-kien.csv"


def _xlsx_cells(body: bytes) -> list[Any]:
    ws = load_workbook(io.BytesIO(body)).active
    assert ws is not None
    return [c for row in ws.iter_rows() for c in row]


def test_exports_neutralise_formulas_and_survive_control_characters(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    make_officer: MakeOfficer,  # noqa: F811  # the fixture imported above
    make_unit: MakeUnit,  # noqa: F811  # the fixture imported above
    make_submission: MakeSubmission,  # noqa: F811  # the fixture imported above
) -> None:
    unit = make_unit(name=kept_line(f"CĐCS {FORMULAS[3]}"))
    for formula in FORMULAS:
        make_submission(
            unit,
            full_name=kept_line(f"Lê {formula}"),
            title=formula,
            description=f"{formula}\n{SCRIPT}",
            benefit=formula,
            awards=formula,
            position=formula,
            workplace=formula,
        )
    # A row as SQL may have written it before anyone normalised anything: raw control characters
    # (openpyxl refuses them in a cell), bidi and zero-width characters.
    # (Not NUL: PostgreSQL cannot hold it at all.)
    raw_controls = CONTROLS.replace("\x00", "")
    make_submission(unit, full_name="Lê Văn Thô", title=raw_controls, description=f"{BIDI}\n{CORPUS['zero_width']}")
    c, _ = signed_in(client_factory, officer_at(make_officer, unit, Role.chu_tich))
    params = {"chuong_trinh": "75k-demo", "don_vi": str(unit.id)}

    r = c.get(XLSX_PATH, params=params)
    assert r.status_code == 200, r.text[:300]
    cells = _xlsx_cells(r.content)
    strings = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert all(cell.data_type != "f" for cell in cells), "a cell is a formula"
    assert not [s for s in strings if s.startswith(FORMULA_START)]
    for formula in FORMULAS:
        assert "'" + formula in strings, formula
    assert not [s for s in strings if INVISIBLE.search(s)]
    assert visible(kept_line(raw_controls)) in [visible(s) for s in strings]

    r = c.get(CSV_PATH, params=params)
    assert r.status_code == 200, r.text[:300]
    rows = list(csv.reader(io.StringIO(r.content[3:].decode("utf-8"))))
    values = [v for row in rows for v in row]
    assert not [v for v in values if v.startswith(FORMULA_START)]
    for formula in FORMULAS:
        assert "'" + formula in values, formula
    assert not [v for v in values if "\x00" in v]


def text_workbook(rows: list[dict[str, Any]]) -> bytes:
    """The import's template filled in as a person types into Excel: every cell text, those that
    begin with "=" too (typed with Excel's leading apostrophe: a text cell, not a formula)."""
    wb = load_workbook(io.BytesIO(template()))
    ws = wb[SHEET]
    keys = [c.key for c in COLUMNS]
    for n, row in enumerate(rows, start=1):
        ws.cell(row=HEADER_ROW + n, column=1, value=n)
        for key, value in row.items():
            cell = ws.cell(row=HEADER_ROW + n, column=keys.index(key) + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_import_keeps_hostile_cells_as_the_portal_keeps_them(
    client_factory: Client,  # noqa: F811  # the fixture imported above
    make_officer: MakeOfficer,  # noqa: F811  # the fixture imported above
    make_unit: MakeUnit,  # noqa: F811  # the fixture imported above
    app_engine: Engine,
) -> None:
    unit = make_unit()
    c, csrf = signed_in(client_factory, officer_at(make_officer, unit))
    typed = {
        "title": f"{SCRIPT} {BIDI}",
        "description": f"{IMG}\n{JINJA}\n{CORPUS['zero_width']}",
        "position": FORMULAS[0],
        "workplace": CORPUS["js_link"],
        "benefit": CORPUS["entities"],
    }
    rows = [
        {**GOOD, "id_number": f"0381{secrets.randbelow(10**8):08d}", "full_name": "Lê Thị Nhập", **typed},
        {**GOOD, "id_number": f"0381{secrets.randbelow(10**8):08d}", "full_name": "Ab1", "title": SCRIPT},
    ]
    r = upload(c, csrf, text_workbook(rows), unit.id)
    assert r.status_code == 200, r.text[:300]
    assert "<strong>1</strong> dòng đã nhập mới" in r.text
    assert "Dòng 6, cột “Họ và tên”" in r.text  # the refused row named by row and column
    assert "<script>window" not in r.text
    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, unit.tenant_id) as s:
        got = s.execute(
            text(
                "SELECT title, description, position, workplace, benefit FROM review.submissions "
                "WHERE tenant_id = :t AND unit_id = :u"
            ),
            {"t": unit.tenant_id, "u": unit.id},
        ).one()
    assert got.title == kept_line(typed["title"])
    assert got.description == kept_text(typed["description"])
    assert got.position == typed["position"] and got.workplace == typed["workplace"]
    assert got.benefit == kept_text(typed["benefit"])


# --- the reminder e-mails ---------------------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    from aiosmtpd.controller import Controller

    from devstack.embedded import free_port
    from devstack.smtp import MaildirHandler

    maildir = tmp_path / "mail"
    port = free_port()
    controller = Controller(MaildirHandler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, maildir
    controller.stop()


@pytest.fixture
def notify(base_env: dict[str, str], migrated: CommonSettings, smtp: tuple[int, Path]) -> NotifySettings:
    env = {k.lower(): v for k, v in base_env.items()}
    return NotifySettings(
        **env,
        smtp_port=smtp[0],
        console_url="https://sangkien.example.vn",
        review_url="http://127.0.0.1:9",  # the preview falls back to its sample
        service_token_secret=secrets.token_urlsafe(16),
        task_queue=f"notify-hostile-{secrets.token_hex(4)}",
    )


@pytest.fixture
def sessions(app_engine: Engine, migrated: CommonSettings) -> Iterator[sessionmaker[Session]]:
    factory = make_sessionmaker(app_engine)
    yield factory
    with tenant_session(factory, THANH_HOA) as s:
        s.execute(text("DELETE FROM notify.reminders WHERE tenant_id = :t"), {"t": THANH_HOA})
        s.execute(text("DELETE FROM notify.templates WHERE tenant_id = :t"), {"t": THANH_HOA})


HOSTILE_UNIT = f"LĐLĐ huyện {IMG} {JINJA}"


def _send(notify: NotifySettings, sessions: sessionmaker[Session], maildir: Path) -> list[email.message.EmailMessage]:
    """A reminder planned for one owing unit with a hostile name, sent; what the server kept."""
    owed = obligations([unit(f"H{secrets.token_hex(3).upper()}", unit_name=HOSTILE_UNIT)])
    with tenant_session(sessions, THANH_HOA) as s:
        ids = planner.plan(s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), notify_policy(notify))
    assert ids
    sender.send_batch(sessions, THANH_HOA, ids, lambda: mailer.connect(notify), notify.smtp_from)
    return received(maildir)


def _headers_are_clean(msg: email.message.Message) -> None:
    raw = msg.as_bytes(policy=policy.SMTP)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    names = [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line and not line[0].isspace()]
    assert "bcc" not in names and names.count("to") == 1 and names.count("subject") == 1, names
    subject = str(msg["Subject"])
    assert "\r" not in subject and "\n" not in subject


def test_a_reminder_to_a_unit_with_a_hostile_name(
    notify: NotifySettings,
    sessions: sessionmaker[Session],
    smtp: tuple[int, Path],
) -> None:
    [msg] = _send(notify, sessions, smtp[1])
    _headers_are_clean(msg)
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html_body, text_body = html_part.get_content(), text_part.get_content()
    assert "<img src=x" not in html_body and "&lt;img src=x onerror=" in html_body
    assert "{{ 7*7 }}" in html_body and "{{ 7*7 }}" in text_body  # a name, not a template
    assert HOSTILE_UNIT in text_body


def test_the_administrators_wording_cannot_inject_a_header(
    notify: NotifySettings,
    sessions: sessionmaker[Session],
    smtp: tuple[int, Path],
) -> None:
    token = issue(
        notify.service_token_key(),
        tenant_id=THANH_HOA,
        officer_id=3,
        unit_code="1",
        role="quan_tri",
        aud=NOTIFY_AUDIENCE,
    )
    auth = {"authorization": f"Bearer {token}"}
    with TestClient(create_notify_app(notify)) as api:
        # A subject with CR LF and a header after it; a NUL; the unit's name in the subject.
        body = {
            "subject": "Nhắc hạn {{ unit.unit_name }}\r\nBcc: ke-gian@example.com",
            "body_text": "Kính gửi {{ unit.unit_name }}\x00\n" + CONTROLS,
            "body_html": "<p>Kính gửi {{ unit.unit_name }}</p>",
        }
        r = api.put("/api/v1/templates/nhac_han", json=body, headers=auth)
        assert r.status_code in (200, 422), r.text[:300]
        if r.status_code == 422:
            assert r.json()["field"] in ("subject", "body_text")
            body["body_text"] = "Kính gửi {{ unit.unit_name }}\n" + kept_text(CONTROLS)
            r = api.put("/api/v1/templates/nhac_han", json=body, headers=auth)
            assert r.status_code == 200, r.text[:300]
        saved = r.json()
        assert "\x00" not in saved["body_text"]
        preview = api.post("/api/v1/templates/nhac_han/preview", json=body, headers=auth)
        assert preview.status_code == 200 and "\n" not in preview.json()["subject"]
    [msg] = _send(notify, sessions, smtp[1])
    _headers_are_clean(msg)
    assert str(msg["To"]).count("@") == 1 and "ke-gian" not in str(msg["To"])
    assert "Bcc: ke-gian@example.com" in str(msg["Subject"])  # there as text, in the one subject line
    assert HOSTILE_UNIT in str(msg["Subject"])
