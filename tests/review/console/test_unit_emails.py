"""The units' contact addresses (/console/don-vi, quản trị): the officer's unit first, then the
units below a level at a time or what a search found (accents aside), a form per unit to set or
clear its address; refused addresses named in Vietnamese, nothing saved; every change in the
audit log from what to what; chủ tịch and thẩm định 403; another tenant's officer, and a district's
administrator on the province's unit or a sibling district, 404. Units are the test's own
(make_unit) or read only, so the tree stays as data/orgtree has it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from services.review.accounts import repository as accounts_repo
from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.console import unit_emails
from shared.db import make_sessionmaker, tenant_session
from tests.review.console.conftest import CAO_BANG, THANH_HOA, MadeUnit, MakeOfficer, MakeUnit, signed_in

Client = Callable[..., TestClient]
PAGE = "/console/don-vi"
FIELD = "Địa chỉ email của đơn vị"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _email(app_engine: Engine, tenant_id: int, unit_id: int) -> str | None:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        value = s.scalar(
            text("SELECT email FROM review.units WHERE tenant_id = :t AND id = :i"), {"t": tenant_id, "i": unit_id}
        )
        return None if value is None else str(value)


def _unit_id(app_engine: Engine, tenant_id: int, code: str) -> int:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        unit = accounts_repo.unit_by_code(s, tenant_id, "2021", code)
        assert unit is not None
        return unit.id


def _audit(app_engine: Engine, tenant_id: int, unit_id: int) -> list[AuditRow]:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        rows = list(
            s.scalars(
                select(AuditRow)
                .where(
                    AuditRow.tenant_id == tenant_id,
                    AuditRow.action == "sua_email_don_vi",
                    AuditRow.entity == "unit",
                    AuditRow.entity_id == str(unit_id),
                )
                .order_by(AuditRow.seq)
            )
        )
        s.expunge_all()
        return rows


def _district(make_unit: MakeUnit, name: str = "Liên đoàn Lao động huyện Thử Nghiệm") -> tuple[MadeUnit, MadeUnit]:
    district = make_unit(THANH_HOA, None, name=name, kind="district")
    return district, make_unit(THANH_HOA, district.code, name="CĐCS Công ty TNHH Thử Nghiệm")


def test_set_clear_and_every_change_audited(
    client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    district, cdcs = _district(make_unit)
    admin = make_officer(THANH_HOA, district.code, Role.quan_tri)
    c, csrf = signed_in(client_factory, admin)
    assert 'href="/console/don-vi"' in c.get("/console/").text  # the nav item, for quản trị

    page = c.get(PAGE)
    assert page.status_code == 200
    body = _text(page.text)
    # Their own unit first, then the unit below it, each with its form.
    assert body.index(district.name) < body.index(cdcs.name)
    assert "1 đơn vị trực thuộc" in body and "Chưa có địa chỉ email" in body
    assert f'action="/console/don-vi/{cdcs.id}/email"' in page.text

    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "  VanPhong.CDCS@CongDoan.VN "})
    assert r.status_code == 303
    assert r.headers["location"] == f"{PAGE}?tb=luu&dv={cdcs.id}#don-vi-{cdcs.id}"
    assert _email(app_engine, THANH_HOA, cdcs.id) == "vanphong.cdcs@congdoan.vn"  # trimmed, lower case
    html = c.get(r.headers["location"].split("#")[0]).text
    shown = _text(html)
    assert "Đã lưu địa chỉ email của đơn vị" in shown and "vanphong.cdcs@congdoan.vn" in shown
    # Beside the unit that changed, where the anchor scrolls to (not at the top, out of sight).
    assert html.index(f'<li class="item" id="don-vi-{cdcs.id}">') < html.index('class="notice"')

    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "bch@congdoan.vn"})
    assert r.status_code == 303 and _email(app_engine, THANH_HOA, cdcs.id) == "bch@congdoan.vn"
    # The “Xoá địa chỉ” button clears whatever the field holds; so does a blank field.
    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "bch@congdoan.vn", "hanh_dong": "xoa"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{PAGE}?tb=xoa")
    assert _email(app_engine, THANH_HOA, cdcs.id) is None
    assert "Đã xoá địa chỉ email của đơn vị" in c.get(f"{PAGE}?tb=xoa").text
    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "  "})
    assert r.status_code == 303 and r.headers["location"].startswith(f"{PAGE}?tb=khong-doi")

    rows = _audit(app_engine, THANH_HOA, cdcs.id)
    assert [(a.before, a.after) for a in rows] == [
        ({"email": None}, {"email": "vanphong.cdcs@congdoan.vn", "code": cdcs.code}),
        ({"email": "vanphong.cdcs@congdoan.vn"}, {"email": "bch@congdoan.vn", "code": cdcs.code}),
        ({"email": "bch@congdoan.vn"}, {"email": None, "code": cdcs.code}),
    ]  # nothing for the unchanged save
    assert all(a.actor_id == admin.id and admin.username in a.actor for a in rows)

    # Their own unit's address too, and the form brings them back where they were.
    where = {"don_vi": str(district.id), "q": "thu nghiem"}
    r = c.post(f"{PAGE}/{district.id}/email", data={"csrf_token": csrf, "email": "ldld@congdoan.vn", **where})
    assert r.status_code == 303
    assert (
        r.headers["location"]
        == f"{PAGE}?don_vi={district.id}&q=thu+nghiem&tb=luu&dv={district.id}#don-vi-{district.id}"
    )
    assert _email(app_engine, THANH_HOA, district.id) == "ldld@congdoan.vn"

    # Without the session's CSRF token: refused, nothing saved.
    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": "x", "email": "khac@congdoan.vn"})
    assert r.status_code == 403 and _email(app_engine, THANH_HOA, cdcs.id) is None


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("van phong", "không đúng định dạng"),
        ("vanphong@congdoan", "không đúng định dạng"),
        ("a@congdoan.vn, b@congdoan.vn", "không đúng định dạng"),
        ("a@congdoan.vn;b", "không đúng định dạng"),
        ("Văn phòng <vp@congdoan.vn>", "không đúng định dạng"),
        ("vp@congđoan.vn", "không đúng định dạng"),
        ("a" * 64 + "@" + "b" * 190 + ".vn", "dài tối đa 254 ký tự (hiện có 258)"),
    ],
)
def test_a_refused_address_names_the_field_and_saves_nothing(
    typed: str, rule: str, client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    district, cdcs = _district(make_unit)
    c, csrf = signed_in(client_factory, make_officer(THANH_HOA, district.code, Role.quan_tri))
    assert c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "cu@congdoan.vn"}).status_code == 303
    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": typed, "don_vi": str(district.id)})
    assert r.status_code == 422
    body = _text(r.text)
    assert f"{FIELD} {rule}" in body
    assert f'aria-invalid="true" aria-describedby="loi-{cdcs.id}"' in r.text  # beside its own field
    assert cdcs.name in body  # the same view again
    assert _email(app_engine, THANH_HOA, cdcs.id) == "cu@congdoan.vn"
    assert len(_audit(app_engine, THANH_HOA, cdcs.id)) == 1  # only the first, accepted, change


def test_the_rule_itself() -> None:
    assert unit_emails.parse_email(" Ban.ToChuc@LDLD-ThanhHoa.org.vn ") == "ban.tochuc@ldld-thanhhoa.org.vn"
    assert unit_emails.parse_email("") is None and unit_emails.parse_email("   ") is None


@pytest.mark.parametrize("role", [Role.chu_tich, Role.tham_dinh])
def test_other_roles_are_refused(
    role: Role, client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    district, cdcs = _district(make_unit)
    c, csrf = signed_in(client_factory, make_officer(THANH_HOA, district.code, role))
    assert 'href="/console/don-vi"' not in c.get("/console/").text
    page = c.get(PAGE)
    assert page.status_code == 403 and "Chức năng này dành cho: Quản trị" in _text(page.text)
    r = c.post(f"{PAGE}/{cdcs.id}/email", data={"csrf_token": csrf, "email": "vp@congdoan.vn"})
    assert r.status_code == 403 and "Không thực hiện được" in r.text
    assert _email(app_engine, THANH_HOA, cdcs.id) is None


def test_another_tenant_gets_404(
    client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    district, cdcs = _district(make_unit)
    stranger = make_officer(CAO_BANG, None, Role.quan_tri)  # Cao Bằng's province administrator
    c, csrf = signed_in(client_factory, stranger)
    for unit in (district.id, cdcs.id, _unit_id(app_engine, THANH_HOA, "thanh-hoa")):
        page = c.get(PAGE, params={"don_vi": str(unit)})
        assert page.status_code == 404 and "Không tìm thấy đơn vị" in page.text
        r = c.post(f"{PAGE}/{unit}/email", data={"csrf_token": csrf, "email": "la@congdoan.vn"})
        assert r.status_code == 404 and "Không tìm thấy đơn vị" in r.text
    assert _email(app_engine, THANH_HOA, cdcs.id) is None and _email(app_engine, THANH_HOA, district.id) is None
    # A code or anything but an id: the same answer.
    assert c.get(PAGE, params={"don_vi": "H380"}).status_code == 404
    assert c.post(f"{PAGE}/H380/email", data={"csrf_token": csrf, "email": "la@congdoan.vn"}).status_code == 404
    # Searching their own tree never shows Thanh Hóa's units.
    assert cdcs.name not in c.get(PAGE, params={"q": "thu nghiem"}).text


def test_a_district_administrator_reaches_its_own_subtree_only(
    client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    district, cdcs = _district(make_unit)
    sibling = make_unit(THANH_HOA, None, name="Liên đoàn Lao động huyện Bên Cạnh", kind="district")
    province = _unit_id(app_engine, THANH_HOA, "thanh-hoa")
    before = _email(app_engine, THANH_HOA, province)
    c, csrf = signed_in(client_factory, make_officer(THANH_HOA, district.code, Role.quan_tri))
    for unit in (province, sibling.id):
        assert c.get(PAGE, params={"don_vi": str(unit)}).status_code == 404
        r = c.post(f"{PAGE}/{unit}/email", data={"csrf_token": csrf, "email": "chiem@congdoan.vn"})
        assert r.status_code == 404
    assert _email(app_engine, THANH_HOA, province) == before and _email(app_engine, THANH_HOA, sibling.id) is None
    page = _text(c.get(PAGE).text)
    assert sibling.name not in page and "Liên đoàn Lao động tỉnh Thanh Hóa" not in page
    # Going down to the CĐCS: the trail starts at their own unit, not at the province.
    down = c.get(PAGE, params={"don_vi": str(cdcs.id)})
    assert down.status_code == 200
    assert f'<a href="/console/don-vi">{district.name}</a>' in down.text
    assert "Đơn vị này không có đơn vị trực thuộc" in down.text


def test_search_ignores_accents_and_goes_down(
    client_factory: Client, make_officer: MakeOfficer, make_unit: MakeUnit, app_engine: Engine
) -> None:
    school = make_unit(CAO_BANG, "H045", name="CĐCS Trường Tiểu học Thử Nghiệm Hà Quảng")
    admin = make_officer(CAO_BANG, None, Role.quan_tri)
    c, _ = signed_in(client_factory, admin)
    default = _text(c.get(PAGE).text)
    # The province first, then its direct children only: a CĐCS two levels down is not listed.
    assert default.index("Liên đoàn Lao động tỉnh Cao Bằng") < default.index("Liên đoàn Lao động huyện Hà Quảng")
    assert school.name not in default
    for query in ("ha quang", "HÀ QUẢNG", "quang ha"):
        found = _text(c.get(PAGE, params={"q": query}).text)
        assert "Liên đoàn Lao động huyện Hà Quảng" in found, query
        assert f"{school.name} Công đoàn cơ sở · mã {school.code} · thuộc Liên đoàn Lao động huyện Hà Quảng" in found
        assert "Bảo Lâm" not in found
    assert "2 đơn vị phù hợp với “ha quang”" in _text(c.get(PAGE, params={"q": "ha quang"}).text)
    # Down into Hà Quảng: its CĐCS with its form, the trail back to the province.
    ha_quang = _unit_id(app_engine, CAO_BANG, "H045")
    down = c.get(PAGE, params={"don_vi": str(ha_quang)})
    assert down.status_code == 200 and f'action="/console/don-vi/{school.id}/email"' in down.text
    assert '<a href="/console/don-vi">Liên đoàn Lao động tỉnh Cao Bằng</a>' in down.text
    assert "không tìm thấy" in _text(c.get(PAGE, params={"q": "khong co don vi nao nhu the"}).text).lower()


def test_children_come_a_page_at_a_time(
    client_factory: Client,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(unit_emails, "PAGE_SIZE", 2)  # a province's thousands, in miniature
    district = make_unit(THANH_HOA, None, name="Liên đoàn Lao động huyện Nhiều Đơn Vị", kind="district")
    made = sorted((make_unit(THANH_HOA, district.code) for _ in range(3)), key=lambda u: u.code)
    c, _ = signed_in(client_factory, make_officer(THANH_HOA, district.code, Role.quan_tri))
    first = _text(c.get(PAGE).text)
    assert "3 đơn vị trực thuộc · trang 1/2" in first
    assert made[0].name in first and made[1].name in first and made[2].name not in first
    second = c.get(PAGE, params={"trang": "2"})
    assert made[2].name in second.text and made[0].name not in second.text
    assert "‹ Trang trước" in second.text
    assert made[2].name in c.get(PAGE, params={"trang": "9"}).text  # past the end: the last page
