"""Accounts management by quản trị, and what every officer may see: their unit and below, in
their tenant. Another tenant's (or another branch's) officers and units answer 404, not 403."""

from __future__ import annotations

import csv
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from services.review.accounts.models import Role
from tests.conftest import ROOT
from tests.review.accounts.conftest import CAO_BANG, PASSWORD, Made, MakeOfficer, csrf_of, sign_in, signed_in

Clients = Callable[..., TestClient]
API = "/api/v1/review"


def _tree_codes(tenant: str) -> list[str]:
    with (ROOT / "data" / "orgtree" / "2021" / "units.csv").open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f) if row["tenant"] == tenant]


def _admin(client_factory: Clients, make_officer: MakeOfficer, **kw: object) -> tuple[TestClient, str, Made]:
    admin = make_officer(role=Role.quan_tri, **kw)
    client, token = signed_in(client_factory, admin)
    client.headers["X-CSRF-Token"] = token
    return client, token, admin


def test_admin_creates_an_officer_who_can_sign_in(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, admin = _admin(client_factory, make_officer)
    district = next(u for u in client.get(f"{API}/units").json() if u["code"] == "H380")
    r = client.post(
        f"{API}/officers",
        json={"username": "le.van.b", "full_name": "Lê Văn B", "role": "chu_tich", "unit_id": district["id"]},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["officer"]["login_name"] == "le.van.b@thanh-hoa"
    assert created["officer"]["unit_name"] == "Liên đoàn Lao động thành phố Thanh Hóa"
    assert created["officer"]["role_label"] == "Chủ tịch, Phó Chủ tịch"
    temporary = created["temporary_password"]
    assert len(temporary) >= 16
    assert any(o["id"] == created["officer"]["id"] for o in client.get(f"{API}/officers").json())
    # The same name again in this tenant: 409. (Another tenant may use it: names are per tenant.)
    again = client.post(
        f"{API}/officers",
        json={"username": "le.van.b", "full_name": "Lê Văn B", "role": "chu_tich", "unit_id": district["id"]},
    )
    assert again.status_code == 409 and again.json()["field"] == "username"

    newcomer = client_factory()
    sign_in(newcomer, "le.van.b@thanh-hoa", temporary)
    me = newcomer.get(f"{API}/me").json()
    assert me["unit_name"] == "Liên đoàn Lao động thành phố Thanh Hóa" and me["role"] == "chu_tich"
    assert admin.id != me["id"]


def test_invalid_input_is_422(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, admin = _admin(client_factory, make_officer)
    for bad in (
        {"username": "Có Dấu", "full_name": "X Y", "role": "tham_dinh", "unit_id": admin.unit_id},
        {"username": "ok.name", "full_name": "X Y", "role": "giam_doc", "unit_id": admin.unit_id},
        {"username": "ok.name", "full_name": "X Y", "role": "tham_dinh", "unit_id": admin.unit_id, "password": "ngan"},
    ):
        assert client.post(f"{API}/officers", json=bad).status_code == 422


def test_deactivation_ends_the_officers_sessions(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, admin = _admin(client_factory, make_officer)
    officer = make_officer(role=Role.tham_dinh)
    theirs, _ = signed_in(client_factory, officer)
    assert theirs.get(f"{API}/me").status_code == 200
    r = client.post(f"{API}/officers/{officer.id}/deactivate")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert theirs.get(f"{API}/me").status_code == 401
    assert client.post(f"{API}/officers/{admin.id}/deactivate").status_code == 409  # not oneself
    assert client.post(f"{API}/officers/{officer.id}/activate").json()["is_active"] is True
    sign_in(client_factory(), officer.login)


def test_password_reset_by_an_admin(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, _ = _admin(client_factory, make_officer)
    officer = make_officer(role=Role.chu_tich)
    theirs, _ = signed_in(client_factory, officer)
    r = client.post(f"{API}/officers/{officer.id}/password-reset")
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert theirs.get(f"{API}/me").status_code == 401  # the old password's sessions are over
    chosen = client.post(f"{API}/officers/{officer.id}/password-reset", json={"password": "mat-khau-moi-dai"})
    assert chosen.json()["temporary_password"] is None
    again = client_factory()
    for password in (PASSWORD, temporary):
        page = again.get("/console/dang-nhap").text
        r = again.post(
            "/console/dang-nhap", data={"login": officer.login, "password": password, "csrf_token": csrf_of(page)}
        )
        assert r.status_code == 401
    sign_in(again, officer.login, "mat-khau-moi-dai")


def test_only_quan_tri_manages_accounts(client_factory: Clients, make_officer: MakeOfficer) -> None:
    other = make_officer(role=Role.tham_dinh)
    for role in (Role.tham_dinh, Role.chu_tich):
        client, token = signed_in(client_factory, make_officer(role=role))
        client.headers["X-CSRF-Token"] = token
        assert client.get(f"{API}/officers").status_code == 403
        assert client.post(f"{API}/officers/{other.id}/deactivate").status_code == 403
        assert client.get(f"{API}/units").status_code == 200  # everyone sees their own reach


def test_signed_out_is_401(client: TestClient) -> None:
    for path in ("/me", "/units", "/officers", "/officers/1"):
        r = client.get(API + path)
        assert r.status_code == 401 and r.json()["code"] == "chua_dang_nhap"


# --- reach: the unit and below, the tenant only ------------------------------------------------------


def test_units_are_my_unit_and_below(client_factory: Clients, make_officer: MakeOfficer) -> None:
    province, _ = signed_in(client_factory, make_officer(role=Role.tham_dinh))
    tree = set(_tree_codes("thanh-hoa"))
    codes = {u["code"] for u in province.get(f"{API}/units").json()}
    # The whole 2021 tree of the tenant (plus any CĐCS other tests or the demo added below it).
    assert tree <= codes
    district, _ = signed_in(client_factory, make_officer(unit_code="H380", role=Role.tham_dinh))
    mine = {u["code"] for u in district.get(f"{API}/units").json()}
    assert mine & tree == {"H380"}  # itself and what is below it: no parent, no sibling


def test_a_district_admin_cannot_reach_the_province(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, _ = _admin(client_factory, make_officer, unit_code="H380")
    above = make_officer(role=Role.tham_dinh)  # at the province: same tenant, above me
    sibling = make_officer(unit_code="H381", role=Role.tham_dinh)
    below = make_officer(unit_code="H380", role=Role.tham_dinh)
    listed = {o["id"] for o in client.get(f"{API}/officers").json()}
    assert below.id in listed and above.id not in listed and sibling.id not in listed
    for target in (above, sibling):
        assert client.get(f"{API}/officers/{target.id}").status_code == 404
        assert client.post(f"{API}/officers/{target.id}/deactivate").status_code == 404
    r = client.post(
        f"{API}/officers",
        json={"username": "len-tinh", "full_name": "X Y", "role": "quan_tri", "unit_id": above.unit_id},
    )
    assert r.status_code == 404 and r.json()["field"] == "unit_id"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/officers/{id}"),
        ("POST", "/officers/{id}/deactivate"),
        ("POST", "/officers/{id}/activate"),
        ("POST", "/officers/{id}/password-reset"),
    ],
)
def test_another_tenants_officer_is_404(
    client_factory: Clients, make_officer: MakeOfficer, method: str, path: str
) -> None:
    client, _, _ = _admin(client_factory, make_officer)  # quản trị of Thanh Hóa, at the province
    foreign = make_officer(CAO_BANG, role=Role.tham_dinh)
    r = client.request(method, API + path.format(id=foreign.id))
    assert r.status_code == 404 and r.json()["code"] == "khong_tim_thay"
    assert client.request(method, API + path.format(id=987_654_321)).json() == r.json()  # same as none at all
    theirs, _ = signed_in(client_factory, foreign)
    assert theirs.get(f"{API}/me").status_code == 200  # untouched


def test_another_tenants_units_and_officers_are_invisible(client_factory: Clients, make_officer: MakeOfficer) -> None:
    client, _, _ = _admin(client_factory, make_officer)
    foreign_admin = make_officer(CAO_BANG, role=Role.quan_tri)
    theirs, token = signed_in(client_factory, foreign_admin)
    theirs.headers["X-CSRF-Token"] = token
    assert foreign_admin.id not in {o["id"] for o in client.get(f"{API}/officers").json()}
    assert sorted(u["code"] for u in theirs.get(f"{API}/units").json()) == sorted(_tree_codes("cao-bang"))
    # Creating an officer in a unit of the other tenant: 404, as if the unit did not exist.
    th_unit = next(u["id"] for u in client.get(f"{API}/units").json() if u["code"] == "thanh-hoa")
    body = {"username": "xam-nhap", "full_name": "X Y", "role": "quan_tri", "unit_id": th_unit}
    r = theirs.post(f"{API}/officers", json=body)
    assert r.status_code == 404 and r.json()["field"] == "unit_id"
