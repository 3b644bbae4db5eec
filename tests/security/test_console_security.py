"""The officers' console under attack, on a real review server (`python -m shared.cli api
review`, production's cookie settings: Secure, `__Host-`), over HTTP.

* 200 wrong passwords on one account: 429 with Retry-After after the threshold, the right
  password refused while it lasts, from any address; other accounts are not locked out.
* Passwords are stored as Argon2id with the configured parameters, weaker hashes upgraded at
  the next sign-in.
* The session cookie is Secure, HttpOnly, SameSite, host-only; a new id at sign-in (the old
  one dead); dead after sign-out and after idling.
* A cross-site POST (Origin of another site, Sec-Fetch-Site: cross-site) is refused with 403
  and a Vietnamese message on every state-changing route that acts as an officer, without
  the CSRF token, with a wrong one, and even with the right one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator

import pytest
import redis
from argon2 import PasswordHasher, Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.accounts.deps import CROSS_SITE_MESSAGE, CSRF_MESSAGE
from services.review.accounts.models import Role
from services.review.accounts.sessions import PREFIX
from services.review.accounts.throttle import LOCKED_MESSAGE
from shared.config import CommonSettings
from tests.security.test_http_surface import (
    COOKIE,
    PASSWORD,
    Browser,
    Stack,
    _apps,
    create_officer,
    csrf_of,
    fill,
    routes_of,
    running_stack,
)

INVALID = "Tên đăng nhập hoặc mật khẩu không đúng"
EVIL = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}


@pytest.fixture(scope="module")
def review(
    loaded_trees: CommonSettings, base_env: dict[str, str], worker_id_str: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with running_stack(("review",), base_env, {}, 1, worker_id_str, tmp_path_factory.mktemp("h3-console")) as s:
        yield s


@pytest.fixture
def r(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def _key(sid: str) -> str:
    return PREFIX + hashlib.sha256(sid.encode()).hexdigest()


def _stored_hash(engine: Engine, tenant_id: int, officer_id: int) -> str:
    with engine.begin() as c:
        c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        h = c.scalar(
            text("SELECT password_hash FROM review.officers WHERE tenant_id = :t AND id = :i"),
            {"t": tenant_id, "i": officer_id},
        )
    assert isinstance(h, str)
    return h


# --- 200 wrong passwords ----------------------------------------------------------------------------


def test_200_wrong_passwords_on_one_account_are_throttled(review: Stack, app_engine: Engine) -> None:
    url = review["review"].url
    victim, bystander, other = (create_officer(app_engine) for _ in range(3))
    attacker = Browser(url, **{"x-forwarded-for": "203.0.113.10"})  # uvicorn believes loopback's proxy
    token = csrf_of(attacker.get("/console/dang-nhap").text)
    answers = []
    for i in range(200):
        r = attacker.post(
            "/console/dang-nhap", data={"login": victim.login, "password": f"doan-sai-{i}", "csrf_token": token}
        )
        answers.append((r.status_code, r.headers.get("retry-after")))
        assert victim.login not in r.text.replace(f'value="{victim.login}"', "")  # only echoed into the form
    assert [s for s, _ in answers[:5]] == [401] * 5  # console_login_attempts_per_user's default
    assert {s for s, _ in answers[5:]} == {429}
    assert all(ra is not None and 0 < int(ra) <= 900 for _, ra in answers[5:])  # the window's rest

    # The right password is refused while the lock lasts, from this address and from any other,
    # with the answer a wrong one gets.
    for who in (attacker, Browser(url, **{"x-forwarded-for": "198.51.100.20"})):
        t = csrf_of(who.get("/console/dang-nhap").text)
        r = who.post("/console/dang-nhap", data={"login": victim.login, "password": PASSWORD, "csrf_token": t})
        assert r.status_code == 429 and LOCKED_MESSAGE in r.text and int(r.headers["retry-after"]) > 0
        assert who.sid is not None and who.get("/api/v1/review/me").status_code == 401

    # Other accounts are not locked out: a colleague at another address signs in at once, and
    # so does one at the attacker's own (the refused attempts were never checked, so they do not
    # count against the address; guessing at 30 names from it would).
    colleague = Browser(url, **{"x-forwarded-for": "198.51.100.21"})
    colleague.sign_in(bystander.login)
    assert colleague.get("/api/v1/review/me").json()["login_name"] == bystander.login
    same_address = Browser(url, **{"x-forwarded-for": "203.0.113.10"})
    same_address.sign_in(bystander.login)
    assert same_address.get("/api/v1/review/me").status_code == 200

    # An attacker spreading the guesses over 100 addresses, a fresh session at each, meets the
    # same per-account lock (no address ever reaches its own limit).
    botnet = Browser(url)
    statuses = []
    for i in range(100):
        botnet.sid = None
        address = {"x-forwarded-for": f"192.0.2.{i + 1}"}
        t = csrf_of(botnet.get("/console/dang-nhap", headers=address).text)
        data = {"login": other.login, "password": f"sai-{i}", "csrf_token": t}
        statuses.append(botnet.post("/console/dang-nhap", data=data, headers=address).status_code)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    for b in (attacker, colleague, same_address, botnet):
        b.close()


# --- the stored hash --------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_with_the_configured_parameters(review: Stack, app_engine: Engine) -> None:
    p = RFC_9106_LOW_MEMORY  # services/review/accounts/passwords.py
    expected = f"$argon2id$v={p.version}$m={p.memory_cost},t={p.time_cost},p={p.parallelism}$"
    admin = create_officer(app_engine)
    b = Browser(review["review"].url)
    token = b.sign_in(admin.login)

    # An account made through the API with a password of its own, and one given a new password.
    body = {"username": f"mk-{admin.id}", "full_name": "Cán bộ mới", "role": "tham_dinh", "unit_id": admin.unit_id}
    made = b.post(
        "/api/v1/review/officers", json={**body, "password": "mat-khau-moi-rat-dai"}, headers={"x-csrf-token": token}
    )
    assert made.status_code == 201, made.text
    new_id = made.json()["officer"]["id"]
    stored = _stored_hash(app_engine, admin.tenant_id, new_id)
    assert stored.startswith(expected), stored
    assert PasswordHasher.from_parameters(p).verify(stored, "mat-khau-moi-rat-dai")
    reset = b.post(
        f"/api/v1/review/officers/{new_id}/password-reset",
        json={"password": "mat-khau-dat-lai-1"},
        headers={"x-csrf-token": token},
    )
    assert reset.status_code == 200
    assert _stored_hash(app_engine, admin.tenant_id, new_id).startswith(expected)
    Browser(review["review"].url).sign_in(made.json()["officer"]["login_name"], "mat-khau-dat-lai-1")

    # A hash of older, weaker parameters (Argon2i, 8 MiB, one pass) still signs in, and is
    # replaced by an Argon2id one of today's parameters at that sign-in.
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.I).hash(PASSWORD)
    legacy = create_officer(app_engine, password_hash=weak)
    Browser(review["review"].url).sign_in(legacy.login)
    upgraded = _stored_hash(app_engine, legacy.tenant_id, legacy.id)
    assert upgraded != weak and upgraded.startswith(expected)
    assert PasswordHasher.from_parameters(p).verify(upgraded, PASSWORD)


# --- the session cookie ----------------------------------------------------------------------------------


def _flags(set_cookie: str) -> tuple[str, str, set[str]]:
    name, _, rest = set_cookie.partition("=")
    value, *attrs = rest.split(";")
    return name, value, {a.strip().lower() for a in attrs}


def test_the_session_cookie_is_locked_down_rotated_and_ends(review: Stack, app_engine: Engine, r: redis.Redis) -> None:
    officer = create_officer(app_engine)
    b = Browser(review["review"].url)
    form = b.get("/console/dang-nhap")
    name, anonymous, flags = _flags(form.headers["set-cookie"])
    assert name == COOKIE and anonymous
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith(("domain", "max-age", "expires")) for f in flags)  # host-only, gone with the browser

    # Sign-in: a new id (the anonymous one deleted), the same flags; the old id is worth nothing.
    t = csrf_of(form.text)
    signed = b.post("/console/dang-nhap", data={"login": officer.login, "password": PASSWORD, "csrf_token": t})
    assert signed.status_code == 303
    name, sid, flags = _flags(signed.headers["set-cookie"])
    assert name == COOKIE and sid != anonymous and {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not r.exists(_key(anonymous)) and r.exists(_key(sid))
    planted = Browser(review["review"].url)
    planted.sid = anonymous  # an id an attacker handed the victim before sign-in (fixation)
    assert planted.get("/api/v1/review/me").status_code == 401
    assert b.get("/api/v1/review/me").status_code == 200

    # Each use slides the idle expiry; idle past it, the session is over.
    r.expire(_key(sid), 100)
    assert b.get("/api/v1/review/me").status_code == 200
    assert 1790 <= r.ttl(_key(sid)) <= 1800  # CONSOLE_SESSION_IDLE_SECONDS' default, renewed
    r.pexpire(_key(sid), 1)  # as if untouched for 30 minutes
    time.sleep(0.05)
    assert b.get("/api/v1/review/me").status_code == 401
    assert b.get("/console/").headers["location"] == "/console/dang-nhap"

    # And however busy, it ends 12 hours after sign-in.
    b.sign_in(officer.login)
    busy = b.sid or ""
    stored = json.loads(r.get(_key(busy)) or b"{}")
    r.set(_key(busy), json.dumps({**stored, "created": stored["created"] - 12 * 3600 - 1}), keepttl=True)
    assert b.get("/api/v1/review/me").status_code == 401

    # Sign-out: the cookie cleared in the browser and the session forgotten by the server.
    token = b.sign_in(officer.login)
    sid = b.sid or ""
    out = b.post("/console/dang-xuat", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/console/dang-nhap"
    _, value, flags = _flags(out.headers["set-cookie"])
    assert value in ("", '""') and "max-age=0" in flags and "secure" in flags
    replay = Browser(review["review"].url)
    replay.sid = sid
    assert replay.get("/api/v1/review/me").status_code == 401
    assert replay.get("/console/").headers["location"] == "/console/dang-nhap"
    assert not r.exists(_key(sid))


# --- cross-site requests --------------------------------------------------------------------------------

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
OFFICER_PREFIXES = ("/console/", "/api/v1/review/", "/api/v1/workflow/")
# Unsafe routes that act on no officer's session, so a forged request carries no one's authority.
NO_SESSION = {
    "POST /api/v1/khieu-nai": "the public complaint form (anyone may file one; no session)",
    "POST /api/v1/xac-nhan/{token}": "the employer's confirmation, authorised by its signed link alone",
    "POST /xac-nhan/{token}": "the same, as a page",
    "POST /api/v1/admin/dead-letters/{letter_id}/replay": "the operators' Bearer token, never a cookie",
}


def _unsafe_routes() -> list[tuple[str, str]]:
    routes = [(m, p) for m, p in routes_of(_apps()["review"]) if m in UNSAFE]
    officer = [(m, p) for m, p in routes if p.startswith(OFFICER_PREFIXES)]
    rest = {f"{m} {p}" for m, p in routes if not p.startswith(OFFICER_PREFIXES)}
    assert rest == NO_SESSION.keys(), f"an unsafe route outside the console: {sorted(rest ^ NO_SESSION.keys())}"
    return officer


def test_a_cross_site_post_is_refused_on_every_unsafe_console_route(review: Stack, app_engine: Engine) -> None:
    officer = create_officer(app_engine, role=Role.quan_tri)
    victim = Browser(review["review"].url)
    token = victim.sign_in(officer.login)
    real = {"officer_id": str(officer.id), "unit_id": str(officer.unit_id)}
    routes = _unsafe_routes()
    assert len(routes) >= 40, routes
    accounts_before = victim.get("/api/v1/review/officers").json()
    for method, path in routes:
        (target,) = fill("review", path, real)
        login = path == "/console/dang-nhap"
        # What a forged form would send: no token, a made-up one, and the victim's real one (as if
        # stolen from a page): refused all three times, for coming from another site.
        for csrf in (None, "gia-mao", token):
            form = {"login": officer.login, "password": PASSWORD} if login else {}
            if csrf is not None:
                form["csrf_token"] = csrf
            r = victim.request(method, target, data=form, headers=EVIL)
            assert r.status_code == 403, (method, target, csrf, r.status_code, r.text[:300])
            assert CROSS_SITE_MESSAGE in r.text, (method, target, r.text[:300])
        # Each header alone is enough: a browser may send only one of them.
        for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "same-site"}, {"origin": "null"}):
            r = victim.request(method, target, data={"csrf_token": token}, headers=headers)
            assert r.status_code == 403 and CROSS_SITE_MESSAGE in r.text, (method, target, headers)
        # Without those headers (a script, an old browser), the token still decides.
        if not login:
            r = victim.request(method, target, data={"csrf_token": "gia-mao"})
            assert r.status_code == 403 and CSRF_MESSAGE in r.text, (method, target, r.text[:300])

    # Nothing of it happened: still signed in, no account made, locked or changed.
    assert victim.get("/api/v1/review/me").status_code == 200
    assert victim.get("/api/v1/review/officers").json() == accounts_before

    # The console's own pages are not refused: the same origin, with the token.
    own = review["review"].url
    r = victim.post(
        "/api/v1/review/officers",
        json={
            "username": f"hop-le-{officer.id}",
            "full_name": "Cán bộ hợp lệ",
            "role": "tham_dinh",
            "unit_id": officer.unit_id,
        },
        headers={"x-csrf-token": token, "origin": own, "sec-fetch-site": "same-origin"},
    )
    assert r.status_code == 201, r.text
    out = victim.post(
        "/console/dang-xuat", data={"csrf_token": token}, headers={"origin": own, "sec-fetch-site": "same-origin"}
    )
    assert out.status_code == 303
