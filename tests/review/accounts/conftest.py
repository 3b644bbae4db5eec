"""Officer factories and a review app to sign in to (real PostgreSQL and Redis).

Officers are committed (the app reads them in its own transactions), each with a fresh name, so
tests never collide on the worker's database; console keys in Redis are cleared per test."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.review.accounts import repository as repo
from services.review.accounts.models import OfficerAccount, Role
from services.review.accounts.passwords import hash_password
from services.review.accounts.principal import login_name
from services.review.app import create_app
from services.review.config import ReviewSettings
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_session
from tests.support.stack import Server

PASSWORD = "mat-khau-thu-nghiem"
THANH_HOA, CAO_BANG = 38, 4
TLD = 999
CODES = {THANH_HOA: "thanh-hoa", CAO_BANG: "cao-bang", TLD: "tld"}


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # Argon2 costs ~0.1 s: hashed once per worker


@dataclass(frozen=True)
class Made:
    tenant_id: int
    id: int
    unit_id: int
    username: str
    role: Role

    @property
    def login(self) -> str:
        return login_name(self.username, CODES[self.tenant_id])


MakeOfficer = Callable[..., Made]


def add_officer(
    engine: Engine,
    tenant_id: int = THANH_HOA,
    unit_code: str | None = None,
    role: Role = Role.quan_tri,
    *,
    password_hash: str | None = None,
    active: bool = True,
    prefix: str = "cb",
) -> Made:
    """An officer committed with a fresh name, at the tenant's top unit unless ``unit_code``
    names another, signing in with PASSWORD unless ``password_hash`` says otherwise."""
    username = f"{prefix}-{secrets.token_hex(4)}"
    with tenant_session(make_sessionmaker(engine), tenant_id) as s:
        unit = repo.unit_by_code(s, tenant_id, "2021", unit_code or CODES[tenant_id])
        assert unit is not None
        a = repo.add_officer(
            s,
            OfficerAccount(
                tenant_id=tenant_id,
                unit_id=unit.id,
                username=username,
                full_name=f"Cán bộ {username}",
                role=role.value,
                password_hash=password_hash or _password_hash(),
                is_active=active,
                is_demo=False,
            ),
        )
        return Made(tenant_id, a.id, unit.id, username, role)


@pytest.fixture
def make_officer(app_engine: Engine, loaded_trees: CommonSettings) -> MakeOfficer:
    return functools.partial(add_officer, app_engine)


@pytest.fixture
def settings_factory(base_env: dict[str, str], loaded_trees: CommonSettings) -> Callable[..., ReviewSettings]:
    def make(**over: Any) -> ReviewSettings:
        env: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
        # Many tests sign in from the same "testclient" address; the limit has its own tests.
        env["console_login_attempts_per_ip"] = 10_000
        env.update(over)
        return ReviewSettings(**env)

    return make


@pytest.fixture(autouse=True)
def _clean_console_keys(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter("console:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def client_factory(settings_factory: Callable[..., ReviewSettings]) -> Iterator[Callable[..., TestClient]]:
    made: list[TestClient] = []

    def make(**over: Any) -> TestClient:
        settings = settings_factory(**over)
        # https: the cookie is Secure by default, and a client keeps Secure cookies for https only.
        c = TestClient(create_app(settings), base_url="https://testserver", follow_redirects=False)
        c.__enter__()
        made.append(c)
        return c

    yield make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> str:
    """Through the form, as a browser does; returns the session's CSRF token."""
    token = csrf_of(client.get("/console/dang-nhap").text)
    r = client.post("/console/dang-nhap", data={"login": login, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/console/").text)


def signed_in(client_factory: Callable[..., TestClient], officer: Made, **over: Any) -> tuple[TestClient, str]:
    c = client_factory(**over)
    return c, sign_in(c, officer.login)


@pytest.fixture
def console(settings_factory: Callable[..., ReviewSettings]) -> Iterator[Server]:
    """The console on a real server for the browser tests: plain http on loopback (the cookie
    cannot be Secure there), and its own address as the public one, so that the confirmation
    links it hands out point at this very server."""
    port = free_port()
    settings = settings_factory(console_cookie_secure=False, public_url=f"http://127.0.0.1:{port}")
    server = Server(create_app(settings), port).start()
    yield server
    server.stop()


def sign_in_page(ctx: BrowserContext, url: str, officer: Made) -> Page:
    page = ctx.new_page()
    page.goto(f"{url}/console/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(officer.login)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{url}/console/")
    return page
