"""The HTTP surface of all four services, served as production serves them: each one a process
of its own (`python -m shared.cli api <service>`, uvicorn) on the worker's PostgreSQL and
Redis, SeaweedFS and an SMTP server, talked to over loopback.

* A 10 MB body — declared by Content-Length, or chunked without one — is answered 413 while
  most of it was never sent, and the connection is closed: the server did not wait for it.
  The limits leave the real uses working: a dossier of 1,000 rows of 1,000 characters is
  accepted (chunked too), an Excel import a little over its own 5 MB reaches the console's
  own message.
* Every GET route of every application (the console's pages signed in, the APIs with their
  tokens and without, static files, health, documentation) and the error answers (404, 405,
  422, 413, 429, 401, 500) carry CSP with frame-ancestors, nosniff, HSTS and Referrer-Policy,
  and no version string anywhere: no Server header, no X-Powered-By, the OpenAPI version ours.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi
import httpx
import pytest
import starlette
import uvicorn
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.review.accounts.models import Role
from shared.contracts.dossier import REPORTING_AUDIENCE, DossierJobsIn
from shared.contracts.obligations import REVIEW_AUDIENCE, SYSTEM_ROLE
from shared.contracts.reminders import NOTIFY_AUDIENCE
from shared.servicetoken import derive_key, issue
from tests.reporting.conftest import dossier
from tests.review.accounts.conftest import PASSWORD, Made, add_officer, csrf_of
from tests.support.processes import ROOT, Children, tail, wait_for

THANH_HOA = 38
COOKIE = "__Host-sangkien_phien"  # the console's cookie as production sets it (Secure)
TEN_MB = 10_000_000
MIB = 1024 * 1024
SERVICES = ("intake", "review", "reporting", "notify")


# --- the four services as processes -----------------------------------------------------------------


@dataclass
class Api:
    name: str
    port: int
    log: Path
    proc: Any

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return tail(self.log, 60)


@dataclass
class Stack:
    apis: dict[str, Api]
    env: dict[str, str]
    token_secret: str
    admin_token: str
    children: Children = field(repr=False)

    def __getitem__(self, name: str) -> Api:
        return self.apis[name]

    def token(self, aud: str, *, tenant_id: int = THANH_HOA, role: str = "quan_tri", officer_id: int = 1) -> str:
        key = derive_key(self.token_secret.encode())
        return issue(key, tenant_id=tenant_id, officer_id=officer_id, unit_code="thanh-hoa", role=role, aud=aud)


def wait_healthy(api: Api, timeout: float = 90) -> None:
    def up() -> bool:
        if api.proc.poll() is not None:
            raise AssertionError(f"{api.name} exited with {api.proc.returncode}:\n{api.tail()}")
        try:
            return httpx.get(f"{api.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(f"{api.name} to answer /healthz", up, timeout=timeout, every=0.2, why=api.tail)


def stack_env(
    base_env: dict[str, str], s3_env: dict[str, str], smtp_port: int, worker: str, ports: dict[str, int]
) -> dict[str, str]:
    return {
        **base_env,
        **s3_env,
        "LOG_LEVEL": "WARNING",
        "SERVICE_TOKEN_SECRET": secrets.token_urlsafe(24),
        "ADMIN_TOKEN": secrets.token_urlsafe(24),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        # Queues and a stream of this module's own: nothing another test's worker or ingester reads.
        "TASK_QUEUE": f"h3-{worker}-{secrets.token_hex(3)}",
        "SUBMISSIONS_STREAM": f"submissions-h3-{worker}",
        "INTAKE_CAMPAIGN": "75k-demo",
        "RATE_LIMIT_TRACKING_PER_IP": "3",  # a 429 of intake's is one of the pages walked
        "REVIEW_URL": f"http://127.0.0.1:{ports['review']}",
        "REPORTING_URL": f"http://127.0.0.1:{ports['reporting']}",
        "NOTIFY_URL": f"http://127.0.0.1:{ports['notify']}",
        "CONSOLE_URL": f"http://127.0.0.1:{ports['review']}",
    }


@contextlib.contextmanager
def running_stack(
    names: tuple[str, ...],
    base_env: dict[str, str],
    s3_env: dict[str, str],
    smtp_port: int,
    worker: str,
    log_dir: Path,
    **over: str,
) -> Iterator[Stack]:
    children = Children()
    ports = {n: free_port() for n in SERVICES}
    env = {**stack_env(base_env, s3_env, smtp_port, worker, ports), **over}
    apis: dict[str, Api] = {}
    try:
        for n in names:
            log = log_dir / f"{n}.log"
            proc = children.spawn(
                [sys.executable, "-m", "shared.cli", "api", n, "--port", str(ports[n])],
                log=log,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                cwd=ROOT,
            )
            apis[n] = Api(n, ports[n], log, proc)
        for api in apis.values():
            wait_healthy(api)
        yield Stack(apis, env, env["SERVICE_TOKEN_SECRET"], env["ADMIN_TOKEN"], children)
    finally:
        children.stop_all()


@pytest.fixture(scope="module")
def stack(
    published: str,
    base_env: dict[str, str],
    s3_env: dict[str, str],
    smtp_server: tuple[int, Path],
    worker_id_str: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    from services.reporting.config import ReportingSettings
    from shared.storage import ensure_bucket, make_client

    settings = ReportingSettings(**{k.lower(): v for k, v in {**base_env, **s3_env}.items()})
    ensure_bucket(make_client(settings), settings.bucket)
    with running_stack(
        SERVICES, base_env, s3_env, smtp_server[0], worker_id_str, tmp_path_factory.mktemp("h3-stack")
    ) as s:
        yield s


# --- officers and a browser that keeps the console's Secure cookie over plain http -----------------------


def create_officer(
    engine: Engine,
    *,
    tenant_id: int = THANH_HOA,
    unit_code: str | None = None,
    role: Role = Role.quan_tri,
    password_hash: str | None = None,
) -> Made:
    """The accounts tests' factory (committed, a fresh name, PASSWORD), named ``bm-…`` here."""
    return add_officer(engine, tenant_id, unit_code, role, password_hash=password_hash, prefix="bm")


