"""Signing in and out through the console's form: one answer for every failure, throttling,
cookie flags, rotation, logout, idle timeout, CSRF."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import redis
from fastapi.testclient import TestClient

from services.review.accounts.models import Role
from services.review.accounts.sessions import PREFIX
from tests.review.accounts.conftest import PASSWORD, MakeOfficer, csrf_of, sign_in

COOKIE = "__Host-sangkien_phien"
INVALID = "Tên đăng nhập hoặc mật khẩu không đúng"


def _attempt(client: TestClient, login: str, password: str) -> tuple[int, str, dict[str, str]]:
    token = csrf_of(client.get("/console/dang-nhap").text)
    r = client.post("/console/dang-nhap", data={"login": login, "password": password, "csrf_token": token})
    return r.status_code, r.text.replace(login, "<login>"), dict(r.headers)


def test_sign_in_lands_on_the_home_page(client: TestClient, make_officer: MakeOfficer) -> None:
    officer = make_officer(role=Role.tham_dinh)
    sign_in(client, officer.login)
    page = client.get("/console/")
    assert page.status_code == 200
    assert f"Xin chào Cán bộ {officer.username}" in page.text
    assert "Liên đoàn Lao động tỉnh Thanh Hóa" in page.text and "Cán bộ thẩm định" in page.text
    for label in ("Hàng đợi sáng kiến", "Tiến độ", "Đề cử"):
        assert label in page.text
    assert "Cấu hình" not in page.text  # the tenant's configuration is the administrator's
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # shared/web.py
    me = client.get("/api/v1/review/me").json()
    assert me["login_name"] == officer.login and me["unit_name"] == "Liên đoàn Lao động tỉnh Thanh Hóa"


def test_login_names_are_case_and_space_insensitive(client: TestClient, make_officer: MakeOfficer) -> None:
    officer = make_officer()
    sign_in(client, f"  {officer.login.upper()} ")
    assert client.get("/api/v1/review/me").status_code == 200


def test_wrong_password_unknown_user_unknown_tenant_and_inactive_answer_the_same(
    client: TestClient, make_officer: MakeOfficer
) -> None:
    officer = make_officer()
    inactive = make_officer(active=False)
    answers = {
        _attempt(client, officer.login, "sai-mat-khau")[:2],
        _attempt(client, "khong-co-ai@thanh-hoa", PASSWORD)[:2],
        _attempt(client, f"{officer.username}@khong-co-tinh", PASSWORD)[:2],
        _attempt(client, "khong-dung-dang", PASSWORD)[:2],
        _attempt(client, inactive.login, PASSWORD)[:2],
        _attempt(client, f"{officer.username}@cao-bang", PASSWORD)[:2],  # right name, wrong tenant
    }
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 401 and INVALID in body
    assert client.get("/api/v1/review/me").status_code == 401


def test_throttled_per_login_name_without_revealing_it_exists(
    client_factory: Callable[..., TestClient], make_officer: MakeOfficer
) -> None:
    client = client_factory(console_login_attempts_per_user=3, console_login_window_seconds=120)
    officer = make_officer()
    for name in (officer.login, "khong-ton-tai@thanh-hoa"):
        for _ in range(3):
            assert _attempt(client, name, "sai-mat-khau")[0] == 401
    locked_real = _attempt(client, officer.login, PASSWORD)  # even the right password now
    locked_none = _attempt(client, "khong-ton-tai@thanh-hoa", PASSWORD)
    assert locked_real[:2] == locked_none[:2]
    assert locked_real[0] == 429 and "quá nhiều lần" in locked_real[1]
    assert 0 < int(locked_real[2]["retry-after"]) <= 120
    # Another name from the same address is not locked by these.
    other = make_officer()
    sign_in(client, other.login)


def test_throttled_per_client_address(client_factory: Callable[..., TestClient], make_officer: MakeOfficer) -> None:
    client = client_factory(console_login_attempts_per_ip=4, console_login_window_seconds=60)
    for i in range(4):
        assert _attempt(client, f"doan-mo-{i}@thanh-hoa", "x")[0] == 401
    status, _, headers = _attempt(client, make_officer().login, PASSWORD)
    assert status == 429 and int(headers["retry-after"]) > 0


def test_a_success_clears_the_name_count(client_factory: Callable[..., TestClient], make_officer: MakeOfficer) -> None:
    client = client_factory(console_login_attempts_per_user=3)
    officer = make_officer()
    for _ in range(2):
        assert _attempt(client, officer.login, "sai")[0] == 401
    sign_in(client, officer.login)
    client.cookies.clear()
    for _ in range(2):
        assert _attempt(client, officer.login, "sai")[0] == 401
    sign_in(client, officer.login)


def test_cookie_flags(client_factory: Callable[..., TestClient], make_officer: MakeOfficer) -> None:
    officer = make_officer()
    client = client_factory()
    token = csrf_of(client.get("/console/dang-nhap").text)
    r = client.post("/console/dang-nhap", data={"login": officer.login, "password": PASSWORD, "csrf_token": token})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(COOKIE + "=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith(("domain", "max-age", "expires")) for f in flags)

    dev = client_factory(console_cookie_secure=False)  # plain http on a developer's machine
    cookie = dev.get("/console/dang-nhap").headers["set-cookie"]
    assert cookie.startswith("sangkien_phien=") and "secure" not in cookie.lower() and "httponly" in cookie.lower()


def test_production_refuses_an_insecure_cookie(settings_factory: Callable[..., object]) -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="CONSOLE_COOKIE_SECURE"):
        settings_factory(environment="prod", console_cookie_secure=False)


def test_session_id_rotates_at_sign_in(client: TestClient, make_officer: MakeOfficer, redis_url: str) -> None:
    officer = make_officer()
    client.get("/console/dang-nhap")
    before = client.cookies[COOKIE]
    token_before = csrf_of(client.get("/console/dang-nhap").text)
    assert client.cookies[COOKIE] == before  # the form reuses its anonymous session
    token_after = sign_in(client, officer.login)
    after = client.cookies[COOKIE]
    assert after != before and token_after != token_before
    r = redis.Redis.from_url(redis_url)
    assert not r.exists(PREFIX + hashlib.sha256(before.encode()).hexdigest())  # the old id is gone
    # A session id planted before sign-in (fixation) is worth nothing afterwards.
    attacker = TestClient(client.app, base_url="https://testserver")
    attacker.cookies.set(COOKIE, before)
    assert attacker.get("/api/v1/review/me").status_code == 401


def test_logout_ends_the_session(client: TestClient, make_officer: MakeOfficer) -> None:
    officer = make_officer()
    token = sign_in(client, officer.login)
    sid = client.cookies[COOKIE]
    r = client.post("/console/dang-xuat", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/console/dang-nhap"
    assert 'sangkien_phien=""' in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
    replay = TestClient(client.app, base_url="https://testserver")
    replay.cookies.set(COOKIE, sid)  # the old cookie, replayed: the server has forgotten it
    assert replay.get("/api/v1/review/me").status_code == 401
    assert replay.get("/console/", follow_redirects=False).headers["location"] == "/console/dang-nhap"


def test_idle_timeout_ends_the_session(client: TestClient, make_officer: MakeOfficer, redis_url: str) -> None:
    officer = make_officer()
    sign_in(client, officer.login)
    key = PREFIX + hashlib.sha256(client.cookies[COOKIE].encode()).hexdigest()
    r = redis.Redis.from_url(redis_url)
    assert 1790 <= r.ttl(key) <= 1800  # CONSOLE_SESSION_IDLE_SECONDS' default
    r.pexpire(key, 1)  # as if idle for 30 minutes
    import time

    time.sleep(0.01)
    assert client.get("/api/v1/review/me").status_code == 401
    assert client.get("/console/").status_code == 303


def test_csrf_on_the_sign_in_form(client: TestClient, make_officer: MakeOfficer) -> None:
    officer = make_officer()
    client.get("/console/dang-nhap")
    for data in ({}, {"csrf_token": "gia-mao"}):
        r = client.post("/console/dang-nhap", data={"login": officer.login, "password": PASSWORD, **data})
        assert r.status_code == 403 and "tải lại trang" in r.text
    assert client.get("/api/v1/review/me").status_code == 401
    # A token from another browser's session does not fit this one.
    other = TestClient(client.app, base_url="https://testserver")
    foreign = csrf_of(other.get("/console/dang-nhap").text)
    r = client.post("/console/dang-nhap", data={"login": officer.login, "password": PASSWORD, "csrf_token": foreign})
    assert r.status_code == 403


def test_csrf_on_logout_and_the_api(client: TestClient, make_officer: MakeOfficer) -> None:
    officer = make_officer()
    token = sign_in(client, officer.login)
    for data in ({}, {"csrf_token": "gia-mao"}):
        assert client.post("/console/dang-xuat", data=data).status_code == 403
    assert client.get("/api/v1/review/me").status_code == 200  # still signed in
    body = {"username": "moi-tao", "full_name": "Cán bộ mới", "role": "tham_dinh", "unit_id": officer.unit_id}
    assert client.post("/api/v1/review/officers", json=body).status_code == 403
    r = client.post("/api/v1/review/officers", json=body, headers={"X-CSRF-Token": token + "x"})
    assert r.status_code == 403 and r.json()["code"] == "khong_duoc_phep"
    assert client.post("/api/v1/review/officers", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_home_redirects_to_the_form_and_the_form_to_home(client: TestClient, make_officer: MakeOfficer) -> None:
    assert client.get("/console/").headers["location"] == "/console/dang-nhap"
    sign_in(client, make_officer().login)
    assert client.get("/console/dang-nhap").headers["location"] == "/console/"
