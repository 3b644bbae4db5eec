"""The reminders' wording per tenant over notify's real API and database: both templates listed
as the shipped defaults; an administrator's edit saved, refused when it does not parse or render
(naming the field and the line) or reaches past the sandbox; a preview of a draft; back to the
default. The planner renders a tenant's edit into that tenant's ledger only; another tenant
(Cao Bằng) sees and changes only its own rows; a non-administrator is 403."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.notify import messages, planner
from services.notify.app import create_app
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.review_client import ReviewClient
from services.notify.tasks import policy
from shared.config import CommonSettings
from shared.contracts.reminders import NOTIFY_AUDIENCE
from shared.db import tenant_session
from shared.servicetoken import issue
from shared.timeutil import VN_TZ
from tests.notify.conftest import THANH_HOA, obligations, unit
from tests.review.workflow.conftest import workflow_seeded  # noqa: F401  # a fixture, requested by name
from tests.support.stack import Server

CAO_BANG = 4
EDITED = {
    "subject": "[Thanh Hóa] {{ days_left }} – {{ unit.unit_name }}",
    "body_text": "Kính gửi {{ unit.unit_name }}: {{ count_text }}. {{ link }}\n",
    "body_html": "<p>Kính gửi <b>{{ unit.unit_name }}</b>: {{ count_text }}</p>",
}


@pytest.fixture
def api(notify_settings: NotifySettings, app_engine: Engine) -> Iterator[TestClient]:
    # No review behind this address: the preview falls back to the sample, and says so.
    s = notify_settings.model_copy(update={"task_queue": "notify-test-templates", "review_url": "http://127.0.0.1:9"})
    with TestClient(create_app(s)) as c:
        yield c
    for tenant in (THANH_HOA, CAO_BANG):
        with app_engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
            conn.execute(text("DELETE FROM notify.templates WHERE tenant_id = :t"), {"t": tenant})


def _auth(s: NotifySettings, tenant: int = THANH_HOA, role: str = "quan_tri") -> dict[str, str]:
    token = issue(s.service_token_key(), tenant_id=tenant, officer_id=7, unit_code="1", role=role, aud=NOTIFY_AUDIENCE)
    return {"authorization": f"Bearer {token}"}


def _listed(api: TestClient, s: NotifySettings, tenant: int = THANH_HOA) -> dict[str, dict[str, object]]:
    r = api.get("/api/v1/templates", headers=_auth(s, tenant))
    assert r.status_code == 200, r.text
    return {t["name"]: t for t in r.json()["items"]}


def test_defaults_save_preview_and_reset(api: TestClient, notify_settings: NotifySettings) -> None:
    s = notify_settings
    listed = _listed(api, s)
    assert set(listed) == {"nhac_han", "qua_han"} and all(t["is_default"] for t in listed.values())
    assert listed["nhac_han"]["subject"] == messages.SUBJECTS["nhac_han"]
    assert "Kính gửi {{ unit.unit_name }}" in str(listed["nhac_han"]["body_text"])

    r = api.put("/api/v1/templates/nhac_han", json=EDITED, headers=_auth(s))
    assert r.status_code == 200, r.text
    assert r.json()["is_default"] is False and r.json()["subject"] == EDITED["subject"]
    assert _listed(api, s)["nhac_han"]["body_html"] == EDITED["body_html"]
    assert _listed(api, s)["qua_han"]["is_default"] is True

    r = api.post("/api/v1/templates/nhac_han/preview", json=EDITED, headers=_auth(s))
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["sample"] is True and "Dữ liệu mẫu" in p["source"]
    assert p["subject"] == "[Thanh Hóa] Còn 3 ngày – Liên đoàn Lao động huyện Hà Trung"
    assert "đã chọn 1/2 sáng kiến" in p["body_text"] and "<b>Liên đoàn Lao động huyện Hà Trung</b>" in p["body_html"]
    r = api.post("/api/v1/templates/qua_han/preview", json=messages.DEFAULTS["qua_han"].__dict__, headers=_auth(s))
    assert r.status_code == 200 and "Quá hạn 24:00 ngày 16/04/2021" in r.json()["subject"]

    r = api.delete("/api/v1/templates/nhac_han", headers=_auth(s))
    assert r.status_code == 200 and r.json()["is_default"] is True
    assert _listed(api, s)["nhac_han"]["subject"] == messages.SUBJECTS["nhac_han"]
    assert api.get("/api/v1/templates/khac", headers=_auth(s)).status_code in (404, 405)
    assert api.put("/api/v1/templates/khac", json=EDITED, headers=_auth(s)).status_code == 404


@pytest.mark.parametrize(
    ("field", "source", "said"),
    [
        ("subject", "{{ days_left ", "tiêu đề — subject (dòng 1)"),
        ("body_text", "Dòng một\n{% for u in units %}\n", "nội dung văn bản — body_text (dòng"),
        ("body_html", "<p>\n{{ khong_co_bien }}</p>", "nội dung HTML — body_html (dòng 2)"),
        ("body_text", "{{ ''.__class__ }}", "body_text"),
        ("body_html", "{{ d.__class__.__mro__ }}", "body_html"),
        ("body_text", "{{ link.format.__globals__ }}", "body_text"),
    ],
)
def test_a_broken_or_unsafe_template_is_refused_naming_the_field(
    api: TestClient, notify_settings: NotifySettings, field: str, source: str, said: str
) -> None:
    r = api.put("/api/v1/templates/nhac_han", json={**EDITED, field: source}, headers=_auth(notify_settings))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and said in r.json()["message"]
    assert _listed(api, notify_settings)["nhac_han"]["is_default"] is True  # nothing written
    preview = api.post(
        "/api/v1/templates/nhac_han/preview", json={**EDITED, field: source}, headers=_auth(notify_settings)
    )
    assert preview.status_code == 422 and preview.json()["field"] == field


def test_roles_and_another_tenant(api: TestClient, notify_settings: NotifySettings) -> None:
    s = notify_settings
    for role in ("chu_tich", "can_bo"):
        assert api.put("/api/v1/templates/nhac_han", json=EDITED, headers=_auth(s, role=role)).status_code == 403
        assert api.delete("/api/v1/templates/nhac_han", headers=_auth(s, role=role)).status_code == 403
    assert api.get("/api/v1/templates").status_code == 401
    assert api.put("/api/v1/templates/nhac_han", json=EDITED, headers=_auth(s, CAO_BANG)).status_code == 200
    # Cao Bằng's edit is Cao Bằng's: Thanh Hóa still has the default, and resetting Thanh Hóa's
    # leaves Cao Bằng's in place.
    assert _listed(api, s)["nhac_han"]["is_default"] is True
    assert api.delete("/api/v1/templates/nhac_han", headers=_auth(s)).status_code == 200
    assert _listed(api, s, CAO_BANG)["nhac_han"]["subject"] == EDITED["subject"]


def test_the_planner_renders_a_tenants_edit_into_its_ledger_only(
    api: TestClient, notify_settings: NotifySettings, sessions: sessionmaker[Session]
) -> None:
    s = notify_settings
    assert api.put("/api/v1/templates/nhac_han", json=EDITED, headers=_auth(s, CAO_BANG)).status_code == 200
    at = dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ)
    with tenant_session(sessions, THANH_HOA) as session:
        [default_id] = planner.plan(session, obligations([unit("HATRUNG")]), at, policy(s))
    assert api.put("/api/v1/templates/nhac_han", json=EDITED, headers=_auth(s)).status_code == 200
    with tenant_session(sessions, THANH_HOA) as session:
        [edited_id] = planner.plan(session, obligations([unit("NGASON")]), at, policy(s))
        rows = {r.id: r for r in session.scalars(select(Reminder).where(Reminder.id.in_([default_id, edited_id])))}
    assert rows[default_id].subject.startswith("[Sáng kiến] Còn 1 ngày: hạn giới thiệu sáng kiến Đợt 1")
    assert rows[edited_id].subject == "[Thanh Hóa] Còn 1 ngày – Liên đoàn Lao động huyện NGASON"
    assert rows[edited_id].body_text.startswith("Kính gửi Liên đoàn Lao động huyện NGASON: đã chọn 0/2 sáng kiến")
    assert "<b>Liên đoàn Lao động huyện NGASON</b>" in rows[edited_id].body_html
    # A markup-laden unit name stays text in the edited HTML too (autoescape in the sandbox).
    with tenant_session(sessions, THANH_HOA) as session:
        [tagged] = planner.plan(session, obligations([unit("TAG", unit_name="<i>X</i>")]), at, policy(s))
        html = session.get_one(Reminder, (THANH_HOA, tagged)).body_html
    assert "&lt;i&gt;X&lt;/i&gt;" in html and "<i>X</i>" not in html


def test_a_template_that_fails_on_real_data_falls_back_to_the_default() -> None:
    d = obligations([unit("HATRUNG")]).deadlines[0]
    broken = messages.Draft("{{ unit.max_count + unit.min_count }}", "x", "y")  # min_count None here
    msg = messages.reminder(d, d.units[0] if d.units else unit("HATRUNG"), "1d", "https://x", broken)
    assert msg.subject.startswith("[Sáng kiến] Còn 1 ngày")


def test_the_preview_uses_the_tenants_nearest_deadline(
    notify_settings: NotifySettings,
    review_server: Server,
    workflow_seeded: CommonSettings,  # noqa: F811  # the fixture imported above
) -> None:
    """Review's real obligations API (the seeded demo campaign's deadlines): the preview renders
    with the nearest deadline's first unit still owing, and says it used real data."""
    s = notify_settings.model_copy(update={"task_queue": "notify-test-templates", "review_url": review_server.url})
    start = dt.datetime.now(dt.UTC)
    owed = ReviewClient(review_server.url, s.service_token_key()).obligations(
        THANH_HOA, start, start + dt.timedelta(days=59)
    )
    nearest = min((d for d in owed.deadlines if any(not u.fulfilled for u in d.units)), key=lambda d: d.due_at)
    first = next(u for u in nearest.units if not u.fulfilled)
    with TestClient(create_app(s)) as api:
        r = api.post("/api/v1/templates/nhac_han/preview", json=EDITED, headers=_auth(s))
        assert r.status_code == 200, r.text
        assert r.json()["sample"] is False and "Dữ liệu thật" in r.json()["source"]
        assert r.json()["subject"].startswith("[Thanh Hóa] Còn ") and first.unit_name in r.json()["subject"]
        q = api.post("/api/v1/templates/qua_han/preview", json=messages.DEFAULTS["qua_han"].__dict__, headers=_auth(s))
        assert q.status_code == 200 and q.json()["sample"] is False
        assert (first.parent_name or "") in q.json()["body_text"]