class Browser:
    """httpx against a real server, keeping the console's cookie itself: the cookie is Secure
    (as in production) and a cookie jar would never send it back over plain http."""

    def __init__(self, base_url: str, **headers: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30, headers=headers)
        self.sid: str | None = None
        self.set_cookies: list[str] = []

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.sid is not None:
            headers["cookie"] = f"{COOKIE}={self.sid}"
        r = self.http.request(method, path, headers=headers, **kw)
        self.http.cookies.clear()
        for raw in r.headers.get_list("set-cookie"):
            self.set_cookies.append(raw)
            name, _, rest = raw.partition("=")
            if name == COOKIE:
                value = rest.split(";", 1)[0].strip('"')
                self.sid = value or None
        return r

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def sign_in(self, login: str, password: str = PASSWORD) -> str:
        """Through the form, as a person does; returns the signed-in session's CSRF token."""
        token = csrf_of(self.get("/console/dang-nhap").text)
        r = self.post("/console/dang-nhap", data={"login": login, "password": password, "csrf_token": token})
        assert r.status_code == 303, r.text[:500]
        return csrf_of(self.get("/console/").text)

    def close(self) -> None:
        self.http.close()


# --- what every answer must carry -------------------------------------------------------------------

# Names and versions of what the services run on: none may show in a header.
LIBRARIES = ("uvicorn", "starlette", "fastapi", "python", "httptools", "h11", "pydantic", "jinja")
VERSIONS = tuple(v for v in (fastapi.__version__, starlette.__version__, uvicorn.__version__) if v)


def assert_hardened(headers: httpx.Headers | dict[str, str], where: str) -> None:
    h = {k.lower(): v for k, v in headers.items()}
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, (where, csp)
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("strict-transport-security", "").startswith("max-age="), where
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    assert "server" not in h, (where, h.get("server"))
    assert "x-powered-by" not in h, where
    for k, v in h.items():
        low = v.lower()
        assert not any(lib in low for lib in LIBRARIES), (where, k, v)
        if k not in ("date", "content-length", "etag", "last-modified", "x-request-id", "set-cookie", "location"):
            assert not any(re.search(rf"(?<![\d.]){re.escape(ver)}(?![\d.])", v) for ver in VERSIONS), (where, k, v)


# --- 413 over a raw socket ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    status: int
    headers: dict[str, str]
    body: bytes
    body_bytes_sent: int
    closed: bool


