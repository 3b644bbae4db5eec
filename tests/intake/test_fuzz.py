"""Schemathesis against intake's OpenAPI: every operation of the document, valid and invalid
requests generated from it, sent to a running intake (uvicorn, real Redis, review behind it).

Checks, each one a promise of the document: no 5xx; every status code is one the operation
declares; the content type and the body are the ones declared for that status; the declared
response headers are there. No operation is excluded.

The document is built at import from intake's application (schemathesis parametrizes at
collection; its fixture-based lazy loading does not run on this pytest), and the first test
proves it is the very document the running server serves at /openapi.json.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.intake.app import create_app
from services.intake.config import IntakeSettings
from tests.support.stack import Server, form

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _document() -> dict[str, Any]:
    # Throwaway keys: the application is built for its OpenAPI document only, never started.
    key = base64.b64encode(bytes(32)).decode()
    app = create_app(IntakeSettings(pii_encryption_keys=f"t0:{key}", pii_hash_key=key))
    return app.openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture
def fuzz_intake(intake_factory: Callable[..., Server], worker_id_str: str) -> Server:
    # Its own stream (the valid submissions the fuzzer happens to make stay away from the
    # ingester tests), and rate limits out of the way: the fuzzer posts from one address.
    return intake_factory(
        submissions_stream=f"submissions-fuzz-{worker_id_str}",
        rate_limit_per_ip=10**9,
        rate_limit_per_phone=10**9,
    )


def test_the_fuzzed_document_is_the_one_served(fuzz_intake: Server) -> None:
    served = httpx.get(f"{fuzz_intake.url}/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    assert len(OPERATIONS) >= 5


def _fuzz(method: str, path: str) -> object:
    """Schemathesis' own test of one operation (its examples, coverage and fuzzing phases,
    valid and invalid data; at most 30 generated examples)."""

    @schema.include(method=method, path=path).parametrize()
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def test(case: schemathesis.Case[Any], fuzz_intake: Server) -> None:
        case.call_and_validate(base_url=fuzz_intake.url, checks=CHECKS)

    return test


# One test function per operation of the document, named after it. (`@schema.parametrize()` on
# one function names its items `test[GET /path]`, but this pytest builds node ids without that
# suffix: under xdist all but one operation would silently vanish as duplicates.)
OPERATIONS = [
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
]
for _method, _path in OPERATIONS:
    _name = "test_fuzz_" + re.sub(r"[^a-z0-9]+", "_", f"{_method} {_path}".lower()).strip("_")
    assert _name not in globals(), _name
    globals()[_name] = _fuzz(_method, _path)


def test_answers_beyond_the_fuzzers_reach_conform_too(fuzz_intake: Server) -> None:
    """Generated data almost never names a real unit and phone, so the success answers (and
    the idempotency conflict, the oversized body) are sent by hand and checked the same way."""

    def send(method: str, path: str, status: int, **parts: Any) -> Any:
        case = schema[path][method].Case(**parts)
        response = case.call_and_validate(base_url=fuzz_intake.url, checks=CHECKS)
        assert response.status_code == status, response.text
        return response.json()

    submit = "/api/v1/submissions"
    body = form(phone="0913 579 246")
    accepted = send("POST", submit, 202, body=body, headers={"Idempotency-Key": "fuzz-by-hand-1"})
    replayed = send("POST", submit, 202, body=body, headers={"Idempotency-Key": "fuzz-by-hand-1"})
    assert replayed["tracking_code"] == accepted["tracking_code"]
    other = form(phone="0913 579 246", title="Một sáng kiến khác hẳn")
    send("POST", submit, 409, body=other, headers={"Idempotency-Key": "fuzz-by-hand-1"})
    send("POST", submit, 413, body=form(description="x" * 20_000))
    send("POST", submit, 422, body=form(subunit="KHONG-CO"))
    code = accepted["tracking_code"]
    send("GET", "/api/v1/submissions/{tracking_code}", 200, path_parameters={"tracking_code": code},
         query={"phone": "0913579246"})  # fmt: skip
    send("GET", "/api/v1/submissions/{tracking_code}", 404, path_parameters={"tracking_code": code},
         query={"phone": "0913579247"})  # fmt: skip
    send("GET", "/api/v1/units/{code}", 200, path_parameters={"code": "cao-bang"})
    send("GET", "/api/v1/units/{code}", 404, path_parameters={"code": "khong-co"})
