"""Schemathesis against the OpenAPI of review, reporting and notify (intake's is
tests/intake/test_fuzz.py), authenticated as their callers are: a signed-in officer (the
console's cookie and its CSRF header) for review's officer API, the operators' Bearer token for
its dead letters, a platform service token for its internal API, and officers' service tokens
(shared/servicetoken.py) for reporting's and notify's APIs. Each service runs on a real uvicorn
server (a thread here) on the worker's PostgreSQL, Redis, SeaweedFS and SMTP server.

Checks, each one a promise of the document: no 5xx; every status code is one the operation
declares; the content type and the body are the ones declared for that status; the declared
response headers are there. No operation is excluded.

The documents are built at import from the applications (schemathesis parametrizes at
collection); the first test proves each is the very document its server serves.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.notify.app import create_app as notify_app
from services.notify.config import NotifySettings
from services.reporting.app import create_app as reporting_app
from services.reporting.config import ReportingSettings
from services.review.app import create_app as review_app
from services.review.config import ReviewSettings
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.contracts.obligations import REVIEW_AUDIENCE, SYSTEM_ROLE
from shared.contracts.reminders import NOTIFY_AUDIENCE
from shared.servicetoken import derive_key, issue
from shared.storage import ensure_bucket, make_client
from tests.reporting.conftest import dossier
from tests.security.test_http_surface import COOKIE, Browser, create_officer
from tests.support.stack import Server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
THANH_HOA = 38
# The fuzzing officer administers one district and nothing else: what it may change (officers
# of that unit, its own unit's rows) is nobody else's in the worker's database.
FUZZ_UNIT = "H391"
MAX_EXAMPLES = {"review": 8, "reporting": 25, "notify": 25}


def _documents() -> dict[str, dict[str, Any]]:
    # Throwaway keys: the applications are built for their OpenAPI documents only, never started.
    key = base64.b64encode(bytes(32)).decode()
    keys = {"pii_encryption_keys": f"t0:{key}", "pii_hash_key": key}
    return {
        "review": review_app(ReviewSettings(**keys)).openapi(),
        "reporting": reporting_app(ReportingSettings(**keys)).openapi(),
        "notify": notify_app(NotifySettings(**keys)).openapi(),
    }


DOCUMENTS = _documents()
SCHEMAS = {name: schemathesis.openapi.from_dict(doc) for name, doc in DOCUMENTS.items()}


@dataclass
class Fuzzing:
    servers: dict[str, Server]
    token_key: bytes
    admin_token: str
    engine: Engine
    session: requests.Session
    officer_login: str = ""
    sid: str = ""
    csrf: str = ""

    def url(self, service: str) -> str:
        return self.servers[service].url

    def token(self, aud: str, role: str = "quan_tri", officer_id: int = 1) -> str:
        return issue(
            self.token_key, tenant_id=THANH_HOA, officer_id=officer_id, unit_code=FUZZ_UNIT, role=role, aud=aud
        )

    def sign_in(self) -> None:
        """A fresh officer, signed in through the form: the fuzzer may have reset the last one's
        password or ended its session (a password reset of its own id)."""
        officer = create_officer(self.engine, unit_code=FUZZ_UNIT)
        b = Browser(self.url("review"))
        self.csrf = b.sign_in(officer.login)
        assert b.sid is not None
        self.sid, self.officer_login = b.sid, officer.login
        b.close()

    def headers(self, service: str, path: str) -> dict[str, str]:
        if service == "reporting":
            return {"authorization": f"Bearer {self.token(REPORTING_AUDIENCE)}"}
        if service == "notify":
            return {"authorization": f"Bearer {self.token(NOTIFY_AUDIENCE)}"}
        if path.startswith("/api/v1/admin/"):
            return {"authorization": f"Bearer {self.admin_token}"}
        if path.startswith("/api/v1/internal/"):
            return {"authorization": f"Bearer {self.token(REVIEW_AUDIENCE, SYSTEM_ROLE, 0)}"}
        if path.startswith(("/api/v1/review/", "/api/v1/workflow/")):
            return {"cookie": f"{COOKIE}={self.sid}", "x-csrf-token": self.csrf}
        return {}

    def after(self, service: str, path: str, status: int) -> None:
        if status == 401 and self.headers(service, path).get("cookie"):
            self.sign_in()


@pytest.fixture(scope="module")
def fuzzing(
    loaded_trees: CommonSettings,
    base_env: dict[str, str],
    s3_env: dict[str, str],
    smtp_server: tuple[int, Path],
    app_engine: Engine,
    worker_id_str: str,
) -> Iterator[Fuzzing]:
    secret = secrets.token_urlsafe(24)
    admin = secrets.token_urlsafe(24)
    env: dict[str, Any] = {k.lower(): v for k, v in {**base_env, **s3_env}.items()}
    env.update(service_token_secret=secret, task_queue=f"fuzz-{worker_id_str}-{secrets.token_hex(3)}")
    ports = {n: free_port() for n in DOCUMENTS}
    urls = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
    reporting = ReportingSettings(**env)
    ensure_bucket(make_client(reporting), reporting.bucket)
    review = ReviewSettings(
        **env,
        admin_token=admin,
        reporting_url=urls["reporting"],
        notify_url=urls["notify"],
        submissions_stream=f"submissions-fuzz-{worker_id_str}",
    )
    notify = NotifySettings(**env, smtp_port=smtp_server[0], review_url=urls["review"])
    servers = {
        "review": Server(review_app(review), ports["review"]).start(),
        "reporting": Server(reporting_app(reporting), ports["reporting"]).start(),
        "notify": Server(notify_app(notify), ports["notify"]).start(),
    }
    f = Fuzzing(servers, derive_key(secret.encode()), admin, app_engine, requests.Session())
    f.sign_in()
    yield f
    f.session.close()  # no kept-alive connection for the servers' shutdown to wait on
    for s in servers.values():
        s.stop()


def test_the_fuzzed_documents_are_the_ones_served(fuzzing: Fuzzing) -> None:
    for name, doc in DOCUMENTS.items():
        served = httpx.get(f"{fuzzing.url(name)}/openapi.json", timeout=30)
        assert served.status_code == 200
        assert served.json() == doc, name
    assert sum(len(OPERATIONS[n]) for n in OPERATIONS) >= 50


def _fuzz(service: str, method: str, path: str) -> object:
    """Schemathesis' own test of one operation (its examples, coverage and fuzzing phases,
    valid and invalid data), with the caller's credentials."""

    @SCHEMAS[service].include(method=method, path=path).parametrize()
    @settings(max_examples=MAX_EXAMPLES[service], deadline=None, suppress_health_check=list(HealthCheck))
    def test(case: schemathesis.Case[Any], fuzzing: Fuzzing) -> None:
        headers = fuzzing.headers(service, path)
        response = case.call(base_url=fuzzing.url(service), session=fuzzing.session, headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        finally:
            fuzzing.after(service, path, response.status_code)

    return test


OPERATIONS = {
    name: [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    ]
    for name, doc in DOCUMENTS.items()
}
# One test function per operation, named after it (see tests/intake/test_fuzz.py: one
# parametrized function would lose all but one operation under xdist).
for _service, _ops in OPERATIONS.items():
    for _method, _path in _ops:
        _name = "test_fuzz_" + re.sub(r"[^a-z0-9]+", "_", f"{_service} {_method} {_path}".lower()).strip("_")
        assert _name not in globals(), _name
        globals()[_name] = _fuzz(_service, _method, _path)


def _send(fuzzing: Fuzzing, service: str, method: str, path: str, status: int, **parts: Any) -> Any:
    case = SCHEMAS[service][path][method].Case(**parts)
    headers = fuzzing.headers(service, path)
    response = case.call(base_url=fuzzing.url(service), session=fuzzing.session, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert response.status_code == status, (method, path, response.status_code, response.text[:500])
    return response.json() if response.content else None


def test_answers_beyond_the_fuzzers_reach_conform_too(fuzzing: Fuzzing) -> None:
    """Generated data almost never names a real object, so the success answers (and some
    refusals) are asked for by hand and checked the same way."""
    # reporting: a dossier asked for, found, listed; another tenant's id unknown.
    body = json.loads(json.dumps({"dossiers": [dossier(rows=2).model_dump(mode="json")]}))
    jobs = _send(fuzzing, "reporting", "POST", "/api/v1/dossiers", 202, body=body)
    job = jobs["jobs"][0]["id"]
    _send(fuzzing, "reporting", "GET", "/api/v1/dossiers/{job_id}", 200, path_parameters={"job_id": job})
    _send(fuzzing, "reporting", "GET", "/api/v1/dossiers", 200, query={"campaign": "75k-demo", "round": "dot-1"})
    _send(fuzzing, "reporting", "GET", "/api/v1/dossiers/{job_id}", 404, path_parameters={"job_id": "khong-co"})

    # notify: the templates listed, saved, previewed, reset; the outbox.
    listed = _send(fuzzing, "notify", "GET", "/api/v1/templates", 200)
    tpl = next(t for t in listed["items"] if t["name"] == "nhac_han")
    edit = {"subject": tpl["subject"] + " (sửa)", "body_text": tpl["body_text"], "body_html": tpl["body_html"]}
    name = {"name": "nhac_han"}
    _send(fuzzing, "notify", "POST", "/api/v1/templates/{name}/preview", 200, path_parameters=name, body=edit)
    _send(fuzzing, "notify", "PUT", "/api/v1/templates/{name}", 200, path_parameters=name, body=edit)
    _send(fuzzing, "notify", "DELETE", "/api/v1/templates/{name}", 200, path_parameters=name)
    _send(fuzzing, "notify", "PUT", "/api/v1/templates/{name}", 404, path_parameters={"name": "khong-co"}, body=edit)
    _send(fuzzing, "notify", "GET", "/api/v1/reminders", 200)
    # Past the body limit (shared/bodylimit.py): the 413 the document declares, in its shape.
    big = {**edit, "body_html": "x" * (1024 * 1024)}
    _send(fuzzing, "notify", "PUT", "/api/v1/templates/{name}", 413, path_parameters=name, body=big)
    _send(fuzzing, "notify", "GET", "/api/v1/reminders/{reminder_id}", 404, path_parameters={"reminder_id": 2**31})

    # review: the officer's own answers, an account made, read and locked; the public lists.
    me = _send(fuzzing, "review", "GET", "/api/v1/review/me", 200)
    assert me["login_name"] == fuzzing.officer_login
    units = _send(fuzzing, "review", "GET", "/api/v1/review/units", 200)
    made = _send(
        fuzzing,
        "review",
        "POST",
        "/api/v1/review/officers",
        201,
        body={
            "username": f"fz-{secrets.token_hex(3)}",
            "full_name": "Cán bộ kiểm thử",
            "role": "tham_dinh",
            "unit_id": units[0]["id"],
        },
    )
    oid = {"officer_id": made["officer"]["id"]}
    _send(fuzzing, "review", "GET", "/api/v1/review/officers/{officer_id}", 200, path_parameters=oid)
    _send(fuzzing, "review", "POST", "/api/v1/review/officers/{officer_id}/deactivate", 200, path_parameters=oid)
    _send(
        fuzzing,
        "review",
        "POST",
        "/api/v1/review/officers",
        409,
        body={
            **{
                "username": made["officer"]["username"],
                "full_name": "Trùng tên",
                "role": "tham_dinh",
                "unit_id": units[0]["id"],
            }
        },
    )
    _send(fuzzing, "review", "GET", "/api/v1/review/officers", 200)
    _send(fuzzing, "review", "GET", "/api/v1/workflow/submissions", 200)
    _send(fuzzing, "review", "GET", "/api/v1/workflow/audit/verify", 200)
    _send(fuzzing, "review", "GET", "/api/v1/tenants", 200)
    _send(fuzzing, "review", "GET", "/api/v1/campaigns", 200)
    _send(fuzzing, "review", "GET", "/api/v1/tenants/{code}/units", 200, path_parameters={"code": "thanh-hoa"})
    window = {"due_from": "2021-04-01T00:00:00+07:00", "due_to": "2021-05-01T00:00:00+07:00"}
    _send(fuzzing, "review", "GET", "/api/v1/internal/obligations", 200, query=window)
    _send(fuzzing, "review", "GET", "/api/v1/admin/dead-letters", 200)