def push_body(
    port: int,
    path: str,
    *,
    method: str = "POST",
    chunked: bool,
    send_first: int,
    content_type: str = "application/json",
    extra: dict[str, str] | None = None,
) -> Pushed:
    """The request head of a 10 MB body, then only its first ``send_first`` bytes; then the
    answer is read. The rest of the body is never sent (nor, chunked, its last chunk): a server
    that waits for all of it does not answer, and the read times out."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Type: {content_type}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {TEN_MB}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    piece = b"x" * 65_536
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        try:
            while sent < send_first:
                n = min(len(piece), send_first - sent)
                s.sendall(b"%x\r\n%s\r\n" % (n, piece[:n]) if chunked else piece[:n])
                sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending: what we want
        data = b""
        closed = False
        try:
            while True:
                got = s.recv(65_536)
                if not got:
                    closed = True
                    break
                data += got
        except ConnectionResetError:
            closed = True  # closed with our unread body in its buffer: a reset, after its answer
        except TimeoutError:
            pass
    head_raw, _, body = data.partition(b"\r\n\r\n")
    assert head_raw.startswith(b"HTTP/1.1 "), f"no answer to {method} {path} within 10 s: {data[:200]!r}"
    status_line, *header_lines = head_raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return Pushed(int(status_line.split()[1]), headers, body, sent, closed)


# Each service's body routes: (service, method, path, limit, content type).
BODY_ROUTES = [
    ("intake", "POST", "/api/v1/submissions", 16_384, "application/json"),
    ("review", "POST", "/api/v1/review/officers", MIB, "application/json"),
    # A route that never reads its body: the limit holds there too.
    ("review", "POST", "/api/v1/review/officers/1/deactivate", MIB, "application/json"),
    ("review", "POST", "/console/dang-nhap", MIB, "application/x-www-form-urlencoded"),
    ("review", "POST", "/console/nhap-tu-excel", 6 * MIB, "multipart/form-data; boundary=x"),
    ("reporting", "POST", "/api/v1/dossiers", 8 * MIB, "application/json"),
    ("notify", "PUT", "/api/v1/templates/nhac_han", MIB, "application/json"),
]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("service", "method", "path", "limit", "ctype"), BODY_ROUTES, ids=lambda v: str(v))
def test_a_10_mb_body_is_refused_before_it_is_sent(
    stack: Stack, service: str, method: str, path: str, limit: int, ctype: str, chunked: bool
) -> None:
    # Declared: the head alone decides, so a first megabyte is all we send. Chunked: the server
    # must count, so we send a megabyte past its limit — and never the rest, nor the last chunk.
    send_first = limit + MIB if chunked else MIB
    started = time.monotonic()
    got = push_body(
        stack[service].port, path, method=method, chunked=chunked, send_first=send_first, content_type=ctype
    )
    assert got.status == 413, (got.status, got.body[:300])
    assert got.body_bytes_sent <= limit + MIB < TEN_MB
    assert got.closed, "the connection stays open: the server would go on reading the body"
    assert time.monotonic() - started < 10  # a server waiting for the rest would hang, not answer
    message = json.loads(got.body)["message"]
    assert message.startswith("Nội dung gửi lên vượt quá"), message
    assert_hardened(got.headers, f"413 {method} {path}")


def test_a_browser_posting_too_much_is_shown_a_page(stack: Stack) -> None:
    got = push_body(
        stack["review"].port,
        "/console/nhap-tu-excel",
        chunked=False,
        send_first=0,
        content_type="multipart/form-data; boundary=x",
        extra={"Accept": "text/html,application/xhtml+xml"},
    )
    assert got.status == 413 and got.headers["content-type"].startswith("text/html")
    page = got.body.decode()
    assert '<html lang="vi">' in page and "vượt quá 6 MB" in page


def test_the_real_uses_fit_under_the_limits(stack: Stack, app_engine: Engine) -> None:
    # A dossier of 1,000 rows with 1,000 characters of Vietnamese in each: ~2 MB, accepted
    # whole (reporting's limit is 8 MB), sent declared and sent chunked.
    summary = ("Thay động cơ và bộ biến tần; lắp cảm biến dừng khi băng tải chạy không tải. " * 14)[:1000]
    auth = {"authorization": f"Bearer {stack.token(REPORTING_AUDIENCE, role='chu_tich')}"}
    for chunked in (False, True):
        d = dossier(rows=1000).model_dump(mode="json")
        d["rows"] = [{**r, "summary": summary} for r in d["rows"]]
        raw = json.dumps(DossierJobsIn.model_validate({"dossiers": [d]}).model_dump(mode="json"), ensure_ascii=False)
        body = raw.encode()
        assert MIB < len(body) < 8 * MIB, len(body)  # past review's and notify's limit, within reporting's
        content: Any = iter([body[i : i + 65_536] for i in range(0, len(body), 65_536)]) if chunked else body
        r = httpx.post(
            f"{stack['reporting'].url}/api/v1/dossiers",
            content=content,
            headers={**auth, "content-type": "application/json"},
            timeout=60,
        )
        assert r.status_code == 202, r.text[:500]
        (job,) = r.json()["jobs"]
        assert job["rows"] == 1000

    # An Excel file a little over the import's own 5 MB: the console's own page says so (the
    # body limit of that route leaves room for it), not a bare 413.
    officer = create_officer(app_engine)
    b = Browser(stack["review"].url)
    token = b.sign_in(officer.login)
    r = b.post(
        "/console/nhap-tu-excel",
        data={"csrf_token": token, "don_vi": str(officer.unit_id), "chuong_trinh": "75k-demo"},
        files={"tep": ("lon.xlsx", os.urandom(5 * MIB + 200_000), "application/octet-stream")},
    )
    assert r.status_code == 422 and "Tệp lớn hơn 5 MB" in r.text, r.text[:300]
    assert_hardened(r.headers, "the import's own refusal")
    b.close()


# --- every page of every service --------------------------------------------------------------------------


def _apps() -> dict[str, fastapi.FastAPI]:
    """The four applications, built here only to list their routes (never started here)."""
    from services.intake.app import create_app as intake_app
    from services.intake.config import IntakeSettings
    from services.notify.app import create_app as notify_app
    from services.notify.config import NotifySettings
    from services.reporting.app import create_app as reporting_app
    from services.reporting.config import ReportingSettings
    from services.review.app import create_app as review_app
    from services.review.config import ReviewSettings

    key = base64.b64encode(bytes(32)).decode()
    keys = {"pii_encryption_keys": f"t0:{key}", "pii_hash_key": key}
    return {
        "intake": intake_app(IntakeSettings(**keys)),
        "review": review_app(ReviewSettings(**keys)),
        "reporting": reporting_app(ReportingSettings(**keys)),
        "notify": notify_app(NotifySettings(**keys)),
    }


def routes_of(app: fastapi.FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route, included routers walked (as the route catalogue does)."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for r in routes:
            methods = getattr(r, "methods", None)
            path = getattr(r, "path", None)
            if methods is not None and path is not None:
                found.extend((m, prefix + path) for m in sorted(methods - {"HEAD"}))
            elif hasattr(r, "original_router"):
                walk(list(r.original_router.routes), prefix + r.include_context.prefix)
            elif hasattr(r, "routes"):
                walk(list(r.routes), prefix + (path or ""))

    walk(list(app.routes), "")
    return sorted(set(found))


# What a path parameter is filled with: a real object where one is at hand, else one that does
# not exist (its 404 page is a page too).
PARAMS = {
    "name": "nhac_han",
    "unit": "cao-bang",
    "code": "cao-bang",
    "tracking_code": "38-0000-0000",
    "token": "khong-hop-le",
    "campaign": "75k-demo",
    "round_code": "dot-1",
    "letter_id": "0-0",
    "officer_id": "1",
    "unit_id": "1",
    "reminder_id": "1",
    "message_id": "khong-co",
    "job_id": str(uuid.UUID(int=0)),
    "fmt": "pdf",
    "deadline_id": "1",
    "rule_id": "1",
    "complaint_id": "1",
    "source_tenant": "4",
    "source_submission": "1",
    "source_tenant_id": "4",
    "source_submission_id": "1",
}
STATIC = {"intake": {"/static/{name}": ["portal.css", "portal.js"]}}
# Every service's /docs loads Swagger UI's files from the service itself (shared/apidocs.py).
DOCS_ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "no-such-file.js"]


def fill(service: str, path: str, real: dict[str, str]) -> list[str]:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    if service in STATIC and path in STATIC[service]:
        return [path.replace("{name}", n) for n in STATIC[service][path]]
    if path == "/docs/{asset}":
        return [path.replace("{asset}", n) for n in DOCS_ASSETS]
    out = path
    for n in names:
        assert n in PARAMS or n in real, f"no value for {{{n}}} in {path}: add it to PARAMS"
        out = re.sub(rf"{{{n}(?::\w+)?}}", real.get(n, PARAMS.get(n, "")), out)
    return [out]


def test_every_page_of_every_service_is_hardened_and_shows_no_version(stack: Stack, app_engine: Engine) -> None:
    apps = _apps()
    officer = create_officer(app_engine)
    console = Browser(stack["review"].url)
    console.sign_in(officer.login)
    anonymous = Browser(stack["review"].url)
    real = {"officer_id": str(officer.id), "unit_id": str(officer.unit_id)}
    tokens = {
        "reporting": {"authorization": f"Bearer {stack.token(REPORTING_AUDIENCE)}"},
        "notify": {"authorization": f"Bearer {stack.token(NOTIFY_AUDIENCE)}"},
    }
    system = {"authorization": f"Bearer {stack.token(REVIEW_AUDIENCE, role=SYSTEM_ROLE, officer_id=0)}"}
    admin = {"authorization": f"Bearer {stack.admin_token}"}
    seen: dict[str, set[int]] = {s: set() for s in SERVICES}
    walked = 0
    for service, app in apps.items():
        url = stack[service].url
        for method, path in routes_of(app):
            if method != "GET":
                continue
            for target in fill(service, path, real):
                answers: list[httpx.Response] = []
                if service == "review":
                    answers.append(console.get(target))  # signed in
                    answers.append(anonymous.get(target))
                    if target.startswith("/api/v1/admin"):
                        answers.append(httpx.get(url + target, headers=admin, timeout=30))
                    if target.startswith("/api/v1/internal"):
                        answers.append(httpx.get(url + target, headers=system, timeout=30))
                else:
                    answers.append(httpx.get(url + target, headers=tokens.get(service, {}), timeout=30))
                    if service in tokens:
                        answers.append(httpx.get(url + target, timeout=30))  # without a token: 401
                for r in answers:
                    walked += 1
                    assert r.status_code != 500, (service, target, r.text[:300])
                    seen[service].add(r.status_code)
                    assert_hardened(r.headers, f"{service} GET {target} → {r.status_code}")

        # Starlette's own refusals: no such page, another method. In Vietnamese, hardened too.
        missing = httpx.get(f"{url}/khong-co-trang-nay", timeout=30)
        method = httpx.request("DELETE", f"{url}/healthz", timeout=30)
        for r in (missing, method):
            walked += 1
            seen[service].add(r.status_code)
            assert_hardened(r.headers, f"{service} {r.request.method} {r.request.url.path} → {r.status_code}")
        assert missing.status_code == 404 and missing.json()["message"] == "Không tìm thấy"
        assert method.status_code == 405 and "allow" in method.headers
        assert method.json()["message"].startswith("Phương thức này không được hỗ trợ")

        # The document says our version, never a library's.
        doc = httpx.get(f"{url}/openapi.json", timeout=30).json()
        assert doc["info"]["version"] == "1" and doc["info"]["version"] not in VERSIONS

    # 429s: the console's sign-in after 5 failures on a name, intake's look-ups past 3 a minute.
    locked = Browser(stack["review"].url, **{"x-forwarded-for": "198.51.100.9"})
    token = csrf_of(locked.get("/console/dang-nhap").text)
    for _ in range(6):
        r = locked.post(
            "/console/dang-nhap", data={"login": "khong-co@thanh-hoa", "password": "x", "csrf_token": token}
        )
    assert r.status_code == 429 and "retry-after" in r.headers
    assert_hardened(r.headers, "review 429")
    lookups = [
        httpx.get(f"{stack['intake'].url}/api/v1/submissions/4-0000-0000", params={"phone": "0912345678"}, timeout=30)
        for _ in range(5)
    ]
    assert lookups[-1].status_code == 429 and "retry-after" in lookups[-1].headers
    for r in lookups:
        assert_hardened(r.headers, f"intake look-up → {r.status_code}")

    # The walk reached what it claims to: pages, redirects, refusals and errors.
    assert {200, 303, 401, 404, 422} <= seen["review"], seen["review"]
    assert {200, 401, 404, 422} <= seen["reporting"], seen["reporting"]
    assert {200, 401, 404} <= seen["notify"], seen["notify"]
    assert {200, 404, 405, 422} <= seen["intake"], seen["intake"]
    assert walked > 100, walked
    console.close()
    anonymous.close()
    locked.close()


def test_an_unexpected_error_is_a_500_with_the_same_headers() -> None:
    """The one answer no real route can be made to give on purpose: an exception nothing
    handles. The platform's own application (shared.web) with one route that raises, on uvicorn."""
    from shared.web import create_app

    app = create_app("kiem-thu")

    @app.get("/loi")
    def boom() -> None:
        raise RuntimeError("lỗi không lường trước")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, server_header=False)
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        wait_for("the server to start", lambda: server.started, timeout=10)
        r = httpx.get(f"http://127.0.0.1:{port}/loi", timeout=10)
        assert r.status_code == 500
        assert "lỗi không lường trước" not in r.text and "RuntimeError" not in r.text
        assert_hardened(r.headers, "500")
        assert r.headers["x-request-id"]
    finally:
        server.should_exit = True
        thread.join(10)
